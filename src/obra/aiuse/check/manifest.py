"""Reading a crawl manifest: CSV, JSON Lines or Parquet, one item per row, validated column by column.

Columns (any order; others are ignored):

* ``url`` (required): the absolute ``http(s)`` URL the item was fetched from;
* ``sha256``: the SHA-256 of the item's bytes, 64 hex digits;
* ``iscc``: its ISCC-CODE (or one ISCC unit), ``ISCC:`` prefix optional, any letter case;
* ``headers``: the HTTP response headers captured at crawl time, an object whose values are
  strings or lists of strings (one per field line); a JSON string in CSV; in Parquet a JSON
  string, a map or a struct;
* ``crawled_at``: when it was fetched, ISO 8601 (a time without a zone is read as UTC);
* ``c2pa``: the C2PA manifest store captured from the file (c2pa's ``Reader.json()``), if any.

**Nothing is dropped silently.** A row whose ``url`` is missing or not an absolute http(s) URL
cannot be checked: it stays in the result as an item with ``error`` set (it will be decided
*unknown*, saying why) and is reported as a :class:`~obra.errors.Problem` with its line and
field. A bad optional value (a ``sha256`` that is not 64 hex digits, an ISCC code that does not
decode, headers that are not an object, an unreadable time) is reported the same way and read
as absent; the item is still checked. A line that is not JSON, or a CSV record with the wrong
number of cells, is reported by line and kept as an unreadable item. Blank lines are not items.
Problems are listed up to :data:`MAX_PROBLEMS` (the count of the rest is kept).

**Vectorised**: no Python loop per row. JSON Lines are read by DuckDB's JSON reader (when a
line is broken, each line is checked with DuckDB's JSON functions instead, to say which);
CSV by pyarrow, whose record numbers give each row its physical line; Parquet by pyarrow,
its rows numbered from 1. The checks, the URL's origin and RFC 9309 path, and the
signal-bearing header fields are computed by DuckDB over the Arrow columns (its JSON functions); ISCC codes are
decoded with NumPy, one header layout at a time (each distinct layout checked once by
:func:`obra.identify.iscc.parse_code`); only the rare URL whose path needs percent-encoding
normalisation goes through :func:`obra.aiuse.signals.paths.normalize_path` one by one.

Of the headers, only the fields a signal reader reads are kept (``Content-Usage``,
``tdm-reservation``, ``tdm-policy``, ``X-Robots-Tag``, ``Link``; names case-insensitive): per item
as a JSON list of those fields' ``[name, value]`` (``hsig``), the key under which each distinct
combination is read once (:class:`HeaderBundle`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obra.aiuse.signals.paths import normalize_path, path_of
from obra.errors import InvalidInput, Problem

__all__ = ["HEADER_FIELDS", "MAX_PROBLEMS", "HeaderBundle", "Manifest", "read_manifest", "manifest_from_table",
           "decode_iscc"]

HEADER_FIELDS = ("content-usage", "tdm-reservation", "tdm-policy", "x-robots-tag", "link")
"""The response header fields signal readers read (lower case)."""
MAX_PROBLEMS = 10_000
COLUMNS = ("url", "sha256", "iscc", "headers", "crawled_at", "c2pa")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
           ".pq": "parquet"}
@dataclass(frozen=True)
class HeaderBundle:
    """The signal-bearing header fields of items that carry exactly these (read once for all of them).

    ``fields`` maps a lower-case field name to its field lines, in the order captured;
    ``problems`` says what could not be read (a value that is neither a string nor a list of strings).
    """

    key: str
    fields: Mapping[str, tuple[str, ...]]
    problems: tuple[str, ...] = ()

    def get(self, name: str) -> tuple[str, ...] | None:
        return self.fields.get(name)

    def to_json(self) -> dict:
        return {"fields": {k: list(v) for k, v in self.fields.items()}, "problems": list(self.problems)}


@dataclass
class Manifest:
    """A read manifest: one row per item (see :data:`ITEM_SCHEMA`), the header bundles, the problems."""

    items: pa.Table
    bundles: dict[str, HeaderBundle]
    problems: list[Problem]
    problem_count: int
    source: str
    format: str
    sha256: str
    size: int

    @property
    def rows(self) -> int:
        return self.items.num_rows

    @property
    def unreadable(self) -> int:
        return self.rows - int(pc.sum(pc.is_null(self.items["error"])).as_py() or 0)


ITEM_SCHEMA = pa.schema([
    ("item", pa.int64()), ("line", pa.int64()), ("url", pa.string()), ("origin", pa.string()),
    ("path", pa.string()), ("sha256", pa.string()), ("iscc", pa.string()), ("content_kind", pa.string()),
    ("content_body", pa.int64()), ("instance_body", pa.int64()), ("hsig", pa.string()), ("c2pa", pa.string()),
    ("crawled_at", pa.timestamp("us", tz="UTC")), ("error", pa.string()), ("notes", pa.string()),
])
"""Every item as the check reads it: ``item`` (0-based, file order), ``line`` (physical line, or
row for Parquet), the URL with its ``origin`` and normalised RFC 9309 ``path``, the validated
hashes and decoded ISCC bodies (64-bit, as signed integers), the header-field key ``hsig``, the
C2PA store, the crawl time, ``error`` (why the row cannot be checked) and ``notes`` (values read as absent)."""


# ------------------------------------------------------------------------------------------------
# Entry points


def read_manifest(path: str | Path, *, fmt: str | None = None, on_codes: Any = None) -> Manifest:
    """Read and validate a manifest file (format from ``fmt`` or the file's extension).

    ``on_codes(kind, content)``, if given, receives every row's decoded Content-Code (kind and
    64-bit body, by row) as soon as they are decoded, before the other columns are checked: a
    caller starts the near-duplicate search with them while the rest of the manifest is read."""
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise InvalidInput(Problem("no such manifest file", source=str(path)),
                           hint="give the path of a .csv, .jsonl or .parquet file")
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "jsonl", "parquet"):
        raise InvalidInput(Problem(f"cannot tell the manifest's format from {path.suffix!r}", source=source),
                           hint="name it .csv, .jsonl or .parquet (or pass the format)")
    scan = _FileScan(path)
    problems = _Problems(source)
    trusted = False
    if fmt == "jsonl":
        raw, trusted = _raw_jsonl(path, scan)
    elif fmt == "csv":
        raw = _raw_csv(path, problems)
    else:
        raw = _raw_parquet(path, problems)
    manifest = _normalise(raw, problems, source, fmt, trusted_json=trusted, on_codes=on_codes)
    manifest.sha256, manifest.size, _lines, _blank = scan.result()
    return manifest


def manifest_from_table(table: pa.Table, *, source: str = "manifest", line_base: int = 1) -> Manifest:
    """Validate a manifest already in memory (an Arrow table with the manifest's columns)."""
    problems = _Problems(source)
    raw = _raw_from_table(table, problems, line_base)
    manifest = _normalise(raw, problems, source, "table")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue()
    manifest.sha256, manifest.size = hashlib.sha256(data).hexdigest(), data.size
    return manifest


class _FileScan:
    """One pass over the file's bytes in a thread, while it is parsed (hashlib releases the GIL):
    its SHA-256 and size, how many lines it has and whether any is blank (JSON Lines)."""

    def __init__(self, path: Path):
        self.path, self._out = path, None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        h = hashlib.sha256()
        size = newlines = 0
        blank = False
        last = b"\n"   # a blank first line counts
        with open(self.path, "rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
                size += len(chunk)
                newlines += chunk.count(b"\n")
                if not blank:
                    joined = last + chunk
                    blank = b"\n\n" in joined or b"\n\r\n" in joined
                last = chunk[-2:]
        lines = newlines + (1 if size and last[-1:] != b"\n" else 0)
        self._out = (h.hexdigest(), size, lines, blank)

    def result(self) -> tuple[str, int, int, bool]:
        self._thread.join()
        assert self._out is not None
        return self._out


class _Problems:
    """Problems up to :data:`MAX_PROBLEMS`, and how many there were in all."""

    def __init__(self, source: str):
        self.source, self.items, self.count = source, [], 0

    def add(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(message, field=field, line=line, source=self.source))


# ------------------------------------------------------------------------------------------------
# Raw columns per format: line, url, sha256, iscc, headers (JSON text), crawled_at, c2pa (JSON text), bad


def _duckdb():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    return con


def _raw_jsonl(path: Path, scan: _FileScan) -> tuple[pa.Table, bool]:
    """The raw columns of a JSON Lines file, and whether the JSON text in them is known valid.

    Fast path: DuckDB's JSON reader, when every line is a JSON object and none is blank (so row
    ``i`` is line ``i + 1``). Otherwise every line is checked on its own, to say which is broken.
    """
    con = _duckdb()
    try:
        try:
            fast = con.sql(
                "SELECT url, sha256, iscc, headers::VARCHAR AS headers, crawled_at, c2pa::VARCHAR AS c2pa "
                "FROM read_json(?, format='newline_delimited', maximum_object_size=67108864, "
                "columns={url:'VARCHAR', sha256:'VARCHAR', iscc:'VARCHAR', headers:'JSON', "
                "crawled_at:'VARCHAR', c2pa:'JSON'})", params=[str(path)]).to_arrow_table()
        except Exception:  # noqa: BLE001 - some line is not a JSON object: find which, line by line
            fast = None
        _digest, _size, lines, blank = scan.result()
        if fast is not None and not blank and fast.num_rows == lines:
            numbers = pa.array(np.arange(1, lines + 1, dtype=np.int64))
            return fast.append_column("bad", pa.nulls(fast.num_rows, pa.string())).add_column(0, "line", numbers), True
        con.close()
        con = _duckdb()
        data = np.fromfile(path, dtype=np.uint8)
        if data.size and data[:3].tobytes() == b"\xef\xbb\xbf":
            data[:3] = 32   # a byte-order mark: read as spaces, the line numbers unchanged
        newlines = np.flatnonzero(data == 10)
        starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
        if starts[-1] == data.size:
            starts = starts[:-1]
        if starts.size == 0:
            return _empty_raw(), False
        ends = np.concatenate([newlines, [data.size]])[:starts.size].astype(np.int64)
        offsets = np.empty(starts.size + 1, np.int64)
        offsets[:-1] = starts
        offsets[-1] = ends[-1]
        # every line as text, zero-copy from the file's bytes (each keeps its line break, trimmed below)
        text = pa.LargeStringArray.from_buffers(starts.size, pa.py_buffer(offsets), pa.py_buffer(data))
        table = pa.table({"line": pa.array(np.arange(1, starts.size + 1, dtype=np.int64)), "raw": text})
        con.register("obra_lines", table)
        raw = con.sql("""
            WITH l AS (SELECT line, trim(raw::VARCHAR, chr(10) || chr(13) || ' ' || chr(9)) AS raw FROM obra_lines),
                 v AS (SELECT line, raw, json_valid(raw) AS ok FROM l WHERE raw <> ''),
                 o AS (SELECT line, raw, ok, CASE WHEN ok THEN json_type(raw) END AS t FROM v)
            SELECT line,
                   CASE WHEN t = 'OBJECT' THEN json_extract_string(raw, '$.url') END AS url,
                   CASE WHEN t = 'OBJECT' THEN json_extract_string(raw, '$.sha256') END AS sha256,
                   CASE WHEN t = 'OBJECT' THEN json_extract_string(raw, '$.iscc') END AS iscc,
                   CASE WHEN t = 'OBJECT' THEN json_extract(raw, '$.headers')::VARCHAR END AS headers,
                   CASE WHEN t = 'OBJECT' THEN json_extract_string(raw, '$.crawled_at') END AS crawled_at,
                   CASE WHEN t = 'OBJECT' THEN json_extract(raw, '$.c2pa')::VARCHAR END AS c2pa,
                   CASE WHEN NOT ok THEN 'not valid JSON'
                        WHEN t <> 'OBJECT' THEN 'a JSON ' || lower(t) || ', not an object' END AS bad
            FROM o ORDER BY line""").to_arrow_table()
        return raw, True
    finally:
        con.close()


def _empty_raw() -> pa.Table:
    return pa.table({"line": pa.array([], pa.int64()), **{c: pa.array([], pa.string()) for c in COLUMNS},
                     "bad": pa.array([], pa.string())})


def _raw_csv(path: Path, problems: _Problems) -> pa.Table:
    import pyarrow.csv as csv

    invalid: list[tuple[int, str, int, int]] = []

    def on_invalid(row) -> str:
        invalid.append((int(row.number) if row.number is not None else -1, row.text or "",
                        row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = csv.read_csv(
            path, read_options=csv.ReadOptions(use_threads=False, block_size=16 << 20),
            parse_options=csv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid,
                                           ignore_empty_lines=False),
            convert_options=csv.ConvertOptions(column_types=pa.schema([(c, pa.string()) for c in COLUMNS]),
                                               strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(f"not a readable CSV file: {exc}", source=path.name),
                           hint="save it as UTF-8 CSV with a header row naming the columns (url, ...)") from None
    names = [n.strip().lower() for n in table.column_names]
    table = table.rename_columns(names)
    if "url" not in names:
        raise InvalidInput(Problem("the header row has no 'url' column", line=1, field="url", source=path.name),
                           hint=f"the header row names the columns: url, {', '.join(COLUMNS[1:])}")
    n = table.num_rows
    # Physical lines: a record spans 1 + the newlines inside its values; invalid records (skipped by
    # pyarrow) take their place in record order (record 1 is the header row).
    spans_valid = np.ones(n, np.int64)
    for name in table.column_names:
        spans_valid += pc.fill_null(pc.count_substring(table[name], "\n"), 0).to_numpy(zero_copy_only=False)
    records = n + len(invalid) + 1
    spans = np.ones(records + 1, np.int64)   # index = record number (1-based); spans[0] unused
    is_valid = np.ones(records + 1, bool)
    is_valid[0] = is_valid[1] = False
    for number, text, _e, _a in invalid:
        if 1 < number <= records:
            is_valid[number] = False
            spans[number] = 1 + text.count("\n")
    valid_records = np.flatnonzero(is_valid)[:n]
    spans[valid_records] = spans_valid[:valid_records.size]
    header_lines = 1
    starts = np.empty(records + 1, np.int64)
    starts[:2] = (0, 1)
    starts[2:] = 1 + header_lines + np.cumsum(spans[2:]) - spans[2:]
    lines = starts[valid_records]
    columns = {"line": pa.array(lines)}
    for c in COLUMNS:
        columns[c] = table[c] if c in names else pa.nulls(n, pa.string())
    # Blank lines are read as a record of empty cells: they are not items (a record of empty cells
    # that is not a blank line, ",,,,", is one, and is reported for its missing url).
    data = np.fromfile(path, dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    line_start = np.concatenate([[0], breaks + 1])
    line_end = np.concatenate([breaks, [data.size]])
    line_len = line_end - line_start
    if line_len.size:
        ends_cr = (line_len > 0) & (data[np.maximum(line_end - 1, 0)] == 13) if data.size else line_len > 0
        line_len = line_len - ends_cr
    blank_line = np.zeros(int(lines.max(initial=0)) + 2, bool)
    upto = min(blank_line.size - 1, line_len.size)
    blank_line[1:upto + 1] = line_len[:upto] == 0
    blank = pa.array(blank_line[lines]) if n else pa.array([], pa.bool_())
    raw = pa.table(columns | {"bad": pa.nulls(n, pa.string())}).filter(pc.invert(blank))
    # Empty optional cells mean "absent".
    raw = pa.table({c: (pc.if_else(pc.equal(raw[c], ""), pa.scalar(None, pa.string()), raw[c])
                        if c in COLUMNS else raw[c]) for c in raw.column_names})
    bad_rows = [{"line": int(starts[number]) if 1 < number <= records else None, "bad":
                 f"{actual} cells where the header row has {expected}"}
                for number, _t, expected, actual in invalid if not (actual == 1 and not _t.strip())]
    if bad_rows:
        extra = pa.table({"line": pa.array([r["line"] for r in bad_rows], pa.int64()),
                          **{c: pa.nulls(len(bad_rows), pa.string()) for c in COLUMNS},
                          "bad": pa.array([r["bad"] for r in bad_rows], pa.string())})
        raw = pa.concat_tables([raw, extra]).sort_by("line")
    return raw


def _raw_parquet(path: Path, problems: _Problems) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(Problem(f"not a readable Parquet file: {exc}", source=path.name)) from None
    return _raw_from_table(table, problems, 1)


def _raw_from_table(table: pa.Table, problems: _Problems, line_base: int) -> pa.Table:
    names = {n.strip().lower(): n for n in table.column_names}
    if "url" not in names:
        raise InvalidInput(Problem("the manifest has no 'url' column", field="url", source=problems.source),
                           hint=f"name the columns url, {', '.join(COLUMNS[1:])}")
    # Row numbers as a column of the input (not a window over it, which DuckDB runs in one thread).
    numbers = pa.array(np.arange(line_base, line_base + table.num_rows, dtype=np.int64))
    kinds = {c: table.schema.field(names[c]).type for c in COLUMNS if c in names}
    if all(pa.types.is_string(k) or pa.types.is_large_string(k) or pa.types.is_null(k) for k in kinds.values()):
        # Text columns already (the usual Parquet manifest): taken as they are, no copy.
        n = table.num_rows
        return pa.table({"line": numbers, **{c: table[names[c]].cast(pa.string()) if c in names
                                             else pa.nulls(n, pa.string()) for c in COLUMNS},
                         "bad": pa.nulls(n, pa.string())})
    con = _duckdb()
    try:
        con.register("obra_in", table.append_column("obra_line_number", numbers))
        exprs = []
        for c in COLUMNS:
            if c not in names:
                exprs.append(f"NULL::VARCHAR AS {c}")
                continue
            col = f'"{names[c]}"'
            kind = table.schema.field(names[c]).type
            if c in ("headers", "c2pa") and not pa.types.is_string(kind) and not pa.types.is_large_string(kind):
                exprs.append(f"to_json({col})::VARCHAR AS {c}")
            else:
                exprs.append(f"{col}::VARCHAR AS {c}")
        raw = con.sql(f"SELECT obra_line_number AS line, {', '.join(exprs)}, "
                      "NULL::VARCHAR AS bad FROM obra_in").to_arrow_table()
        return raw
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------
# Normalisation (DuckDB over the raw Arrow columns)

_NORMALISE = r"""
WITH u AS (
  SELECT line, bad, trim(url) AS url, sha256, nullif(trim(iscc), '') AS iscc, headers, c2pa, crawled_at,
    TRY_CAST(crawled_at AS TIMESTAMPTZ) AS crawled
  FROM obra_raw),
v AS (
  SELECT *,
    bad IS NULL AND url IS NOT NULL AND regexp_full_match(url, '(?i)https?://[^/?#\x00-\x20\x7f]+[^\x00-\x20\x7f]*') AS url_ok,
    regexp_extract(url, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', 0) AS head,
    CASE WHEN headers IS NULL THEN NULL ELSE starts_with(headers, '{') AND ($trusted OR json_valid(headers)) END AS headers_ok,
    CASE WHEN c2pa IS NULL THEN NULL ELSE starts_with(c2pa, '{') AND ($trusted OR json_valid(c2pa)) END AS c2pa_ok,
    CASE WHEN sha256 IS NULL OR sha256 = '' THEN NULL
         WHEN regexp_full_match(sha256, '[0-9a-f]{64}') THEN sha256
         WHEN regexp_full_match(trim(sha256), '[0-9a-fA-F]{64}') THEN lower(trim(sha256)) END AS sha
  FROM u),
w AS (
  SELECT *,
    lower(split_part(head, '://', 1)) AS scheme,
    lower(regexp_replace(split_part(head, '://', 2), '^.*@', '')) AS host,
    split_part(substr(url, length(head) + 1), '#', 1) AS rest
  FROM v)
SELECT
  line,
  CASE WHEN url_ok THEN url END AS url,
  CASE WHEN url_ok THEN scheme || '://' ||
       CASE WHEN (scheme = 'https' AND ends_with(host, ':443')) OR (scheme = 'http' AND ends_with(host, ':80'))
            THEN regexp_replace(host, ':[0-9]+$', '') ELSE host END END AS origin,
  CASE WHEN url_ok AND regexp_full_match(rest, '[!-$&-~]*')
       THEN replace(replace(CASE WHEN rest = '' THEN '/' WHEN starts_with(rest, '?') THEN '/' || rest ELSE rest END,
                            '*', '%2A'), '$', '%24') END AS path,
  sha AS sha256,
  iscc,
  coalesce(headers_ok AND regexp_matches(headers, '(?i)"(content-usage|tdm-reservation|tdm-policy|x-robots-tag|link)"'),
           FALSE) AS hsig_wanted,
  CASE WHEN c2pa_ok THEN c2pa END AS c2pa,
  crawled AS crawled_at,
  CASE WHEN bad IS NOT NULL THEN bad
       WHEN url IS NULL OR url = '' THEN 'no url: the url column is required'
       WHEN NOT url_ok THEN 'url is not an absolute http(s) URL' END AS error,
  bad IS NOT NULL AS row_level,
  bad IS NULL AND sha256 IS NOT NULL AND sha256 <> '' AND sha IS NULL AS bad_sha256,
  bad IS NULL AND NOT coalesce(headers_ok, TRUE) AS bad_headers,
  bad IS NULL AND NOT coalesce(c2pa_ok, TRUE) AS bad_c2pa,
  bad IS NULL AND crawled_at IS NOT NULL AND crawled_at <> '' AND crawled IS NULL AS bad_crawled_at
FROM w
"""
_HSIG = """
SELECT nullif(to_json(list_filter(list_zip(json_keys(headers), json_extract(headers, '$.*')),
                      lambda p: lower(p[1]) IN ('content-usage', 'tdm-reservation', 'tdm-policy', 'x-robots-tag',
                                                'link')))::VARCHAR, '[]') AS hsig
FROM obra_headers
"""
"""The signal-bearing fields of the headers that name one (``hsig``), computed only for those rows:
parsing every JSON object twice (keys, values) is most of the manifest's reading, and most items'
headers name no such field (the rows that do are found by one regular expression first)."""
_FIELD_NOTES = {
    "bad_sha256": ("sha256", "not 64 hexadecimal digits; read as absent"),
    "bad_headers": ("headers", "not a JSON object of header fields; read as absent"),
    "bad_c2pa": ("c2pa", "not a JSON object (a C2PA manifest store); read as absent"),
    "bad_crawled_at": ("crawled_at", "not an ISO 8601 date and time; read as absent"),
}


def _normalise(raw: pa.Table, problems: _Problems, source: str, fmt: str, *, trusted_json: bool = False,
               on_codes: Any = None) -> Manifest:
    if raw.num_rows > 1 and (np.diff(raw["line"].to_numpy(zero_copy_only=False)) <= 0).any():
        raw = raw.sort_by("line")
    con = _duckdb()
    try:
        con.register("obra_raw", raw)
        sql = _NORMALISE.replace("$trusted", "TRUE" if trusted_json else "FALSE")
        # The ISCC codes first (trimmed of spaces as the query trims them), so a caller can start
        # searching their Content-Codes while DuckDB checks the other columns (the rows keep their
        # order through the query). Not both at once: NumPy's decoding, memory-bound, ran four times
        # slower beside the query's threads, and the search started later.
        codes = pc.utf8_trim(raw["iscc"], " ")
        codes = pc.if_else(pc.equal(codes, ""), pa.scalar(None, pa.string()), codes)
        kind, content, instance, iscc_errors = decode_iscc(codes)
        if on_codes is not None:
            on_codes(kind, content)
        out = con.sql(sql).to_arrow_table()
        wanted = out["hsig_wanted"].combine_chunks()
        hsig = pa.nulls(out.num_rows, pa.string())
        if pc.any(wanted).as_py():
            con.register("obra_headers", pa.table({"headers": pc.filter(raw["headers"], wanted)}))
            hsig = pc.replace_with_mask(hsig, wanted, con.sql(_HSIG).to_arrow_table()["hsig"].combine_chunks())
    finally:
        con.close()
    n = out.num_rows
    # Paths that need percent-encoding normalisation: RFC 9309's rule, one by one (rare).
    path = out["path"]
    need = pc.and_(pc.is_null(path), pc.is_valid(out["url"]))
    if pc.any(need).as_py():
        idx = np.flatnonzero(need.to_numpy(zero_copy_only=False))
        urls = out["url"].take(pa.array(idx)).to_pylist()
        fixed = path.to_pylist()
        for i, url in zip(idx.tolist(), urls):
            fixed[i] = normalize_path(path_of(url))
        path = pa.array(fixed, pa.string())
    # Problems: the unreadable rows, then each value read as absent.
    lines = out["line"]
    errors = out["error"]
    row_level = out["row_level"].to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(pc.is_valid(errors).to_numpy(zero_copy_only=False)).tolist():
        problems.add(f"{errors[i].as_py()}; the item is reported as unknown", line=lines[i].as_py(),
                     field=None if row_level[i] else "url")
    note_text: list[str | None] | None = None
    flagged = {name: out[name].to_numpy(zero_copy_only=False) for name in _FIELD_NOTES}
    any_flag = np.zeros(n, bool)
    for v in flagged.values():
        any_flag |= v
    if any_flag.any() or iscc_errors:
        note_text = [None] * n
        for i in np.flatnonzero(any_flag).tolist():
            parts = []
            for name, (fname, message) in _FIELD_NOTES.items():
                if flagged[name][i]:
                    problems.add(message, line=lines[i].as_py(), field=fname)
                    parts.append(f"{fname}: {message}")
            note_text[i] = "; ".join(parts)
        for i, message in iscc_errors:
            if errors[i].as_py() is not None:
                continue
            problems.add(f"{message}; read as absent", line=lines[i].as_py(), field="iscc")
            note_text[i] = "; ".join(x for x in (note_text[i], f"iscc: {message}; read as absent") if x)
    items = pa.table({
        "item": pa.array(np.arange(n, dtype=np.int64)), "line": lines, "url": out["url"], "origin": out["origin"],
        "path": path, "sha256": out["sha256"], "iscc": out["iscc"], "content_kind": kind, "content_body": content,
        "instance_body": instance, "hsig": hsig, "c2pa": out["c2pa"],
        "crawled_at": out["crawled_at"].cast(pa.timestamp("us", tz="UTC")), "error": errors,
        "notes": pa.array(note_text, pa.string()) if note_text is not None else pa.nulls(n, pa.string())},
        schema=ITEM_SCHEMA)
    bundles = header_bundles(pc.unique(items["hsig"].drop_null()).to_pylist())
    for key, bundle in bundles.items():
        if bundle.problems:   # one report per distinct bundle, at its first line
            first = pc.index(items["hsig"], key).as_py()
            for message in bundle.problems:
                problems.add(f"{message}; that field is read as absent", line=items["line"][first].as_py(),
                             field="headers")
    return Manifest(items, bundles, problems.items, problems.count, source, fmt, "", 0)


def header_bundles(keys: list[str]) -> dict[str, HeaderBundle]:
    """Each distinct ``hsig`` (the item's signal-bearing header fields as a JSON list of
    ``[name, value]``, in the order captured) read into its fields, once."""
    out: dict[str, HeaderBundle] = {}
    for key in keys:
        fields: dict[str, list[str]] = {}
        trouble: list[str] = []
        try:
            pairs = json.loads(key)
        except (ValueError, RecursionError):
            pairs = []
            trouble.append("the header fields could not be read")
        for name, value in pairs:
            lname = name.lower()
            if isinstance(value, str):
                fields.setdefault(lname, []).append(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                fields.setdefault(lname, []).extend(value)
            else:
                kind = "null" if value is None else {bool: "a boolean", int: "a number", float: "a number",
                                                     dict: "an object", list: "a list with non-strings"}.get(
                    type(value), type(value).__name__)
                trouble.append(f"header field {name!r} is {kind}, not a string or a list of strings")
        out[key] = HeaderBundle(key, {k: tuple(v) for k, v in fields.items()}, tuple(trouble))
    return out


# ------------------------------------------------------------------------------------------------
# ISCC codes, vectorised

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32 = np.full(256, 255, np.uint8)
for _i, _c in enumerate(_ALPHABET):
    _B32[_c] = _i


def decode_iscc(codes: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, list[tuple[int, str]]]:
    """Decode a column of ISCC codes (composite ISCC-CODEs or single units, ``ISCC:`` optional).

    Returns the Content-Code's kind (``content-image``…) and 64-bit body, the Instance-Code's
    body (bodies as signed int64, the same bits), and ``(row, message)`` for every code that does
    not decode. Codes are grouped by length and header; each group's layout is learnt from one
    of its codes with :func:`obra.identify.iscc.parse_code` (so every group is read as the
    reference implementation reads it) and applied to all its rows with NumPy.
    """
    from obra.identify.iscc import parse_code

    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks() if codes.num_chunks != 1 else codes.chunk(0)
    n = len(codes)
    kinds: list[str] = []                        # the content kinds met, coded in ``kind_code``
    kind_code = np.full(n, -1, np.int32)
    content = np.zeros(n, np.uint64)
    content_ok = np.zeros(n, bool)
    instance = np.zeros(n, np.uint64)
    instance_ok = np.zeros(n, bool)
    errors: list[tuple[int, str]] = []

    def set_kind(rows, name: str) -> None:
        if name not in kinds:
            kinds.append(name)
        kind_code[rows] = kinds.index(name)

    present = np.flatnonzero(pc.is_valid(codes).to_numpy(zero_copy_only=False))
    if present.size:
        text = pc.utf8_upper(codes.take(pa.array(present)) if present.size < n else codes)
        if pc.any(pc.starts_with(text, "ISCC:")).as_py():
            text = pc.replace_substring_regex(text, "^ISCC:", "") if not pc.all(pc.starts_with(text, "ISCC:")).as_py() \
                else pc.utf8_slice_codeunits(text, 5)
        body = pc.cast(text, pa.binary())
        lengths = pc.binary_length(body).to_numpy(zero_copy_only=False)
        for length in np.unique(lengths).tolist():
            rows = np.flatnonzero(lengths == length)
            where = present[rows]
            if length < 4 or length > 200:
                errors += [(int(i), "not an ISCC code (wrong length)") for i in where]
                continue
            group = body.take(pa.array(rows)) if rows.size < len(body) else body
            if isinstance(group, pa.ChunkedArray):
                group = group.combine_chunks()
            first = int(np.frombuffer(group.buffers()[1], np.int32)[group.offset])
            chars = np.frombuffer(group.buffers()[2], np.uint8)[first:first + rows.size * length].reshape(
                rows.size, length)
            values = _B32[chars]
            bad = values.max(axis=1) == 255
            if bad.any():
                for i in where[bad]:
                    errors.append((int(i), "not an ISCC code (characters outside base32 A-Z, 2-7)"))
                values, where = values[~bad], where[~bad]
            if not where.size:
                continue
            raw = _unbase32(values, length)
            simple = ((raw[:, 0] | raw[:, 1]) & 0x88) == 0    # four header nibbles below 8
            if not simple.all():
                for i in where[~simple]:   # extended headers (varnibbles >= 8): the reference reader, one by one
                    _one(int(i), codes[int(i)].as_py(), parse_code, set_kind, content, content_ok, instance,
                         instance_ok, errors)
                raw, where = raw[simple], where[simple]
            header = raw[:, 0].astype(np.int64) << 8 | raw[:, 1]
            for h in np.unique(header).tolist():
                sel = np.flatnonzero(header == h) if header.size and (header != h).any() else slice(None)
                idx = where[sel]
                block = raw[sel]
                layout = _layout(codes[int(idx[0])].as_py(), block[0], parse_code)
                if isinstance(layout, str):
                    errors += [(int(i), layout) for i in idx]
                    continue
                for unit_kind, offset in layout:
                    if offset + 8 > block.shape[1]:
                        continue
                    value = np.ascontiguousarray(block[:, offset:offset + 8]).view(">u8").reshape(-1)
                    if unit_kind.startswith("content"):
                        set_kind(idx, unit_kind)
                        content[idx] = value
                        content_ok[idx] = True
                    elif unit_kind == "instance":
                        instance[idx] = value
                        instance_ok[idx] = True
    kind = pa.DictionaryArray.from_arrays(pa.array(kind_code, mask=kind_code < 0),
                                          pa.array(kinds, pa.string())).cast(pa.string())
    return (kind, pa.array(content.view(np.int64), pa.int64(), mask=~content_ok),
            pa.array(instance.view(np.int64), pa.int64(), mask=~instance_ok), sorted(errors))


def _unbase32(values: np.ndarray, length: int) -> np.ndarray:
    """Base32 digits (n x length, values 0-31) to bytes (n x floor(5 * length / 8)).

    Eight digits (40 bits, five bytes) at a time, all groups at once: the eight bytes of a group
    read as one little-endian 64-bit word, then pairs, quads and octets of 5-bit fields packed
    together by masks and shifts (SWAR), the 40 bits finally read out big-endian.
    """
    n = values.shape[0]
    groups = -(-length // 8)
    padded = np.zeros((n, groups * 8), np.uint8)
    padded[:, :length] = values
    x = padded.view("<u8")
    m16, m32, m64 = np.uint64(0x00FF00FF00FF00FF), np.uint64(0x0000FFFF0000FFFF), np.uint64(0xFFFFFFFF)
    t = ((x & m16) << np.uint64(5)) | ((x >> np.uint64(8)) & m16)
    u = ((t & m32) << np.uint64(10)) | ((t >> np.uint64(16)) & m32)
    w = ((u & m64) << np.uint64(20)) | (u >> np.uint64(32))
    out = (w << np.uint64(24)).astype(">u8").view(np.uint8).reshape(n, groups, 8)[:, :, :5].reshape(n, groups * 5)
    return out[:, :length * 5 // 8]


def _layout(code: str, raw: np.ndarray, parse_code) -> list[tuple[str, int]] | str:
    """Where each unit's 64-bit body sits in the decoded bytes of codes with this header, learnt
    from one code: the reference parser's units, found at 2 + 8 * i (a composite) or 2 (a unit)."""
    try:
        units = parse_code(code)
    except InvalidInput as exc:
        return f"not a valid ISCC code ({exc.problems[0].message if exc.problems else exc})"
    data = raw.tobytes()
    out = []
    for i, unit in enumerate(units):
        body = unit.body.to_bytes(8, "big")
        for offset in (2 + 8 * i, 2):
            if data[offset:offset + 8] == body:
                out.append((unit.kind, offset))
                break
        else:
            return "not a valid ISCC code (unexpected layout)"
    return out


def _one(i: int, code: str, parse_code, set_kind, content, content_ok, instance, instance_ok, errors) -> None:
    try:
        units = parse_code(code)
    except InvalidInput as exc:
        errors.append((i, f"not a valid ISCC code ({exc.problems[0].message if exc.problems else exc})"))
        return
    for unit in units:
        if unit.kind.startswith("content"):
            set_kind(i, unit.kind)
            content[i], content_ok[i] = unit.body, True
        elif unit.kind == "instance":
            instance[i], instance_ok[i] = unit.body, True


def describe(manifest: Manifest) -> dict[str, Any]:
    """What was read, for the summary and the receipt."""
    return {"source": manifest.source, "format": manifest.format, "sha256": manifest.sha256, "bytes": manifest.size,
            "items": manifest.rows, "unreadable": manifest.unreadable, "problems": manifest.problem_count}
