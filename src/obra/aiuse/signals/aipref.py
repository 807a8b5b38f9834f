"""IETF AIPREF: the ``Content-Usage`` HTTP header and robots.txt rule, read and written.

What the drafts say (draft-ietf-aipref-vocab-08, draft-ietf-aipref-attach-05), and what this
module therefore does:

* A statement of preference is an RFC 9651 **Dictionary** (parsed here with ``http-sf``, never by
  splitting strings). For each category's label, only the **Token** ``y`` (allow) or ``n``
  (disallow) counts; anything else — a missing key, a bare key (Boolean true), the String
  ``"n"``, ``yes`` — leaves the category *unknown*, which is not an error. Duplicate keys: the
  last one wins (RFC 9651 does that). Parameters and unknown labels are ignored. If the field
  does not parse (an upper-case key, a stray byte), **every category is unknown**.
* The current labels are ``train-ai`` (training of *generative* models only, read literally),
  ``ai-use`` (input to a generative model, added by vocab-08) and ``search``, mapped through
  :data:`obra.aiuse.vocabulary.TOKENS`. Labels of older drafts (``ai``, ``genai``,
  ``train-genai``, ``tdm``…) are read through
  :data:`obra.aiuse.vocabulary.AIPREF_LEGACY` only, and every such reading says so in its
  ``rule``; the writer never writes them.
* The robots.txt rule ``Content-Usage: [path SP] statement`` belongs to a group (attach-05): the
  value ends at CR, LF or ``#``; a value starting with ``/`` begins with a path, which ends at the
  first SP or HTAB; without a path the rule applies to every path. The rule whose path is the
  longest RFC 9309 match supplies the **whole** statement (no per-label merging with shorter
  paths); rules with identical paths are separate statements, combined most-restrictively. Rules
  apply only to paths the agent may crawl: a disallowed path carries no preference.
* Statements are **combined** per category: any disallow → disallowed; else any allow →
  allowed; else unknown. The header and the robots.txt rule are two such statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

import http_sf

from obra.aiuse.signals.paths import longest_path_records, normalize, path_of, split_path_prefix
from obra.aiuse.signals.robots import Record, Terms, crawl_rule, parse, reading_for
from obra.aiuse.vocabulary import AIPREF_LEGACY, TOKENS, Reading, Signal, Use
from obra.errors import InvalidInput, Problem

__all__ = ["STANDARD", "HEADER", "ROBOTS", "read_statement", "read_header", "read_robots", "read",
           "combine", "write_header", "write_robots_rules"]

STANDARD = "aipref"
HEADER = "Content-Usage header"
ROBOTS = "robots.txt Content-Usage"
_VOCAB = "aipref-vocab-08"
_ATTACH = "aipref-attach-05"


def _describe(value: object) -> str:
    if isinstance(value, http_sf.Token):
        return f"the Token {value}"
    if value is True:
        return "Boolean true (a key without a value)"
    if isinstance(value, bool):
        return "Boolean false"
    if isinstance(value, str):
        return f'the String "{value}"'
    if isinstance(value, tuple | list):
        return "an Inner List"
    return f"{type(value).__name__} {value!r}"


def _reading(value: object) -> tuple[Reading, str]:
    if isinstance(value, http_sf.Token) and value == "y":
        return Reading.ALLOWED, f"the Token y: allowed ({_VOCAB}, Processing Algorithm)"
    if isinstance(value, http_sf.Token) and value == "n":
        return Reading.NOT_ALLOWED, f"the Token n: disallowed ({_VOCAB}, Processing Algorithm)"
    return Reading.UNKNOWN, (f"{_describe(value)} is not the Token y or n: unknown, not an error "
                             f"({_VOCAB}, Processing Algorithm)")


@lru_cache(maxsize=65536)
def _read_cached(value: str, source: str) -> tuple[Signal, ...]:
    try:
        parsed = http_sf.parse(value.encode("utf-8", "surrogatepass"), tltype="dictionary")
    except (ValueError, OverflowError, UnicodeError) as exc:  # StructuredFieldError is a ValueError
        rule = (f"does not parse as an RFC 9651 Dictionary ({exc}): every category unknown "
                f"({_VOCAB}, Multiple Preferences)")
        return tuple(Signal(STANDARD, source, use, Reading.UNKNOWN, token=label, raw=value, rule=rule)
                     for label, uses in TOKENS[STANDARD].items() for use in uses)
    out: list[Signal] = []
    for label, uses in TOKENS[STANDARD].items():
        if label in parsed:
            reading, rule = _reading(parsed[label][0])
        else:
            reading, rule = Reading.UNKNOWN, f"no {label} key: unknown ({_VOCAB}, Applying Statements of Preference)"
        out += [Signal(STANDARD, source, use, reading, token=label, raw=value, rule=rule) for use in uses]
    for label, (draft, uses) in AIPREF_LEGACY.items():
        if label in TOKENS[STANDARD] or label not in parsed:
            continue
        reading, rule = _reading(parsed[label][0])
        if reading is Reading.UNKNOWN:
            continue
        read_as = ", ".join(u.value for u in uses)
        rule = (f"legacy label {label} of {draft}, not a current label, read through the documented "
                f"mapping (obra.aiuse.vocabulary.AIPREF_LEGACY) as {read_as}: {rule}")
        out += [Signal(STANDARD, source, use, reading, token=label, raw=value, rule=rule,
                       extra={"legacy": draft}) for use in uses]
    return tuple(out)


def read_statement(value: str, *, source: str = HEADER) -> list[Signal]:
    """One statement of preference (a Content-Usage value), one :class:`Signal` per category.

    Cached on the raw string: a crawl repeats the same few values millions of times, and each
    distinct value is parsed once.
    """
    return list(_read_cached(value, source))


def read_header(value: str | Sequence[str] | None) -> list[Signal]:
    """The ``Content-Usage`` header of a response (several field lines are joined with ", " as
    RFC 9651 §4.2 says); None or no field lines: no statement, no signals."""
    if value is None:
        return []
    if not isinstance(value, str):
        if not value:
            return []
        value = ", ".join(value)
    return read_statement(value, source=HEADER)


def _unknown(source: str, rule: str, raw: str | None, scope: str | None = None) -> list[Signal]:
    return [Signal(STANDARD, source, use, Reading.UNKNOWN, token=label, raw=raw, rule=rule, scope=scope)
            for label, uses in TOKENS[STANDARD].items() for use in uses]


def read_robots(robots_txt: str | None, agent: str, path: str, *, status: int | None = 200) -> list[Signal]:
    """The ``Content-Usage`` preference robots.txt attaches to ``path`` for ``agent``.

    No file (status not 2xx), no group for the agent, or no rule matching the path: no
    statement, no signals. A path the agent may not crawl: every category unknown, saying why.
    """
    if robots_txt is None or status is None or not 200 <= status < 300:
        return []
    path = path_of(path)
    crawl = crawl_rule(robots_txt, agent, path, status=status)
    rules = parse(robots_txt).records_for(agent, "content-usage")
    if not rules:
        return []
    if not crawl.allowed:
        return _unknown(ROBOTS, f"{path} may not be crawled by {agent} ({crawl.rule}): no preferences "
                        f"apply to it ({_ATTACH}, Content-Usage Rule Semantics)", None)
    best = longest_path_records(rules, path)
    return list(_robots_statement(tuple(best))) if best else []


@lru_cache(maxsize=16384)
def _robots_statement(records: tuple[Record, ...]) -> tuple[Signal, ...]:
    """The statement(s) of the longest-matching rules (cached: every path they decide shares it)."""
    statements = []
    for record in records:
        rule_path, statement = split_path_prefix(record.value)
        where = f"line {record.line}" + (f", path {rule_path}" if rule_path else ", no path (every path)")
        longest = "the longest matching Content-Usage path, its whole statement applies"
        statements.append([replace(s, scope=rule_path, raw=record.value,
                                   rule=f"{where}: {longest}; {s.rule}")
                           for s in read_statement(statement, source=ROBOTS)])
    return tuple(combine(*statements) if len(statements) > 1 else statements[0])


def combine(*statements: Iterable[Signal]) -> list[Signal]:
    """Several statements of preference combined per use (AIPREF vocab, Combining Preferences):
    any disallow → disallowed; else any allow → allowed; else unknown.

    Returns, per use (in first-seen order), the signal that decided; when several statements
    spoke, its ``rule`` says so and ``extra["overruled"]`` lists the others.
    """
    by_use: dict[Use, list[Signal]] = {}
    for statement in statements:
        for signal in statement:
            by_use.setdefault(signal.use, []).append(signal)
    out = []
    order = (Reading.NOT_ALLOWED, Reading.ALLOWED, Reading.UNKNOWN)
    for use, signals in by_use.items():
        deciding = min(signals, key=lambda s: order.index(s.reading))
        if len(signals) > 1:
            others = [s for s in signals if s is not deciding]
            rule = (f"{deciding.rule}; combined with {len(others)} other statement(s): any disallow wins, "
                    f"then any allow ({_VOCAB}, Combining Preferences)")
            deciding = replace(deciding, rule=rule, extra={
                **deciding.extra,
                "overruled": [{"source": s.source, "reading": s.reading.value, "raw": s.raw} for s in others]})
        out.append(deciding)
    return out


def read(*, header: str | Sequence[str] | None = None, robots_txt: str | None = None, agent: str = "*",
         path: str = "/", status: int | None = 200) -> list[Signal]:
    """What AIPREF says about an item: its ``Content-Usage`` header and its site's robots.txt
    rule, two statements combined (attach-05: neither overrides the other, disallow wins)."""
    return combine(read_header(header), read_robots(robots_txt, agent, path, status=status))


# -- writer -----------------------------------------------------------------------------------------


def write_header(terms: Terms) -> str | None:
    """The ``Content-Usage`` value stating ``terms`` (None when AIPREF can say nothing of them).

    A label is written ``n`` when the terms reserve any use it covers (not allowed, or only under
    licence), ``y`` when they allow every use it covers, and left out otherwise: AIPREF has no
    label for non-generative training, AI indexing or mining, so those terms are not written here.
    """
    members = {}
    for label, uses in TOKENS[STANDARD].items():
        reading = reading_for(uses, terms)
        if reading is not Reading.UNKNOWN:
            members[label] = (http_sf.Token("y" if reading is Reading.ALLOWED else "n"), {})
    return http_sf.ser(members) if members else None


def write_robots_rules(terms: Terms, path: str | None = None) -> list[str]:
    """The robots.txt ``Content-Usage`` line stating ``terms`` for ``path`` (every path when None),
    to be placed in a group (see :func:`obra.aiuse.signals.robots.write_robots_txt`)."""
    value = write_header(terms)
    if value is None:
        return []
    if path is None:
        return [f"Content-Usage: {value}"]
    if not path.startswith("/"):
        raise InvalidInput(Problem(f"a Content-Usage path must start with '/', got {path!r}", field="path"),
                           hint="write the path part of the URL, e.g. /articles/")
    return [f"Content-Usage: {normalize(path)} {value}"]
