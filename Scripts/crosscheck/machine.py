"""The machine a benchmark ran on, for the reports of bench_accountant.py and bench_model.py."""
import os
import platform
import subprocess
import sys
from pathlib import Path


def machine_info():
    """CPU count and model, operating system and Python version."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if model is None and sys.platform == "darwin":
        try:
            model = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                   capture_output=True, text=True).stdout.strip() or None
        except OSError:
            pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    return {"nproc": nproc, "cpu_model": model or platform.processor() or "unknown",
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
