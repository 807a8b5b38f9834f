"""Both stores under concurrency (issue #13, findings 2 and 6; "what to build" 5 and 8).

* SQLite: reads during a long write answer at once (WAL, deferred reads), with the latencies
  printed; a second writer waits the busy timeout and is then refused with a named 503
  (:class:`obra.store.database.StoreBusy`), on the library and on the command line, never
  "database is locked" with a traceback.
* Migrations: eight ``obra init`` started together on one fresh PostgreSQL schema (eight
  hosts), and eight ``Store.migrate()`` at once on a fresh SQLite or PostgreSQL store, all
  succeed: one head revision, one first admin. Only ``obra init`` / ``obra migrate``
  migrate: any other command on an unmigrated store refuses.
* Concurrent writers: 4 processes × 25 registrations at once, from the first registration
  of the year, on SQLite and PostgreSQL: numbers unique and gapless, one journal event per
  registration, every inclusion proof verifies against the final signed head, which is
  consistent with every head signed while the writers ran.

Writers are real processes (``WORKER`` below, run with ``python -c``), not threads.
Set ``OBRA_LONG_TESTS=1`` to hold the long write for 60 s instead of 4 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect, select, text

from obra.access import create_principal
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.store import Settings, Store
from obra.store.database import StoreBusy
from obra.store.schema import journal_events, principals, registrations
from obra.transparency import merkle
from obra.transparency.translog import TransparencyLog, verify_tree_head

OBRA = str(Path(sys.executable).with_name("obra"))
LONG = os.environ.get("OBRA_LONG_TESTS") == "1"

#: One writer process. argv[1] is a JSON object: mode, url, home, schema, token, and per mode:
#: ``hold`` registers works inside ONE transaction (a batch import) for ``seconds`` and until the file
#: ``release`` exists, printing "writing" once its write has begun and "committed" at the end; ``register`` waits until
#: ``start_at`` then registers ``n`` works one per transaction, signing a tree head every
#: ``head_every`` registrations, and prints its numbers and heads as JSON.
WORKER = r"""
import json, os, sys, time
from obra.access import authenticate
from obra.registry.service import Registry
from obra.store import Store
from obra.transparency.translog import TransparencyLog

args = json.loads(sys.argv[1])
store = Store.open(args["url"], args["home"], schema=args.get("schema"))
principal = authenticate(store, args["token"])
registry = Registry(store)
if args["mode"] == "hold":
    with store.begin() as conn:
        registry.register(principal, "work", {"title": "Long Import 0"}, conn)
        print("writing", flush=True)
        until, i = time.monotonic() + args["seconds"], 1
        while time.monotonic() < until or not os.path.exists(args["release"]):
            registry.register(principal, "work", {"title": f"Long Import {i}"}, conn)
            i += 1
    print("committed", i, flush=True)
else:
    registry.search("warm up")  # connect and import before the start, so the first writes really race
    registry._parse("work", {"title": "warm up"})
    TransparencyLog(store).size()
    while time.time() < args["start_at"] - 0.02:
        time.sleep(0.005)
    while time.time() < args["start_at"]:
        pass
    numbers, heads = [], []
    for i in range(args["n"]):
        numbers.append(registry.register(principal, "work", {"title": f"{args['name']} work {i}"}).number)
        if (i + 1) % args["head_every"] == 0:
            heads.append(TransparencyLog(store).signed_tree_head())
    print(json.dumps({"numbers": numbers, "heads": heads}), flush=True)
"""


def _worker(args: dict, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _store_args(store: Store) -> dict:
    return {"url": store.url, "home": str(store.home), "schema": store.schema}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(extra)
    return env


# --- SQLite: reads never wait for a writer; writers wait with a bound -----------------------

def test_reads_during_a_long_write_answer_within_100ms_and_a_second_writer_is_told_the_store_is_busy(
        tmp_path, monkeypatch):
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'obra.db'}"
    store = Store.open(url, home, migrate=True)
    admin, token = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    known = [registry.register(admin, "work", {"title": f"Canción {i}"}).number for i in range(30)]
    log, journal = TransparencyLog(store), Journal(store)
    size_before = log.size()

    seconds = 60.0 if LONG else 4.0
    release = tmp_path / "release"
    writer = _worker({**_store_args(store), "mode": "hold", "seconds": seconds, "token": token,
                      "release": str(release)})
    assert writer.stdout.readline().strip() == "writing", writer.stderr.read()

    # a second writer, on the command line and in the library, with a short busy timeout
    cli = subprocess.Popen([OBRA, "register", "--title", "Blocked", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           env=_clean_env(OBRA_HOME=str(home), OBRA_TOKEN=token, OBRA_BUSY_TIMEOUT_S="1"))
    monkeypatch.setenv("OBRA_BUSY_TIMEOUT_S", "1")
    busy_store = Store(Settings.from_env(home, url))
    refused: dict = {}

    def second_writer():
        started = time.perf_counter()
        try:
            Registry(busy_store).register(admin, "work", {"title": "Blocked too"})
        except StoreBusy as exc:
            refused["error"] = exc
        refused["waited"] = time.perf_counter() - started

    blocked = threading.Thread(target=second_writer)
    blocked.start()

    latencies: dict[str, list[float]] = {"search": [], "show": [], "log": [], "journal": []}
    reads = {
        "search": lambda: registry.search("cancion"),
        "show": lambda: registry.show(known[len(latencies["show"]) % len(known)]),
        "log": lambda: log.entries(max(0, size_before - 20), size_before),
        "journal": lambda: journal.events(limit=50),
    }
    found, log_sizes = set(), set()
    while writer.poll() is None:
        for name, read in reads.items():
            started = time.perf_counter()
            result = read()
            latencies[name].append(time.perf_counter() - started)
            if name == "search":
                found.add(len(result))
        log_sizes.add(log.size())
        if not blocked.is_alive() and cli.poll() is not None:
            release.touch()  # both second writers have had their answer: the import may commit
        time.sleep(0.002)
    out, err = writer.communicate()
    blocked.join()
    cli_out, cli_err = cli.communicate()

    every = [x for values in latencies.values() for x in values]
    report = {name: f"n={len(v)} p50={_percentile(v, .5) * 1000:.1f}ms p95={_percentile(v, .95) * 1000:.1f}ms "
                    f"p99={_percentile(v, .99) * 1000:.1f}ms max={max(v) * 1000:.1f}ms"
              for name, v in latencies.items()}
    print(f"\nreads during a {seconds:g} s write on SQLite: {json.dumps(report, indent=1)}")
    assert writer.returncode == 0 and out.strip().startswith("committed"), err
    assert len(every) >= 100
    assert _percentile(every, 0.95) < 0.100
    assert _percentile(every, 0.99) < 0.250
    # readers saw the last commit, never the write in progress: the log before it, or (at the very end) after it
    committed = int(out.split()[1])
    assert found == {30}
    assert size_before in log_sizes and log_sizes <= {size_before, size_before + committed}
    assert log.size() == size_before + committed  # one leaf per registration of the import, all at once

    assert "error" in refused, "the second writer was let in during the write"
    assert 0.9 <= refused["waited"] < 15
    assert refused["error"].status == 503 and refused["error"].code == "store_busy"
    assert "busy with another write" in str(refused["error"]) and "try again" in refused["error"].hint
    assert cli.returncode == 69, cli_err
    assert "busy with another write" in cli_err and "Traceback" not in cli_err + cli_out
    assert "locked" not in cli_err


def test_store_busy_timeout_is_configured_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("OBRA_BUSY_TIMEOUT_S", "2.5")
    assert Settings.from_env(tmp_path).busy_timeout_s == 2.5
    for bad in ("soon", "-1", "0", "nan", "1e9"):
        monkeypatch.setenv("OBRA_BUSY_TIMEOUT_S", bad)
        with pytest.raises(Exception) as err:
            Settings.from_env(tmp_path)
        assert err.value.problems[0].field == "OBRA_BUSY_TIMEOUT_S"


def test_a_postgresql_write_waiting_for_a_lock_past_the_timeout_is_store_busy(pg_admin_engine, tmp_path,
                                                                              monkeypatch):
    from tests.conftest import PG_URL

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store.open(PG_URL, tmp_path / "home", schema=schema, migrate=True)
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    Registry(store).register(admin, "work", {"title": "first"})
    monkeypatch.setenv("OBRA_BUSY_TIMEOUT_S", "1")
    impatient = Store(Settings.from_env(tmp_path / "home", PG_URL), schema=schema)
    try:
        with store.begin() as conn:  # an import holding the office's log
            Registry(store).register(admin, "work", {"title": "held"}, conn)
            started = time.perf_counter()
            with pytest.raises(StoreBusy, match="busy with another write"):
                Registry(impatient).register(admin, "work", {"title": "waits"})
            assert 0.9 <= time.perf_counter() - started < 15
    finally:
        impatient.dispose()
        store.dispose()
        with pg_admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- migrations: serialised, and only by obra init / obra migrate -----------------------------

def _pg_url_for(schema: str) -> str:
    from tests.conftest import PG_URL

    return f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"


def _init_together(envs: list[dict]) -> list[dict]:
    procs = [subprocess.Popen([OBRA, "init", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for env in envs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"obra init failed: {err}"
        assert "Traceback" not in err
        results.append(json.loads(out))
    return results


def test_eight_obra_init_at_once_on_one_postgresql_schema_all_succeed(pg_admin_engine, tmp_path):
    """Issue #13, finding 6: 7 of 8 concurrent `obra init` crashed on a duplicate pg_type."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = _pg_url_for(schema)
        keys = tmp_path / "shared-keys"
        results = _init_together([_clean_env(OBRA_HOME=str(tmp_path / f"host-{i}"), OBRA_DATABASE_URL=url,
                                             OBRA_KEYS_DIR=str(keys)) for i in range(8)])
        assert sum(r["admin_created"] for r in results) == 1  # one first admin, on one host
        store = Store.open(url, tmp_path / "host-0")
        assert store.revision() == store.expected_revision()
        with store.connect() as conn:
            assert conn.execute(select(func.count()).select_from(principals)).scalar_one() == 1
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        store.dispose()
    finally:
        with pg_admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_other_commands_never_migrate_they_refuse_with_a_hint(pg_admin_engine, tmp_path):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        env = _clean_env(OBRA_HOME=str(tmp_path / "host"), OBRA_DATABASE_URL=_pg_url_for(schema))
        for command in (["search", "x"], ["register", "--title", "x"]):
            done = subprocess.run([OBRA, *command], capture_output=True, text=True, env=env, timeout=60)
            assert done.returncode == 75, (command, done.stderr)
            assert "no Obra schema yet" in done.stderr and "obra init" in done.stderr
        with pg_admin_engine.connect() as conn:
            assert inspect(conn).get_table_names(schema=schema) == []  # nothing was created
    finally:
        with pg_admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_eight_store_migrate_at_once_on_a_fresh_store_all_succeed(dialect, tmp_path, request):
    """Store.migrate() (what init and migrate call) from eight threads at once on a store with no schema."""
    schema = None
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        from tests.conftest import PG_URL

        url, schema = PG_URL, f"t_{uuid.uuid4().hex[:12]}"
        admin_engine = request.getfixturevalue("pg_admin_engine")
        with admin_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    errors, barrier = [], threading.Barrier(8)

    def migrate():
        store = Store(Settings.from_env(tmp_path / "home", url), schema=schema)
        try:
            barrier.wait()
            store.migrate()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            store.dispose()

    try:
        threads = [threading.Thread(target=migrate) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        store = Store.open(url, tmp_path / "home", schema=schema)
        assert store.revision() == store.expected_revision()
        store.dispose()
    finally:
        if schema:
            with admin_engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- concurrent writers on both stores --------------------------------------------------------

def test_concurrent_writers_get_gapless_numbers_one_journal_event_each_and_a_consistent_log(store, tmp_path):
    """4 processes × 25 registrations, starting together on a store with no registration yet this year
    (the first registration of a year is the race on the `sequences` row). Each process is a host of
    its own (own OBRA_HOME) sharing the office's keys through OBRA_KEYS_DIR."""
    workers, per_worker = 4, 25
    admin, token = create_principal(store, "admin", AccessRole.ADMIN)
    log = TransparencyLog(store)
    size_before = log.size()
    env = _clean_env(OBRA_KEYS_DIR=str(store.home / "keys"))
    start_at = time.time() + 2.0
    procs = [_worker({"url": store.url, "home": str(tmp_path / f"host-{w}"), "schema": store.schema,
                      "token": token, "mode": "register", "n": per_worker, "head_every": 8, "start_at": start_at,
                      "name": f"host {w}"}, env) for w in range(workers)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out))
    took = time.time() - start_at
    print(f"\n{workers}x{per_worker} concurrent registrations on {store.dialect}: {took:.1f} s")

    numbers = [n for o in outputs for n in o["numbers"]]
    assert len(numbers) == len(set(numbers)) == workers * per_worker
    sequences_seen = sorted(int(re.fullmatch(r"[A-Z0-9]+-\d{4}-(\d{7})-.", n).group(1)) for n in numbers)
    assert sequences_seen == list(range(1, workers * per_worker + 1))  # unique and gapless
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(registrations)).scalar_one() == workers * per_worker
        kinds = dict(conn.execute(select(journal_events.c.kind, func.count()).group_by(journal_events.c.kind)).all())
        subjects = conn.execute(select(journal_events.c.subject)
                                .where(journal_events.c.kind == "registration.register")).scalars().all()
        indexes = conn.execute(select(journal_events.c.log_index)).scalars().all()
        logged = dict(conn.execute(select(registrations.c.number, registrations.c.log_index)).all())
    assert kinds["registration.register"] == workers * per_worker  # one journal event per write
    assert sorted(subjects) == sorted(f"{n}/v1" for n in numbers)

    # the log: one leaf per journal event, every inclusion proof against the final signed head
    final = log.signed_tree_head()
    history = log.key_history()
    head = verify_tree_head(final, history)
    assert head.tree_size == size_before + workers * per_worker == len(indexes) == len(set(indexes))
    entries = log.entries(0, head.tree_size)
    assert [e.index for e in entries] == list(range(head.tree_size))
    leaf_hashes = [merkle.leaf_hash(e.leaf_bytes) for e in entries]
    assert leaf_hashes == [e.leaf_hash for e in entries]
    assert merkle.root_from_leaf_hashes(leaf_hashes) == head.root_hash  # recomputed from the leaves alone
    for entry in entries:
        proof = log.inclusion_proof(entry.index, head.tree_size)
        merkle.verify_inclusion(entry.leaf_hash, entry.index, head.tree_size,
                                [bytes.fromhex(h) for h in proof["hashes"]], head.root_hash)
        if entry.number is not None:
            assert logged[entry.number] == entry.index
    # every head signed while the writers ran is a prefix of the final one
    heads = [verify_tree_head(h, history) for o in outputs for h in o["heads"]]
    assert len(heads) == workers * (per_worker // 8)
    for earlier in heads:
        proof = log.consistency_proof(earlier.tree_size, head.tree_size)
        merkle.verify_consistency(earlier.tree_size, head.tree_size, earlier.root_hash, head.root_hash,
                                  [bytes.fromhex(h) for h in proof["hashes"]])
    assert len(history.keys) == 1  # the hosts shared one key history


def test_the_first_registrations_of_a_year_race_without_a_duplicate_sequence(store, tmp_path):
    """Issue #13, finding 6: the first registration of a year could crash on a duplicate `sequences` key.
    Eight threads released together register the first works of a new office, in several rounds
    (each round a new office, so each starts its own year's sequence)."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    threads_per_round, rounds = 8, 6
    for round_ in range(rounds):
        office = f"YR{round_:02d}"
        stores = [Store(Settings(store.home, store.url, office), schema=store.schema) for _ in range(threads_per_round)]
        barrier, numbers, errors = threading.Barrier(threads_per_round), [], []

        def first_of_the_year(s: Store):
            registry = Registry(s)
            registry.search("warm up")
            try:
                barrier.wait()
                numbers.append(registry.register(admin, "work", {"title": f"first of {office}"}).number)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=first_of_the_year, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for s in stores:
            s.dispose()
        assert errors == []
        assert sorted(int(n.split("-")[2]) for n in numbers) == list(range(1, threads_per_round + 1))
