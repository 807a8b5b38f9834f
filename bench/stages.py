"""Benchmark stages that run in a fresh interpreter, so that each one's peak memory is its own.

A benchmark module exposes ``stage_NAME(**kwargs) -> dict`` functions and a ``--stage``
entry point; :func:`run_child` runs one of them in a child process and returns its JSON
result (the last line it prints).
"""

from __future__ import annotations

import json
import os
import resource
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
