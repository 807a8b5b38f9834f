"""Letters and reports as documents, in English, Spanish, French and Portuguese (:mod:`obra.render`).

A renegotiation flag becomes the letter its trigger calls for: an **adjustment request** (with
the request for information the claim needs first, as the BGH's *Das Boot I* did), a
**grace-period notice** before revocation for non-exploitation, or an **information request**
(a guarantee not met, an advance that never recoups). A transparency report becomes a page or
a PDF. Templates live in ``render/templates/fairness/`` and their strings in the ``fairness``
catalogue. PDFs reproduce: the same document in the same language is the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, Mapping

from obra.canonical import canonical
from obra.render import pdf, render
from obra.render.locales import require_supported

LETTERS = ("adjustment_request", "grace_notice", "information_request")


def _party(pid: Any, names: Mapping[str, str]) -> dict:
    return {"id": str(pid), "name": names.get(str(pid))}


def letter_view(flag: dict, names: Mapping[str, str]) -> dict:
    return {**flag, "creator": _party(flag["creator"], names), "counterparty": _party(flag["counterparty"], names)}


def letter_html(flag: dict, check_id: int, issued: date, locale: str, names: Mapping[str, str]) -> str:
    language = require_supported(locale)
    return render("fairness/letter.html", {"f": letter_view(flag, names), "check_id": check_id,
                                           "issued": issued.isoformat()}, language)


def letter_pdf(flag: dict, check_id: int, issued: date, locale: str, names: Mapping[str, str]) -> bytes:
    language = require_supported(locale)
    digest = hashlib.sha256(canonical({"flag": flag, "check": check_id, "issued": issued.isoformat(),
                                       "locale": language})).hexdigest()
    return pdf(letter_html(flag, check_id, issued, language, names), identifier=digest[:32].encode("ascii"))


def report_html(report: dict, locale: str) -> str:
    return render("fairness/report.html", {"r": report}, require_supported(locale))


def report_pdf(report: dict, locale: str) -> bytes:
    language = require_supported(locale)
    digest = hashlib.sha256(f"{report['signature']}:{language}".encode("utf-8")).hexdigest()
    return pdf(report_html(report, language), identifier=digest[:32].encode("ascii"))
