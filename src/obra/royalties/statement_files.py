"""A whole run's statement files, written column by column.

A distribution run writes one JSON and one CSV statement per payee: at ten million usage lines that
is some 320,000 statement lines for 800 payees. Building a dict per line, canonicalising it and
writing it row by row costs more than the distribution itself, so for whole runs the lines are
rendered as text in Arrow: each distinct value (a title, an agreement path, an amount, a usage
drill-down) is encoded once by the very encoders the documents use (``json`` for RFC 8785, ``csv``
for the CSV rows), the lines are joined element-wise, and each payee's lines are one slice of the
result. Everything else in a statement (totals, adjustments, balances) comes from
:func:`obra.royalties.statements._documents`, the code :func:`~obra.royalties.statements.build_statements`
uses, and is sealed the same way, so the files are byte for byte those of
:func:`~obra.royalties.statements.build_statements` and
:func:`~obra.royalties.statements.write_statements` (a test holds the two paths together). When it
cannot vouch for that (another format, an integer beyond 2^53, a missing value), it says so and the
caller takes the per-line path.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obra.money import from_minor
from obra.royalties.records import POOL_KEYS
from obra.royalties.statements import (CSV_COLUMNS, _PlainUsage, _documents, _safe_ints, _seal, _usage,
                                       safe_name)
from obra.royalties.waterfall import Waterfall

#: The formats this path writes; any other asked for sends the caller to the per-line path.
FORMATS = ("json", "csv")
_TEXT = pa.large_string()


def _json(value: Any) -> str:
    """The RFC 8785 text of a plain value (the standard library's encoder, as :func:`obra.canonical.canonical_plain`)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _csv_cell(value: Any) -> str:
    """A cell as ``csv.writer`` (the statement's dialect) writes it in a row of several cells."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([value, "x"])
    return buf.getvalue()[:-3]


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list]:
    """(an integer code per row, the distinct value of each code); a missing value is a value too."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(values))
        values.append(None)
    return indices.to_numpy(zero_copy_only=False).astype(np.int64), values


def _rendered(keys: list[tuple[np.ndarray, list]], render: Callable[..., str]) -> pa.Array:
    """``render(*values)`` for each row, called once per distinct combination of ``keys`` (codes with
    their values, from :func:`_codes`)."""
    codes, values = keys[0]
    if len(keys) == 1:
        distinct = [(v,) for v in values]
    else:
        # one dense code per combination, built a key at a time (so it never overflows)
        combined = codes
        for more, more_values in keys[1:]:
            combined, codes = np.unique(combined * len(more_values) + more, return_inverse=True)
            codes = codes.reshape(-1)
            combined = codes
        first = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
        first[codes] = np.arange(len(codes))            # a row of each combination
        distinct = [tuple(vals[c[i]] for c, vals in keys) for i in first.tolist()]
    texts = [render(*row) for row in distinct]
    return pa.array(texts, _TEXT).take(pa.array(codes))


def _join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of text columns and literals."""
    return pc.binary_join_element_wise(*[p if isinstance(p, (pa.Array, pa.ChunkedArray)) else pa.scalar(p, _TEXT)
                                         for p in parts], pa.scalar("", _TEXT))


def _slices(text: pa.Array) -> tuple[bytes, np.ndarray]:
    """The bytes of a text column and the offset of each row in them (row i is data[o[i]:o[i+1]])."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    _, offsets, data = text.buffers()
    o = np.frombuffer(offsets, dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    return data.to_pybytes() if data is not None else b"", o


def write_run_statements(run: Waterfall, directory: Path, formats: Iterable[str] = FORMATS,
                         previous: dict[str, dict] | None = None,
                         titles: dict[str, str] | None = None) -> dict[str, dict] | None:
    """Every payee's statement files under ``directory``: payee → ``{"content_hash", "periods", "files"}``,
    the files being those ``write_statements(build_statements(run, previous=…, titles=…), …)`` writes.

    None when this path cannot vouch for the same bytes: a format other than JSON and CSV, no per-source
    sums in the distribution, integers beyond 2^53, a line without amount or plays. The caller then
    takes the per-line path."""
    formats = tuple(formats)
    if any(f not in FORMATS for f in formats) or run.distribution.summed is None:
        return None
    order = list(POOL_KEYS) + ["currency", "item", "recipient_order"]
    table = run.lines.order_by(["payee"] + order).to_pyarrow()
    if table.num_rows and (table.column("amount_minor").null_count or table.column("plays").null_count
                           or table.column("payee").null_count
                           or not _safe_ints(table, ("amount_minor", "plays"))):
        return None
    usage = _usage(run, None, "summary") if table.num_rows else _PlainUsage()
    if not isinstance(usage, _PlainUsage):
        return None
    titles = titles or {}
    n = table.num_rows
    key = {"payee": _codes(table.column("payee"))}
    payee_codes, payees = key["payee"]
    key.update({k: _codes(table.column(k)) for k in (*POOL_KEYS, "currency", "item", "role", "path", "fraction")})
    minor = table.column("amount_minor").to_numpy().astype(np.int64)
    key["amount_minor"] = _codes(table.column("amount_minor"))

    # per payee: its lines (contiguous: the table is sorted by payee), gross per currency, periods
    counts = np.bincount(payee_codes, minlength=len(payees)) if n else np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    gross: dict[str, dict[str, int]] = defaultdict(dict)
    periods_of: dict[str, set] = defaultdict(set)
    cur_codes, currencies = key["currency"]
    per_codes, periods = key["period"]
    for p, c, q, m in zip(payee_codes.tolist(), cur_codes.tolist(), per_codes.tolist(), minor.tolist()):
        paid = gross[payees[p]]                     # Python integers: exact, as the per-line path sums
        paid[currencies[c]] = paid.get(currencies[c], 0) + m
        periods_of[payees[p]].add(periods[q])

    def text(name: str, render: Callable[[Any], str]) -> pa.Array:
        return _rendered([key[name]], render)

    usage_key = [key[k] for k in (*POOL_KEYS, "item")]
    amount_key = [key["amount_minor"], key["currency"]]
    if n:
        json_lines = _join(
            '{"agreement_path":', text("path", lambda v: _json(v.split(">") if v else [])),
            ',"amount":', _rendered(amount_key, lambda m, c: _json(str(from_minor(m, c)))),
            ',"amount_minor":', pc.cast(table.column("amount_minor"), _TEXT),
            ',"commercial_model":', text("commercial_model", _json),
            ',"currency":', text("currency", _json),
            ',"item":', text("item", _json),
            ',"period":', text("period", _json),
            ',"plays":', pc.cast(table.column("plays"), _TEXT),
            ',"role":', text("role", _json),
            ',"service":', text("service", _json),
            ',"share":', text("fraction", _json),
            ',"territory":', text("territory", _json),
            ',"title":', text("item", lambda v: _json(titles.get(v))),
            ',"usage":', _rendered(usage_key, lambda *k: _json(usage.get(k, []))),
            "},") if "json" in formats else None
        csv_lines = _join(
            text("payee", _csv_cell), ",", text("period", _csv_cell), ",", text("territory", _csv_cell), ",",
            text("service", _csv_cell), ",", text("commercial_model", _csv_cell), ",", text("currency", _csv_cell),
            ",", text("item", _csv_cell), ",", text("item", lambda v: _csv_cell(titles.get(v) or "")), ",",
            text("role", _csv_cell), ",", text("path", lambda v: _csv_cell(v or "")), ",",
            text("fraction", _csv_cell), ",", pc.cast(table.column("plays"), _TEXT), ",",
            pc.cast(table.column("amount_minor"), _TEXT), ",",
            _rendered(amount_key, lambda m, c: _csv_cell(str(from_minor(m, c)))), ",",
            _rendered(usage_key, lambda *k: _csv_cell("; ".join(f"{u['source']}:{u['lines']}"
                                                                for u in usage.get(k, [])))),
            "\n") if "csv" in formats else None
    json_data, json_at = _slices(json_lines) if n and json_lines is not None else (b"", np.zeros(1, np.int64))
    csv_data, csv_at = _slices(csv_lines) if n and csv_lines is not None else (b"", np.zeros(1, np.int64))
    where = {p: (int(starts[i]), int(starts[i + 1])) for i, p in enumerate(payees)}

    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict] = {}
    for payee, statement in _documents(run, set(where), None, gross, periods_of, previous, lambda p: None):
        a, b = where.get(payee, (0, 0))
        lines = b"[" + json_data[json_at[a]:json_at[b] - 1] + b"]" if b > a and "json" in formats else b"[]"
        digest, sealed = _seal(statement, {"lines": lines})
        name = f"statement-{safe_name(payee)}-{'_'.join(statement['periods']) or 'none'}"
        files: dict[str, str] = {}
        for fmt in formats:
            path = directory / f"{name}.{fmt}"
            if fmt == "json":
                path.write_bytes(sealed + b"\n")
            else:
                path.write_bytes(_csv_head() + (csv_data[csv_at[a]:csv_at[b]] if b > a else b"")
                                 + _csv_tail(payee, statement, digest))
            files[fmt] = str(path)
        out[payee] = {"content_hash": digest, "periods": statement["periods"], "files": files}
    return out


def _csv_head() -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(CSV_COLUMNS)
    return buf.getvalue().encode("utf-8")


def _csv_tail(payee: str, statement: dict, digest: str) -> bytes:
    """The rows after the lines, as :func:`obra.royalties.statements.to_csv` writes them."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for a in statement["adjustments"]:
        w.writerow([payee, "", "", "", "", a["currency"], "", "", a["kind"], a["agreement"], "",
                    "", a["amount_minor"], a["amount"], a["note"]])
    w.writerow([])
    w.writerow(["content_hash", digest])
    return buf.getvalue().encode("utf-8")
