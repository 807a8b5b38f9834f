"""Offers and quotes: a manifest priced exactly against the rightholders' AI-use terms.

**Offers.** An offer is a rightholder's AI-use term whose permission is ``licence`` with a price
(:class:`obra.aiuse.terms.Price`: flat, per item, per crawl, per use, or a share of revenue, in
integer minor units of an ISO 4217 currency), stated for a work or recording (by registration
number), a party's whole catalogue, or a web location. Which term answers a question (use,
territory, purpose, user type, date) is :meth:`obra.aiuse.terms.AITerms.permission`'s rule
(narrowest scope, then most restrictive). An offer must cover the whole licence term: a term
that ends before the licence would end is not an offer for it.

**Which offer prices an item** — the same order :meth:`obra.aiuse.service.AITermsService.decide`
reads terms in:

1. the item is found in the catalogue by its registration ``number``, else by the ``sha256`` of
   a registered file, else its ``url`` under a registered web location (the longest pattern);
2. the registration's own terms, when they speak to the use; else the catalogue terms of its
   parties (shares, contributors, performers, label), the most restrictive of them (ties: the
   lowest party id); a URL matched only to a location takes the location's terms.

**Status of each item**: ``licensable`` (an offer prices it), ``free`` (the terms allow the use:
no licence needed, price 0), or ``not-licensable`` with why: not in the catalogue, withdrawn,
the terms do not allow the use, no terms speak to it (Obra never turns silence into permission),
the offer ends before the licence would.

**Price of an item**, in integer minor units (the royalty engine's money rules, :mod:`obra.money`):

* ``per-item`` — the unit price;
* ``per-crawl`` and ``per-use`` — the unit price times the item's ``count`` (crawls or uses asked
  for, default 1);
* ``flat`` — one fee per offer (per terms subject), split over that offer's items in the quote
  by the largest-remainder rule of :func:`obra.money.allocate` with equal weights (the first
  items in manifest order take the leftover minor units), so the items of one offer sum to the
  fee exactly and every cent belongs to one work;
* ``revenue-share`` — 0 now; the licence records the share, paid on the revenue the developer
  reports (:mod:`obra.aiuse.licensing.usage`).

Totals are per currency. :func:`price_items` runs the joins on DuckDB over Arrow tables;
:func:`price_items_loop` is the straightforward per-item loop, kept as the reference the
vectorised one is tested (Hypothesis) and benchmarked against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import select

from obra.aiuse.service import _parties_of, current_terms_rows
from obra.aiuse.signals.paths import match_length, path_of
from obra.aiuse.terms import AITerms, Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.errors import InvalidInput, Problem
from obra.store.schema import registrations

__all__ = ["Catalogue", "QuoteQuestion", "read_quote_manifest", "offers_table", "price_items", "price_items_loop",
           "ITEM_COLUMNS", "PRICED_SCHEMA", "totals", "MAX_COUNT"]

MAX_COUNT = 10**9
"""The most crawls or uses one manifest line may ask for."""
ITEM_COLUMNS = ("number", "sha256", "url", "count")
RANK = {"not-allowed": 0, "short": 1, "licence": 1, "allowed": 2}
"""Most restrictive first, as across a work's parties in :meth:`AITermsService.decide`."""

PRICED_SCHEMA = pa.schema([
    ("item", pa.int64()), ("line", pa.int64()), ("number", pa.string()), ("sha256", pa.string()),
    ("url", pa.string()), ("count", pa.int64()), ("status", pa.string()), ("reason", pa.string()),
    ("offer_kind", pa.string()), ("offer_subject", pa.string()), ("terms_version", pa.int64()),
    ("terms_event", pa.int64()), ("model", pa.string()), ("currency", pa.string()), ("unit_minor", pa.int64()),
    ("share_percent", pa.string()), ("amount_minor", pa.int64()),
])
"""One row per manifest item: what it matched, the offer that priced it and its price."""


@dataclass(frozen=True)
class QuoteQuestion:
    """What the developer asks to license: one use, where, for what purpose, by whom, for how long."""

    use: Use
    valid_from: date
    valid_until: date
    territory: str | None = None
    purpose: Purpose | None = None
    user_type: UserType | None = None

    def __post_init__(self) -> None:
        if self.valid_until < self.valid_from:
            raise InvalidInput(Problem("the licence would end before it starts", field="valid_until"),
                               hint="give valid_until on or after valid_from")
        if self.territory is not None and (len(self.territory) != 2 or not self.territory.isalpha()):
            raise InvalidInput(Problem(f"territory {self.territory!r} is not an ISO 3166-1 alpha-2 code",
                                       field="territory"))

    def to_json(self) -> dict:
        return {"use": self.use.value, "territory": self.territory.upper() if self.territory else None,
                "purpose": self.purpose.value if self.purpose else None,
                "user_type": self.user_type.value if self.user_type else None,
                "valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat()}


@dataclass
class Catalogue:
    """The registry as a quote joins it: registrations (withdrawn or not), their parties, the
    SHA-256 of registered files, and the terms in force."""

    works: pa.Table                 # number, withdrawn
    parties: pa.Table               # number, party
    hashes: pa.Table                # number, sha256
    terms: list[dict] = field(default_factory=list)

    @classmethod
    def from_rows(cls, *, works: Iterable[tuple[str, bool]] = (), parties: Iterable[tuple[str, int]] = (),
                  hashes: Iterable[tuple[str, str]] = (), terms: Iterable[dict] = ()) -> "Catalogue":
        works, parties, hashes = list(works), list(parties), list(hashes)
        return cls(pa.table({"number": pa.array([w[0] for w in works], pa.string()),
                             "withdrawn": pa.array([bool(w[1]) for w in works], pa.bool_())}),
                   pa.table({"number": pa.array([p[0] for p in parties], pa.string()),
                             "party": pa.array([int(p[1]) for p in parties], pa.int64())}),
                   pa.table({"number": pa.array([h[0] for h in hashes], pa.string()),
                             "sha256": pa.array([h[1].lower() for h in hashes], pa.string())}),
                   list(terms))

    @classmethod
    def from_store(cls, store: Any) -> "Catalogue":
        """Every current registration, its parties and registered files' SHA-256, and the terms in force."""
        from obra.identify.similar import content_files, file_sha256s

        with store.connect() as conn:
            rows = conn.execute(select(registrations.c.number, registrations.c.entity, registrations.c.status,
                                       registrations.c.record).where(registrations.c.is_current)).all()
            files = conn.execute(select(content_files.c.number, content_files.c.datahash,
                                        content_files.c.sha256)).all()
        parties = [(r.number, p) for r in rows for p in sorted(_parties_of((r.record or {}).get(r.entity, {})))]
        hashes = sorted(file_sha256s(files))
        return cls.from_rows(works=[(r.number, r.status == "withdrawn") for r in rows], parties=parties,
                             hashes=hashes, terms=current_terms_rows(store))


# ------------------------------------------------------------------------------------------------
# Reading the manifest (parse at the edge: every problem named, the whole file refused)


def read_quote_manifest(path: str | Path) -> tuple[pa.Table, str]:
    """The manifest's items (``item``, ``line``, ``number``, ``sha256``, ``url``, ``count``) and its format.

    CSV (a header row), JSON Lines or Parquet, by extension. Each item names a registration
    ``number``, a file ``sha256`` or a ``url`` (at least one); ``count`` is how many crawls or uses
    (a whole number from 1 to 10^9, default 1). A row that breaks a rule refuses the whole file,
    every problem named by line and field.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    source = path.name
    try:
        if suffix == ".csv":
            head = path.open(encoding="utf-8", errors="replace").readline()
            names = [c.strip() for c in head.strip().split(",")]
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True))
            first, fmt = 2, "csv"
        elif suffix in (".jsonl", ".ndjson"):
            rows = []
            with path.open(encoding="utf-8") as fh:
                for n, text in enumerate(fh, 1):
                    if not text.strip():
                        continue
                    try:
                        value = json.loads(text)
                    except ValueError as exc:
                        raise InvalidInput(Problem(f"not JSON: {exc}", line=n, source=source)) from None
                    if not isinstance(value, dict):
                        raise InvalidInput(Problem("each line must be a JSON object", line=n, source=source))
                    rows.append({k: (None if value.get(k) is None else str(value[k])) for k in ITEM_COLUMNS}
                                | {"__line": n})
            table = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in ITEM_COLUMNS]
                                                                + [("__line", pa.int64())]))
            first, fmt = None, "jsonl"
        elif suffix == ".parquet":
            table = pq.read_table(path)
            table = pa.table({c: table[c].cast(pa.string()) for c in table.column_names if c in ITEM_COLUMNS})
            first, fmt = 1, "parquet"
        else:
            raise InvalidInput(Problem(f"{source}: a quote manifest is .csv, .jsonl or .parquet", field="manifest"))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(f"cannot read the manifest: {exc}", source=source)) from None
    n = table.num_rows
    lines = (table["__line"] if "__line" in table.column_names
             else pa.array(np.arange(first, first + n, dtype=np.int64)))
    return _validated(table, pa.array(lines, pa.int64()) if not isinstance(lines, pa.ChunkedArray)
                      else lines.combine_chunks(), source), fmt


def _column(table: pa.Table, name: str) -> pa.Array:
    n = table.num_rows
    if name not in table.column_names:
        return pa.nulls(n, pa.string())
    col = pc.utf8_trim_whitespace(table[name].combine_chunks().cast(pa.string()))
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _validated(table: pa.Table, lines: pa.Array, source: str) -> pa.Table:
    n = table.num_rows
    if n == 0:
        raise InvalidInput(Problem("the manifest has no items", source=source),
                           hint="one item per row: a registration number, a file sha256 or a url, and a count")
    if not any(c in table.column_names for c in ("number", "sha256", "url")):
        raise InvalidInput(Problem("the manifest has none of the columns number, sha256, url", source=source,
                                   field="number"), hint="name each item by registration number, sha256 or url")
    number, sha, url, count_s = (_column(table, c) for c in ITEM_COLUMNS)
    number = pc.utf8_upper(number)
    sha = pc.utf8_lower(sha)
    problems: list[Problem] = []

    def flag(mask: pa.Array, fld: str, message: str) -> None:
        idx = np.flatnonzero(np.asarray(mask.fill_null(False)))
        for i in idx[:50]:
            problems.append(Problem(message, field=fld, line=int(lines[i].as_py()), source=source))
        if len(idx) > 50:
            problems.append(Problem(f"... and {len(idx) - 50} more rows with this problem", field=fld,
                                    source=source))

    flag(pc.and_(pc.and_(pc.is_null(number), pc.is_null(sha)), pc.is_null(url)), "number",
         "the item names no registration number, sha256 or url")
    flag(pc.invert(pc.match_substring_regex(sha, r"^[0-9a-f]{64}$")), "sha256",
         "sha256 must be 64 hexadecimal characters")
    flag(pc.invert(pc.match_substring_regex(url, r"^https?://[^/\s?#]+")), "url",
         "url must be an absolute http(s) URL")
    good_count = pc.match_substring_regex(count_s, r"^[0-9]{1,10}$")
    flag(pc.invert(good_count), "count", "count must be a whole number from 1 to 1000000000")
    counts = pc.if_else(pc.is_null(count_s), pa.scalar("1"), pc.if_else(good_count, count_s, pa.scalar("1")))
    counts = pc.cast(counts, pa.int64())
    flag(pc.or_(pc.less(counts, 1), pc.greater(counts, MAX_COUNT)), "count",
         "count must be a whole number from 1 to 1000000000")
    if problems:
        raise InvalidInput(problems, hint="fix these rows; nothing was priced")
    return pa.table({"item": pa.array(np.arange(n, dtype=np.int64)), "line": lines, "number": number,
                     "sha256": sha, "url": url, "count": counts})


# ------------------------------------------------------------------------------------------------
# Offers


OFFER_SCHEMA = pa.schema([
    ("subject_kind", pa.string()), ("subject", pa.string()), ("permission", pa.string()), ("rank", pa.int64()),
    ("model", pa.string()), ("currency", pa.string()), ("unit_minor", pa.int64()), ("share_percent", pa.string()),
    ("version", pa.int64()), ("event", pa.int64()), ("note", pa.string()),
])


def offers_table(terms: Iterable[dict], question: QuoteQuestion) -> pa.Table:
    """What each subject's terms in force answer to ``question`` (subjects that say nothing left
    out): the permission, and for a licence its price; each distinct terms document evaluated once."""
    cache: dict[str, tuple] = {}
    rows: dict[str, list] = {name: [] for name in OFFER_SCHEMA.names}
    for row in terms:
        key = json.dumps(row["terms"].get("uses", []), sort_keys=True)
        if key not in cache:
            cache[key] = _evaluate(row["terms"], question)
        answer = cache[key]
        if answer is None:
            continue
        permission, model, currency, unit, share, note = answer
        for name, value in zip(OFFER_SCHEMA.names, (row["subject_kind"], str(row["subject"]), permission,
                                                   RANK[permission], model, currency, unit, share,
                                                   int(row["version"]), int(row["journal_event"]), note)):
            rows[name].append(value)
    return pa.table(rows, schema=OFFER_SCHEMA)


def _evaluate(terms: dict, q: QuoteQuestion) -> tuple | None:
    parsed = AITerms.model_validate({"subject_kind": "party", "subject": "0", "uses": terms.get("uses", [])})
    term = parsed.permission(q.use, territory=q.territory, purpose=q.purpose, user_type=q.user_type, on=q.valid_from)
    if term is None:
        return None
    permission = term.permission.value
    if permission != "licence":
        return permission, None, None, None, None, None
    price = term.price
    if price is None:
        return "short", None, None, None, None, "the licence term names no price: ask the rightholder"
    if term.valid_until is not None and term.valid_until < q.valid_until:
        return "short", None, None, None, None, f"the offer ends on {term.valid_until.isoformat()}, before the " \
                                                f"licence would ({q.valid_until.isoformat()})"
    return ("licence", price.model.value, price.currency, price.amount_minor,
            None if price.share_percent is None else str(price.share_percent), None)


# ------------------------------------------------------------------------------------------------
# Pricing, vectorised


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case, the default port dropped; None when not an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port if parts.port not in (None, 80 if parts.scheme.lower() == "http" else 443) else None
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}" + (f":{port}" if port else "")


def _locations(terms: Iterable[dict]) -> dict[str, list[tuple[str, str]]]:
    """Registered web locations by origin: (path pattern, subject)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in terms:
        if row["subject_kind"] != "location":
            continue
        head, _sep, rest = str(row["subject"]).partition("://")
        host, slash, path = rest.partition("/")
        origin = _origin(f"{head}://{host}/")
        if origin is not None:
            out.setdefault(origin, []).append(("/" + path if slash else "/", str(row["subject"])))
    return out


def _location_of(url: str | None, locations: dict[str, list[tuple[str, str]]]) -> str | None:
    """The registered location covering ``url``: the longest matching RFC 9309 pattern (ties: the
    subject first in text order)."""
    if not url:
        return None
    try:
        origin = _origin(url)
    except ValueError:
        return None
    best = None
    for pattern, subject in locations.get(origin or "", ()):
        length = match_length(pattern, path_of(url))
        if length is not None and (best is None or (-length, subject) < best):
            best = (-length, subject)
    return best[1] if best else None


def _url_locations(urls: pa.Array, locations: dict[str, list[tuple[str, str]]]) -> pa.Array:
    """The location subject of each URL, computed once per distinct URL."""
    if not locations:
        return pa.nulls(len(urls), pa.string())
    found = {u: _location_of(u, locations) for u in pc.unique(urls.drop_null()).to_pylist()}
    return pa.array([found.get(u) for u in urls.to_pylist()], pa.string())


PRICE_SQL = """
WITH h AS (SELECT sha256, min(number) AS number FROM hashes GROUP BY sha256),
res AS (
  SELECT it.*, coalesce(it.number, h.number) AS num
  FROM items it LEFT JOIN h ON it.number IS NULL AND it.sha256 = h.sha256
),
own AS (SELECT * FROM offers WHERE subject_kind IN ('work', 'recording')),
wanted AS (SELECT DISTINCT num FROM res WHERE num IS NOT NULL),
pty AS (
  SELECT p.number, o.* FROM (SELECT DISTINCT number, party FROM parties SEMI JOIN wanted ON parties.number = wanted.num) p
  JOIN offers o ON o.subject_kind = 'party' AND o.subject = CAST(p.party AS VARCHAR)
  QUALIFY row_number() OVER (PARTITION BY p.number ORDER BY o.rank, p.party) = 1
),
lo AS (SELECT * FROM offers WHERE subject_kind = 'location'),
w AS (SELECT number, bool_or(withdrawn) AS withdrawn FROM works GROUP BY number),
j AS (
  SELECT r.item, r.line, coalesce(r.num, '') AS number0, r.num, r.sha256, r.url, r.count,
         w.number IS NOT NULL AS known, coalesce(w.withdrawn, false) AS withdrawn,
         CASE WHEN r.num IS NULL THEN r.l_subject END AS l_subject,
         coalesce(own.subject_kind, pty.subject_kind, lo.subject_kind) AS offer_kind,
         coalesce(own.subject, pty.subject, lo.subject) AS offer_subject,
         coalesce(own.permission, pty.permission, lo.permission) AS permission,
         coalesce(own.version, pty.version, lo.version) AS terms_version,
         coalesce(own.event, pty.event, lo.event) AS terms_event,
         CASE WHEN own.subject IS NOT NULL THEN own.model WHEN pty.subject IS NOT NULL THEN pty.model
              ELSE lo.model END AS model,
         CASE WHEN own.subject IS NOT NULL THEN own.currency WHEN pty.subject IS NOT NULL THEN pty.currency
              ELSE lo.currency END AS currency,
         CASE WHEN own.subject IS NOT NULL THEN own.unit_minor WHEN pty.subject IS NOT NULL THEN pty.unit_minor
              ELSE lo.unit_minor END AS unit_minor,
         CASE WHEN own.subject IS NOT NULL THEN own.share_percent WHEN pty.subject IS NOT NULL
              THEN pty.share_percent ELSE lo.share_percent END AS share_percent,
         CASE WHEN own.subject IS NOT NULL THEN own.note WHEN pty.subject IS NOT NULL THEN pty.note
              ELSE lo.note END AS note
  FROM res r
  LEFT JOIN w ON w.number = r.num
  LEFT JOIN own ON own.subject = r.num AND w.number IS NOT NULL AND NOT w.withdrawn
  LEFT JOIN pty ON pty.number = r.num AND own.subject IS NULL AND w.number IS NOT NULL AND NOT w.withdrawn
  LEFT JOIN lo ON lo.subject = r.l_subject AND r.num IS NULL
),
s AS (
  SELECT *,
    CASE
      WHEN num IS NOT NULL AND NOT known THEN 'not-licensable'
      WHEN withdrawn THEN 'not-licensable'
      WHEN num IS NULL AND l_subject IS NULL THEN 'not-licensable'
      WHEN permission IS NULL THEN 'not-licensable'
      WHEN permission = 'allowed' THEN 'free'
      WHEN permission = 'licence' THEN 'licensable'
      ELSE 'not-licensable' END AS status,
    CASE
      WHEN num IS NOT NULL AND NOT known THEN 'not in the catalogue: no registration ' || num
      WHEN withdrawn THEN 'the registration ' || num || ' was withdrawn'
      WHEN num IS NULL AND l_subject IS NULL THEN 'not in the catalogue: no registered file with this sha256 and no '
                                                 || 'registered web location covering this url'
      WHEN permission IS NULL THEN 'no terms speak to this use: silence is not permission, ask the rightholder'
      WHEN permission = 'allowed' THEN 'the rightholder''s terms allow this use: no licence is needed'
      WHEN permission = 'not-allowed' THEN 'the rightholder''s terms do not allow this use'
      WHEN permission = 'short' THEN note
      ELSE NULL END AS reason
  FROM j
),
flat AS (
  SELECT item, count(*) OVER (PARTITION BY offer_kind, offer_subject) AS flat_n,
         row_number() OVER (PARTITION BY offer_kind, offer_subject ORDER BY item) AS flat_rank
  FROM s WHERE status = 'licensable' AND model = 'flat'
),
f AS (SELECT s.*, flat.flat_n, flat.flat_rank FROM s LEFT JOIN flat USING (item))
SELECT item, line, num AS number, sha256, url, count, status, reason,
       CASE WHEN status IN ('licensable', 'free') THEN offer_kind END AS offer_kind,
       CASE WHEN status IN ('licensable', 'free') THEN offer_subject END AS offer_subject,
       CASE WHEN status IN ('licensable', 'free') THEN terms_version END AS terms_version,
       CASE WHEN status IN ('licensable', 'free') THEN terms_event END AS terms_event,
       CASE WHEN status = 'licensable' THEN model END AS model,
       CASE WHEN status = 'licensable' THEN currency END AS currency,
       CASE WHEN status = 'licensable' THEN unit_minor END AS unit_minor,
       CASE WHEN status = 'licensable' THEN share_percent END AS share_percent,
       CAST(CASE
         WHEN status <> 'licensable' THEN 0
         WHEN model = 'per-item' THEN unit_minor
         WHEN model IN ('per-crawl', 'per-use') THEN CAST(unit_minor AS HUGEINT) * count
         WHEN model = 'flat' THEN unit_minor // flat_n + CASE WHEN flat_rank <= unit_minor % flat_n THEN 1 ELSE 0 END
         ELSE 0 END AS BIGINT) AS amount_minor
FROM f ORDER BY item
"""


def price_items(items: pa.Table, catalogue: Catalogue, question: QuoteQuestion, *,
                con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """Every item of ``items`` (from :func:`read_quote_manifest`) priced: :data:`PRICED_SCHEMA`."""
    own = con is None
    con = con or duckdb.connect()
    try:
        located = _url_locations(items["url"].combine_chunks(), _locations(catalogue.terms))
        tables = {"items": items.append_column("l_subject", located),
                  "works": catalogue.works, "parties": catalogue.parties, "hashes": catalogue.hashes,
                  "offers": offers_table(catalogue.terms, question)}
        for name, table in tables.items():
            con.register(name, table)
        try:
            out = con.sql(PRICE_SQL).to_arrow_table()
        except duckdb.OutOfRangeException:
            raise InvalidInput(Problem("an item's price exceeds the largest amount Obra keeps (2^63-1 minor "
                                       "units)", field="count"), hint="ask for fewer uses per line") from None
        for name in tables:
            con.unregister(name)
    finally:
        if own:
            con.close()
    if isinstance(out, pa.RecordBatchReader):
        out = out.read_all()
    return out.cast(PRICED_SCHEMA)


# ------------------------------------------------------------------------------------------------
# The straightforward loop: the reference the vectorised pricing is checked against


def price_items_loop(items: pa.Table, catalogue: Catalogue, question: QuoteQuestion) -> pa.Table:
    """The same prices, one item at a time in Python (slow; the baseline and the test oracle)."""
    offers = offers_table(catalogue.terms, question).to_pylist()
    by_subject = {(o["subject_kind"], o["subject"]): o for o in offers}
    works: dict[str, bool] = {}
    for number, withdrawn in zip(catalogue.works["number"].to_pylist(), catalogue.works["withdrawn"].to_pylist()):
        works[number] = works.get(number, False) or withdrawn
    parties: dict[str, set[int]] = {}
    for number, party in zip(catalogue.parties["number"].to_pylist(), catalogue.parties["party"].to_pylist()):
        parties.setdefault(number, set()).add(party)
    by_hash: dict[str, str] = {}
    for number, sha in zip(catalogue.hashes["number"].to_pylist(), catalogue.hashes["sha256"].to_pylist()):
        by_hash[sha] = min(number, by_hash.get(sha, number))
    locations = _locations(catalogue.terms)
    rows = []
    for it in items.to_pylist():
        num = it["number"] or (by_hash.get(it["sha256"]) if it["sha256"] else None)
        offer, reason, status = None, None, "not-licensable"
        location = _location_of(it["url"], locations) if num is None else None
        if num is not None and num not in works:
            reason = f"not in the catalogue: no registration {num}"
        elif num is not None and works[num]:
            reason = f"the registration {num} was withdrawn"
        elif num is None and location is None:
            reason = ("not in the catalogue: no registered file with this sha256 and no registered web location "
                      "covering this url")
        else:
            if num is not None:
                offer = by_subject.get(("work", num)) or by_subject.get(("recording", num))
                if offer is None:
                    candidates = [(by_subject[("party", str(p))]["rank"], p) for p in parties.get(num, ())
                                  if ("party", str(p)) in by_subject]
                    if candidates:
                        offer = by_subject[("party", str(min(candidates)[1]))]
            else:
                offer = by_subject.get(("location", location))
            permission = offer["permission"] if offer else None
            if permission is None:
                reason = "no terms speak to this use: silence is not permission, ask the rightholder"
            elif permission == "allowed":
                status, reason = "free", "the rightholder's terms allow this use: no licence is needed"
            elif permission == "licence":
                status = "licensable"
            elif permission == "not-allowed":
                reason = "the rightholder's terms do not allow this use"
            else:
                reason = offer["note"]
        priced = status == "licensable"
        shown = status in ("licensable", "free")
        unit = offer["unit_minor"] if priced else None
        model = offer["model"] if priced else None
        amount = 0
        if priced and model == "per-item":
            amount = unit
        elif priced and model in ("per-crawl", "per-use"):
            amount = unit * it["count"]
        rows.append({"item": it["item"], "line": it["line"], "number": num, "sha256": it["sha256"], "url": it["url"],
                     "count": it["count"], "status": status, "reason": reason,
                     "offer_kind": offer["subject_kind"] if shown else None,
                     "offer_subject": offer["subject"] if shown else None,
                     "terms_version": offer["version"] if shown else None,
                     "terms_event": offer["event"] if shown else None, "model": model,
                     "currency": offer["currency"] if priced else None, "unit_minor": unit,
                     "share_percent": offer["share_percent"] if priced else None, "amount_minor": amount})
    from obra.money import allocate

    flat: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["status"] == "licensable" and row["model"] == "flat":
            flat.setdefault((row["offer_kind"], row["offer_subject"]), []).append(row)
    for group in flat.values():
        for row, amount in zip(group, allocate(group[0]["unit_minor"], [1] * len(group))):
            row["amount_minor"] = amount
    return pa.Table.from_pylist(rows, schema=PRICED_SCHEMA)


def totals(priced: pa.Table) -> dict:
    """Counts per status, totals per currency (minor units), the revenue shares asked, the reasons."""
    con = duckdb.connect()
    try:
        con.register("p", priced)
        statuses = dict(con.execute("SELECT status, count(*) FROM p GROUP BY status").fetchall())
        money = {c: int(a) for c, a in con.execute(
            "SELECT currency, sum(amount_minor) FROM p WHERE status = 'licensable' AND currency IS NOT NULL "
            "GROUP BY currency ORDER BY currency").fetchall()}
        models = dict(con.execute("SELECT model, count(*) FROM p WHERE status = 'licensable' GROUP BY model")
                      .fetchall())
        reasons = dict(con.execute("SELECT reason, count(*) FROM p WHERE status = 'not-licensable' GROUP BY reason "
                                   "ORDER BY count(*) DESC, reason LIMIT 20").fetchall())
        shares = sorted({s for (s,) in con.execute("SELECT DISTINCT share_percent FROM p WHERE share_percent IS "
                                                   "NOT NULL").fetchall()})
    finally:
        con.close()
    return {"items": priced.num_rows,
            "licensable": int(statuses.get("licensable", 0)), "free": int(statuses.get("free", 0)),
            "not_licensable": int(statuses.get("not-licensable", 0)), "totals_minor": money,
            "models": {k: int(v) for k, v in sorted(models.items())}, "revenue_shares_percent": shares,
            "not_licensable_reasons": {k: int(v) for k, v in reasons.items()}}
