import type { ModelServer } from "../model/model-server.js";
import { V2Error } from "../v2/v2-error.js";

/** The served model if the path names it (and its version, when given); else a v2 404. */
export function lookupModel(model: ModelServer, name: string, version: string | undefined): ModelServer {
  if (name !== model.name) throw new V2Error(404, `Request for unknown model: '${name}' is not found`);
  if (version !== undefined && version !== model.version) {
    throw new V2Error(404, `Request for unknown model: '${name}' version ${version} is not found`);
  }
  return model;
}
