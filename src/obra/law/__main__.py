"""``python -m obra.law [FILE]``: check a law file (default: the packaged one) before proposing it.

Prints every problem, each naming the fact by its index (exit 1), or the number of facts
and the version hash (exit 0). The ``obra law`` commands of the CLI will call the same
functions; this entry point needs no store and no principal.
"""

from __future__ import annotations

import sys

from obra.errors import InvalidInput
from obra.law.facts import load


def main(argv: list[str] | None = None) -> int:
    """Validate the file named in ``argv`` (or the packaged one) and report in one line or a list."""
    args = sys.argv[1:] if argv is None else argv
    try:
        law = load(args[0] if args else None)
    except InvalidInput as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{law.source}: {len(law.all_facts)} facts, {len(law.jurisdictions)} jurisdictions, "
          f"version {law.version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
