"""The portal's public pages under load: p95 latency at 50 concurrent clients on loopback.

The demo catalogue (3,000 works, 3,000 recordings; 60 each at smoke scale) is served by
``obra.web.app`` with uvicorn on 127.0.0.1; ``hey`` (Debian's HTTP load generator, installed by
``make system-deps``) sends a fixed number of requests with 50 clients to:

* the API's JSON search (``/search?q=...``): the baseline, the same query without a page around it;
* the portal's search page (``/portal/search?q=...``), rendered in Spanish;
* a record page (``/portal/records/NUMBER``).

Reported: p50/p95/p99 in milliseconds, requests per second, non-2xx answers (must be 0), and each
page's p95 as a ratio to the API's. The target (issue #19) is p95 under 100 ms.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from bench.stages import hey

CLIENTS = 50


def _serve(store):
    import socket

    import uvicorn

    from obra.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="error",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _hey(url: str, requests: int, lang: str = "es") -> dict:
    return hey(url, requests, CLIENTS, {"Accept-Language": lang})


def run(scale: str) -> dict:
    from obra.access import create_principal
    from obra.model.vocab import AccessRole
    from obra.registry.batch import import_records
    from obra.registry.service import Registry
    from obra.store import Store
    from obra_demo.catalogue import demo_catalogue

    works, requests = (3000, 3000) if scale == "full" else (60, 200)
    with tempfile.TemporaryDirectory(prefix="obra-bench-portal-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'obra.db'}", Path(tmp) / "home", office="UYMVD", migrate=True)
        admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
        import_records(store, admin, source="bench", **demo_catalogue(seed=2026, parties=max(50, works * 2 // 3),
                                                                      works=works, recordings=works))
        number = Registry(store).search("luna", limit=1)[0]["number"]
        server, thread, base = _serve(store)
        try:
            for path in ("/search?q=luna", "/portal/search?q=luna", f"/portal/records/{number}"):
                _hey(base + path, 100)  # warm-up: templates compiled, catalogues loaded, caches filled
            api = _hey(base + "/search?q=luna", requests)
            search = _hey(base + "/portal/search?q=luna", requests)
            record = _hey(base + f"/portal/records/{number}", requests)
        finally:
            server.should_exit = True
            thread.join(10)
            store.dispose()
    return {
        "what": f"p95 of public portal pages at {CLIENTS} concurrent clients on loopback (hey), demo catalogue of "
                f"{works} works; baseline: the API's JSON search in the same run",
        "clients": CLIENTS, "works": works,
        "api_search_json": api, "portal_search_page": search, "portal_record_page": record,
        "search_page_p95_vs_api": round(search["p95_ms"] / api["p95_ms"], 2) if api["p95_ms"] else None,
        "record_page_p95_vs_api": round(record["p95_ms"] / api["p95_ms"], 2) if api["p95_ms"] else None,
        "target_p95_ms": 100,
        "meets_target": search["p95_ms"] < 100 and record["p95_ms"] < 100
                        and search["non_2xx"] == 0 and record["non_2xx"] == 0,
    }
