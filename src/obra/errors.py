"""Errors written for the person who made the mistake.

Every user-facing error says *what* is wrong, *where* (file, line, field) and, where we
can, *how to fix it*. Ingest collects :class:`Problem` values and raises one
:class:`InvalidInput` carrying all of them, so a batch is refused whole with every
reason listed, never half-imported (the beancount practice of errors as data).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one piece of input, with its location."""

    message: str
    field: str | None = None
    line: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = ":".join(
            str(p) for p in (self.source, self.line) if p is not None and p != ""
        )
        field = f" field '{self.field}'" if self.field else ""
        prefix = f"{where}:{field}" if where else (field.strip() and f"{field.strip()}:")
        return f"{prefix} {self.message}".strip()

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class ObraError(Exception):
    """Base of every error Obra raises on purpose."""


class InvalidInput(ObraError, ValueError):
    """Input that does not satisfy the rules; nothing was written."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n  ... and {more} more"
        head = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        super().__init__(f"{head}; nothing was written:\n{shown}")

    def located(self, source: str | None = None, line: int | None = None) -> "InvalidInput":
        """The same problems, with a file and line filled in where they had none."""
        return InvalidInput(
            [
                Problem(p.message, p.field, p.line if p.line is not None else line,
                        p.source if p.source is not None else source)
                for p in self.problems
            ]
        )


class NotFound(ObraError, LookupError):
    """A record asked for by number or id does not exist."""


class AuthenticationRequired(ObraError):
    """A write was attempted without a valid token (HTTP 401)."""


class PermissionDenied(ObraError):
    """The principal is known but its role does not allow this action (HTTP 403)."""
