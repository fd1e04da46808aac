"""Writes the scikit-learn digits data set as the CSV behind dpfl's built-in `digits` task.

sklearn.datasets.load_digits() (the 1,797-image test partition of UCI's "Optical Recognition of
Handwritten Digits", shipped inside scikit-learn as sklearn/datasets/data/digits.csv.gz) is
written in scikit-learn's row order to Sources/DPFederated/Resources/digits.csv:

  label,p0,...,p63      header; p<8*row+column> is the pixel of the 8x8 image, row-major
  7,0,0,5,...           one line per image: class 0..9, then 64 integer pixel values 0..16

No index column, "\\n" line endings, no trailing spaces: the output is byte-for-byte the same on
every run (its SHA-256 is printed on stderr and recorded in DIGITS-LICENSE.md beside it). Run
(needs Scripts/crosscheck/setup-venv):

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/digits_csv.py
"""
import argparse
import hashlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "Sources/DPFederated/Resources/digits.csv"


def render():
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels, labels = digits.data, digits.target
    if pixels.shape != (1797, 64) or labels.shape != (1797,):
        raise SystemExit(f"digits_csv: unexpected shapes {pixels.shape}, {labels.shape}")
    whole = np.rint(pixels).astype(np.int64)
    if not np.array_equal(whole, pixels) or whole.min() < 0 or whole.max() > 16:
        raise SystemExit("digits_csv: pixel values are not integers in 0...16")
    if labels.min() < 0 or labels.max() > 9:
        raise SystemExit("digits_csv: labels are not in 0...9")
    lines = ["label," + ",".join(f"p{i}" for i in range(64))]
    lines += [",".join(str(int(v)) for v in (label, *row)) for label, row in zip(labels, whole)]
    return ("\n".join(lines) + "\n").encode("ascii")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    rows = data.count(b"\n") - 1
    print(f"{args.output}: {rows} rows, sha256 {hashlib.sha256(data).hexdigest()}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
