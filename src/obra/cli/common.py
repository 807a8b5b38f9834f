"""What every CLI command shares: the store, the caller's principal, output, and errors.

Commands print human-readable output with rich, or exactly one JSON document with
``--json`` (for scripts). Errors become a message on stderr and an exit code:
each error class carries its own exit code (:mod:`obra.errors`: 2 invalid input, 3 not
found, 4 not authenticated, 5 not permitted, 70 an internal invariant, ...) and its hint.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from obra.access import ANONYMOUS, Principal, authenticate
from obra.errors import ObraError
from obra.app import Obra
from obra.store import Settings, Store
from obra.store.paths import StorePaths

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


JSON_OPT = typer.Option(False, "--json", help="print one JSON document (for scripts)")
TOKEN_OPT = typer.Option(None, "--token", envvar="OBRA_TOKEN", help="bearer token of the principal")
LOCALE_OPT = typer.Option("en", "--locale", envvar="OBRA_LOCALE",
                          help="language of documents: en, es, fr or pt (or a tag like es-UY)")


def owner_only_files() -> None:
    """Every file and folder this process creates is owner-only (umask 077): the database, its WAL,
    keys, credentials, usage data and statements under OBRA_HOME are never readable by others."""
    os.umask(0o077)


def open_store(migrate: bool = False) -> Store:
    """The store configured by ``OBRA_HOME`` / ``OBRA_DATABASE_URL`` / ``OBRA_OFFICE``.

    Only ``obra init`` and ``obra migrate`` migrate; every other command checks the schema
    revision and, on a mismatch, says to run ``obra migrate``.
    """
    return Store.open(migrate=migrate)


def open_obra(migrate: bool = False) -> Obra:
    """The application object every command calls."""
    return Obra(open_store(migrate))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def user_text(value: object) -> str:
    """Text someone else typed (a title, a name), safe to print: never read as rich markup, and with
    control characters (ANSI escape sequences included) shown as \\xNN instead of reaching the terminal."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if value is None else str(value))
    return escape(text)


def credentials_path() -> Path:
    return StorePaths(Settings.from_env().home).credentials


def locale_of(tag: str | None) -> str:
    """A supported document locale for ``--locale`` (en, es, fr, pt; the nearest one for a tag)."""
    from obra.render import negotiate

    return negotiate(tag)


def current_principal(store: Store | Obra, token: str | None = None) -> Principal:
    """The caller: ``--token``, else ``OBRA_TOKEN``, else the local admin token written by ``obra init``.

    With no token at all the caller is the anonymous public reader, as on the API (``obra.api.auth.caller``):
    the service then refuses the write with a 401 that names the action ("'match' needs an authenticated
    principal"), the same message on both surfaces. A token that is given but unknown is refused here.
    """
    token = token or os.environ.get("OBRA_TOKEN")
    if not token:
        path = credentials_path()
        if path.exists():
            token = json.loads(path.read_text()).get("token")
    if not token:
        return ANONYMOUS
    return authenticate(store.store if isinstance(store, Obra) else store, token)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2)


def emit(data: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON or through ``render`` (default: pretty JSON via rich)."""
    if as_json:
        sys.stdout.write(to_json(data) + "\n")
    elif render is not None:
        render(data)
    else:
        console.print_json(to_json(data))


def handle_errors(fn: Callable) -> Callable:
    """Turn Obra's errors into a clear message and an exit code instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ObraError as exc:
            if exc.internal:
                logging.getLogger("obra.cli").error("internal invariant failed", exc_info=exc)
            err_console.print(Text("error: ", style="bold red") + Text(str(exc)))
            if exc.hint:
                err_console.print(Text("hint: ", style="bold") + Text(exc.hint))
            raise typer.Exit(exc.exit_code) from None

    return wrapper
