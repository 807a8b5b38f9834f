"""Fuzzing every usage and repertoire reader with mutants of the real samples (issue #13, item 8).

Each example takes a real file — the shared YouTube DSR, a usage CSV, the CISAC CWR samples —
mutates its bytes (flipped bytes, truncation, an inserted NUL, CR or line break, a duplicated or
dropped line, an endless line, the whole mutant gzipped or its gzip cut short) and ingests it into
a real store. The outcome must be a named :class:`obra.errors.ObraError` or a valid result; a
traceback of any other kind fails, and so does any change to the store on error: its published
sources, its journal and every file under its home stay exactly as they were.

Bounded for CI (60 examples per reader, about 20 s in all); ``OBRA_LONG_TESTS=1`` (``make
test-long``) runs twenty times as many.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.errors import ObraError
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.royalties.ingest import sources
from obra.royalties.pipeline import ingest_cwr, ingest_dsr, ingest_usage_csv

from ..samples import DEMO_22, NWR, REV, YOUTUBE, write_csv

LONG = os.environ.get("OBRA_LONG_TESTS") == "1"
EXAMPLES = 1200 if LONG else 60
LINE_LIMIT = 64 << 10        # so that an "endless" line is cheap to make


def _usage_csv(tmp: Path) -> Path:
    rows = [{"period": "2026-03", "territory": t, "service": "Tambor", "commercial_model": "Subscription",
             "use_type": "stream", "user_id": f"u{i}", "isrc": "UYABC2600001" if i % 3 == 0 else None,
             "title": f"Canción {i}", "artist": "Ana", "plays": i + 1, "revenue": "0.0042", "currency": "USD"}
            for i, t in enumerate(["UY", "AR", "ES", "UY", "BR", "UY"] * 4)]
    return write_csv(tmp / "usage.csv", rows)


@st.composite
def mutants(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "line", "long line", "none"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"\x00", b"\r", b"\n", b"\t", b"\r\n", b"\xff", b"\xef\xbb\xbf",
                                                b"\xe2\x80\xae", b"\x1b[31m", b'"', b",", b"|"]))
        elif kind == "line":
            lines = bytes(data).split(b"\n")
            k = draw(st.integers(0, max(len(lines) - 1, 0)))
            if draw(st.booleans()):
                lines.insert(k, lines[k])
            else:
                del lines[k]
            data = bytearray(b"\n".join(lines))
        elif kind == "long line":
            data[at:at] = b"x" * draw(st.sampled_from([LINE_LIMIT - 10, LINE_LIMIT + 10, 3 * LINE_LIMIT])) + b"\n"
    out = bytes(data)
    wrap = draw(st.sampled_from(["plain", "plain", "gzip", "cut gzip"]))
    if wrap == "gzip":
        out = gzip.compress(out)
    elif wrap == "cut gzip":
        packed = gzip.compress(out)
        out = packed[:draw(st.integers(2, max(len(packed) - 1, 2)))]
    return out


def _snapshot(store) -> tuple:
    files = sorted((str(p.relative_to(store.home)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in store.home.rglob("*") if p.is_file() and p.name != "ingest.lock")
    return ([(s["source"], s["status"]) for s in sources(store)], [e.id for e in Journal(store).events(limit=None)],
            files)


READERS = {"dsr": (lambda _: YOUTUBE, ingest_dsr, YOUTUBE.name),
           "csv": (_usage_csv, ingest_usage_csv, "usage.csv"),
           "cwr-2.1": (lambda _: NWR, ingest_cwr, "nwr.V21"),
           "cwr-2.1-rev": (lambda _: REV, ingest_cwr, "rev.V21"),
           "cwr-2.2": (lambda _: DEMO_22, ingest_cwr, "demo.v22")}


@pytest.mark.parametrize("reader", READERS)
def test_a_mutant_is_a_named_error_or_a_valid_result_and_nothing_is_written_on_error(
        sqlite_store, tmp_path_factory, monkeypatch, reader):
    monkeypatch.setenv("OBRA_MAX_LINE_BYTES", str(LINE_LIMIT))
    store = sqlite_store
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    sample, ingest, name = READERS[reader]
    original = sample(tmp_path_factory.mktemp("sample")).read_bytes()
    outcomes = {"valid": 0, "refused": 0}

    # derandomized in CI (the same mutants every run, as the API fuzzer); OBRA_LONG_TESTS draws fresh ones
    @settings(max_examples=EXAMPLES * 2 // (3 if reader.startswith("cwr") else 2), deadline=None, database=None,
              derandomize=not LONG, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(data=mutants(original))
    def check(data: bytes) -> None:
        path = tmp_path_factory.mktemp("mutant") / name
        path.write_bytes(data)
        before = _snapshot(store)
        try:
            result = ingest(store, path, admin)
        except ObraError as exc:
            body = exc.body()
            assert body["message"] and body["error"], body
            assert _snapshot(store) == before, f"{type(exc).__name__} but the store changed"
            outcomes["refused"] += 1
            return
        assert result["status"] in ("ingested", "already ingested")
        if result["status"] == "already ingested":
            assert _snapshot(store)[:2] == before[:2]
        outcomes["valid"] += 1

    check()
    assert outcomes["refused"] > 0       # the mutations do reach the readers' checks
    if reader != "cwr-2.2":              # the 2.2 sample is itself refused (its counts are off)
        assert outcomes["valid"] > 0     # and not every mutant is refused
