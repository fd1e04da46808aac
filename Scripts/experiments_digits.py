"""digits' splits as JSON Lines, shared by the experiment drivers that train from scratch."""
import subprocess


def export_digits(dpfl, seed, folder):
    """Writes digits' splits for `seed` (as `dpfl train --task digits --seed S` builds them)
    to `folder` and returns the `dpfl train --task jsonl` flags that train on them."""
    command = [dpfl, "export-task", "--task", "digits", "--seed", str(seed), "--out", folder]
    subprocess.run(command, check=True, capture_output=True)
    return ["--data", f"{folder}/train.jsonl", "--evaluation-data", f"{folder}/evaluation.jsonl"]
