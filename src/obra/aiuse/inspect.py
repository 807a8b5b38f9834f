"""What every AI-use signal says about one URL: each standard read by its own reader, side by side.

The question a rightholder asks ("does my site say what I meant?") and an AI developer asks
("what does this page say?") before any training check. The inputs are what a crawler captured
for the URL: its response headers, its site's robots.txt (and the fetch status), tdmrep.json, RSL
documents, the page's HTML and the file itself (EPUB/PDF metadata, C2PA manifest). Nothing is
fetched; nothing is combined across standards — each standard's answer stands as its own
specification reads it, and the table per use shows where they disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from obra.aiuse.signals import aipref, cawg, content_signals, noai, robots, rsl, tdmrep
from obra.aiuse.signals.paths import path_of
from obra.aiuse.vocabulary import ALL_USES, Signal
from obra.errors import InvalidInput, Problem

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"


def _header_values(headers: Mapping[str, str] | Sequence[tuple[str, str]] | None, name: str) -> list[str]:
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    return [str(v) for k, v in items if str(k).strip().lower() == name]


def parse_header_lines(lines: Sequence[str]) -> list[tuple[str, str]]:
    """``Name: value`` lines (as copied from a browser or ``curl -I``) into (name, value) pairs."""
    out = []
    for i, line in enumerate(lines, 1):
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(c in name for c in " \t"):
            raise InvalidInput(Problem(f"'{line[:80]}' is not a header line 'Name: value'", field=f"header.{i}"))
        out.append((name.strip(), value.strip()))
    return out


def inspect(url: str, *, headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
            robots_txt: str | None = None, robots_status: int | None = None, tdmrep_json: str | None = None,
            rsl_documents: Sequence[str | bytes] = (), html: str | None = None, media: bytes | None = None,
            media_type: str | None = None, user_agent: str = "*", user_type: str | None = None,
            country: str | None = None) -> dict[str, Any]:
    """Every standard's reading of ``url`` for every use, with the crawl rule and the raw parts."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(Problem("the URL must be an absolute http(s) URL", field="url"))
    agent = robots.product_token(user_agent) or "*"
    path = path_of(url)
    status = robots_status if robots_status is not None else (200 if robots_txt is not None else None)
    signals: dict[str, list[Signal]] = {}

    crawl = robots.crawl_rule(robots_txt, agent, path, status=status) if status is not None else None
    usage = _header_values(headers, "content-usage")
    signals["aipref"] = aipref.read(header=usage or None, robots_txt=robots_txt, agent=agent, path=path,
                                    status=status)
    signals["content-signals"] = content_signals.read_robots(robots_txt, agent, path, status=status)
    signals["noai"] = (noai.read_x_robots_tag(_header_values(headers, "x-robots-tag") or None, agent)
                       + noai.read_meta(html, agent))

    steps = [tdmrep.match_tdmrep(tdmrep.parse_tdmrep_json(tdmrep_json), url) if tdmrep_json is not None else None,
             tdmrep.read_headers([(k, v) for k in ("tdm-reservation", "tdm-policy")
                                  for v in _header_values(headers, k)] or None),
             tdmrep.read_html(html) if html else None]
    if media is not None and media.startswith(PDF_MAGIC):
        steps.append(tdmrep.read_pdf(media))
    elif media is not None and media.startswith(ZIP_MAGIC):
        steps.append(tdmrep.read_epub(media))
    tdm = tdmrep.resolve(*steps, url=url)
    signals["tdmrep"] = tdm.signals()

    documents = [rsl.parse_rsl(d) for d in rsl_documents]
    evaluations = {use.value: rsl.evaluate(documents, url, use, user=user_type, country=country)
                   for use in ALL_USES} if documents else {}
    signals["rsl"] = [e.signal() for e in evaluations.values()]

    c2pa = None
    if media is not None and not media.startswith((PDF_MAGIC, ZIP_MAGIC)):
        c2pa = cawg.read_media(media, media_type)
        signals["cawg"] = list(c2pa.signals)

    table = {use.value: {standard: _reading(found, use) for standard, found in signals.items()} for use in ALL_USES}
    return {"url": url, "user_agent": agent, "crawl": crawl.to_json() if crawl else None, "uses": table,
            "signals": {standard: [s.to_json() for s in found] for standard, found in signals.items()},
            "tdmrep": {"reservation": tdm.reservation, "policy": tdm.policy, "rule": tdm.rule()},
            "rsl": {use: e.to_json() for use, e in evaluations.items()},
            "rsl_documents": [{"conformant": d.conformant, "contents": len(d.contents),
                               "problems": [str(p) for p in d.problems], "notes": [str(n) for n in d.notes]}
                              for d in documents],
            "cawg": c2pa.to_json() if c2pa is not None else None}


def _reading(found: list[Signal], use) -> str | None:
    """The standard's reading of ``use`` (most restrictive of its signals for it), or None if silent."""
    readings = {s.reading.value for s in found if s.use is use}
    for value in ("not-allowed", "allowed", "unknown"):
        if value in readings:
            return value
    return None
