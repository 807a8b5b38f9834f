"""The rights data model: validated, immutable records parsed once at the edge.

``parse`` turns raw dicts (JSON, a CSV row, an API body) into a model or raises
:class:`~obra.errors.InvalidInput` listing every problem with its field path, so the
engines behind it can trust what they receive.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from obra.errors import InvalidInput, Problem
from obra.model.agreement import Agreement
from obra.model.party import Party
from obra.model.recording import Performer, Recording
from obra.model.shares import Share, applicable_shares, share_problems
from obra.model.vocab import (AccessRole, AgreementKind, CreationMode, PartyKind,
                              RegistrationStatus, RightType, Role, WorkKind)
from obra.model.work import AIDisclosure, AISystem, Contributor, Title, Work, WorkIdentifier

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "AIDisclosure", "AISystem", "AccessRole", "Agreement", "AgreementKind", "Contributor",
    "CreationMode", "Party", "PartyKind", "Performer", "Recording", "RegistrationStatus",
    "RightType", "Role", "Share", "Title", "Work", "WorkIdentifier", "WorkKind", "applicable_shares", "parse",
    "problems_from", "share_problems",
]


def problems_from(error: ValidationError, source: str | None = None,
                  line: int | None = None, prefix: str = "") -> list[Problem]:
    """Pydantic's errors as located :class:`Problem` values with readable messages."""
    problems = []
    for err in error.errors():
        field = ".".join(str(p) for p in err["loc"]) or None
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, InvalidInput):
            message = "; ".join(p.message for p in inner.problems)
        elif err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/data-model.md for the fields)"
        elif err["type"] == "missing":
            message = "is required"
        else:
            message = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(message, field=field, line=line, source=source))
    return problems


def parse(model: type[M], data: Any, source: str | None = None, line: int | None = None) -> M:
    """Validate ``data`` into ``model`` or raise :class:`InvalidInput` with every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, source, line)) from None
