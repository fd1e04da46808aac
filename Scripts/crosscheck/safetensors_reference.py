"""A tiny safetensors file written by the reference implementation, for dpfl's reader tests.

Writes, with huggingface/safetensors (`safetensors.torch.save_file`, which orders tensors
and pads the header the way every safetensors writer in the Hugging Face stack does):

  Tests/DPModelTests/Fixtures/reference.safetensors       every dtype dpfl reads, a scalar,
                                                          an empty tensor, special floats
                                                          (±0, ±inf, NaN, subnormals, extremes),
                                                          a metadata entry
  Tests/DPModelTests/Fixtures/reference_safetensors.json  what a reader must find in it: the
                                                          file's SHA-256, metadata, and each
                                                          tensor's dtype, shape, data_offsets
                                                          and values (floats as float64 values,
                                                          exact for every float dtype; "-0.0",
                                                          "inf", "-inf", "nan" as strings)

Run: Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/safetensors_reference.py
"""
import hashlib
import json
import math
import pathlib
import struct

import safetensors
import torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests/DPModelTests/Fixtures"
COMMAND = "Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/safetensors_reference.py"

F32_SUBNORMAL = 1e-40
F16_SUBNORMAL = 2.0**-24
INF = float("inf")
NAN = float("nan")

TENSORS = {
    "encoder.weight": torch.tensor(
        [[0.1, -2.5, 3.4028234663852886e38, -0.0],
         [F32_SUBNORMAL, 1.1754943508222875e-38, INF, -INF],
         [NAN, 1.0, -1.0, 123456.789]], dtype=torch.float32),
    "encoder.bias": torch.tensor([0.5, -0.25, 1e-3], dtype=torch.float32),
    "half": torch.tensor([[0.1, -2.5, 65504.0], [F16_SUBNORMAL, INF, NAN]], dtype=torch.float16),
    "brain": torch.tensor([0.1, -3.140625, 1e30, -0.0, 3.3895313892515355e38], dtype=torch.bfloat16),
    "double": torch.tensor([0.1, -1e300, 5e-324], dtype=torch.float64),
    "i64": torch.tensor([[-(2**63), 2**63 - 1], [0, -1]], dtype=torch.int64),
    "i32": torch.tensor([-(2**31), 2**31 - 1, 42], dtype=torch.int32),
    "i16": torch.tensor([-(2**15), 2**15 - 1], dtype=torch.int16),
    "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
    "u8": torch.tensor([0, 255], dtype=torch.uint8),
    "u16": torch.tensor([0, 65535], dtype=torch.uint16),
    "u32": torch.tensor([0, 2**32 - 1], dtype=torch.uint32),
    "u64": torch.tensor([0, 2**63 - 1], dtype=torch.uint64),
    "mask": torch.tensor([True, False, False, True], dtype=torch.bool),
    "scalar": torch.tensor(3.5, dtype=torch.float32),
    "empty": torch.zeros((0, 3), dtype=torch.float32),
}
# One entry: the reference keeps metadata in a hash map, so the order of several keys (and
# with it the file's bytes) changes from run to run. dpfl's writer sorts them.
METADATA = {"format": "pt"}

DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
    torch.bool: "BOOL",
}


def json_float(value):
    # JSON readers lose the sign of zero, and JSON has no inf or NaN: those are strings.
    if value == 0 and math.copysign(1, value) < 0:
        return "-0.0"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def main():
    out = FIXTURES / "reference.safetensors"
    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file(TENSORS, str(out), metadata=METADATA)
    data = out.read_bytes()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_length])

    tensors = []
    for name, tensor in sorted(TENSORS.items()):
        flat = tensor.reshape(-1)
        if tensor.dtype.is_floating_point:
            values = [json_float(v) for v in flat.to(torch.float64).tolist()]
        else:
            values = [int(v) for v in flat.to(torch.int64).tolist()] if tensor.dtype != torch.uint64 \
                else [int(v) for v in flat.tolist()]
        begin, end = header[name]["data_offsets"]
        tensors.append({
            "name": name,
            "dtype": DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [begin, end],
            "values": values,
        })

    document = {
        "source": f"safetensors {safetensors.__version__} (safetensors.torch.save_file), torch {torch.__version__}",
        "command": COMMAND,
        "file": out.name,
        "byte_count": len(data),
        "header_byte_count": header_length,
        "sha256": hashlib.sha256(data).hexdigest(),
        "metadata": METADATA,
        "tensors": tensors,
    }
    expected = FIXTURES / "reference_safetensors.json"
    expected.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)} ({len(data)} bytes) and {expected.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
