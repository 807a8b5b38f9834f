"""Cloudflare Content Signals: ``Content-Signal:`` lines in robots.txt, read and written.

A distinct source from IETF AIPREF, with its own tokens and scope (research note §2, pitfall
5): ``ai-train`` is "training or fine-tuning AI models" — every kind of training — where AIPREF's
``train-ai`` is generative training only, so ``Content-Signal: ai-train=no`` and
``Content-Usage: train-ai=n`` are two statements about two different scopes, never one.
Tokens map through :data:`obra.aiuse.vocabulary.TOKENS` (``search``, ``ai-input``, ``ai-train``;
draft-romm-aipref-contentsignals-00 §4).

What the policy (contentsignals.org, repeated in Cloudflare's managed robots.txt) says and how
it is read here:

* ``yes``: the content may be collected for that use; ``no``: it may not. A signal the operator
  does not include "neither grants nor restricts" (*unknown*). Values are read
  case-insensitively, as robots.txt field names are; any other value is unknown.
* The line is comma-separated ``key=value`` pairs; other keys (the newer ``use=…``) are ignored.
* Placement: in a group (Cloudflare puts it under ``User-agent: *``) or before every group,
  for the whole file. Neither the draft nor the policy says how the two interact; the reading
  here is the one RSL's erratum gives its ``License`` lines: the lines of the group chosen for
  the agent apply, and the file-wide lines only when that group has none.
* An optional path before the pairs (``Content-Signal: /blog/ ai-train=no``), as AIPREF's
  ``Content-Usage`` has. No specification defines one for Content Signals; when present it is read
  with AIPREF's rule: the longest RFC 9309 match supplies the whole line, lines with equal
  matches combine most-restrictively (any ``no`` wins).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from obra.aiuse.signals.paths import longest_path_records, normalize, path_of, split_path_prefix
from obra.aiuse.signals.robots import Record, Terms, parse, reading_for
from obra.aiuse.vocabulary import TOKENS, Reading, Signal, Use
from obra.errors import InvalidInput, Problem

__all__ = ["STANDARD", "SOURCE", "read_line", "read_robots", "write_robots_rules"]

STANDARD = "content-signals"
SOURCE = "robots.txt Content-Signal"
_POLICY = "Content Signals Policy (contentsignals.org)"


@lru_cache(maxsize=16384)
def _read_pairs(pairs: str) -> tuple[Signal, ...]:
    said: dict[str, list[tuple[str, Reading]]] = {}
    for part in pairs.split(","):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in TOKENS[STANDARD]:
            continue
        word = value.strip()
        reading = {"yes": Reading.ALLOWED, "no": Reading.NOT_ALLOWED}.get(word.lower(), Reading.UNKNOWN)
        said.setdefault(key, []).append((word, reading))
    out: list[Signal] = []
    for token, uses in TOKENS[STANDARD].items():
        values = said.get(token)
        if not values:
            reading = Reading.UNKNOWN
            rule = f"no {token} signal: neither grants nor restricts ({_POLICY})"
        else:
            readings = [r for _w, r in values]
            reading = (Reading.NOT_ALLOWED if Reading.NOT_ALLOWED in readings else
                       Reading.ALLOWED if Reading.ALLOWED in readings else Reading.UNKNOWN)
            written = ", ".join(f"{token}={w}" for w, _r in values)
            meaning = {Reading.ALLOWED: "yes: may be collected for this use",
                       Reading.NOT_ALLOWED: "no: may not be collected for this use",
                       Reading.UNKNOWN: "neither yes nor no: unknown"}[reading]
            rule = f"{written} — {meaning} ({_POLICY})"
            if len(values) > 1:
                rule += "; the key appears more than once: any no wins"
        out += [Signal(STANDARD, SOURCE, use, reading, token=token, raw=pairs, rule=rule) for use in uses]
    return tuple(out)


def read_line(value: str) -> list[Signal]:
    """One ``Content-Signal`` value (with or without a path), one signal per use a token covers."""
    path, pairs = split_path_prefix(value.strip(" \t"))
    return [replace(s, raw=value, scope=path) for s in _read_pairs(pairs)]


@lru_cache(maxsize=16384)
def _combine(lines: tuple[Record, ...]) -> tuple[Signal, ...]:
    """The lines that apply, read and combined (cached: every path they decide shares the result)."""
    by_use: dict[Use, list[Signal]] = {}
    for record in lines:
        for s in read_line(record.value):
            where = f"line {record.line}" + (f", path {s.scope}" if s.scope else "")
            by_use.setdefault(s.use, []).append(replace(s, rule=f"{where}: {s.rule}"))
    order = (Reading.NOT_ALLOWED, Reading.ALLOWED, Reading.UNKNOWN)
    out = []
    for use, signals in by_use.items():
        deciding = min(signals, key=lambda s: order.index(s.reading))
        if len(signals) > 1:
            deciding = replace(deciding, rule=deciding.rule + f"; {len(signals)} lines apply equally: any no wins")
        out.append(deciding)
    return tuple(out)


def read_robots(robots_txt: str | None, agent: str, path: str, *, status: int | None = 200) -> list[Signal]:
    """The content signals robots.txt attaches to ``path`` for ``agent``: the lines of its group
    (else the file-wide lines), the longest path match. No lines, or no file: no signals."""
    if robots_txt is None or status is None or not 200 <= status < 300:
        return []
    parsed = parse(robots_txt)
    records = parsed.records_for(agent, "content-signal") or parsed.global_records_named("content-signal")
    if not records:
        return []
    best = longest_path_records(records, path_of(path))
    return list(_combine(tuple(best))) if best else []


def write_robots_rules(terms: Terms, path: str | None = None) -> list[str]:
    """The ``Content-Signal`` line stating ``terms`` (for ``path``, or every path), to be placed in
    the ``*`` group; no line when Content Signals can say nothing of the terms.

    ``no`` when the terms reserve any use a token covers (``ai-train`` covers both kinds of
    training), ``yes`` when they allow all of them, left out otherwise.
    """
    pairs = []
    for token, uses in TOKENS[STANDARD].items():
        reading = reading_for(uses, terms)
        if reading is not Reading.UNKNOWN:
            pairs.append(f"{token}={'yes' if reading is Reading.ALLOWED else 'no'}")
    if not pairs:
        return []
    if path is not None and not path.startswith("/"):
        raise InvalidInput(Problem(f"a Content-Signal path must start with '/', got {path!r}", field="path"),
                           hint="write the path part of the URL, e.g. /articles/")
    prefix = f"{normalize(path)} " if path is not None else ""
    return [f"Content-Signal: {prefix}{', '.join(pairs)}"]
