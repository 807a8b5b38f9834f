"""The registration certificate as a page and a PDF, in the reader's language.

Takes the certificate object exactly as :func:`obra.registry.certificates.issue_certificate`
makes it (a signed JSON object) and shows what it proves: the work or recording named,
the people named (from the record's ``parties``), the shares, the disclosure of AI use,
the log entry and the key. The rendering is a reading aid; the signed JSON file is the
certificate, and the page says how to verify it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from obra.render.environment import render
from obra.render.locales import DEFAULT, require_supported
from obra.render.printing import pdf

_IDENTIFIERS = (("iswc", "ISWC"), ("isrc", "ISRC"))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _share_fraction(value: Any) -> Decimal | None:
    """A record's share is a percentage (``"33.3333"``); the percent filter takes a fraction."""
    try:
        return Decimal(str(value)) / 100
    except (InvalidOperation, ValueError):
        return None


def certificate_view(certificate: dict) -> dict:
    """What the certificate template shows, with every field present (``StrictUndefined``)."""
    record = _dict(certificate.get("record"))
    entity = str(record.get("entity") or "")
    body = _dict(record.get(entity))
    people = {str(p.get("id")): p for p in _list(record.get("parties")) if isinstance(p, dict)}

    def person(pid: Any) -> dict:
        known = people.get(str(pid), {})
        return {"id": pid, "name": known.get("name"), "ipi": known.get("ipi"), "isni": known.get("isni")}

    disclosure = _dict(record.get("disclosure") or body.get("disclosure"))
    systems = [" ".join(str(x) for x in (s.get("name"), s.get("version")) if x)
               + (f" ({s['provider']})" if s.get("provider") else "")
               for s in _list(disclosure.get("systems")) if isinstance(s, dict)]
    entry = _dict(certificate.get("log_entry"))
    head = _dict(certificate.get("tree_head"))
    codes = [{"kind": c.get("kind"), "value": c.get("iscc") or c.get("code") or json.dumps(c, sort_keys=True)}
             for c in _list(certificate.get("content_codes")) if isinstance(c, dict)]
    return {
        "office": certificate.get("office", ""), "number": certificate.get("number", ""),
        "version": certificate.get("version", ""),
        "title": body.get("title", ""),
        "alternate_titles": [t.get("title") for t in _list(body.get("alternate_titles"))
                             if isinstance(t, dict) and t.get("title")],
        "entity": entity, "kind": body.get("kind"),
        "identifiers": [(label, body[key]) for key, label in _IDENTIFIERS if body.get(key)],
        "status": record.get("status", ""), "reason": record.get("reason"),
        "creation_mode": record.get("creation_mode") or body.get("creation_mode") or "human",
        "contributors": [{"person": person(c.get("party")), "role": c.get("role")}
                         for c in _list(body.get("contributors")) if isinstance(c, dict)],
        "performers": [{"person": person(p.get("party")), "role": p.get("role"), "instrument": p.get("instrument")}
                       for p in _list(body.get("performers")) if isinstance(p, dict)],
        "artist": body.get("artist"),
        "label": person(body["label"]) if body.get("label") is not None else None,
        "works": [str(w) for w in _list(body.get("works"))],
        "shares": [{"person": person(s.get("party")), "role": s.get("role"), "right_type": s.get("right_type"),
                    "territory": s.get("territory", "2WL"), "share": _share_fraction(s.get("share"))}
                   for s in _list(body.get("shares")) if isinstance(s, dict)],
        "disclosure": {"systems": systems, "ai_contribution": disclosure.get("ai_contribution", ""),
                       "human_contribution": disclosure.get("human_contribution", ""),
                       "excluded_material": disclosure.get("excluded_material", ""),
                       "training_data_disclosure": disclosure.get("training_data_disclosure")} if disclosure else None,
        "registrant": record.get("registrant", ""),
        "registered_at": _dict(entry.get("leaf")).get("timestamp"),
        "issued_at": certificate.get("issued_at"),
        "record_hash": certificate.get("record_hash", ""),
        "log_index": entry.get("index", ""), "tree_size": head.get("tree_size", ""),
        "root_hash": head.get("root_hash", ""),
        "key_id": certificate.get("key_id", ""),
        "content_codes": codes,
        "record_json": json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True),
    }


def certificate_html(certificate: dict, locale: str = DEFAULT) -> str:
    """A self-contained HTML page (no external resources) showing the certificate in ``locale``."""
    return render("certificate.html", {"c": certificate_view(certificate)}, locale)


def certificate_pdf(certificate: dict, locale: str = DEFAULT) -> bytes:
    """The certificate page as PDF; the same certificate and locale always give the same bytes."""
    language = require_supported(locale)
    digest = hashlib.sha256(json.dumps([certificate.get("signature"), certificate.get("record_hash"), language],
                                       sort_keys=True).encode("utf-8")).hexdigest()
    return pdf(certificate_html(certificate, language), identifier=digest[:32].encode("ascii"))
