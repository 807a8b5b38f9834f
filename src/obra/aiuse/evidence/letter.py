"""The evidence letter: what the bundle proves, written for the developer's legal team, in four languages.

The letter is a reading of the signed bundle (:mod:`.bundle`), never a second source: every
figure, date and citation in it comes from the bundle, and it names the bundle's hash and how to
verify it. Citations, URLs, titles and names are data and stay as written; the words around them
come from the ``law`` catalogue (``templates/law/evidence_letter.html``). Where a legal basis rests
on a low-confidence fact of the law data, the letter says so beside it.
"""

from __future__ import annotations

import re

from obra.aiuse.evidence.bundle import bundle_hash
from obra.render import pdf, render
from obra.render.locales import require_supported

__all__ = ["LETTER_ITEMS", "letter_view", "letter_html", "letter_pdf"]

LETTER_ITEMS = 25
"""Matched items listed in the letter itself (the bundle holds them all)."""

_ISO = re.compile(r"[A-Z]{2}")


def letter_view(bundle: dict) -> dict:
    """What the letter template shows, every field present (the template is strict)."""
    proofs = {r["journal_event"]: r.get("journal_proof", {}) for r in bundle["reservations"]}
    reservations = []
    for r in bundle["reservations"]:
        proof = proofs.get(r["journal_event"]) or {}
        reservations.append({
            "subject_kind": r["subject_kind"], "subject": r["subject"], "version": r["version"],
            "permission": r["permission"], "set_at": r["set_at"], "journal_event": r["journal_event"],
            "log_index": (proof.get("event") or {}).get("log_index"),
            "tree_size": (proof.get("tree_head") or {}).get("tree_size"),
            "logged_at": (proof.get("event") or {}).get("at"), "crawls": len(r["crawls"]),
            "price": (r.get("term") or {}).get("price")})
    items = []
    for item in bundle["items"][:LETTER_ITEMS]:
        best = item["matches"][0] if item["matches"] else {}
        items.append({"line": item["line"], "url": item["url"] or "", "crawled_at": item["crawled_at"],
                      "how": best.get("how", ""), "distance": best.get("distance")})
    basis = []
    for b in bundle["legal_basis"]:
        rule = b["rule"]
        fact = rule.get("exception_fact") or {}
        opt = rule.get("opt_out_fact") or {}
        outcome = max(b["decisions"], key=lambda d: (b["decisions"][d], d)) if any(b["decisions"].values()) else ""
        basis.append({
            "code": b["jurisdiction"], "iso": bool(_ISO.fullmatch(b["jurisdiction"])), "name": b["name"],
            "roles": b["roles"], "outcome": outcome, "decisions": {k: v for k, v in b["decisions"].items() if v},
            "exception": rule.get("exception") or "", "citation": fact.get("citation") or "",
            "source_url": fact.get("source_url") or "", "opt_out": rule.get("opt_out") or "",
            "opt_out_citation": opt.get("citation") or "", "confidence": b["confidence"],
            "low": any(f.get("low_confidence") for f in b["facts"]),
            "ai_act": b.get("ai_act_obligations") is True})
    check = bundle["check"]
    return {
        "office": bundle["office"], "issued_at": bundle["issued_at"], "against": bundle["against"]["name"],
        "work": bundle["work"], "requested_by": bundle["requested_by"]["principal"],
        "matched": items, "items_total": bundle["items_total"], "items_more": max(0, bundle["items_total"] - len(items)),
        "reservations": reservations, "licence": bundle["licence"]["status"],
        "licensed_items": bundle["licence"]["licensed_items"], "basis": basis,
        "check": {"issued_at": check["receipt"].get("issued_at"), "receipt_sha256": check["receipt_sha256"],
                  "journal_event": check["journal_event"], "jurisdiction": check["question"]["jurisdiction"],
                  "use": check["question"]["use"], "purpose": check["question"]["purpose"],
                  "manifest_sha256": (check["receipt"].get("manifest") or {}).get("sha256", "")},
        "bundle_sha256": bundle_hash(bundle), "law_version": bundle["law"]["law_version"],
        "uncertain": bool(bundle["reliance"]),
    }


def letter_html(bundle: dict, locale: str = "en") -> str:
    """The letter as a self-contained HTML page in ``locale`` (en, es, fr, pt)."""
    return render("law/evidence_letter.html", {"e": letter_view(bundle)}, locale)


def letter_pdf(bundle: dict, locale: str = "en") -> bytes:
    """The letter as PDF; the same bundle and locale always give the same bytes."""
    language = require_supported(locale)
    return pdf(letter_html(bundle, language), identifier=(bundle_hash(bundle)[:28] + language).encode("ascii"))
