"""``make bench``: run every ``bench/bench_*.py`` and write ``bench/results.json``.

Each benchmark module exposes ``run(scale: str) -> dict``; ``scale`` is ``"full"`` for
the figures we publish and ``"smoke"`` for the tiny run the test suite uses to prove the
benchmark code itself works. Every result compares against a baseline measured in the
same run (a naive implementation or a peer tool) and reports ratios and sizes.

Usage: ``python -m bench [--scale full|smoke] [NAME ...]``
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "processor": platform.machine()}


def merged(old: dict, new: dict) -> dict:
    """``old`` with every value of ``new`` in its place, nested objects merged key by key: what a benchmark that ran
    only some of its parts (its ``partial()`` says so) leaves of the figures its other parts wrote before."""
    out = dict(old)
    for key, value in new.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", default="full", choices=["full", "smoke"])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    out = HERE / "results.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    results["machine"] = machine()
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name} ({args.scale})", flush=True)
        started = time.perf_counter()
        result = module.run(args.scale)
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        result["scale"] = args.scale
        partial = getattr(module, "partial", lambda: False)()
        results[name] = merged(results.get(name, {}), result) if partial else result
        print(json.dumps(result, indent=2, default=str), flush=True)
        out.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
