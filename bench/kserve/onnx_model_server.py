"""KServe's Python ModelServer serving one ONNX file with onnxruntime (v2 REST), for bench/serving-kserve.ts.

The comparison baseline for issue 5: the stock `kserve` package (pinned 0.21.0), a `kserve.Model` subclass,
one onnxruntime CPU session with one intra-op thread (as the inference function under test runs).

Two dispatch modes, both KServe's own code paths:
  --dispatch sync    `def predict` (the pattern of KServe's custom-model docs and its sklearn/xgboost
                     servers): KServe calls it on the event loop, which blocks while ORT computes.
  --dispatch thread  `async def predict` that awaits session.run on one dedicated thread (ORT releases
                     the GIL), so uvicorn keeps parsing requests while a run is in flight — the best
                     this server can do with one compute thread, the same budget the function under test gets.

KServe's Python ModelServer has no request batching of its own: KServe's batcher lives in the Go model
agent sidecar injected into an InferenceService pod (`spec.predictor.batcher`), and speaks only the v1
protocol. Every request here therefore runs as its own batch-1 session.run.

Usage: python onnx_model_server.py --model_path m.onnx --model_name mlp --http_port 8080 --dispatch thread
Ready when GET /v2/models/<name>/ready answers 200.
"""

import argparse
import asyncio
import concurrent.futures
import logging
from typing import Dict, Optional

import kserve
import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, ModelServer
from kserve.model_server import parser as kserve_parser


def make_session(path: str, threads: int) -> ort.InferenceSession:
    # Same options as functions/inference's session worker: fixed thread counts (ORT's default counts
    # the host's cores), sequential execution, all graph optimizations.
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


class OnnxModel(kserve.Model):
    """v2 predict: InferRequest (JSON or binary tensors) → session.run → InferResponse."""

    def __init__(self, name: str, path: str, threads: int):
        super().__init__(name)
        self.path = path
        self.threads = threads
        self.session: Optional[ort.InferenceSession] = None
        self.output_names: list = []
        self.ready = False

    def load(self) -> bool:
        self.session = make_session(self.path, self.threads)
        self.output_names = [o.name for o in self.session.get_outputs()]
        # Warm-up before ready, as the function under test does: the first run allocates the arena.
        for inp in self.session.get_inputs()[:1]:
            shape = [1 if not isinstance(d, int) or d < 1 else d for d in inp.shape]
            self.session.run(None, {inp.name: np.zeros(shape, dtype=np.float32)})
        self.ready = True
        return self.ready

    def feeds(self, payload: InferRequest) -> Dict[str, np.ndarray]:
        return {i.name: i.as_numpy() for i in payload.inputs}

    def respond(self, payload: InferRequest, results: list) -> InferResponse:
        outputs = []
        for name, arr in zip(self.output_names, results):
            out = InferOutput(name=name, shape=list(arr.shape), datatype="FP32")
            out.set_data_from_numpy(arr, binary_data=payload.use_binary_outputs)
            outputs.append(out)
        return InferResponse(
            response_id=payload.id or "",
            model_name=self.name,
            infer_outputs=outputs,
            use_binary_outputs=payload.use_binary_outputs,
        )


class SyncOnnxModel(OnnxModel):
    def predict(self, payload: InferRequest, headers: Optional[Dict[str, str]] = None) -> InferResponse:
        return self.respond(payload, self.session.run(self.output_names, self.feeds(payload)))


class ThreadOnnxModel(OnnxModel):
    def __init__(self, name: str, path: str, threads: int):
        super().__init__(name, path, threads)
        # One compute thread: the same compute budget as the function under test (one session worker).
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ort")

    async def predict(self, payload: InferRequest, headers: Optional[Dict[str, str]] = None) -> InferResponse:
        feeds = self.feeds(payload)
        results = await asyncio.get_running_loop().run_in_executor(
            self.pool, self.session.run, self.output_names, feeds
        )
        return self.respond(payload, results)


def main() -> None:
    p = argparse.ArgumentParser(parents=[kserve_parser], conflict_handler="resolve")
    p.add_argument("--model_path", required=True)
    p.add_argument("--dispatch", choices=["sync", "thread"], default="thread")
    p.add_argument("--intra_op_threads", type=int, default=1)
    args, _ = p.parse_known_args()
    cls = SyncOnnxModel if args.dispatch == "sync" else ThreadOnnxModel
    model = cls(args.model_name, args.model_path, args.intra_op_threads)
    model.load()
    server = ModelServer(
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        workers=1,
        enable_grpc=False,
        enable_latency_logging=False,
    )
    # Per-request access and timing logs would measure stderr, not serving; the function under test runs
    # with LOG_LEVEL=fatal in the same benchmark. (The timing middleware itself stays: it is KServe's.)
    for name in ("uvicorn.access", "kserve.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server.start([model])


if __name__ == "__main__":
    main()
