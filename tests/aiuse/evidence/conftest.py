"""A registry with stated terms, and training checks whose items were crawled after (and before) the terms.

The registry is the training check's own test world (:func:`tests.aiuse.check.conftest.build_world`:
work A not allowed by its own terms, B and C allowed, D silent with its party's catalogue not
allowed), plus work E, registered with its file's codes but with no terms anywhere. The manifest
is the check's fixture lines for A-D, with E's ISCC code added, re-dated so that each crawl falls
after the terms were stated (``after``) or years before (``before``); ``mixed`` holds two copies of work
A, one crawled after the terms and one with no crawl date.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from obra.aiuse.check.service import CheckService
from obra.identify.registration import register_with_codes
from obra.registry.service import Registry
from tests.aiuse.check.conftest import DATA, build_world, codes

E = 0x5A5A5A5A5A5A5A5A


def manifest(path: Path, crawled_at: str, e_code: str) -> Path:
    """The check fixture's registry lines (14-19) and one copy of work E, all crawled at ``crawled_at``."""
    lines = [json.loads(line) for line in (DATA / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[13:19]]
    lines.append({"url": "https://mirror.example/e.png", "iscc": e_code})
    for line in lines:
        line["crawled_at"] = crawled_at
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def build(store, tmp: Path) -> dict:
    world = build_world(store)
    registry = Registry(store)
    root = world["principals"]["admin"][0]
    silent = registry.add_party(root, {"kind": "person", "name": "Eva Silent", "roles": ["author"]})
    e_codes = codes(E, 31, 41, "E")
    record = register_with_codes(registry, world["principals"]["registrant"][0], "work", {
        "title": "Work E", "shares": [{"party": silent.id, "right_type": "performance", "share": "100"}]}, e_codes)
    world["numbers"]["E"] = record.number
    world["silent_party"] = silent.id
    time.sleep(0.01)  # every crawl below is strictly after the last terms were stated
    after = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    checks = {}
    for name, crawled in (("after", after), ("before", "2020-01-15T10:00:00Z")):
        checks[name] = CheckService(store).check(
            world["developer"], manifest(tmp / f"manifest-{name}.jsonl", crawled, e_codes.iscc), None,
            jurisdiction="DE", purpose="commercial", out_dir=tmp / f"check-{name}")
    lines = [json.loads(line) for line in (DATA / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[13:14]]
    mixed = [lines[0] | {"crawled_at": after}, lines[0] | {"url": "https://undated.example/a.png", "crawled_at": None}]
    (tmp / "manifest-mixed.jsonl").write_text("".join(json.dumps(x) + "\n" for x in mixed), encoding="utf-8")
    checks["mixed"] = CheckService(store).check(world["developer"], tmp / "manifest-mixed.jsonl", None,
                                                jurisdiction="DE", purpose="commercial", out_dir=tmp / "check-mixed")
    world["checks"] = checks
    world["crawled_after"] = after
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def evidence_world(request, tmp_path_factory):
    """The world in a store of each kind, with its two checks."""
    from tests.conftest import _pg_store, _sqlite_store

    tmp = tmp_path_factory.mktemp(f"evidence-{request.param}")
    if request.param == "sqlite":
        with _sqlite_store(tmp) as store:
            yield build(store, tmp)
    else:
        with _pg_store(request.getfixturevalue("pg_admin_engine"), tmp) as store:
            yield build(store, tmp)


@pytest.fixture(scope="module")
def sqlite_evidence_world(tmp_path_factory):
    """The same world on SQLite only, for what no database changes (letters, tampering, interfaces)."""
    from tests.conftest import _sqlite_store

    tmp = tmp_path_factory.mktemp("evidence-sqlite-only")
    with _sqlite_store(tmp) as store:
        yield build(store, tmp)
