"""Batch imports (JSON, JSON Lines or CSV): all rows validated, all problems reported, all or nothing.

A JSON batch is one document ``{"parties": [...], "works": [...], "recordings": [...],
"agreements": [...]}``; parties carry a ``key`` that works, recordings and agreements in
the same batch use as a party reference. A CSV batch holds one kind of record per file
(``--entity parties|works|recordings``) with the columns documented in
``docs/data-model.md``; list-valued cells use ``|`` between items, and shares are written
``party:right_type:territory:percent``. A JSON Lines batch (``.jsonl``) holds one record per line,
written as in a JSON batch: all of one kind (``--entity``), or each line naming its kind
(``{"work": {...}}``), so that one file can hold a whole register.

The whole batch runs in one transaction, and so do the several files of one ``obra import``
(:func:`import_files`). A bad row does not stop validation: every problem is collected with
file, row and field, then the transaction is rolled back and one
:class:`~obra.errors.InvalidInput` lists them all.

Files are read strictly, before anything is written: UTF-8 only (a byte-order mark is
fine; anything else is refused with the line and how to re-save it); JSON with no key twice
in one object, no ``NaN``, whole numbers within 64 bits, fractions read exactly as
:class:`~decimal.Decimal` (a share is never rounded through a float) and at most
:data:`JSON_MAX_DEPTH` levels of nesting; CSV with no NUL byte and no cell over
:data:`CSV_CELL_MAX` characters. The limits are listed in ``docs/data-model.md``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Collection, Iterable

from obra.access import Principal, require
from obra.collector import paused
from obra.ids import ascii_digits
from obra.journal import Journal
from obra.errors import InvalidInput, Problem
from obra.model import Party, Work, WorkIdentifier, parse
from obra.model.shares import parse_share_notation
from obra.model.text import text_problem
from obra.registry.parties import find_or_insert_party
from obra.registry.service import BatchKeys, Registry
from obra.transparency.translog import TransparencyLog

CSV_COLUMNS = {
    "parties": {"key", "name", "kind", "roles", "ipi", "ipi_base", "isni", "country"},
    "works": {"title", "kind", "iswc", "language", "genre", "creation_date", "creation_mode", "ai_systems",
              "ai_contribution", "human_contribution", "excluded_material", "alternate_titles", "contributors",
              "shares"},
    "recordings": {"title", "isrc", "duration_seconds", "artist", "album", "works", "performers", "label",
                   "creation_mode", "shares"},
}
_LIST = "|"
SECTIONS = ("parties", "works", "recordings", "agreements")


class _Rollback(Exception):
    pass


@dataclass
class Batch:
    """One file's (or one request's) records to import, with where they came from."""

    sections: dict[str, list]
    source: str = "<batch>"
    locations: dict[tuple[str, int], int] = field(default_factory=dict)
    revisions: Collection[int] = ()


def import_records(store, principal: Principal, *, parties: Iterable[dict | Party] = (),
                   works: Iterable[dict] = (), recordings: Iterable[dict] = (), agreements: Iterable[dict] = (),
                   source: str = "<batch>", locations: dict[tuple[str, int], int] | None = None,
                   revisions: Collection[int] = ()) -> dict:
    """Import parties, works, recordings and agreements in one transaction; returns what was created.

    ``parties`` lists the party id of every party record, in input order (so callers can map
    a record to its id); ``known_parties`` the ids among them that were already on file,
    found by a submitter's number (``identifiers``, e.g. CWR sender + Interested Party #)
    or by IPI instead of being created again (see
    :func:`obra.registry.parties.find_or_insert_party`).

    ``locations`` maps (section, index) to a line number in the source file, for messages.
    ``revisions`` are indexes of works that revise an earlier registration (CWR ``REV``): a
    work among them whose identifier is already registered becomes a correction of that
    registration (listed under ``revised``); one not found is registered as new.
    """
    sections = {"parties": parties, "works": works, "recordings": recordings, "agreements": agreements}
    return import_batches(store, principal, [Batch(sections, source, locations or {}, revisions)])[0]


ANALYZE_AFTER = 5_000
"""A bulk import of this many registrations or more refreshes the planner's statistics afterwards."""
METHODS = ("bulk", "per-record")
"""How a batch is written: set-based (:mod:`obra.registry.bulk`, the default) or one registration at a time."""


def import_batches(store, principal: Principal, batches: list[Batch], method: str = "bulk") -> list[dict]:
    """Import several batches (the files of one ``obra import``) in one transaction: all or nothing.

    Every batch is validated and written inside the same transaction; a problem in any of
    them rolls all of them back, and one :class:`InvalidInput` lists every problem of every
    file. A party ``key`` introduced by one batch may be used by the batches after it (a
    parties file, then a works file). Each batch that created something is one
    ``repertoire.imported`` journal event, as when it is imported alone.

    ``method`` ``bulk`` (:mod:`obra.registry.bulk`) writes the same records, leaves and events
    set-based and signs one tree head for the whole import; a batch revising earlier
    registrations (CWR ``REV``) is always written ``per-record``.
    """
    require(principal, "import")
    if method not in METHODS:
        raise InvalidInput(Problem(f"unknown import method {method!r}: use {' or '.join(METHODS)}",
                                   field="method"))
    registry = Registry(store)
    keys = BatchKeys()
    problems: list[Problem] = []
    results: list[dict] = []
    log = TransparencyLog(store)
    try:
        with store.begin() as conn:
            for batch in batches:
                if method == "bulk" and not batch.revisions:
                    results.append(_import_batch_bulk(conn, store, registry, principal, keys, batch, problems, log))
                else:
                    results.append(_import_batch(conn, registry, principal, keys, batch, problems))
            if problems:
                raise _Rollback
            for batch, created in zip(batches, results):
                if any(created.values()):
                    name = Path(str(batch.source)).name  # the file's name, never a server path
                    Journal(store).record(conn, "repertoire.imported", name or "batch",
                                          {"source": name, **{k: len(v) for k, v in created.items()}},
                                          principal.name)
    except _Rollback:
        raise InvalidInput(problems) from None
    if method == "bulk" and any(created["works"] or created["recordings"] for created in results):
        from obra.registry.bulk import settle_after_load

        log.signed_tree_head()  # one signed tree head for the whole import
        settle_after_load(store, refresh=sum(len(created["works"]) + len(created["recordings"])
                                             for created in results) >= ANALYZE_AFTER)
    return [created | {"source": batch.source} for batch, created in zip(batches, results)]


def _import_batch_bulk(conn, store, registry: Registry, principal: Principal, keys: BatchKeys, batch: Batch,
                       problems: list[Problem], log: TransparencyLog) -> dict[str, list]:
    """One batch written set-based (:mod:`obra.registry.bulk`); the same results and problems as
    :func:`_import_batch`."""
    from obra.registry import bulk

    created: dict[str, list] = {"parties": [], "known_parties": [], "works": [], "revised": [], "recordings": [],
                                "agreements": []}
    located = bulk.Located(batch.source, batch.locations)
    sections = batch.sections
    batch_works: dict[str, str] = {}
    # the parties as the works section read and locked them, for the recordings section: nothing changes a party
    # between the two (a batch's parties section runs first; the next batch's may add an IPI, so not kept longer)
    named: dict[int, dict] = {}
    # A load keeps millions of small containers alive at once (the parsed models, records, rows of a
    # section); each older-generation collection walked them all again, five times the work itself
    # (parsing 50,000 works with pydantic: 54 µs a work with the collector, 9 µs without).
    with paused():
        if sections.get("parties"):
            created["parties"], created["known_parties"] = bulk.import_parties(
                conn, principal, list(sections["parties"]), keys, located)
        if sections.get("works"):
            created["works"] = bulk.import_section(conn, store, principal, "works", list(sections["works"]),
                                                   bulk.Resolver(conn, keys), located, batch_works, log, named)
        if sections.get("recordings"):
            items = bulk.link_batch_works(list(sections["recordings"]), created["works"], located)
            created["recordings"] = bulk.import_section(conn, store, principal, "recordings", items,
                                                        bulk.Resolver(conn, keys), located, batch_works, log, named)
    for i, item in enumerate(sections.get("agreements") or ()):
        try:
            created["agreements"].append(registry.add_agreement(principal, item, conn, keys).id)
        except InvalidInput as exc:
            located.add("agreements", i, exc.problems)
    problems.extend(located.problems)
    return created


def _import_batch(conn, registry: Registry, principal: Principal, keys: BatchKeys, batch: Batch,
                  problems: list[Problem]) -> dict[str, list]:
    """Write one batch's records in the caller's transaction, adding every problem to ``problems``."""
    created: dict[str, list] = {"parties": [], "known_parties": [], "works": [], "revised": [], "recordings": [],
                                "agreements": []}
    source, locations, revisions = batch.source, batch.locations, batch.revisions

    def label(section: str, i: int, field: str | None) -> str:
        head = f"{section}[{i}]" if (section, i) not in locations else None
        return ".".join(p for p in (head, field) if p) or section

    for section in SECTIONS:
        for i, item in enumerate(batch.sections.get(section) or ()):
            line = locations.get((section, i))
            try:
                if section == "parties":
                    party = item if isinstance(item, Party) else parse(Party, item)
                    stored, new = find_or_insert_party(conn, party, principal.name)
                    if party.key:
                        keys.keys[party.key] = stored.id
                    created["parties"].append(stored.id)
                    if not new:
                        created["known_parties"].append(stored.id)
                elif section == "agreements":
                    created["agreements"].append(registry.add_agreement(principal, item, conn, keys).id)
                elif section == "works" and i in revisions and (
                        target := _revised(registry, conn, item)) is not None:
                    created["revised"].append(registry.correct(
                        principal, target, item, f"revised by {Path(source).name}", conn, keys=keys).number)
                else:
                    if section == "recordings":
                        item = _link_batch_works(item, created["works"])
                    created[section].append(registry.register(principal, section[:-1], item, conn,
                                                              keys).number)
            except InvalidInput as exc:
                problems.extend(Problem(p.message, label(section, i, p.field), line, source)
                                for p in exc.problems)
    return created


def _revised(registry: Registry, conn, work: dict | Work) -> str | None:
    """The registration a revised work points to through one of its identifiers, if registered."""
    identifiers = work.identifiers if isinstance(work, Work) else [
        parse(WorkIdentifier, i) for i in (work.get("identifiers") or [])]
    for identifier in identifiers:
        found = registry.find_by_identifier(identifier.scheme, identifier.value, conn)
        if found:
            return found
    return None


def _link_batch_works(recording: dict, numbers: list[str]) -> dict:
    """``"@3"`` in a recording's works means the 4th work of this batch (its number is known only now)."""
    if not isinstance(recording, dict) or not recording.get("works"):
        return recording
    linked = []
    for ref in recording["works"]:
        if isinstance(ref, str) and ref.startswith("@") and ascii_digits(ref[1:]):
            index = int(ref[1:])
            if index >= len(numbers):
                raise InvalidInput(Problem(f"'{ref}' points past the {len(numbers)} works registered so far "
                                           "in this batch", field="works"))
            linked.append(numbers[index])
        else:
            linked.append(ref)
    return {**recording, "works": linked}


# --- reading JSON -------------------------------------------------------------------------

JSON_MAX_DEPTH = 64
"""The deepest nesting of objects and arrays a JSON batch may have (a work is 5 levels deep)."""
JSON_INT_MAX = 2**63 - 1
"""Whole numbers in a JSON batch must fit in a signed 64-bit integer (and the model bounds them further)."""
_DECIMAL_EXPONENT = (-30, 18)  # numbers with a fraction or exponent: 1e-30 .. 1e18


class _Refused(Exception):
    """A hook of the JSON reader refused a value; ``needle`` helps find its line."""

    def __init__(self, message: str, field: str | None = None, needle: str | None = None, nth: int = 1):
        super().__init__(message)
        self.message, self.field, self.needle, self.nth = message, field, needle, nth


def shown_key(key: str) -> str:
    """A JSON key as it can be shown in a message: escaped when it holds control characters or surrogates,
    cut when long."""
    shown = json.dumps(key)[1:-1] if text_problem(key) or not key.isprintable() else key
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _object(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(f"the key '{shown_key(key)}' appears twice in one object: keep one (JSON readers "
                           "disagree on which one counts)", field=shown_key(key), needle=json.dumps(key), nth=2)
        obj[key] = value
    return obj


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not -JSON_INT_MAX - 1 <= (value := int(text)) <= JSON_INT_MAX:
        shown = text if len(text) <= 30 else f"{text[:20]}… ({len(text)} digits)"
        raise _Refused(f"the number {shown} is out of range: whole numbers go up to {JSON_INT_MAX:,}",
                       needle=text)
    return value


def _decimal(text: str) -> Decimal:
    """Numbers with a fraction are read exactly from their text (a share of 33.3333 stays 33.3333)."""
    value = Decimal(text)
    low, high = _DECIMAL_EXPONENT
    if len(text) > 64 or (value and not low <= value.adjusted() <= high):
        shown = text if len(text) <= 30 else f"{text[:20]}…"
        raise _Refused(f"the number {shown} is out of range: numbers with a fraction or an exponent go from "
                       f"1e{low} to 1e{high}, with at most 64 characters", needle=text)
    return value


def _constant(name: str):
    raise _Refused(f"{name} is not a number JSON allows", needle=name)


def _line_of(text: str, needle: str | None, nth: int = 1) -> int | None:
    """The line of the ``nth`` occurrence of ``needle`` (where a refused value most likely is)."""
    if not needle:
        return None
    at = -1
    for _ in range(nth):
        at = text.find(needle, at + 1)
        if at < 0:
            return None
    return text.count("\n", 0, at) + 1


def _depth_problem(text: str, source: str) -> Problem:
    """Where the nesting first goes deeper than :data:`JSON_MAX_DEPTH` (strings skipped)."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > JSON_MAX_DEPTH:
                return Problem(f"objects and arrays are nested more than {JSON_MAX_DEPTH} levels deep",
                               line=text.count("\n", 0, m.start()) + 1, source=source)
        elif token in "]}":
            depth -= 1
    return Problem(f"objects and arrays are nested more than {JSON_MAX_DEPTH} levels deep", source=source)


def _too_deep(doc: Any) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > JSON_MAX_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def decode_text(data: bytes, source: str, kind: str, how_to_save: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark is dropped), or :class:`InvalidInput` saying how to re-save."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(Problem(f"the {kind} is UTF-16 text, not UTF-8", line=1, source=source),
                           hint=how_to_save)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(Problem(
            f"the {kind} is not UTF-8 text: byte 0x{data[exc.start]:02X} at line {line} is not UTF-8 "
            "(the file was probably saved as Latin-1 or Windows-1252)", line=line, source=source),
            hint=how_to_save) from None


def read_bytes(path: Path, kind: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise InvalidInput(Problem(f"is a folder, not a {kind}", source=str(path))) from None
    except OSError as exc:
        raise InvalidInput(Problem(f"cannot be read: {exc.strerror or exc}", source=str(path))) from None


JSON_SAVE_HINT = "save the file as UTF-8 (any editor's 'Save with encoding' → UTF-8) and check it with a JSON validator"


def parse_json(data: bytes | str, source: str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, bounded numbers and nesting.

    Numbers with a fraction or an exponent become :class:`~decimal.Decimal` read from their
    text, never floats, so a share is exactly what was written (and a share with more
    decimal places than the model allows is refused, not rounded). Every refusal is an
    :class:`InvalidInput` naming ``source`` and, where it can be found, the line.
    """
    text = data if isinstance(data, str) else decode_text(data, source, "file", JSON_SAVE_HINT)
    try:
        doc = json.loads(text, object_pairs_hook=_object, parse_int=_int, parse_float=_decimal,
                         parse_constant=_constant)
    except _Refused as exc:
        raise InvalidInput(Problem(exc.message, field=exc.field, line=_line_of(text, exc.needle, exc.nth),
                                   source=source)) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                                   source=source), hint=JSON_SAVE_HINT) from None
    except RecursionError:
        raise InvalidInput(_depth_problem(text, source)) from None
    if _too_deep(doc):
        raise InvalidInput(_depth_problem(text, source))
    return doc


def load_json_document(path: Path, what: str = "record") -> dict:
    """A JSON file holding one object (a work, a recording, an agreement), read strictly (see :func:`parse_json`)."""
    doc = parse_json(read_bytes(path, "JSON file"), str(path))
    if not isinstance(doc, dict):
        raise InvalidInput(Problem(f"a {what} file holds one JSON object {{...}}, not {_json_kind(doc)}",
                                   line=1, source=str(path)))
    return doc


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def check_sections(doc: Any, source: str) -> dict[str, list]:
    """A batch document's sections, each a list of JSON objects, or every problem with it."""
    if not isinstance(doc, dict):
        hint = ('wrap the list in an object: {"works": [...]}' if isinstance(doc, list) else None)
        raise InvalidInput(Problem(f"a batch is one JSON object {{\"parties\": [...], \"works\": [...], "
                                   f"\"recordings\": [...], \"agreements\": [...]}}, not {_json_kind(doc)}",
                                   line=1, source=source), hint=hint)
    problems = [Problem("unknown section (expected parties, works, recordings, agreements)", field=shown_key(u),
                        source=source) for u in sorted(set(doc) - set(SECTIONS), key=str)]
    for section in SECTIONS:
        items = doc.get(section)
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            problems.append(Problem(f"must be an array of objects, not {_json_kind(items)}", field=section,
                                    source=source))
            continue
        problems.extend(Problem(f"must be an object {{...}}, not {_json_kind(item)}", field=f"{section}[{i}]",
                                source=source)
                        for i, item in enumerate(items) if not isinstance(item, (dict, Party)))
    if problems:
        raise InvalidInput(problems)
    return {section: list(doc[section]) for section in SECTIONS if doc.get(section) is not None}


def load_json_batch(path: Path) -> dict[str, list]:
    """Read a JSON batch strictly (:func:`parse_json`), refusing unknown sections and non-object records."""
    return check_sections(parse_json(read_bytes(path, "JSON batch"), str(path)), str(path))


def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split(_LIST) if p.strip()]


def _shares(cell: str | None) -> list[dict]:
    return [parse_share_notation(item) for item in _split(cell)]


def _people(cell: str | None, kind: str) -> list[dict]:
    out = []
    for item in _split(cell):
        party, _, role = item.partition(":")
        out.append({"party": party, "role": role} if role else {"party": party})
    return out


def csv_row_to_record(entity: str, row: dict[str, str]) -> dict[str, Any]:
    """One CSV row → the dict the model parses (empty cells are absent values)."""
    row = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if v not in (None, "")}
    if entity == "parties":
        if "roles" in row:
            row["roles"] = _split(row["roles"])
        return row
    rec = {k: v for k, v in row.items() if k not in {"ai_systems", "ai_contribution", "human_contribution",
                                                      "excluded_material", "alternate_titles", "contributors",
                                                      "shares", "works", "performers"}}
    rec["shares"] = _shares(row.get("shares"))
    if entity == "works":
        rec["alternate_titles"] = [{"title": t} for t in _split(row.get("alternate_titles"))]
        rec["contributors"] = _people(row.get("contributors"), "contributors")
        if row.get("ai_systems") or row.get("ai_contribution"):
            rec["disclosure"] = {"systems": [{"name": s} for s in _split(row.get("ai_systems"))],
                                 "ai_contribution": row.get("ai_contribution", ""),
                                 "human_contribution": row.get("human_contribution", ""),
                                 "excluded_material": row.get("excluded_material", "")}
    else:
        rec["works"] = _split(row.get("works"))
        rec["performers"] = _people(row.get("performers"), "performers")
    return rec


# --- reading CSV --------------------------------------------------------------------------

CSV_CELL_MAX = 131_072
"""The longest cell a CSV batch may hold (the csv module's field size limit); the model bounds each field further."""
CSV_SAVE_HINT = ("save the file as 'CSV UTF-8' (Excel: File › Save As › CSV UTF-8 (Comma delimited); "
                 "LibreOffice: Save As › Text CSV, character set Unicode (UTF-8))")


def _column_at(text: str, line: int, header: list[str]) -> str | None:
    """The column of the over-long cell on ``line``, when the line is plain enough to tell (no quotes)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines) or '"' in lines[line - 1]:
        return None
    for name, cell in zip(header, lines[line - 1].split(",")):
        if len(cell) > CSV_CELL_MAX:
            return name
    return None


def load_csv_batch(path: Path, entity: str) -> tuple[dict[str, list], dict[tuple[str, int], int]]:
    """Read a CSV batch of one entity; returns the sections and (section, index) → line numbers.

    The file must be UTF-8 (a byte-order mark is fine), hold no NUL bytes and no cell over
    :data:`CSV_CELL_MAX` characters; every refusal names the file, the line and, where it
    can, the column.
    """
    source = str(path)
    if entity not in CSV_COLUMNS:
        raise InvalidInput(Problem(f"unknown entity '{entity}' (use parties, works or recordings)", field="entity"))
    text = decode_text(read_bytes(path, "CSV file"), source, "file", CSV_SAVE_HINT)
    if "\x00" in text:
        raise InvalidInput([Problem("holds a NUL byte (character 0), which no CSV cell may hold: the file is "
                                    "damaged or not a text file", line=n, source=source)
                            for n, line in enumerate(text.splitlines(), 1) if "\x00" in line],
                           hint=CSV_SAVE_HINT)
    # The csv module's limit is process-wide and the usage-report reader sets its own: set ours
    # for this read, so the limit (and its message) never depends on what ran before.
    csv.field_size_limit(CSV_CELL_MAX)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    records, locations, problems, header = [], {}, [], []
    try:
        header = list(reader.fieldnames or [])
        unknown = [c for c in header if c not in CSV_COLUMNS[entity]]
        if unknown:
            raise InvalidInput([Problem(f"unknown column; {entity} columns are: "
                                        f"{', '.join(sorted(CSV_COLUMNS[entity]))}", field=c, line=1, source=source)
                                for c in unknown])
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:
            raise InvalidInput([Problem("the column appears twice in the header", field=c, line=1, source=source)
                                for c in twice])
        for row in reader:
            line = reader.line_num
            if None in row:
                problems.append(Problem("more cells than columns", line=line, source=source))
                continue
            try:
                records.append(csv_row_to_record(entity, row))
                locations[(entity, len(records) - 1)] = line
            except InvalidInput as exc:
                problems.extend(Problem(p.message, p.field, line, source) for p in exc.problems)
    except csv.Error as exc:
        line = reader.line_num + 1  # the reader counts a line once it is parsed: this one was not
        if "field larger than field limit" in str(exc):
            problems.append(Problem(f"a cell is longer than {CSV_CELL_MAX:,} characters, the most a CSV cell may "
                                    "hold (and far more than any field allows)",
                                    field=_column_at(text, line, header), line=line,
                                    source=source))
        else:
            problems.append(Problem(f"is not readable CSV here: {exc}", line=line, source=source))
        raise InvalidInput(problems, hint=CSV_SAVE_HINT) from None
    if problems:
        raise InvalidInput(problems)
    return {entity: records}, locations


JSONL_SUFFIXES = (".jsonl", ".ndjson")


_JSONL_KINDS = {"party": "parties", "work": "works", "recording": "recordings", "agreement": "agreements"}


def load_jsonl_batch(path: Path, entity: str | None) -> tuple[dict[str, list], dict[tuple[str, int], int]]:
    """Read a JSON Lines batch, each line read as strictly as a JSON batch (:func:`parse_json`).

    With ``entity`` (parties, works or recordings) every line is one such record; without, every line
    names its kind, ``{"party": {...}}``, ``{"work": {...}}``, ``{"recording": {...}}`` or
    ``{"agreement": {...}}``, so one file can carry a whole register (parties' keys used by its works).
    Blank lines are skipped; every line's problem is collected, with the line, before the file is refused.
    """
    source = str(path)
    if entity is not None and entity not in CSV_COLUMNS:
        raise InvalidInput(Problem(f"unknown entity '{entity}' (use parties, works or recordings)", field="entity"))
    text = decode_text(read_bytes(path, "JSON Lines file"), source, "file", JSON_SAVE_HINT)
    sections: dict[str, list] = {}
    locations: dict[tuple[str, int], int] = {}
    problems: list[Problem] = []
    kinds = ", ".join(f'{{"{k}": {{...}}}}' for k in _JSONL_KINDS)
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            doc = parse_json(line, source)
        except InvalidInput as exc:
            problems.extend(Problem(p.message, p.field, number, source) for p in exc.problems)
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(f"each line holds one JSON object {{...}}, not {_json_kind(doc)}", line=number,
                                    source=source))
            continue
        section = entity
        if entity is None:
            if len(doc) != 1 or next(iter(doc)) not in _JSONL_KINDS or not isinstance(next(iter(doc.values())), dict):
                problems.append(Problem(f"without --entity each line names its kind: {kinds}", line=number,
                                        source=source))
                continue
            key, doc = next(iter(doc.items()))
            section = _JSONL_KINDS[key]
        records = sections.setdefault(section, [])
        locations[(section, len(records))] = number
        records.append(doc)
    if problems:
        raise InvalidInput(problems, hint=JSON_SAVE_HINT)
    return sections, locations


def load_batch_file(path: Path, entity: str | None = None) -> Batch:
    """A ``.csv`` or ``.jsonl`` file of ``entity`` records (works by default) or a ``.json`` batch, read and
    checked."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        sections, locations = load_csv_batch(path, entity or "works")
    elif path.suffix.lower() in JSONL_SUFFIXES:
        sections, locations = load_jsonl_batch(path, entity)
    else:
        sections, locations = load_json_batch(path), {}
    return Batch(sections, str(path), locations)


def import_files(store, principal: Principal, paths: Iterable[Path], entity: str | None = None) -> list[dict]:
    """Import several batch files all or nothing: every file is read and checked, then all are written in
    one transaction (access checked before reading). One :class:`InvalidInput` lists the problems of every
    file; when there is one, nothing of any file was written."""
    require(principal, "import")
    batches, problems, hints = [], [], []
    for path in paths:
        try:
            batches.append(load_batch_file(path, entity))
        except InvalidInput as exc:
            problems.extend(exc.located(source=str(path)).problems)
            hints += [exc.hint] if exc.hint and exc.hint not in hints else []
    if problems:
        raise InvalidInput(problems, hint="; ".join(hints) or None)
    return import_batches(store, principal, batches)


def import_file(store, principal: Principal, path: Path, entity: str | None = None) -> dict:
    """Import a ``.json`` batch or a ``.csv`` file of ``entity`` records (access checked before reading)."""
    return import_files(store, principal, [path], entity)[0]
