# statement_verifier.py: check Obra royalty statements with Python's standard library alone
"""Recompute a statement's ``content_hash`` and a run's ``statements_hash`` without Obra.

Usage::

    python statement_verifier.py statement-1-2015-Q4.json [more statements ...]
    python statement_verifier.py --run royalties/runs/run-000002

A statement's ``content_hash`` is the SHA-256 of the RFC 8785 (JCS) canonical JSON of the
statement without its ``content_hash`` member; a run's ``statements_hash`` (in ``run.json``
and in the run's ``distribution.run`` journal event) is the SHA-256 of the JCS of
``{payee: content_hash}``. RFC 8785 is implemented here in full, so that nobody has to take
Obra's word (or a library's) for what the hashes cover. Exit status 0 only if all checks pass.
"""

from __future__ import annotations

import argparse
import decimal
import hashlib
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

#: Beyond 2**53 not every integer is an IEEE double, and RFC 8785 numbers are IEEE doubles.
LARGEST_EXACT_INTEGER = 2**53
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_TO_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Refused(ValueError):
    """A document that has no RFC 8785 form, or whose hashes do not match its content."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of ``value`` (parsed JSON: dict, list, str, int, float, bool, None), UTF-8."""
    return _serialize(value, "$").encode("utf-8")


def _serialize(value: Any, where: str) -> str:
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return _string(value, where)
    if isinstance(value, int):
        if abs(value) > LARGEST_EXACT_INTEGER:
            raise Refused(f"{where}: the integer {value} is beyond ±2**53, not exactly an IEEE double (RFC 8785 §3.2.2.3)")
        return str(value)  # an integral double below 1e21 prints as its digits in ECMAScript
    if isinstance(value, float):
        return es6_number(value, where)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialize(item, f"{where}[{i}]") for i, item in enumerate(value)) + "]"
    if isinstance(value, dict):
        if not all(isinstance(name, str) for name in value):
            raise Refused(f"{where}: object member names must be strings")
        members = [(_string(name, where), name) for name in value]  # refuses bad names before sorting them
        members.sort(key=lambda member: member[1].encode("utf-16-be"))  # UTF-16 code units (§3.2.3)
        return "{" + ",".join(f"{text}:{_serialize(value[name], f'{where}.{name}')}" for text, name in members) + "}"
    raise Refused(f"{where}: a {type(value).__name__} is not a JSON value")


def _string(text: str, where: str) -> str:
    """A JSON string escaped as RFC 8785 §3.2.2.2 says: only ``"``, ``\\`` and U+0000-U+001F."""
    if _SURROGATE.search(text):
        raise Refused(f"{where}: {text!r} contains a lone surrogate, which is not Unicode text (RFC 8785 §3.2.2.2)")
    return '"' + _TO_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text) + '"'


def es6_number(value: float, where: str = "$") -> str:
    """ECMAScript's Number.prototype.toString of a double, which RFC 8785 §3.2.2.3 prescribes.

    The digits are the shortest that read back as the same double (Python's ``repr``
    computes exactly those); ECMAScript then decides where the point goes and when to use
    an exponent, which differs from Python (``1e-05`` is ``0.00001``, ``1e+16`` is
    ``10000000000000000``).
    """
    if not math.isfinite(value):
        raise Refused(f"{where}: {value} has no JSON form (RFC 8785 allows finite numbers only)")
    if value == 0:
        return "0"  # -0 as well
    _, digits, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    s = "".join(map(str, digits)).rstrip("0")  # the shortest digits, value = 0.s × 10**n
    k, n = len(s), exponent + len(digits)
    sign = "-" if value < 0 else ""
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    return sign + (s if k == 1 else s[0] + "." + s[1:]) + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def sha256_hex(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonicalize(value)).hexdigest()


def content_hash(statement: dict) -> str:
    """What a statement's ``content_hash`` must be: the hash of everything else in it."""
    return sha256_hex({name: value for name, value in statement.items() if name != "content_hash"})


def read_json(path: Path) -> Any:
    """A JSON file, refusing a member named twice (RFC 8785 needs I-JSON, which forbids that)."""
    def unique(pairs: list[tuple[str, Any]]) -> dict:
        seen: dict[str, Any] = {}
        for name, value in pairs:
            if name in seen:
                raise Refused(f"{path}: the member {name!r} appears twice in one object")
            seen[name] = value
        return seen
    try:
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=unique)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"{path}: not a readable JSON file: {exc}") from exc


def check_statement(path: Path) -> dict:
    """The statement in ``path``, after checking that its ``content_hash`` covers exactly its content."""
    statement = read_json(path)
    if not isinstance(statement, dict) or "content_hash" not in statement or "payee" not in statement:
        raise Refused(f"{path}: not an Obra statement (no payee or content_hash)")
    expected = content_hash(statement)
    if statement["content_hash"] != expected:
        raise Refused(f"{path}: content_hash {statement['content_hash']} does not match the content, "
                      f"which hashes to {expected}: the statement was changed after it was issued")
    return statement


def check_run(directory: Path) -> str:
    """Check every statement of a run directory and the run's ``statements_hash``; return that hash.

    Statements are ``statements/*.json`` (a distribution) or ``<right type>/statements/*.json``
    (a split incoming statement, keyed ``<right type>/<payee>``). A statement added, removed or
    changed makes the recomputed ``statements_hash`` differ from the one in ``run.json``.
    """
    report = read_json(directory / "run.json")
    listed = report.get("statements", {})
    hashes: dict[str, str] = {}
    for path in sorted(directory.glob("statements/*.json")) + sorted(directory.glob("*/statements/*.json")):
        statement = check_statement(path)
        right = path.parent.parent.name
        key = statement["payee"] if path.parent.parent == directory else f"{right}/{statement['payee']}"
        if key in hashes:
            raise Refused(f"{path}: a second statement for payee {key} in one run")
        recorded = listed.get(key, {}).get("content_hash") if isinstance(listed.get(key), dict) else None
        if recorded is not None and recorded != statement["content_hash"]:
            raise Refused(f"{path}: run.json records content_hash {recorded} for payee {key}, "
                          f"the file carries {statement['content_hash']}")
        hashes[key] = statement["content_hash"]
    recomputed = sha256_hex(hashes)
    if recomputed != report.get("statements_hash"):
        raise Refused(f"{directory}: the {len(hashes)} statements hash to {recomputed}, but run.json "
                      f"says statements_hash {report.get('statements_hash')}: a statement was added, "
                      "removed or changed")
    return recomputed


def main(argv: list[str] | None = None) -> int:
    """Check the statements or run named on the command line; print what was checked."""
    parser = argparse.ArgumentParser(description="Check Obra royalty statements (RFC 8785 + SHA-256).")
    parser.add_argument("statements", nargs="*", type=Path, help="statement JSON files")
    parser.add_argument("--run", type=Path, help="a run directory (with run.json): every statement and the run hash")
    args = parser.parse_args(argv)
    if not args.statements and args.run is None:
        parser.error("name statement files, or a run directory with --run")
    try:
        for path in args.statements:
            statement = check_statement(path)
            print(f"ok: {path.name}: payee {statement['payee']}, content_hash {statement['content_hash']}")
        if args.run is not None:
            run_hash = check_run(args.run)
            print(f"ok: run {args.run.name}: statements_hash {run_hash} "
                  "(compare it with the run's distribution.run journal event)")
    except Refused as problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
