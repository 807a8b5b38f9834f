"""Every signal an item carries, read once per distinct value by the standard's own reader.

A million items share far fewer distinct signal values: a site's robots.txt answers the same for
every path that matches the same rules, a ``Content-Usage`` header repeats across a crawl. So
nothing here runs per item. The engine groups items into classes and this module reads each
class once, with the readers in :mod:`obra.aiuse.signals` (never re-implemented here):

* a **site class** — an origin and the set of its documents' path patterns a path matches
  (:meth:`obra.aiuse.check.sites.Site.patterns`; every path of a class gets the same answer from
  every reader, since readers depend on a path only through which patterns match it) — is read
  at one representative path: robots.txt for the crawler (:func:`robots.crawl_rule`, a
  :class:`~obra.aiuse.signals.robots.CrawlRule`, never a usage reading), the AIPREF
  ``Content-Usage`` rule (:func:`aipref.read_robots`), Content Signals
  (:func:`content_signals.read_robots`), the tdmrep.json declaration (:func:`tdmrep.match_tdmrep`)
  and the RSL documents the robots.txt ``License`` lines name;
* a **header class** — the distinct signal-bearing header fields (``hsig``) — is read with
  :func:`aipref.read_header`, :func:`tdmrep.read_headers`, :func:`noai.read_x_robots_tag` and
  :func:`rsl.link_header_licenses`;
* where a standard combines two sources, each distinct *pair* is combined by the standard's own
  rule: AIPREF header and robots.txt rule (:func:`aipref.combine`, any disallow wins), TDMRep
  file and headers (:func:`tdmrep.resolve`, the more embedded source wins), RSL documents from
  robots.txt and ``Link`` headers (:func:`rsl.evaluate`, the most restrictive wins);
* a C2PA manifest store captured with the item: :func:`cawg.read_manifest_store`.

Each part gives a :class:`Part`: the value the decision uses (a :class:`~obra.aiuse.vocabulary.Reading`
value, an RSL outcome, or the crawl state) and the evidence (each signal's standard, source, raw
value, how it was read, and the date it was captured: the site's ``fetched_at``, or
``"item.crawled_at"`` for what came with the item).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from obra.aiuse.check.manifest import HeaderBundle
from obra.aiuse.check.sites import Site, Sites
from obra.aiuse.signals import aipref, cawg, content_signals, noai, robots, tdmrep
from obra.aiuse.signals import rsl as rsl_mod
from obra.aiuse.vocabulary import Reading, Signal, Use

__all__ = ["Part", "Reader", "CRAWL_STATES", "ABSENT"]

ABSENT = "absent"
"""No statement of this standard reached the item (distinct from a statement read as unknown)."""
CRAWL_STATES = ("crawl-allowed", "disallowed-agent", "disallowed-all", "disallowed-status", "not-captured")
ITEM_DATE = "item.crawled_at"


@dataclass(frozen=True)
class Part:
    """One standard's answer for one class of items: the value the decision reads, the evidence."""

    standard: str
    value: str
    evidence: tuple[dict, ...] = ()

    def to_json(self) -> dict:
        return {"standard": self.standard, "value": self.value, "evidence": list(self.evidence)}


def _date(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _signal_json(signal: Signal, date: str | None) -> dict:
    out = signal.to_json()
    out["date"] = date
    return out


def _reading_of(signals: list[Signal]) -> str:
    if not signals:
        return ABSENT
    order = (Reading.NOT_ALLOWED, Reading.ALLOWED, Reading.UNKNOWN)
    return min((s.reading for s in signals), key=order.index).value


class Reader:
    """Reads the classes of one check: one use, one crawler user agent, one requester (RSL user type
    and country). Results are memoised by value, so equal inputs are read once."""

    def __init__(self, sites: Sites, bundles: dict[str, HeaderBundle], *, use: Use, agent: str,
                 user: str | None, country: str | None):
        self.sites, self.bundles = sites, bundles
        self.use, self.agent, self.user, self.country = use, agent, user, country
        self._cawg: dict[str, Part] = {}
        self._aipref: dict[tuple, Part] = {}
        self._tdm: dict[tuple, Part] = {}
        self._rsl: dict[tuple, Part] = {}
        self._links: dict[tuple[str, ...], tuple] = {}
        self._dates: dict[str, str | None] = {}
        self._robots_answers: dict[tuple, tuple] = {}
        self._fields: dict[tuple, Any] = {}
        self._cs_parts: dict[tuple, Part] = {}
        self._crawl_parts: dict[tuple, Part] = {}
        self._rsl_docs: dict[str, tuple] = {}

    # --- site classes --------------------------------------------------------------------------

    def site_class(self, origin: str | None, path: str, robots_key: int | None = None) -> dict[str, Any]:
        """Everything the site says about ``path`` (any path of its class): the crawl rule, the
        Content Signals part, and the keys of the AIPREF rule, tdmrep.json step and RSL documents
        (combined with the item's headers later).

        ``robots_key``: which of the site's robots.txt patterns (:meth:`Site.robots_patterns`, as
        bits) ``path`` matches. Sites serving the same robots.txt answer the same for paths that
        match the same of its patterns, so robots.txt is then read once for all of them (each
        site's answer still names its own robots.txt and capture date)."""
        site = self.sites.get(origin)
        if site is None:
            why = "no capture of this site was given" if origin else "the item has no URL"
            crawl = Part("robots.txt", "not-captured", ({"standard": "robots.txt", "rule": why},))
            return {"crawl": crawl, "content_signals": Part("content-signals", ABSENT), "aipref_robots": (),
                    "tdm_file": None, "rsl_docs": (), "date": None, "origin": origin}
        date = self._dates.get(site.origin, ABSENT)
        if date is ABSENT:
            date = self._dates[site.origin] = _date(site.fetched_at)
        if robots_key is not None and site.robots is not None:
            key = (site.robots, site.robots_status, robots_key)
            answers = self._robots_answers.get(key)
            if answers is None:
                answers = self._robots_answers[key] = self._robots_read(site, path)
            rule, found, aipref_robots = answers
            signals = self._cs_parts.get((key, date))   # its evidence names no site, only the date
            if signals is None:
                signals = self._cs_parts[(key, date)] = self._content_signals(found, date)
            crawl = self._crawl_parts.get((site.origin, key))   # the site's classes that differ elsewhere
            if crawl is None:
                crawl = self._crawl_parts[(site.origin, key)] = self._crawl(site, rule, date)
        else:
            rule, found, aipref_robots = self._robots_read(site, path)
            signals = self._content_signals(found, date) if site.robots is not None else \
                Part("content-signals", ABSENT)
            crawl = self._crawl(site, rule, date)
        return {"crawl": crawl, "content_signals": signals,
                "aipref_robots": aipref_robots, "tdm_file": self._tdm_file(site, path),
                "rsl_docs": self._rsl_robots(site), "date": date, "origin": site.origin}

    def _robots_read(self, site: Site, path: str) -> tuple[robots.CrawlRule | None, list[Signal], tuple[Signal, ...]]:
        """What robots.txt says of ``path`` for the crawler: its crawl rule, Content Signals and
        AIPREF ``Content-Usage`` rule (no site-specific evidence yet)."""
        if not site.robots_captured:
            return None, [], ()
        if site.robots is not None:
            rule = site.robots.crawl_rule(self.agent, path)
            rule = robots.CrawlRule(rule.agent, rule.path, rule.allowed, rule.rule, rule.group, rule.line,
                                    site.robots_status)
        else:
            rule = robots.crawl_rule(None, self.agent, path, status=site.robots_status)
        if site.robots is None:
            return rule, [], ()
        found = [s for s in content_signals.read_robots(site.robots_txt, self.agent, path,
                                                         status=site.robots_status) if s.use is self.use]
        usage = tuple(s for s in aipref.read_robots(site.robots_txt, self.agent, path, status=site.robots_status)
                      if s.use is self.use)
        return rule, found, usage

    def _crawl(self, site: Site, rule: robots.CrawlRule | None, date: str | None) -> Part:
        if rule is None:
            return Part("robots.txt", "not-captured", ({"standard": "robots.txt", "source": f"{site.origin}/robots.txt",
                                                         "rule": "robots.txt was not captured for this site",
                                                         "date": date},))
        if rule.allowed:
            state = "crawl-allowed"
        elif site.robots_status is None or not 200 <= site.robots_status < 300:
            state = "disallowed-status"
        else:
            state = "disallowed-all" if rule.group in (None, "*") else "disallowed-agent"
        evidence = rule.to_json() | {"source": f"{site.origin}/robots.txt", "state": state, "date": date}
        evidence.pop("path", None)
        return Part("robots.txt", state, (evidence,))

    @staticmethod
    def _content_signals(found: list[Signal], date: str | None) -> Part:
        return Part("content-signals", _reading_of(found), tuple(_signal_json(s, date) for s in found))

    def _tdm_file(self, site: Site, path: str) -> tdmrep.TdmStep | None:
        file = site.tdm_file
        return None if file is None else tdmrep.match_tdmrep(file, path)

    def _rsl_robots(self, site: Site) -> tuple[tuple[str, str], ...]:
        """(url, how found) of the RSL documents the site's robots.txt names for the crawler (once per site)."""
        found = self._rsl_docs.get(site.origin)
        if found is None:
            links, _problems = site.licence_links(self.agent)
            found = self._rsl_docs[site.origin] = tuple((link.url, link.via) for link in links)
        return found

    # --- header classes ------------------------------------------------------------------------

    def header_class(self, hsig: str | None) -> dict[str, Any]:
        """What an item's signal-bearing headers say: AIPREF header signals, the TDMRep header step,
        the noai part and the RSL documents its ``Link`` headers name."""
        bundle = self.bundles.get(hsig) if hsig else None
        if bundle is None:
            return {"aipref_header": (), "tdm_header": None, "noai": Part("noai", ABSENT), "rsl_links": (),
                    "problems": ()}
        # Bundles differ in some field and repeat the others: each field's distinct value read once.
        memo = self._fields
        usage = bundle.get("content-usage")
        header = memo.get(("content-usage", usage))
        if header is None:
            header = memo[("content-usage", usage)] = tuple(
                s for s in aipref.read_header(list(usage)) if s.use is self.use) if usage else ()
        tdm_key = ("tdm", bundle.get("tdm-reservation"), bundle.get("tdm-policy"))
        step = memo.get(tdm_key, ABSENT)
        if step is ABSENT:
            tdm_fields = {k: list(v) for k, v in bundle.fields.items() if k in ("tdm-reservation", "tdm-policy")}
            step = memo[tdm_key] = tdmrep.read_headers(tdm_fields) if tdm_fields else None
        tags = bundle.get("x-robots-tag")
        noai_part = memo.get(("x-robots-tag", tags))
        if noai_part is None:
            found = [s for s in noai.read_x_robots_tag(list(tags), self.agent) if s.use is self.use] if tags else []
            noai_part = memo[("x-robots-tag", tags)] = Part("noai", Reading.NOT_ALLOWED.value if found else ABSENT,
                                                            tuple(_signal_json(s, ITEM_DATE) for s in found))
        link = bundle.get("link")
        links = self.licence_links(link) if link else ()
        return {"aipref_header": header, "tdm_header": step, "noai": noai_part,
                "rsl_links": tuple((l.url, l.via) for l in links), "problems": bundle.problems}

    def licence_links(self, values: tuple[str, ...]) -> tuple:
        """The RSL licence links of ``Link`` field values (each distinct set of values parsed once)."""
        found = self._links.get(values)
        if found is None:
            found = self._links[values] = tuple(rsl_mod.link_header_licenses(list(values))[0])
        return found

    # --- pairs ---------------------------------------------------------------------------------

    def aipref(self, robots_signals: tuple[Signal, ...], header_signals: tuple[Signal, ...],
               site_date: str | None) -> Part:
        """The item's AIPREF statements, header and robots.txt rule combined by AIPREF's rule."""
        key = (robots_signals, header_signals, site_date)
        found = self._aipref.get(key)
        if found is None:
            statements = [list(header_signals), list(robots_signals)]
            combined = aipref.combine(*[s for s in statements if s]) if any(statements) else []
            evidence = [_signal_json(s, ITEM_DATE) for s in header_signals] + \
                       [_signal_json(s, site_date) for s in robots_signals]
            if len(combined) == 1 and header_signals and robots_signals:
                evidence.append({"standard": "aipref", "combined": combined[0].reading.value,
                                 "rule": combined[0].rule})
            found = Part("aipref", _reading_of(combined), tuple(evidence))
            self._aipref[key] = found
        return found

    def tdm(self, file_step: tdmrep.TdmStep | None, header_step: tdmrep.TdmStep | None, origin: str | None,
            site_date: str | None) -> Part:
        """TDMRep for the item: tdmrep.json then headers, by the report's precedence."""
        key = (file_step, header_step, site_date)
        found = self._tdm.get(key)
        if found is None:
            steps = [s for s in (file_step, header_step) if s is not None]
            if not steps or not any(s.declared or s.problems for s in steps):
                found = Part("tdmrep", ABSENT, tuple({"standard": "tdmrep", "source": s.source, "rule": s.rule}
                                                     for s in steps))
            else:
                result = tdmrep.resolve(*steps)
                signals = [s for s in result.signals() if s.use is self.use]
                date = ITEM_DATE if result.reservation_from is header_step and header_step is not None else site_date
                value = _reading_of(signals) if signals else ABSENT
                evidence = tuple(_signal_json(s, date) for s in signals) or (
                    {"standard": "tdmrep", "rule": f"{result.rule()} — TDMRep does not speak to {self.use.value}"},)
                found = Part("tdmrep", value, evidence)
            self._tdm[key] = found
        return found

    def rsl(self, robots_docs: tuple[tuple[str, str], ...], header_links: tuple[tuple[str, str], ...],
            url: str, site_date: str | None) -> Part:
        """RSL for the item: the documents robots.txt and its Link headers name, evaluated together
        (:func:`rsl.evaluate`: narrower scope wins, most restrictive across documents; none → unlicensed)."""
        if not robots_docs and not header_links:
            return Part("rsl", ABSENT)
        key = (robots_docs, header_links, url, site_date)
        found = self._rsl.get(key)
        if found is None:
            docs: list[rsl_mod.RslDocument] = []
            missing: list[str] = []
            for doc_url, _via in dict.fromkeys(robots_docs + header_links):
                document = self.sites.document(doc_url)
                if document is None:
                    missing.append(doc_url)
                else:
                    docs.append(document)
            result = rsl_mod.evaluate(docs, url, self.use, user=self.user, country=self.country)
            evidence = result.signal().to_json() | {
                "outcome": result.outcome.value, "token_required": result.token_required,
                "documents": [{"url": u, "via": v} for u, v in dict.fromkeys(robots_docs + header_links)],
                "problems": [str(p) for p in result.problems][:10], "date": site_date}
            if missing:
                evidence["not_captured"] = missing
            found = Part("rsl", result.outcome.value, (evidence,))
            self._rsl[key] = found
        return found

    def cawg(self, store: str | None) -> Part:
        """CAWG training-and-data-mining in the C2PA manifest store captured with the item."""
        if not store:
            return Part("cawg", ABSENT)
        found = self._cawg.get(store)
        if found is None:
            result = cawg.read_manifest_store(store, source="c2pa (captured with the item)")
            signals = [s for s in result.signals if s.use is self.use]
            evidence = tuple(_signal_json(s, ITEM_DATE) for s in signals) or (
                {"standard": "cawg", "status": result.status, "rule": "no training-mining assertion speaks to "
                 f"{self.use.value}", "problems": [str(p) for p in result.problems]},)
            found = Part("cawg", _reading_of(signals), evidence)
            self._cawg[store] = found
        return found


def dumps(value: Any) -> str:
    """Compact JSON for evidence columns."""
    return json.dumps(value, separators=(",", ":"), default=str)   # ASCII escapes: the encoder's fast path
