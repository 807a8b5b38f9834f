"""What a request may carry, checked at the edge before anything reaches a service or the database.

* **Numbers in range.** Ids, versions and run numbers are ``int4`` columns on PostgreSQL
  (``Integer`` in :mod:`obra.store.schema`): :data:`RowId` is 1..2**31-1. Log indices and tree
  sizes are ``bigint``: :data:`LogIndex` is 0..2**63-1. A number outside is a 422 naming the
  parameter, never a 500 from the driver.
* **Text is text.** Every path and query value must be UTF-8 without NUL (PostgreSQL cannot
  store NUL; a lone surrogate is not Unicode text): :func:`refuse_unusable_text` runs for
  every route. Form fields use :data:`ShortText` / :data:`FormText` (length bounded, no NUL).
* **Strict JSON bodies** (:class:`StrictJSONRoute`): UTF-8 only; no duplicate keys (the
  second would silently win); no NaN or Infinity; integers within 64 bits; nesting at most
  :data:`MAX_JSON_DEPTH`; no NUL or lone surrogate in any key or string. Each refusal is a
  422 naming the field (``works[1].title``).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Callable, Coroutine, Literal
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response, params
from fastapi.routing import APIRoute
from pydantic import AfterValidator, Field

from obra.errors import InvalidInput, Problem

INT4_MAX = 2**31 - 1
"""The largest value of an ``Integer`` column on PostgreSQL (ids, versions, runs, journal events)."""
INT8_MAX = 2**63 - 1
"""The largest value of a ``BigInteger`` column (log indices, tree sizes)."""
MAX_JSON_DEPTH = 32
"""Objects and arrays nested deeper than this are refused (a record needs fewer than ten levels)."""
MAX_TEXT = 500
"""The longest free-text query or form value (titles are at most 500 characters in the store)."""
MAX_SHORT = 100
"""The longest identifier-like value (periods, currencies, kinds, column names, offices)."""

_INT_DIGITS = len(str(INT8_MAX))


def _unusable(text: str) -> str | None:
    """Why ``text`` cannot be stored or searched, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which text may not contain"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


def _usable_text(value: str | None) -> str | None:
    if value is not None and (why := _unusable(value)):
        raise ValueError(why)
    return value


RowId = Annotated[int, Field(ge=1, le=INT4_MAX)]
"""A row id, version, run or journal event number: 1..2**31-1."""
Count = Annotated[int, Field(ge=0, le=INT4_MAX)]
"""A cursor or count over rows (``after``): 0..2**31-1."""
LogIndex = Annotated[int, Field(ge=0, le=INT8_MAX)]
"""A log index or tree size: 0..2**63-1."""
LogSize = Annotated[int, Field(ge=1, le=INT8_MAX)]
"""A tree size that must hold at least one entry."""
ShortText = Annotated[str, Field(max_length=MAX_SHORT), AfterValidator(_usable_text)]
"""An identifier-like value: at most 100 characters, no NUL or lone surrogate."""
FormText = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_usable_text)]
"""Free text: at most 500 characters, no NUL or lone surrogate."""
CreationModeName = Literal["human", "ai_assisted", "ai_generated"]
"""How a work came to be (:class:`obra.model.vocab.CreationMode`)."""
EntityName = Literal["work", "recording"]


# --------------------------------------------------------------------------- path and query
def refuse_unusable_text(request: Request) -> None:
    """Every route's first dependency: the path and every query value are UTF-8 text without NUL.

    The server decodes percent-escapes leniently (an invalid byte becomes U+FFFD), so the raw
    bytes are checked here: ``?q=%ED%A0%80`` (an encoded surrogate) or ``%FF`` is refused by
    name instead of being searched for as replacement characters; ``%00`` is refused before
    PostgreSQL would fail on it.
    """
    problems: list[Problem] = []
    raw_path = request.scope.get("raw_path") or request.scope.get("path", "").encode("utf-8", "surrogatepass")
    why = _bytes_unusable(unquote_to_bytes(raw_path))
    if why:
        name = next((k for k, v in request.path_params.items()
                     if isinstance(v, str) and (_unusable(v) or "\ufffd" in v)), "path")
        problems.append(Problem(f"the path {why}", field=name))
    query = request.scope.get("query_string") or b""
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        field = name_bytes.decode("utf-8", "replace")
        if why := _bytes_unusable(name_bytes):
            problems.append(Problem(f"a query parameter's name {why}", field=field))
        elif why := _bytes_unusable(unquote_to_bytes(raw_value.replace(b"+", b" "))):
            problems.append(Problem(f"the value {why}", field=field))
    if problems:
        raise InvalidInput(problems, hint="send text as UTF-8, percent-encoded, without NUL characters")


def _bytes_unusable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})"
    return _unusable(text)


# --------------------------------------------------------------------------- JSON bodies
class _Refused(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Refused(f"the key '{key}' appears twice in one object; JSON keys must be unique")
        seen[key] = value
    return seen


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > _INT_DIGITS:
        raise _Refused(f"the number {text[:30]}{'...' if len(text) > 30 else ''} is beyond 64 bits")
    value = int(text)
    if not -INT8_MAX - 1 <= value <= INT8_MAX:
        raise _Refused(f"the number {text} is beyond 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:30]} is too large")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _check_tree(value: Any) -> None:
    """Depth, and NUL or lone surrogates in keys and strings, with the field's path."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            if why := _unusable(node):
                raise _Refused(f"the text {why}", where or None)
        elif isinstance(node, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise _Refused(f"objects and arrays are nested more than {MAX_JSON_DEPTH} deep", where or None)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str):
                    if why := _unusable(key):
                        raise _Refused(f"a key {why}", where or None)
                    path = f"{where}.{key}" if where else key
                else:
                    path = f"{where}[{key}]"
                stack.append((child, path, depth + 1))


def parse_strict_json(body: bytes) -> Any:
    """``body`` as JSON under the rules in the module's docstring, or :class:`InvalidInput`."""
    hint = "send one JSON document, UTF-8 encoded, with unique keys"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Problem(f"the body is not UTF-8 text (byte 0x{body[exc.start]:02x} at position "
                                   f"{exc.start})", field="body"), hint=hint) from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_integer, parse_float=_float,
                           parse_constant=_constant)
        _check_tree(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                   f"{exc.colno})", field="body"), hint=hint) from None
    except _Refused as exc:
        raise InvalidInput(Problem(str(exc), field=exc.field or "body"), hint=hint) from None
    except RecursionError:
        raise InvalidInput(Problem(f"objects and arrays are nested more than {MAX_JSON_DEPTH} deep",
                                   field="body"), hint=hint) from None
    except ValueError as exc:  # e.g. a number longer than Python reads
        raise InvalidInput(Problem(f"the body is not valid JSON: {exc}", field="body"), hint=hint) from None
    return value


class StrictJSONRequest(Request):
    """A request whose :meth:`json` is :func:`parse_strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict_json(await self.body())
        return self._json


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class StrictJSONRoute(APIRoute):
    """The route class of every router: a JSON body is parsed strictly before FastAPI reads it.

    Parsing here, outside FastAPI's own body handling, lets a refusal keep its field and
    message (FastAPI would turn any other parsing error into a bare 400).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_json = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)

        async def strict_handler(request: Request) -> Response:
            request = StrictJSONRequest(request.scope, request.receive)
            if reads_json and _is_json(request.headers.get("content-type")) and await request.body():
                await request.json()
            return await handler(request)

        return strict_handler


__all__ = ["CreationModeName", "Count", "EntityName", "FormText", "INT4_MAX", "INT8_MAX", "LogIndex", "LogSize",
           "MAX_JSON_DEPTH", "RowId", "ShortText", "StrictJSONRoute", "parse_strict_json", "refuse_unusable_text"]
