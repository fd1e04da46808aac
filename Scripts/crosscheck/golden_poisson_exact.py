"""Exact epsilon and delta of the Poisson cases on the integer grid (mpmath, 50 digits).

For every case of rdp_poisson.json (written by golden_rdp.py) this evaluates, in 50-digit
arithmetic (mp_reference.py: the binomial sum of Mironov-Talwar-Zhang 2019 for log A_alpha,
dp_accounting's per-order conversion formulas with the KL shortcut and the clamps), on the
integer grid 2..63, 128, 256, 512, 1024:

  epsilon_integer  min over orders of the improved (CKS20 Prop. 12) epsilon at the case's delta
  delta_integer    min over orders of the delta bound at the case's target_epsilon

Both are stored rounded to nearest (Python float of the 50-digit value; a delta below the
double range is stored as 0.0). dp_accounting's own float64 results for the same quantities
can be off by up to ~1e-7 relative (A_alpha = 1 + tiny, many steps; see the "rtol" overrides
in rdp_poisson.json); these are the values an exact evaluation must bound from above.
Read by CertifiedRDPAccountantTests, which checks that the certified accountant is never
below them and at most a few ulps above. Writes
Tests/AccountantsTests/Fixtures/rdp_poisson_exact.json. Run: Scripts/crosscheck/run
"""
import json
import multiprocessing
import os
import pathlib
import sys

import mpmath as mp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mp_reference  # noqa: E402  (sets mp.mp.dps = 50)

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures"


def evaluate(job):
    case, grid = job
    q, sigma, steps = case["sampling_rate"], case["noise_multiplier"], case["steps"]
    total = [steps * mp_reference.poisson_rdp(q, sigma, alpha) for alpha in grid]
    epsilon = min(mp_reference.epsilon_at(alpha, r, case["delta"]) for alpha, r in zip(grid, total))
    delta = min(mp_reference.delta_at(alpha, r, case["target_epsilon"]) for alpha, r in zip(grid, total))
    for value in (epsilon, delta):
        if mp.isnan(value) or mp.isinf(value):
            raise ValueError(f"{case['name']}: non-finite exact value {value}")
    return {"name": case["name"], "epsilon_integer": float(epsilon), "delta_integer": float(delta)}


def main():
    source = json.loads((FIXTURES / "rdp_poisson.json").read_text())
    grid = source["grids"]["integer"]
    jobs = [(case, grid) for case in source["cases"]]
    # Each case is independent: the output does not depend on the number of processes.
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        cases = pool.map(evaluate, jobs)
    document = {
        "source": [{"library": "mpmath", "version": mp.__version__}],
        "command": "Scripts/crosscheck/run",
        "script": "Scripts/crosscheck/golden_poisson_exact.py",
        "method": "mp_reference.py at 50 digits on the integer grid; floats are the exact values rounded to nearest",
        "grid": grid,
        "cases": cases,
    }
    out = FIXTURES / "rdp_poisson_exact.json"
    out.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    print(f"wrote {len(cases)} cases to {out.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
