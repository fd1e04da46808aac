"""log A_alpha of the Poisson-subsampled Gaussian by numerical integration (mpmath, 40 digits).

A_alpha = E_{z ~ N(0, s^2)} [ (1 - q + q exp((2z - 1) / (2 s^2)))^alpha ]   (Mironov, Talwar, Zhang 2019)

The integral is independent of every series expansion, so it checks dpfl's integer-order sum
and its fractional-order series (which bounds each term by its magnitude, hence >= the
integral). Writes Tests/AccountantsTests/Fixtures/log_a_mpmath.json. Run: Scripts/crosscheck/run
"""
import json
import pathlib
import sys

import mpmath as mp

from mp_formulas import log_a_quadrature

mp.mp.dps = 40
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures/log_a_mpmath.json"


def main():
    cases = []
    for q in (1e-3, 0.01, 0.1, 0.5):
        for s in (0.8, 1.1, 4.0):
            for alpha in (1.5, 2, 2.5, 3.7, 8.5, 16, 20.5, 64):
                value = log_a_quadrature(q, s, alpha)
                cases.append({"sampling_rate": q, "noise_multiplier": s, "order": alpha, "log_a": float(value)})
    document = {
        "source": [{"library": "mpmath", "version": mp.__version__}],
        "command": "Scripts/crosscheck/run",
        "method": "mpmath.quad of the defining integral at 40 digits",
        "rtol": 1e-9,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
