"""Benchmark stages that run in a fresh interpreter, so that each one's peak memory is its own.

A benchmark module exposes ``stage_NAME(**kwargs) -> dict`` functions and a ``--stage``
entry point; :func:`run_child` runs one of them in a child process and returns its JSON
result (the last line it prints).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss() -> int:
    """This process's peak resident memory, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(module: str, stage: str, **kw) -> dict:
    """Run ``module``'s ``stage_<stage>(**kw)`` in a fresh interpreter and return its result."""
    cmd = [sys.executable, "-m", module, "--stage", stage, "--args", json.dumps(kw)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}:{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench stage {stage} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def hey(url: str, requests: int, clients: int, headers: dict[str, str] | None = None) -> dict:
    """Load ``url`` with ``hey`` (Debian's HTTP load generator, a separate process, so the load does
    not share the server's interpreter): p50/p95/p99 in ms, requests/s, non-2xx answers, errors."""
    if shutil.which("hey") is None:
        raise RuntimeError("hey is not installed: `make system-deps` (Debian package hey)")
    cmd = ["hey", "-n", str(requests), "-c", str(clients)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=600, check=True).stdout

    def pct(p: int) -> float:
        found = re.search(rf"\s{p}% in ([0-9.]+) secs", out)
        return round(float(found.group(1)) * 1000, 1) if found else float("nan")

    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return {"p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "requests_per_s": float(rps.group(1)),
            "requests": requests, "non_2xx": sum(n for c, n in codes.items() if not 200 <= c < 300),
            "errors": len(re.findall(r"^Error distribution:", out, re.M))}
