"""``obra``: the command line. Each command translates its arguments into one call of the
application object (:class:`obra.app.Obra`) and renders the result.

Every command group adds its commands through a ``register(app)`` function in its own module
(listed in :data:`COMMAND_MODULES`); this file holds only the store's own commands (``init``,
``migrate``, ``serve``, ``demo``) and stays a table of contents.
"""

from __future__ import annotations

import importlib
import json
import os

import typer
from sqlalchemy.exc import IntegrityError

from obra.access import create_principal
from obra.cli.common import (JSON_OPT, console, credentials_path, current_principal, emit, handle_errors, open_store,
                             owner_only_files)
from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from obra.model.vocab import AccessRole

app = typer.Typer(help="Obra: registry, content identification and royalties for authors and performers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)

#: Every command group, each adding its commands with ``register(app)``: the table of contents.
COMMAND_MODULES = ("obra.cli.registry", "obra.cli.identify", "obra.cli.transparency", "obra.cli.ingest",
                   "obra.cli.distribute", "obra.cli.aiuse", "obra.cli.licences", "obra.cli.law", "obra.cli.fairness",
                   "obra.cli.observatory", "obra.cli.review")


def _ensure_local_admin(store) -> bool:
    """On first use of a store, create the local admin and keep its token in OBRA_HOME (mode 0600)."""
    path = credentials_path()
    if path.exists():
        return False
    try:
        principal, token = create_principal(store, "local-admin", AccessRole.ADMIN)
    except (AuthenticationRequired, PermissionDenied, InvalidInput):  # a shared store already has admins
        return False
    except IntegrityError:  # another host's `obra init` made the first admin at the same moment
        return False
    # owner-only from the first byte: the admin token is never readable by others, not even briefly
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"name": principal.name, "token": token}))
    return True


@app.command()
@handle_errors
def init(as_json: bool = JSON_OPT) -> None:
    """Create the store (migrations) and, on first run, a local admin whose token is kept in OBRA_HOME."""
    store = open_store(migrate=True)
    created = _ensure_local_admin(store)
    emit({"home": str(store.home), "database": store.engine.url.render_as_string(hide_password=True),
          "office": store.office, "admin_created": created, "credentials": str(credentials_path())}, as_json)


@app.command()
@handle_errors
def migrate(as_json: bool = JSON_OPT) -> None:
    """Bring the store's schema to this version of Obra (the only command besides init that migrates)."""
    store = open_store(migrate=True)
    emit({"database": store.engine.url.render_as_string(hide_password=True), "revision": store.revision()},
         as_json)


@app.command()
@handle_errors
def demo(seed: int = 2026, works: int = typer.Option(3000, help="works in the demo catalogue"),
         as_json: bool = JSON_OPT) -> None:
    """Load the demo catalogue and run the main job end to end; print where the results are."""
    from obra_demo.run import run_demo

    store = open_store(migrate=True)  # the demo sets up a fresh store, like `obra init`
    _ensure_local_admin(store)
    summary = run_demo(store, current_principal(store), seed=seed, works=works)
    emit(summary, as_json, _render_demo)


def _render_demo(summary: dict) -> None:
    console.print("[bold green]Obra demo finished.[/] Results:")
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        console.print(f"  {key.replace('_', ' ')}: {value}", soft_wrap=True)


@app.command()
@handle_errors
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web portal (/portal/) and the REST API (OpenAPI at /docs) together."""
    import uvicorn

    from obra.web.app import create_app

    owner_only_files()  # the server writes statements, usage data and keys under OBRA_HOME
    uvicorn.run(create_app(open_store()), host=host, port=port)


for _module in COMMAND_MODULES:
    try:
        _commands = importlib.import_module(_module)
    except ModuleNotFoundError as _missing:  # a capability not in this build (as the API's ROUTER_MODULES)
        if _missing.name != _module:
            raise
        continue
    _commands.register(app)


def run() -> None:
    owner_only_files()
    app()
