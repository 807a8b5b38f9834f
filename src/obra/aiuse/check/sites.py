"""Reading the site captures: what the crawler fetched of each origin, one JSON object per line.

Each line: ``origin`` (``https://example.org``), ``robots_txt`` (the body, when the fetch
answered 2xx), ``robots_status`` (the HTTP status of ``/robots.txt``; ``null`` when there was no
answer at all), ``tdmrep_json`` (the body of ``/.well-known/tdmrep.json``: text, or the JSON
array itself), ``rsl`` (RSL licence documents fetched for the site, by URL: ``{"https://…/license.xml":
"<rsl …>"}``) and ``fetched_at`` (ISO 8601). A site without ``robots_status`` and ``robots_txt``
had no robots.txt captured: its items get no robots.txt signals (which is reported), never an
assumption. ``robots_txt`` without ``robots_status`` was a 200.

Every site is parsed once (:class:`Site`: its robots.txt, tdmrep.json and RSL documents, with the
signal modules' own parsers) and asked, for the crawler's user agent, which path patterns its
documents contain (:meth:`Site.patterns`): the items of a site that match the same patterns get
the same readings, so each such class of paths is read once (:mod:`obra.aiuse.check.signals`).

Broken lines are reported by line and field; a line without a usable origin is skipped (its
items are then checked without site captures, which the items' reasons say).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from obra.aiuse.signals import rsl as rsl_mod
from obra.aiuse.signals import tdmrep
from obra.aiuse.signals.paths import normalize_pattern, path_of
from obra.aiuse.signals.robots import RobotsTxt
from obra.aiuse.signals.robots import parse as parse_robots
from obra.errors import InvalidInput, Problem

__all__ = ["Site", "Sites", "read_sites", "sites_from_records", "normalise_origin", "like_pattern"]

_ORIGIN = re.compile(r"(?i)(https?)://([^/?#\s@]+@)?([^/?#\s]+)/?")
_AMBIGUOUS = re.compile(r"%(?![0-9A-Fa-f]{2})|\$.")   # patterns protego may read otherwise than RFC 9309
MAX_PROBLEMS = 10_000


def normalise_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case, the default port dropped; None when not an origin."""
    found = _ORIGIN.fullmatch(value.strip()) if isinstance(value, str) else None
    if not found:
        return None
    scheme, host = found.group(1).lower(), found.group(3).lower()
    if (scheme, host.rsplit(":", 1)[-1]) in (("https", "443"), ("http", "80")) and ":" in host:
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}"


@lru_cache(maxsize=65536)
def like_pattern(pattern: str) -> tuple[str, int]:
    """An RFC 9309 path pattern as a SQL ``LIKE`` pattern over paths escaped with :func:`like_escape`,
    and the pattern's match length (its normalised length in octets, as :mod:`paths` counts it)."""
    norm = normalize_pattern(pattern)
    anchored = norm.endswith("$")
    body = norm[:-1] if anchored else norm
    like = "%".join(like_escape(part) for part in body.split("*"))
    return (like if anchored else like + "%"), len(norm)


def like_escape(text: str) -> str:
    """``%``, ``_`` and ``\\`` (LIKE's special characters) replaced by control characters, which no
    normalised path contains (RFC 9309 normalisation percent-encodes them); paths get the same."""
    return text.replace("\\", "\x03").replace("%", "\x01").replace("_", "\x02")


@dataclass
class Site:
    """One origin's captures, parsed once."""

    origin: str
    line: int
    robots_captured: bool
    robots_txt: str | None
    robots_status: int | None
    tdmrep_json: str | None
    rsl: dict[str, str]
    fetched_at: datetime | None
    problems: list[Problem] = field(default_factory=list)

    @cached_property
    def robots(self) -> RobotsTxt | None:
        """The parsed robots.txt, when one was fetched with a 2xx answer."""
        if not self.robots_captured or self.robots_status is None or not 200 <= self.robots_status < 300:
            return None
        # The readers' own cache's object (robots.parse): they then share one parse and its answers.
        return parse_robots(self.robots_txt or "")

    @cached_property
    def tdm_file(self) -> tdmrep.TdmFile | None:
        """The parsed tdmrep.json (None when none was captured)."""
        if self.tdmrep_json is None:
            return None
        return tdmrep.parse_tdmrep_json(self.tdmrep_json, source=f"{self.origin}{tdmrep.WELL_KNOWN}")

    @cached_property
    def documents(self) -> dict[str, rsl_mod.RslDocument]:
        """The captured RSL documents, parsed, by URL."""
        return {url: rsl_mod.parse_rsl(xml, source=url) for url, xml in self.rsl.items()}

    def licence_links(self, agent: str) -> tuple[tuple[rsl_mod.LicenseLink, ...], tuple[Problem, ...]]:
        """The robots.txt ``License:`` lines that apply to ``agent`` (RSL discovery; read once per agent)."""
        if self.robots is None:
            return (), ()
        cache = self.__dict__.setdefault("_licence_links", {})
        if agent not in cache:
            cache[agent] = _robots_licences(self.robots_txt, agent)
        return cache[agent]

    def robots_patterns(self, agent: str) -> tuple[tuple[str, ...], bool]:
        """The path patterns of robots.txt that can decide something for ``agent`` (the first part of
        :meth:`patterns`), and whether one of them is ambiguous; the same for every site serving the
        same robots.txt."""
        return _robots_patterns(self.robots, agent)

    def patterns(self, agent: str) -> tuple[list[str], bool]:
        """Every path pattern of this site's documents that can decide something for ``agent``:
        robots.txt Allow/Disallow, Content-Usage and Content-Signal paths of the groups that apply,
        tdmrep.json locations, and the ``url`` of every ``<content>`` of the RSL documents its
        robots.txt names. Also whether the robots.txt holds a pattern protego may read otherwise
        than RFC 9309 (then each path is its own class: the check stays exact)."""
        found, ambiguous = self.robots_patterns(agent)
        found = list(found)
        tdm = self.tdm_file
        if tdm is not None and tdm.implemented:
            found += [rule.location for rule in tdm.rules]
        links, _problems = self.licence_links(agent)
        for link in links:
            document = self.documents.get(link.url)
            if document is None:
                continue
            for content in document.contents:
                url = content.url
                if not url:
                    continue
                if "://" in url:
                    parts = urlsplit(url)
                    if normalise_origin(f"{parts.scheme}://{parts.netloc}") != self.origin:
                        continue
                    url = path_of(url)
                found.append(url)
        return list(dict.fromkeys(found)), ambiguous


@lru_cache(maxsize=256)   # as many files as robots.parse keeps parsed (a robots.txt may be 500 KiB)
def _robots_licences(robots_txt: str | None, agent: str) -> tuple[tuple[rsl_mod.LicenseLink, ...], tuple[Problem, ...]]:
    """RSL's ``License:`` lines of a robots.txt for ``agent``: once for every site serving that file."""
    return rsl_mod.robots_licenses(robots_txt, agent)


@lru_cache(maxsize=256)
def _robots_patterns(robots: RobotsTxt | None, agent: str) -> tuple[tuple[str, ...], bool]:
    found: list[str] = ["/robots.txt$"]
    ambiguous = False
    if robots is not None:
        # Every path-like value of the groups that apply (over-including is harmless: a finer
        # class of paths), and the path of every Content-Usage / Content-Signal line.
        records = [r for g in robots.groups_for(agent) for r in g.records]
        records += list(robots.global_records_named("content-signal"))
        for record in records:
            value = record.value.strip(" \t")
            if record.field in ("content-usage", "content-signal"):
                value = re.split(r"[ \t]", value, maxsplit=1)[0] if value.startswith("/") else ""
            if value.startswith(("/", "*")):
                found.append(value)
                ambiguous = ambiguous or bool(_AMBIGUOUS.search(value))
    return tuple(dict.fromkeys(found)), ambiguous


@dataclass
class Sites:
    """Every site of a capture file, by origin."""

    by_origin: dict[str, Site]
    problems: list[Problem]
    problem_count: int
    source: str
    sha256: str
    size: int

    def get(self, origin: str | None) -> Site | None:
        return self.by_origin.get(origin) if origin else None

    def document(self, url: str) -> rsl_mod.RslDocument | None:
        """An RSL document captured for any site, by URL (``Link`` headers may name another origin's)."""
        index = self.__dict__.get("_documents")
        if index is None:
            index = {u: site for site in self.by_origin.values() for u in site.rsl}
            self.__dict__["_documents"] = index
        site = index.get(url)
        return site.documents[url] if site is not None else None


def read_sites(path: str | Path | None) -> Sites:
    """Read a site-capture file (JSON Lines); None gives no sites."""
    if path is None:
        return Sites({}, [], 0, "", "", 0)
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(Problem("no such site-capture file", source=str(path)),
                           hint="give the path of a .jsonl file with one line per origin")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Problem(f"not UTF-8 (byte {exc.start})", source=path.name),
                           hint="save the file as UTF-8") from None
    records: list[tuple[int, object]] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            records.append((number, json.loads(line)))
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(f"not valid JSON ({exc}); the line is skipped", line=number, source=path.name))
    sites = sites_from_records(records, source=path.name)
    sites.problems = problems + sites.problems
    sites.problem_count += len(problems)
    sites.sha256 = hashlib.sha256(data).hexdigest()
    sites.size = len(data)
    return sites


def sites_from_records(records: list[tuple[int, object]], *, source: str = "sites") -> Sites:
    """Sites from parsed JSON objects with their line numbers (what :func:`read_sites` reads)."""
    by_origin: dict[str, Site] = {}
    problems: list[Problem] = []

    def bad(message: str, line: int, name: str | None = None) -> None:
        problems.append(Problem(message, field=name, line=line, source=source))

    for line, obj in records:
        if not isinstance(obj, dict):
            bad("a site line must be a JSON object; skipped", line)
            continue
        origin = normalise_origin(obj.get("origin")) if isinstance(obj.get("origin"), str) else None
        if origin is None:
            bad("origin must be scheme://host, e.g. https://example.org; the line is skipped", line, "origin")
            continue
        if origin in by_origin:
            bad(f"{origin} was already given at line {by_origin[origin].line}; this line is skipped", line, "origin")
            continue
        site_problems: list[Problem] = []

        def note(message: str, name: str) -> None:
            site_problems.append(Problem(message, field=name, line=line, source=source))

        captured = "robots_status" in obj or "robots_txt" in obj
        status = obj.get("robots_status", 200 if "robots_txt" in obj else None)
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
            note(f"robots_status {status!r} is not an HTTP status (100-599) or null; robots.txt read as not captured",
                 "robots_status")
            captured, status = False, None
        robots_txt = obj.get("robots_txt")
        if robots_txt is not None and not isinstance(robots_txt, str):
            note("robots_txt must be the file's text; read as empty", "robots_txt")
            robots_txt = ""
        tdm = obj.get("tdmrep_json")
        if tdm is not None and not isinstance(tdm, str):
            tdm = json.dumps(tdm)
        rsl = obj.get("rsl") or {}
        if not isinstance(rsl, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in rsl.items()):
            note("rsl must map each licence URL to the document's text; ignored", "rsl")
            rsl = {}
        fetched = None
        raw_time = obj.get("fetched_at")
        if raw_time is not None:
            try:
                fetched = datetime.fromisoformat(str(raw_time).replace("Z", "+00:00"))
                fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=timezone.utc)
            except ValueError:
                note(f"fetched_at {raw_time!r} is not an ISO 8601 date and time; read as absent", "fetched_at")
        by_origin[origin] = Site(origin, line, captured, robots_txt, status, tdm, dict(rsl), fetched, site_problems)
        problems += site_problems
    return Sites(by_origin, problems[:MAX_PROBLEMS], len(problems), source, "", 0)
