"""Writes Tests/FlowerNodeTests/Fixtures/flower-codec-vectors.json: Flower's own encoding of
known content, produced by the pinned flwr wheel, for the byte-level tests of dpfl's object
codec and .npy writer (FlowerCodecTests).

Usage: Scripts/flower/.venv/bin/python Scripts/flower/codec_vectors.py OUT.json
The array chunk size is set to 64 bytes (FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE, read when flwr is
imported) so that small arrays span several chunks, some of them identical.
"""
import base64
import hashlib
import io
import json
import os
import sys

os.environ["FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE"] = "64"

import numpy as np  # noqa: E402
import flwr  # noqa: E402
from flwr.app import Array, ArrayRecord, ConfigRecord, Error, Message, Metadata, MetricRecord, RecordDict  # noqa: E402
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects  # noqa: E402

ARRAYS = {
    "encoder.0.lora_A": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "encoder.0.lora_B": np.zeros((2, 40), dtype=np.float32),
    "head.bias": np.array([0.5, -1.25, 3.0e-8], dtype=np.float32),
    "caf\u00e9 \"\U0001F600\"\t\\": np.array([[1.0]], dtype=np.float32),
}
CONFIG = {
    "server-round": 3, "lr": 0.05, "private": True, "method": "dp-lora", "ranks": [1, 2, 4],
    "weights": [0.25, 0.75], "names": ["a", "b"], "seed": 2**63 + 5, "blob": b"\x00\x01",
    "r\u00f4le \"x\"": "caf\u00e9\n",
}
ERROR_REASON = "d\u00e9clin\u00e9: evaluate"
METRICS = {"num-examples": 10, "loss": 0.25, "per-class": [1.0, 2.5]}

NPY_CASES = [
    ("float32 3x4", np.arange(12, dtype=np.float32).reshape(3, 4)),
    ("float32 vector", np.array([1.5, -2.0, 0.0], dtype=np.float32)),
    ("float32 scalar", np.array(2.5, dtype=np.float32)),
    ("float32 empty", np.zeros((0,), dtype=np.float32)),
    ("float32 long first axis", np.zeros((123456, 0), dtype=np.float32)),
    ("float64 2x2", np.array([[1.0, 2.0], [3.0, 1e-300]], dtype=np.float64)),
    ("int64 vector", np.array([1, -2, 2**40], dtype=np.int64)),
    ("int32 3d", np.arange(8, dtype=np.int32).reshape(2, 2, 2)),
]


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


def objects_of(obj) -> list[dict]:
    nested = get_all_nested_objects(obj)
    return [{"id": oid, "content": b64(o.deflate())} for oid, o in nested.items()]


def main(out_path: str) -> None:
    content = RecordDict({
        "arrays": ArrayRecord({k: Array(v) for k, v in ARRAYS.items()}),
        "config": ConfigRecord(CONFIG),
        "metrics": MetricRecord(METRICS),
    })
    metadata = Metadata(
        run_id=7, message_id="", src_node_id=42, dst_node_id=1,
        reply_to_message_id="ab" * 32, group_id="3", created_at=1764800000.125,
        ttl=43199.5, message_type="train", src_task_id=None, dst_task_id=9)
    message = Message(metadata=metadata, content=content)
    error_metadata = Metadata(
        run_id=7, message_id="", src_node_id=42, dst_node_id=1,
        reply_to_message_id="cd" * 32, group_id="4", created_at=1764800001.5,
        ttl=600.25, message_type="evaluate", src_task_id=None, dst_task_id=9)
    error = Message(metadata=error_metadata, error=Error(code=2, reason=ERROR_REASON))
    vectors = {
        "flwr": flwr.__version__ if hasattr(flwr, "__version__") else "",
        "numpy": np.__version__,
        "chunk_bytes": 64,
        "array_chunk_abc": {"content": b64(b"ArrayChunk  3\x00abc"),
                            "id": hashlib.sha256(b"ArrayChunk  3\x00abc").hexdigest()},
        "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.ravel().tolist()}
                   for k, v in ARRAYS.items()},
        "content_root": content.object_id,
        "message_root": message.object_id,
        "objects": objects_of(message),
        "error_message": {"code": 2, "reason": ERROR_REASON, "id": error.object_id,
                          "content": b64(error.deflate()),
                          "objects": [o["id"] for o in objects_of(error)]},
        "npy": [{"name": name, "dtype": str(a.dtype), "shape": list(a.shape),
                 "values": a.ravel().tolist(), "file": b64(_npy(a))} for name, a in NPY_CASES],
    }
    with open(out_path, "w") as handle:
        json.dump(vectors, handle, indent=1)
        handle.write("\n")


def _npy(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, a, allow_pickle=False)
    return buffer.getvalue()


if __name__ == "__main__":
    main(sys.argv[1])
