"""The portal under test: a small real catalogue with a month of usage distributed, one principal per
role, the ASGI app served by uvicorn on loopback, and Debian's Chromium driven by Playwright.

Chromium is a service like PostgreSQL: missing, the browser tests skip, except with
``OBRA_REQUIRE_SERVICES=1`` (CI), where they fail. Nothing is downloaded: Playwright launches
``/usr/bin/chromium`` (``make system-deps`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.store import Store
from tests.conftest import _unavailable

CHROMIUM = os.environ.get("OBRA_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("OBRA_PORTAL_SHOTS", Path(__file__).parent / "screenshots"))
PERIOD = "2026-10"


@dataclass
class Portal:
    """The running portal: its address, store, and a name and token per role."""

    url: str
    store: Store
    logins: dict[str, tuple[str, str]]
    payee: str
    home: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_store(root: Path) -> tuple[Store, dict[str, tuple[str, str]], str]:
    """A small catalogue, a month of usage ingested, matched and distributed; a principal per role."""
    from obra.registry.batch import import_records
    from obra.royalties.pipeline import ingest_usage_csv, run_matching, run_period
    from obra_demo.catalogue import demo_catalogue
    from obra_demo.reports import write_demo_reports

    store = Store.open(f"sqlite:///{root / 'obra.db'}", root / "home", office="UYMVD", migrate=True)
    admin, admin_token = create_principal(store, "admin", AccessRole.ADMIN)
    import_records(store, admin, source="portal tests", **demo_catalogue(seed=7, parties=40, works=60, recordings=60))
    for path in write_demo_reports(store.repertoire(), root / "reports", PERIOD, 7, subscribers=200,
                                   listens_per_subscriber=6):
        ingest_usage_csv(store, path, admin)
    run_matching(store, admin, PERIOD)
    run = run_period(store, admin, PERIOD, "pro-rata")
    payees = sorted(json.loads(p.read_text())["payee"] for p in Path(run["directory"]).glob("statements/*.json"))
    payee = next(p for p in payees if p.isdigit())
    logins = {"admin": ("admin", admin_token)}
    for role in ("creator", "cmo", "office_staff", "ai_developer", "registrant"):
        party = int(payee) if role == "creator" else None
        principal, token = create_principal(store, f"{role.replace('_', '-')}-1", role, party, by=admin)
        logins[role] = (principal.name, token)
    return store, logins, payee


@pytest.fixture(scope="session")
def portal(tmp_path_factory) -> Portal:
    import uvicorn

    from obra.web.app import create_app

    root = tmp_path_factory.mktemp("portal")
    store, logins, payee = build_store(root)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield Portal(f"http://127.0.0.1:{port}", store, logins, payee, root)
    server.should_exit = True
    thread.join(10)
    store.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable("Chromium (/usr/bin/chromium, `make system-deps`)", "not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable("Playwright", exc)
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - a browser that does not start is not available
            _unavailable("Chromium", exc)
        yield browser
        browser.close()


def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
