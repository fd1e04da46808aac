"""What Flower's own DP wrappers report for a dpfl run on Flower (Scripts/flower/compare-dp).

Reads a dpfl run's summary.json and config.json (and the summary of the same run in one
process, `dpfl train --partitions N`) and asks the pinned Flower's RDP accountant
(flwr.supercore.privacy_accounting, the accountant of DifferentialPrivacyServerSideFixedClipping,
which wraps dp-accounting) for the ε of the same releases: the same σ, cohort, population,
rounds and δ, with the sampling Flower's fixed-clipping accounting requires
(no-amplification) and with Poisson sampling (what its accountant computes when amplification
is claimed). Also the σ that Flower's no-amplification accounting needs for the run's target
ε, by bisection on Flower's accountant. Prints one JSON object, with the run's accuracy,
wall time and bytes per node per round.
"""
import json
import pathlib
import sys

from flwr.supercore.privacy_accounting import (
    GaussianPrivacyEvent,
    NeighboringRelation,
    PrivacyConfig,
    SamplingMethod,
)
from flwr.supercore.privacy_accounting.rdp_accountant import RdpAccountant


def flower_epsilon(sigma, cohort, population, rounds, delta, sampling):
    accountant = RdpAccountant(PrivacyConfig(
        target_delta=delta, population_size=population,
        neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE, sampling_method=sampling))
    accountant.compose(GaussianPrivacyEvent(sigma, cohort, population), count=rounds)
    return accountant.get_privacy_spent().epsilon


def main(run_folder, in_process_folder):
    folder = pathlib.Path(run_folder)
    in_process = json.loads((pathlib.Path(in_process_folder) / "summary.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    if config["privacy_unit"] != "user" or not config["privacy"]:
        sys.exit("flower_accountant: the run is not private at user level, which is all that "
                 "Flower's DP wrappers account")
    population, cohort = config["population"], config["cohort_size"]
    sigma, rounds, delta = summary["noise_multiplier"], summary["rounds"], config["delta"]
    target = config["epsilon"]

    def no_amplification(s):
        return flower_epsilon(s, cohort, population, rounds, delta, SamplingMethod.NO_AMPLIFICATION)

    low, high = sigma, sigma
    while no_amplification(high) > target:
        high *= 2
    while high / low > 1 + 1e-6:
        middle = (low * high) ** 0.5
        if no_amplification(middle) > target:
            low = middle
        else:
            high = middle
    print(json.dumps({
        "flower_version": __import__("flwr").__version__,
        "dp_accounting_version": __import__("importlib.metadata").metadata.version("dp-accounting"),
        "population": population, "cohort": cohort, "rounds": rounds, "delta": delta,
        "noise_multiplier": sigma, "target_epsilon": target,
        "dpfl_epsilon": summary["epsilon"],
        "accuracy_before": summary["accuracy_before"], "accuracy_after": summary["accuracy_after"],
        "wall_seconds": summary["wall_seconds"],
        "bytes_per_node_per_round": summary["bytes_per_client_per_round"],
        "in_process": {key: in_process[key] for key in (
            "epsilon", "noise_multiplier", "accuracy_after", "wall_seconds",
            "bytes_per_client_per_round")},
        "flower_epsilon_no_amplification": no_amplification(sigma),
        "flower_epsilon_poisson": flower_epsilon(
            sigma, cohort, population, rounds, delta, SamplingMethod.POISSON),
        "flower_sigma_for_target_no_amplification": high,
    }, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
