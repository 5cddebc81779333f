"""Calls the inference function with stock v2 clients, unchanged: tritonclient[http] (JSON and binary
tensors) and KServe's InferenceRESTClient. Prints one JSON object with what each client saw."""

import asyncio
import json
import os

import numpy as np
import tritonclient.http as triton

url = os.environ["V2_HOST"]  # host:port
model = os.environ["V2_MODEL"]
x = np.random.default_rng(7).standard_normal((3, 64)).astype(np.float32)
out = {"x": x.tolist()}

client = triton.InferenceServerClient(url=url)
out["live"] = client.is_server_live()
out["ready"] = client.is_server_ready()
out["model_ready"] = client.is_model_ready(model)
out["metadata"] = client.get_model_metadata(model)
for binary in (False, True):
    inp = triton.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    requested = triton.InferRequestedOutput("probabilities", binary_data=binary)
    result = client.infer(model, [inp], outputs=[requested])
    out["triton_binary" if binary else "triton_json"] = result.as_numpy("probabilities").tolist()
# No outputs named: tritonclient asks for every output as binary (binary_data_output).
inp = triton.InferInput("input", list(x.shape), "FP32")
inp.set_data_from_numpy(x)
out["triton_default"] = client.infer(model, [inp]).as_numpy("probabilities").tolist()
try:
    client.infer("no-such-model", [inp])
    out["triton_error"] = None
except Exception as err:  # InferenceServerException carries the v2 `error` string
    out["triton_error"] = str(err)


async def kserve_calls():
    from kserve import InferenceRESTClient, RESTConfig
    from kserve.protocol.infer_type import InferInput, InferRequest

    ks = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
    base = f"http://{url}"
    res = {"server_ready": await ks.is_server_ready(base), "model_ready": await ks.is_model_ready(base, model)}
    for binary in (False, True):
        i = InferInput(name="input", shape=list(x.shape), datatype="FP32")
        i.set_data_from_numpy(x, binary_data=binary)
        req = InferRequest(model_name=model, infer_inputs=[i], request_id="ks-1")
        try:
            r = await ks.infer(base, req, model_name=model)
            res["binary" if binary else "json"] = r.outputs[0].as_numpy().tolist()
        except Exception as err:
            res["binary_error" if binary else "json_error"] = repr(err)
    await ks.close()
    return res


out["kserve"] = asyncio.run(kserve_calls())
print(json.dumps(out))
