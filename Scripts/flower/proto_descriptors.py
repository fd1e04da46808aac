"""Writes the FileDescriptorSet of the Fleet API protos shipped in the pinned flwr wheel.

The wheel carries generated `*_pb2.py` modules, not `.proto` files; their descriptors are
the schema. `Scripts/flower/generate-protos` feeds the set to protoc.

Usage: python proto_descriptors.py OUT.fds
"""
import sys

from google.protobuf import descriptor_pb2

from flwr.proto import fleet_pb2  # noqa: F401  (imports every file the Fleet API needs)
from google.protobuf import descriptor_pool


def main(out_path: str) -> None:
    pool = descriptor_pool.Default()
    done: set[str] = set()
    files = descriptor_pb2.FileDescriptorSet()

    def add(name: str) -> None:
        if name in done:
            return
        done.add(name)
        descriptor = pool.FindFileByName(name)
        for dependency in descriptor.dependencies:
            add(dependency.name)
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor.CopyToProto(proto)
        files.file.append(proto)

    add("flwr/proto/fleet.proto")
    with open(out_path, "wb") as handle:
        handle.write(files.SerializeToString(deterministic=True))
    print(" ".join(f.name for f in files.file))


if __name__ == "__main__":
    main(sys.argv[1])
