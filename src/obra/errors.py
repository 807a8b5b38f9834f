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
    """Base of every error Obra raises on purpose: the one error contract of every interface.

    Each class says how every surface reports it: ``status`` (HTTP), ``exit_code`` (CLI),
    ``code`` (a stable machine name in the JSON body) and, where we know one, a ``hint``
    telling the person how to fix it. :meth:`body` is the one JSON error body, the same
    for the API, the CLI's ``--json`` and the portal. Classes with ``internal = True`` are
    our faults (an invariant broke), never the caller's: they answer 500 and are logged.
    """

    status: int = 400
    exit_code: int = 1
    code: str = "error"
    hint: str | None = None
    internal: bool = False

    def __init__(self, message: str = "", *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self)

    def problems_list(self) -> list[dict]:
        return []

    def body(self) -> dict:
        """The one JSON error body: ``{"error", "message", "hint", "problems"}``."""
        return {"error": self.code, "message": self.message, "hint": self.hint, "problems": self.problems_list()}


class InvalidInput(ObraError, ValueError):
    """Input that does not satisfy the rules; nothing was written."""

    status, exit_code, code = 422, 2, "invalid_input"

    def __init__(self, problems: list[Problem] | Problem | str, *, hint: str | None = None):
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
        super().__init__(f"{head}; nothing was written:\n{shown}", hint=hint)

    def problems_list(self) -> list[dict]:
        return [p.to_dict() for p in self.problems]

    def __reduce__(self):
        # copy and pickle rebuild the error from its problems, not from its rendered message
        return (self.__class__, (self.problems,), self.__dict__)

    def located(self, source: str | None = None, line: int | None = None) -> "InvalidInput":
        """The same problems, with a file and line filled in where they had none."""
        return InvalidInput(
            [
                Problem(p.message, p.field, p.line if p.line is not None else line,
                        p.source if p.source is not None else source)
                for p in self.problems
            ], hint=self.hint,
        )


class NotFound(ObraError, LookupError):
    """A record asked for by number or id does not exist."""

    status, exit_code, code = 404, 3, "not_found"


class AuthenticationRequired(ObraError):
    """A write was attempted without a valid token (HTTP 401)."""

    status, exit_code, code = 401, 4, "authentication_required"
    hint = "pass a token: Authorization: Bearer <token> (API), --token or OBRA_TOKEN (CLI); `obra principal add` creates one"


class PermissionDenied(ObraError):
    """The principal is known but its role does not allow this action (HTTP 403)."""

    status, exit_code, code = 403, 5, "permission_denied"


class Conflict(ObraError):
    """The request contradicts the current state (a duplicate, a superseded run, a stale revision)."""

    status, exit_code, code = 409, 6, "conflict"


class PayloadTooLarge(ObraError):
    """An upload or a decompressed input exceeds the configured limit."""

    status, exit_code, code = 413, 7, "payload_too_large"


class Unverifiable(ObraError):
    """A document, proof or signature handed to us does not verify (the caller's input is at fault)."""

    status, exit_code, code = 400, 8, "does_not_verify"


class ServiceUnavailable(ObraError):
    """A tool or service Obra needs is missing on this machine (a media tool, a server): 503."""

    status, exit_code, code = 503, 69, "service_unavailable"


class InternalInvariantError(ObraError):
    """An invariant Obra checks on every run broke (money not conserved, the log inconsistent).

    This is our fault, not the caller's: 500 on the API, exit code 70 on the CLI, always
    logged; nothing was written, because the check runs inside the transaction.
    """

    status, exit_code, code, internal = 500, 70, "internal_invariant", True
    hint = "this is a bug in Obra or a damaged store, not a problem with your input: report it with the message"


class SchemaOutOfDate(ObraError):
    """The store's schema revision is not the one this version of Obra expects."""

    status, exit_code, code = 503, 75, "schema_out_of_date"
    hint = "run `obra migrate` (or `obra init` on a new store) to bring the schema to this version"
