"""The near-duplicate search in a process of its own, for a caller whose Python threads are busy.

:func:`obra.identify.similar.near_duplicates` is NumPy work between short Python steps; in a
process whose other threads run Python (the training check reads signal classes meanwhile) those
steps wait for the GIL and the search slows down several times over. A :class:`NearWorker` is a
child interpreter (``python -m obra.identify.near_worker``) started ahead of time: it has imported
NumPy by the time the codes arrive, searches with every core, and answers over a pipe.

A subprocess, not :mod:`multiprocessing`: spawning with it re-runs the caller's main module,
which breaks any script without an ``if __name__ == "__main__"`` guard.

The protocol (one request per line of JSON, then raw little-endian arrays): the parent writes
``{"queries": n, "indexed": m, "radius": r, "threads": t}`` and the two ``uint64`` arrays; the
child answers ``{"pairs": k}`` (or ``{"error": "..."}``) and the ``int64`` query positions,
``int64`` indexed positions and ``int8`` distances.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading

import numpy as np

__all__ = ["NearWorker"]


class NearWorker:
    """A started child process that searches near duplicates (see the module's docstring)."""

    def __init__(self) -> None:
        self._errors = tempfile.TemporaryFile()   # not a pipe: a chatty child never blocks on it
        self._proc = subprocess.Popen([sys.executable, "-m", "obra.identify.near_worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._errors)
        self._lock = threading.Lock()

    def search(self, query_codes: np.ndarray, indexed: np.ndarray, radius: int,
               threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :func:`obra.identify.similar.near_duplicate_arrays` returns, computed in the child."""
        q = np.ascontiguousarray(query_codes, dtype="<u8")
        x = np.ascontiguousarray(indexed, dtype="<u8")
        with self._lock:
            proc = self._proc
            try:
                proc.stdin.write((json.dumps({"queries": int(q.size), "indexed": int(x.size), "radius": int(radius),
                                              "threads": threads}) + "\n").encode())
                proc.stdin.write(q.tobytes())
                proc.stdin.write(x.tobytes())
                proc.stdin.flush()
                head = json.loads(proc.stdout.readline() or b"{}")
            except (OSError, ValueError) as exc:
                raise RuntimeError(f"the near-duplicate worker failed: {exc}; {self._stderr()}") from exc
            if "pairs" not in head:
                raise RuntimeError(f"the near-duplicate worker failed: {head.get('error') or self._stderr()}")
            k = int(head["pairs"])
            return (np.frombuffer(_read(proc.stdout, 8 * k), "<i8"), np.frombuffer(_read(proc.stdout, 8 * k), "<i8"),
                    np.frombuffer(_read(proc.stdout, k), "i1"))

    def _stderr(self) -> str:
        if self._proc.poll() is None:
            return "the worker is still running"
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace")[-2000:]

    def close(self) -> None:
        """End the child (closing its input ends its loop)."""
        proc = self._proc
        try:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout:
                proc.stdout.close()
            self._errors.close()

    def __enter__(self) -> "NearWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise RuntimeError(f"the near-duplicate worker sent {len(data)} of {size} bytes")
    return data


def _serve() -> None:
    from obra.identify.similar import near_duplicate_arrays

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while line := inp.readline():
        try:
            ask = json.loads(line)
            q = np.frombuffer(_read(inp, 8 * int(ask["queries"])), "<u8")
            x = np.frombuffer(_read(inp, 8 * int(ask["indexed"])), "<u8")
            query, indexed, distance = near_duplicate_arrays(q, x, int(ask["radius"]), ask.get("threads"))
        except Exception as exc:   # reported to the parent, which raises it
            out.write((json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
            out.flush()
            continue
        out.write((json.dumps({"pairs": int(query.size)}) + "\n").encode())
        out.write(np.ascontiguousarray(query, "<i8").tobytes())
        out.write(np.ascontiguousarray(indexed, "<i8").tobytes())
        out.write(np.ascontiguousarray(distance, "i1").tobytes())
        out.flush()


if __name__ == "__main__":
    _serve()
