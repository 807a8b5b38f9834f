"""Batch imports (JSON or CSV): all rows validated, all problems reported, all or nothing.

A JSON batch is one document ``{"parties": [...], "works": [...], "recordings": [...],
"agreements": [...]}``; parties carry a ``key`` that works, recordings and agreements in
the same batch use as a party reference. A CSV batch holds one kind of record per file
(``--entity parties|works|recordings``) with the columns documented in
``docs/data-model.md``; list-valued cells use ``|`` between items, and shares are written
``party:right_type:territory:percent``.

The whole batch runs in one transaction. A bad row does not stop validation: every
problem is collected with file, row and field, then the transaction is rolled back and
one :class:`~obra.errors.InvalidInput` lists them all.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Collection, Iterable

from obra.access import Principal, require
from obra.journal import Journal
from obra.errors import InvalidInput, Problem
from obra.model import Party, Work, WorkIdentifier, parse
from obra.model.shares import parse_share_notation
from obra.registry.parties import find_or_insert_party
from obra.registry.service import BatchKeys, Registry

CSV_COLUMNS = {
    "parties": {"key", "name", "kind", "roles", "ipi", "ipi_base", "isni", "country"},
    "works": {"title", "kind", "iswc", "language", "genre", "creation_date", "creation_mode", "ai_systems",
              "ai_contribution", "human_contribution", "excluded_material", "alternate_titles", "contributors",
              "shares"},
    "recordings": {"title", "isrc", "duration_seconds", "artist", "album", "works", "performers", "label",
                   "creation_mode", "shares"},
}
_LIST = "|"


class _Rollback(Exception):
    pass


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
    require(principal, "import")
    registry = Registry(store)
    keys = BatchKeys()
    problems: list[Problem] = []
    created: dict[str, list] = {"parties": [], "known_parties": [], "works": [], "revised": [], "recordings": [],
                                "agreements": []}
    locations = locations or {}

    def where(section: str, i: int) -> tuple[str | None, int | None]:
        line = locations.get((section, i))
        return (source, line) if line is not None else (source, None)

    def label(section: str, i: int, field: str | None) -> str:
        head = f"{section}[{i}]" if (section, i) not in locations else None
        return ".".join(p for p in (head, field) if p) or section

    try:
        with store.begin() as conn:
            for section, items in (("parties", parties), ("works", works), ("recordings", recordings),
                                   ("agreements", agreements)):
                for i, item in enumerate(items):
                    src, line = where(section, i)
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
                        problems.extend(Problem(p.message, label(section, i, p.field), line, src)
                                        for p in exc.problems)
            if problems:
                raise _Rollback
            if any(created.values()):
                Journal(store).record(conn, "repertoire.imported", Path(str(source)).name or "batch",
                                      {"source": str(source), **{k: len(v) for k, v in created.items()}},
                                      principal.name)
    except _Rollback:
        raise InvalidInput(problems) from None
    return {k: v for k, v in created.items()} | {"source": source}


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
        if isinstance(ref, str) and ref.startswith("@") and ref[1:].isdigit():
            index = int(ref[1:])
            if index >= len(numbers):
                raise InvalidInput(Problem(f"'{ref}' points past the {len(numbers)} works registered so far "
                                           "in this batch", field="works"))
            linked.append(numbers[index])
        else:
            linked.append(ref)
    return {**recording, "works": linked}


def load_json_batch(path: Path) -> dict[str, list]:
    """Read a JSON batch, refusing unknown sections."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg}", line=exc.lineno, source=str(path))) from None
    if isinstance(doc, list):
        doc = {"works": doc}
    unknown = set(doc) - {"parties", "works", "recordings", "agreements"}
    if unknown:
        raise InvalidInput([Problem("unknown section (expected parties, works, recordings, agreements)",
                                    field=u, source=str(path)) for u in sorted(unknown)])
    return doc


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


def load_csv_batch(path: Path, entity: str) -> tuple[dict[str, list], dict[tuple[str, int], int]]:
    """Read a CSV batch of one entity; returns the sections and (section, index) → line numbers."""
    if entity not in CSV_COLUMNS:
        raise InvalidInput(Problem(f"unknown entity '{entity}' (use parties, works or recordings)", field="entity"))
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS[entity]]
    if unknown:
        raise InvalidInput([Problem(f"unknown column; {entity} columns are: {', '.join(sorted(CSV_COLUMNS[entity]))}",
                                    field=c, line=1, source=str(path)) for c in unknown])
    records, locations, problems = [], {}, []
    for i, row in enumerate(reader):
        line = reader.line_num
        if None in row:
            problems.append(Problem("more cells than columns", line=line, source=str(path)))
            continue
        try:
            records.append(csv_row_to_record(entity, row))
            locations[(entity, len(records) - 1)] = line
        except InvalidInput as exc:
            problems.extend(Problem(p.message, p.field, line, str(path)) for p in exc.problems)
    if problems:
        raise InvalidInput(problems)
    return {entity: records}, locations


def import_file(store, principal: Principal, path: Path, entity: str | None = None) -> dict:
    """Import a ``.json`` batch or a ``.csv`` file of ``entity`` records (access checked before reading)."""
    require(principal, "import")
    path = Path(path)
    if path.suffix.lower() == ".csv":
        sections, locations = load_csv_batch(path, entity or "works")
    else:
        sections, locations = load_json_batch(path), {}
    return import_records(store, principal, source=str(path), locations=locations, **sections)
