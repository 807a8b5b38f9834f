"""Python's cyclic garbage collector, paused while a large job builds many objects it keeps.

A job that holds hundreds of thousands of small containers at once (a bulk load's parsed records,
a training check's signal classes and their evidence) pays for every collection of the older
generations again and again as they grow, though nothing it builds is garbage until it ends.
Reference counting still frees everything that is not in a cycle as soon as it is dropped; the
few cycles such a job makes wait for the first collection after it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The collector off inside the block, and on again after it if it was on before (nesting and
    a caller that had turned it off itself are both respected)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
