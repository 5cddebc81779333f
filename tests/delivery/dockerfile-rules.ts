import { DockerfileParser } from "dockerfile-ast";

/** A problem found in a Dockerfile: the rule's id and what is wrong. */
export interface DockerfileProblem {
  rule: string;
  message: string;
}

export interface DockerfileFacts {
  /** `FROM` images with ARG defaults substituted, stage references excluded. */
  baseImages: string[];
  /** Final stage's ENV as name → value. */
  finalEnv: Record<string, string>;
  finalUser: string | undefined;
  finalEntrypoint: string | undefined;
}

const ENV_PAIR = /([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g;

/**
 * The structural rules the images must keep, beyond what hadolint checks: pinned bases, a non-root
 * final user, NODE_ENV=production, tini as PID 1, no HEALTHCHECK (Knative probes instead), no remote
 * ADD, apt lists removed in the layer that created them.
 *
 * @example
 * const { problems } = checkDockerfile(readFileSync("docker/function.Dockerfile", "utf8"));
 */
export function checkDockerfile(text: string): { problems: DockerfileProblem[]; facts: DockerfileFacts } {
  const dockerfile = DockerfileParser.parse(text);
  const problems: DockerfileProblem[] = [];
  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const prop = arg.getProperty();
    if (prop?.getName()) args.set(prop.getName(), prop.getValue() ?? "");
  }
  const expand = (s: string) =>
    s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => args.get(n) ?? `\${${n}}`);

  const stages = new Set<string>();
  const baseImages: string[] = [];
  const froms = dockerfile.getFROMs();
  if (froms.length === 0) problems.push({ rule: "from", message: "no FROM" });
  for (const from of froms) {
    const image = expand(from.getImage() ?? "");
    const stage = from.getBuildStage();
    if (!stages.has(image)) {
      baseImages.push(image);
      if (image.includes("${"))
        problems.push({ rule: "pinned-base", message: `${image}: ARG without a default` });
      const digest = image.includes("@sha256:");
      const tag = /:([^/@]+)$/.exec(image.split("@")[0]!)?.[1];
      if (!digest && (!tag || tag === "latest"))
        problems.push({ rule: "pinned-base", message: `${image}: pin a tag other than latest, or a digest` });
    }
    if (stage) stages.add(stage);
  }

  for (const inst of dockerfile.getInstructions()) {
    const keyword = inst.getKeyword();
    const content = inst.getArgumentsContent() ?? "";
    if (keyword === "ADD" && /https?:\/\//.test(content))
      problems.push({ rule: "no-remote-add", message: `ADD of a URL: ${content}` });
    if (
      keyword === "RUN" &&
      /apt-get\s+install/.test(content) &&
      !/rm -rf \/var\/lib\/apt\/lists/.test(content)
    )
      problems.push({
        rule: "apt-lists",
        message: "apt-get install without removing /var/lib/apt/lists in the same RUN",
      });
    if (keyword === "HEALTHCHECK")
      problems.push({ rule: "no-healthcheck", message: "Knative probes the pod; drop HEALTHCHECK" });
    if (/\blatest\b/.test(content) && keyword !== "LABEL")
      problems.push({ rule: "no-latest", message: `${keyword} mentions latest: ${content}` });
  }

  const instructions = dockerfile.getInstructions();
  const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf("FROM");
  const final = lastFrom < 0 ? undefined : instructions.slice(lastFrom + 1);
  const finalEnv: Record<string, string> = {};
  let finalUser: string | undefined;
  let finalEntrypoint: string | undefined;
  if (final) {
    for (const inst of final) {
      const content = inst.getArgumentsContent() ?? "";
      if (inst.getKeyword() === "ENV")
        for (const m of content.matchAll(ENV_PAIR)) finalEnv[m[1]!] = m[2]!.replace(/^"|"$/g, "");
      if (inst.getKeyword() === "USER") finalUser = content.trim();
      if (inst.getKeyword() === "ENTRYPOINT") finalEntrypoint = content.trim();
    }
    const user = finalUser?.split(":")[0];
    if (!user || user === "root" || user === "0")
      problems.push({ rule: "non-root", message: `final stage runs as ${finalUser ?? "root (no USER)"}` });
    if (finalEnv.NODE_ENV !== "production")
      problems.push({ rule: "node-env", message: "final stage must set NODE_ENV=production" });
    if (!finalEntrypoint || !/^\[\s*"[^"]*tini"/.test(finalEntrypoint))
      problems.push({ rule: "init", message: "final stage ENTRYPOINT must be tini in exec form" });
    const cmd = final
      .filter((i) => i.getKeyword() === "CMD")
      .at(-1)
      ?.getArgumentsContent()
      ?.trim();
    if (!cmd?.startsWith("["))
      problems.push({ rule: "exec-cmd", message: "CMD must use the exec (JSON) form" });
  }
  return { problems, facts: { baseImages, finalEnv, finalUser, finalEntrypoint } };
}
