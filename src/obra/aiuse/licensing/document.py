"""The licence as a document for people: HTML and PDF through :mod:`obra.render`, in en, es, fr and pt.

The strings are the ``aiuse`` catalogue's (``templates/aiuse/licence.html``); the signed JSON
licence stays the authoritative text, this is its readable form with the hash that ties them.
"""

from __future__ import annotations

from obra.aiuse.licensing.licence import licence_hash
from obra.render import pdf, render
from obra.render.locales import require_supported

__all__ = ["licence_view", "licence_html", "licence_pdf", "disclosure_view", "disclosure_html", "disclosure_pdf"]


def licence_view(licence: dict, status: str) -> dict:
    """Every field the template shows, present."""
    price = licence.get("price") or {}
    due, on_use = price.get("due_on_acceptance_minor") or {}, price.get("payable_on_use_minor") or {}
    return {"licence_id": licence["licence_id"], "office": licence["office"], "issued_at": licence["issued_at"],
            "licensee": (licence.get("licensee") or {}).get("principal", ""), "use": licence["use"],
            "territory": licence.get("territory"), "purpose": licence.get("purpose"),
            "valid_from": licence["term"]["valid_from"], "valid_until": licence["term"]["valid_until"],
            "status": status, "item_count": licence["items"]["count"],
            "merkle_root": licence["items"]["merkle_root"], "key_id": licence.get("key_id", ""),
            "sha256": licence_hash(licence),
            "prices": [{"currency": c, "due": int(due.get(c, 0)), "on_use": int(on_use.get(c, 0))}
                       for c in sorted(set(due) | set(on_use))],
            "models": sorted(price.get("models") or {}),
            "shares": list(price.get("revenue_shares_percent") or [])}


def licence_html(licence: dict, status: str = "active", locale: str = "en") -> str:
    language = require_supported(locale)
    return render("aiuse/licence.html", {"l": licence_view(licence, status)}, language)


def licence_pdf(licence: dict, status: str = "active", locale: str = "en") -> bytes:
    language = require_supported(locale)
    return pdf(licence_html(licence, status, language),
               identifier=(licence_hash(licence)[:28] + status[:2] + language).encode("ascii"))


def disclosure_view(done: dict, office: str, checked_at: str) -> dict:
    """Every field the disclosure report shows, present (``done`` is what ``disclose`` returns)."""
    report = done["report"]
    period = report.get("collection_period") or {}
    return {"disclosure_id": done["disclosure_id"], "office": office, "checked_at": checked_at,
            "provider": done["provider"], "model": ", ".join(done["model"]), "period_from": period.get("from"),
            "period_to": period.get("to"), "measures": report.get("opt_out_measures") or "—",
            "domains": report["domains"]}


def disclosure_html(done: dict, office: str, checked_at: str, locale: str = "en") -> str:
    language = require_supported(locale)
    return render("aiuse/disclosure.html", {"d": disclosure_view(done, office, checked_at)}, language)


def disclosure_pdf(done: dict, office: str, checked_at: str, locale: str = "en") -> bytes:
    language = require_supported(locale)
    return pdf(disclosure_html(done, office, checked_at, language),
               identifier=(done["sha256"][:28] + checked_at[:10] + language).encode("ascii"))
