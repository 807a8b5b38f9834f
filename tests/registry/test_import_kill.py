"""SIGKILL of a registry import (issue #13, "what to build" 8: fault tests that stay in CI).

``obra import`` of a large JSON batch runs in a separate process and is killed with SIGKILL
at random moments *while its write transaction is open* (the test sees the store's write lock
held before it picks the moment). Afterwards nothing of the batch is visible: registrations,
parties, the journal, the transparency log and the year's sequence are exactly as before. The
re-run then succeeds and its numbers continue the earlier ones without a gap.

SQLite: 200,000 works, three kills; PostgreSQL: 80,000 works, two kills (imports are set-based since
issue #18, so a batch must be this large to be still writing when killed, latest 2.0 s and 0.8 s after
its write lock is seen). ``OBRA_LONG_TESTS=1``: 500,000 and 200,000.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.store import Store
from obra.store.schema import journal_events, parties, registrations, sequences
from obra.transparency.translog import log_entries, log_state

OBRA = str(Path(sys.executable).with_name("obra"))
LONG = os.environ.get("OBRA_LONG_TESTS") == "1"


def _batch(path: Path, works: int) -> Path:
    batch = {"parties": [{"key": "p1", "name": "Ana Compositora", "kind": "person"}],
             "works": [{"title": f"Killed Import {i}",
                        **({"shares": [{"party": "p1", "role": "composer", "right_type": "performance",
                                                    "share": "100"}]} if i % 10 == 0 else {})}
                       for i in range(works)]}
    path.write_text(json.dumps(batch))
    return path


def _visible(store: Store) -> dict:
    with store.connect() as conn:
        return {
            "registrations": conn.execute(select(func.count()).select_from(registrations)).scalar_one(),
            "parties": conn.execute(select(func.count()).select_from(parties)).scalar_one(),
            "journal": conn.execute(select(func.count()).select_from(journal_events)).scalar_one(),
            "log_entries": conn.execute(select(func.count()).select_from(log_entries)).scalar_one(),
            "log_size": conn.execute(select(log_state.c.size).where(log_state.c.office == store.office)).scalar(),
            "sequences": conn.execute(select(sequences.c.office, sequences.c.year, sequences.c.next_value)
                                      .order_by(sequences.c.office, sequences.c.year)).all(),
        }


def _sqlite_write_lock_held(database: Path) -> bool:
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        probe.close()


def _pg_log_lock_held(store: Store) -> bool:
    try:
        with store.engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT 1 FROM transparency_log_state WHERE office = :o FOR UPDATE NOWAIT"),
                         {"o": store.office})
        return False
    except OperationalError:
        return True


def _kill_mid_write(env: dict, batch: Path, lock_held, after: float) -> float:
    """Start `obra import`, wait until its write transaction holds the lock, kill it ``after`` s later."""
    proc = subprocess.Popen([OBRA, "import", str(batch), "--json"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not lock_held():
        assert proc.poll() is None, f"the import ended before it was killed: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "the import never began writing"
        time.sleep(0.02)
    time.sleep(after)
    assert proc.poll() is None, "the import finished before the kill: lengthen the batch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return after


def _kill_and_rerun(store: Store, env: dict, batch: Path, works: int, lock_held, moments: list[float]) -> None:
    admin, token = create_principal(store, "admin", AccessRole.ADMIN)
    before_numbers = [Registry(store).register(admin, "work", {"title": f"Before {i}"}).number for i in range(3)]
    env = {**env, "OBRA_TOKEN": token}
    before = _visible(store)
    for after in moments:
        _kill_mid_write(env, batch, lock_held, after)
        assert _visible(store) == before, f"a kill {after:.2f} s into the write left part of the batch visible"

    done = subprocess.run([OBRA, "import", str(batch), "--json"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    after = _visible(store)
    assert after["registrations"] == before["registrations"] + works
    assert after["parties"] == before["parties"] + 1
    assert after["log_size"] == after["log_entries"] == before["log_size"] + works + 1  # + repertoire.imported
    assert after["journal"] == before["journal"] + works + 1
    with store.connect() as conn:
        numbers = conn.execute(select(registrations.c.number)).scalars().all()
    assert set(before_numbers) <= set(numbers)
    assert sorted(int(n.split("-")[2]) for n in numbers) == list(range(1, works + len(before_numbers) + 1))


def test_a_sqlite_import_killed_mid_write_leaves_nothing_and_the_rerun_is_gapless(tmp_path):
    home = tmp_path / "home"
    store = Store.open(None, home, office="UYMVD", migrate=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(OBRA_HOME=str(home), OBRA_OFFICE="UYMVD")
    works = 500_000 if LONG else 200_000
    moments = [round(random.Random(13 + k).uniform(0.05, 2.0), 2) for k in range(3)]
    _kill_and_rerun(store, env, _batch(tmp_path / "batch.json", works), works,
                    lambda: _sqlite_write_lock_held(home / "obra.db"), moments)
    store.dispose()


def test_a_postgresql_import_killed_mid_write_leaves_nothing_and_the_rerun_is_gapless(tmp_path, pg_admin_engine):
    from tests.conftest import PG_URL

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store.open(PG_URL, tmp_path / "home", office="UYMVD", schema=schema, migrate=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(OBRA_HOME=str(tmp_path / "home"), OBRA_OFFICE="UYMVD",
               OBRA_DATABASE_URL=f"{PG_URL}?options={quote(f'-csearch_path={schema}')}")
    works = 200_000 if LONG else 80_000
    moments = [round(random.Random(17 + k).uniform(0.05, 0.8), 2) for k in range(2)]
    try:
        _kill_and_rerun(store, env, _batch(tmp_path / "batch.json", works), works,
                        lambda: _pg_log_lock_held(store), moments)
    finally:
        store.dispose()
        with pg_admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
