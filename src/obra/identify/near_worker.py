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
``int64`` indexed positions and ``int8`` distances. Ahead of that, ``{"prepare": name, "indexed": m,
"radius": r}`` and the indexed codes (no answer) has the child build their tables
(:func:`~obra.identify.similar.block_tables`) while the parent reads its queries; a search then
names them (``"prepared": name``) instead of sending the indexed codes again.
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
        #: name -> (indexed codes, radius) of the tables the child holds
        self.prepared: dict[str, tuple[np.ndarray, int]] = {}

    def prepare(self, name: str, indexed: np.ndarray, radius: int) -> None:
        """Have the child build the tables of ``indexed`` for ``radius`` now (it answers nothing:
        this returns as soon as the codes are sent); a later :meth:`search` with these codes and
        radius uses them."""
        x = np.ascontiguousarray(indexed, dtype="<u8")
        with self._lock:
            try:
                self._proc.stdin.write((json.dumps({"prepare": name, "indexed": int(x.size), "radius": int(radius)})
                                        + "\n").encode())
                self._proc.stdin.write(x.tobytes())
                self._proc.stdin.flush()
            except OSError as exc:
                raise RuntimeError(f"the near-duplicate worker failed: {exc}; {self._stderr()}") from exc
            self.prepared[name] = (x, int(radius))

    def search(self, query_codes: np.ndarray, indexed: np.ndarray, radius: int,
               threads: int | None = None, *, prepared: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :func:`obra.identify.similar.near_duplicate_arrays` returns, computed in the child;
        ``prepared``: the name given to :meth:`prepare` for these same ``indexed`` codes and radius."""
        q = np.ascontiguousarray(query_codes, dtype="<u8")
        x = np.ascontiguousarray(indexed, dtype="<u8")
        if prepared is not None:
            held, held_radius = self.prepared[prepared]
            if held_radius != radius or not np.array_equal(held, x):
                raise ValueError(f"the tables prepared as {prepared!r} are for other codes or another radius")
        with self._lock:
            proc = self._proc
            try:
                ask = {"queries": int(q.size), "indexed": int(x.size), "radius": int(radius), "threads": threads}
                if prepared is not None:
                    ask["prepared"] = prepared
                proc.stdin.write((json.dumps(ask) + "\n").encode())
                proc.stdin.write(q.tobytes())
                if prepared is None:
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
    from obra.identify.similar import block_tables, near_duplicate_arrays

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    held: dict[str, tuple[np.ndarray, int, tuple | BaseException]] = {}
    while line := inp.readline():
        ask = json.loads(line)
        if "prepare" in ask:   # no answer: a failure is reported by the search that names it
            x = np.frombuffer(_read(inp, 8 * int(ask["indexed"])), "<u8")
            try:
                held[ask["prepare"]] = (x, int(ask["radius"]), block_tables(x, int(ask["radius"])))
            except Exception as exc:
                held[ask["prepare"]] = (x, int(ask["radius"]), exc)
            continue
        try:
            q = np.frombuffer(_read(inp, 8 * int(ask["queries"])), "<u8")
            tables = None
            if ask.get("prepared") is not None:
                x, radius, tables = held[ask["prepared"]]
                if isinstance(tables, BaseException):
                    raise tables
                if radius != int(ask["radius"]) or x.size != int(ask["indexed"]):
                    raise ValueError("the prepared tables are for other codes or another radius")
            else:
                x = np.frombuffer(_read(inp, 8 * int(ask["indexed"])), "<u8")
            query, indexed, distance = near_duplicate_arrays(q, x, int(ask["radius"]), ask.get("threads"), tables)
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
