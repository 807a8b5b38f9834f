"""The decision for one item: ``allowed``, ``reserved``, ``licence-required``, ``licensed`` or ``unknown``.

For the use asked (default ``ai-train-generative``), in jurisdiction J, for purpose P,
commercial or not, by crawler user agent UA:

1. **Collect every signal.** The headers captured with the item (AIPREF ``Content-Usage``,
   TDMRep ``tdm-reservation``/``tdm-policy``, ``X-Robots-Tag`` noai, RSL ``Link``), the site's
   robots.txt for UA (the crawl rule, a :class:`~obra.aiuse.signals.robots.CrawlRule`; its AIPREF
   ``Content-Usage`` rule; ``Content-Signal``; its ``License`` lines and the RSL documents they
   name), tdmrep.json, a C2PA manifest captured with the item (CAWG), and the registry's terms:
   those of the registration the item matched (by exact hash, by ISCC near duplicate), else its
   parties' catalogue terms, and those of a registered web location the URL falls under.
2. **Each standard decides by its own rules** (:mod:`obra.aiuse.check.signals` calls the readers):
   AIPREF disallow-wins across header and robots.txt; TDMRep's precedence; RSL's narrower scope
   and most restrictive document; CAWG ``constrained`` as not allowed. One value per standard.
3. **Registry terms first** (the rightholder's own express statement in Obra): not allowed →
   a reservation, licence → a reservation that a licence lifts, allowed → an allowance. **Then
   web signals**: any reading *not allowed* is a reservation (which standard, raw value, date, in
   the evidence); RSL licence-required is a reservation a licence lifts; a crawl disallow is
   recorded as what it is (agent-named, ``*``, or a failing robots.txt) and counts as the law says.
4. **The law** (:func:`obra.law.tdm.rule_for`: the governing fact for P in J, and which signals
   count as a reservation there — data with citations and confidence, never code):

   * exception ``yes`` (Japan Art. 30-4; research under DSM Art. 3 or CDPA s.29A) → **allowed**
     even if reserved; every reservation is reported with the rule that overrides it;
   * ``yes_unless_reserved`` (DSM Art. 4 and its transpositions) → the registry's own terms
     decide when they speak (allowed → **allowed**; not allowed → **reserved**; licence →
     **licence-required**, where a registry statement counts as a reservation); otherwise a
     reservation that counts in J → **reserved**, or **licence-required** when every counting
     reservation is an offer to license (RSL licence-required, registry licence); none →
     **allowed** (reservations that do not count in J are reported as such);
   * ``fair_use_case_by_case`` (US, and others) → **unknown**, flagged "licence or fair-use
     review", unless the rightholder's registered terms allow it (**allowed**);
   * ``no`` (commercial TDM in the UK, and where no exception exists) → **licence-required**
     unless the rightholder's terms allow it — the registry's allowed, or a free RSL licence —
     (**allowed**), or **reserved** when the registry says not allowed;
   * ``unclear``, or no fact in force, or a use the TDM facts do not cover → **unknown**, unless
     the registry's terms answer (allowed → allowed, not allowed → reserved, licence →
     licence-required).

5. ``licensed`` is for items covered by a licence the developer holds (issue #15 will record
   them): :func:`licensed_items` is the hook, empty until then; a covered item is **licensed**.
6. An item whose row could not be read is **unknown**, saying why.

**Conflicts** — some signal allows and another reserves — are listed, with the rule that decided.
The decision depends only on these values, so it is computed once per distinct combination
(:class:`Key`) and joined back to the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from obra.aiuse.check.signals import ABSENT
from obra.law.tdm import TdmRule

__all__ = ["DECISIONS", "Key", "Decision", "decide", "licensed_items"]

DECISIONS = ("allowed", "reserved", "licence-required", "licensed", "unknown")
REVIEW_FLAG = "licence or fair-use review"


@dataclass(frozen=True)
class Key:
    """The values a decision depends on (one per standard, the registry's, the row's state)."""

    error: bool
    crawl: str
    aipref: str
    content_signals: str
    tdmrep: str
    rsl: str
    noai: str
    cawg: str
    registry: str
    """``allowed``, ``not-allowed``, ``licence`` or ``none``."""
    licensed: bool = False

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return ("error", "crawl", "aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg", "registry",
                "licensed")


@dataclass(frozen=True)
class Decision:
    decision: str
    rule: str
    reservations: tuple[dict, ...] = ()
    allowances: tuple[dict, ...] = ()
    conflicts: tuple[dict, ...] = ()
    flags: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"decision": self.decision, "rule": self.rule, "reservations": list(self.reservations),
                "allowances": list(self.allowances), "conflicts": list(self.conflicts), "flags": list(self.flags)}


def licensed_items(store: Any, principal: Any, items: Any) -> set[int]:
    """The items a licence the developer holds covers (issue #15): a set of item ids that also carries
    each item's licence as evidence (:class:`obra.aiuse.licensing.service.LicensedItems`; the check
    keeps those of the licences for its use and date with ``for_question``)."""
    from obra.aiuse.licensing.service import LicensedItems, LicensingService

    if store is None:
        return LicensedItems()
    return LicensingService(store).licensed_items(principal, items)


@dataclass(frozen=True)
class _Said:
    signal: str          # the name the law's reservation data uses
    kind: str            # reserved | licence | allowed
    value: str


def _statements(key: Key) -> list[_Said]:
    out: list[_Said] = []
    reg = {"not-allowed": "reserved", "licence": "licence", "allowed": "allowed"}.get(key.registry)
    if reg:
        out.append(_Said("registry", reg, key.registry))
    for name, value in (("tdmrep", key.tdmrep), ("aipref", key.aipref), ("content-signals", key.content_signals),
                        ("cawg", key.cawg), ("noai", key.noai)):
        if value == "not-allowed":
            out.append(_Said(name, "reserved", value))
        elif value == "allowed":
            out.append(_Said(name, "allowed", value))
    if key.rsl == "prohibited":
        out.append(_Said("rsl", "reserved", key.rsl))
    elif key.rsl == "licence-required":
        out.append(_Said("rsl", "licence", key.rsl))
    elif key.rsl == "licensed":
        out.append(_Said("rsl", "allowed", key.rsl))
    crawl = {"disallowed-agent": "robots-agent", "disallowed-all": "robots-all",
             "disallowed-status": "robots-status"}.get(key.crawl)
    if crawl:
        out.append(_Said(crawl, "reserved", key.crawl))
    return out


def _entry(said: _Said, rule: TdmRule) -> dict:
    found = rule.reservation(said.signal)
    entry = {"signal": said.signal, "reading": said.value, "kind": said.kind}
    if said.kind != "allowed":
        entry |= {"counts": bool(found and found.counts), "confidence": found.confidence if found else None,
                  "interpretation": found.interpretation if found else None,
                  "why": found.why if found else (rule.opt_out_note or "the law here gives no signal effect as a "
                                                                       "reservation"),
                  "citation": found.citation if found else None}
    return entry


def decide(key: Key, rule: TdmRule) -> Decision:
    """The decision for items with these values, under ``rule`` (see the module's rules)."""
    said = _statements(key)
    reserving = [s for s in said if s.kind != "allowed"]
    allowing = [s for s in said if s.kind == "allowed"]
    reservations = tuple(_entry(s, rule) for s in reserving)
    allowances = tuple(_entry(s, rule) for s in allowing)
    law = rule.exception
    cite = rule.exception_fact.citation if rule.exception_fact is not None else rule.exception_note

    def done(decision: str, why: str, flags: Iterable[str] = ()) -> Decision:
        conflicts: tuple[dict, ...] = ()
        if reserving and allowing:
            conflicts = ({"allowing": [s.signal for s in allowing], "reserving": [s.signal for s in reserving],
                          "decided_by": why},)
        return Decision(decision, why, reservations, allowances, conflicts, tuple(flags) + rule.notes)

    if key.licensed:
        return done("licensed", "a licence the developer holds covers the item")
    if key.error:
        return done("unknown", "the item's row could not be read, so no signal could be looked for")
    registry = key.registry
    if law == "yes":
        why = f"the exception applies whatever the reservations ({rule.key}: yes; {cite})"
        return done("allowed", why if reserving else f"{rule.key}: yes ({cite})")
    if law == "yes_unless_reserved":
        if registry == "allowed":
            return done("allowed", "the rightholder's own terms in the registry allow it; they decide over web "
                                   "signals")
        if registry in ("not-allowed", "licence") and rule.counts("registry"):
            return done("reserved" if registry == "not-allowed" else "licence-required",
                        "the rightholder's own terms in the registry reserve it"
                        + (" unless licensed" if registry == "licence" else "")
                        + f", which counts as a reservation in {rule.jurisdiction} ({cite})")
        counting = [s for s in reserving if s.signal != "registry" and rule.counts(s.signal)]
        hard = [s for s in counting if s.kind == "reserved"]
        if hard:
            names = ", ".join(sorted({s.signal for s in hard}))
            return done("reserved", f"reserved by {names}, a reservation that counts in {rule.jurisdiction}: "
                                    f"{rule.key} is yes unless reserved ({cite})")
        if counting:
            names = ", ".join(sorted({s.signal for s in counting}))
            return done("licence-required", f"{names} reserve(s) it unless licensed, which counts in "
                                            f"{rule.jurisdiction}: a licence is needed ({cite})")
        if reserving:
            names = ", ".join(sorted({s.signal for s in reserving}))
            return done("allowed", f"{names} do(es) not count as a reservation in {rule.jurisdiction} "
                                   f"({rule.opt_out or 'no opt-out fact'}); {rule.key} is yes unless reserved ({cite})")
        return done("allowed", f"no reservation: {rule.key} is yes unless reserved ({cite})")
    if registry == "allowed":
        return done("allowed", "the rightholder's own terms in the registry allow it")
    if law == "fair_use_case_by_case":
        return done("unknown", f"no statutory exception: {rule.key} is decided case by case under fair use or "
                               f"fair dealing ({cite}); reservations are facts for that review", (REVIEW_FLAG,))
    if law == "no":
        if registry == "not-allowed":
            return done("reserved", f"no exception applies ({rule.key}: no; {cite}) and the rightholder's terms "
                                    "do not allow it")
        if key.rsl == "licensed":
            return done("allowed", f"no exception applies ({rule.key}: no; {cite}), but a free RSL licence grants it")
        return done("licence-required", f"no exception applies ({rule.key}: no; {cite}): a licence is needed")
    if registry == "not-allowed":
        return done("reserved", f"the rightholder's terms in the registry do not allow it, and the law gives no "
                                f"answer ({cite})")
    if registry == "licence":
        return done("licence-required", f"the rightholder's terms in the registry require a licence, and the law "
                                        f"gives no answer ({cite})")
    if law == "unclear":
        return done("unknown", f"the law is unclear ({rule.key}: unclear; {cite})", ("legal review",))
    return done("unknown", f"no rule of law answers it: {rule.exception_note}", ("legal review",))


def key_of(row: dict) -> Key:
    """A :class:`Key` from a row of the engine's distinct keys."""
    return Key(bool(row["error"]), row["crawl"] or "not-captured", row["aipref"] or ABSENT,
               row["content_signals"] or ABSENT, row["tdmrep"] or ABSENT, row["rsl"] or ABSENT,
               row["noai"] or ABSENT, row["cawg"] or ABSENT, row["registry"] or "none", bool(row.get("licensed")))
