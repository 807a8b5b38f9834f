"""An AI provider's public summary of training content, after the EU AI Office template, and its cross-check.

AI Act Art. 53(1)(d) obliges providers of general-purpose AI models to publish "a sufficiently
detailed summary about the content used for training", on the template the AI Office issued
(C(2025) 5235 final of 24 July 2025, re-issued as C(2025) 8311). Obra reads that summary as JSON
whose members follow the template's sections (``../shared/research/ai-licensing.md`` §7; the
field list there comes from transcriptions of the template and should be checked against its
PDF — where they were unclear, the member is optional here):

* header: ``summary_version``, ``last_updated`` (a date);
* 1.1 ``provider``: ``name``, ``contact`` (mandatory), ``authorised_representative``;
* 1.2 ``model``: ``names`` (one or more, mandatory), ``dependencies``, ``placed_on_market`` (a date);
* 1.3 ``modalities``: each ``modality`` (text, image, audio, video, other) with its ``size`` bin
  (text ``<1B`` / ``1B-10T`` / ``>10T`` tokens, images ``<1M`` / ``1M-1B`` / ``>1B``, audio and
  video ``<10k h`` / ``10k-1M h`` / ``>1M h``, or ``custom`` with a ``custom_unit``) and
  ``content_types``; ``latest_collection`` (YYYY-MM, mandatory), ``continuous_training``;
* 2 ``sources``: each of ``public_datasets``, ``licensed``, ``private_third_party``, ``crawled``,
  ``user_data``, ``synthetic``, ``other`` says ``used`` (mandatory, yes or no) with its details;
  ``crawled`` when used must name its ``crawlers``, its collection ``period`` and its
  ``top_domains`` (the top 10 % of domains by content size; 5 % or 1,000 for SMEs);
* 3.1 ``opt_out``: ``code_of_practice_signatory`` and the ``measures`` taken to honour
  reservations under Art. 4(3) of the DSM Directive (mandatory).

Bad input is refused with every problem named by its path (``sources.crawled.period.from``).

**The cross-check** (:func:`cross_check`): every top domain is compared with the registry — the
web locations rightholders stated AI-use terms for on that domain (or a subdomain), in force at
the end of the collection period, and the licences the provider holds covering URLs there.
Each domain is reported as ``reserved`` (the terms do not allow training, stated before the
collection ended: the date and the journal event prove when), ``licence-required``,
``licensed`` (a licence held covers items there), ``allowed``, or ``no-terms``, with the dates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Disclosure", "cross_check", "SIZE_BINS"]

Modality = Literal["text", "image", "audio", "video", "other"]
SIZE_BINS = {"text": ("<1B", "1B-10T", ">10T"), "image": ("<1M", "1M-1B", ">1B"),
             "audio": ("<10k h", "10k-1M h", ">1M h"), "video": ("<10k h", "10k-1M h", ">1M h")}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DOMAIN = re.compile(r"(?i)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(_Strict):
    name: Name
    contact: Name
    authorised_representative: Name | None = None


class Model(_Strict):
    names: Annotated[list[Name], Field(min_length=1, max_length=50)]
    dependencies: list[Name] = []
    placed_on_market: date | None = None


class ModalitySize(_Strict):
    modality: Modality
    size: Annotated[str, Field(min_length=1, max_length=40)]
    custom_unit: Name | None = None
    content_types: list[Name] = []

    @model_validator(mode="after")
    def _bin(self) -> "ModalitySize":
        bins = SIZE_BINS.get(self.modality, ())
        if self.size == "custom":
            if not self.custom_unit:
                raise ValueError("a custom size needs custom_unit")
        elif bins and self.size not in bins:
            raise ValueError(f"size of {self.modality} must be one of {', '.join(bins)} or custom")
        return self


def _month(value: str, what: str) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise ValueError(f"{what} must be YYYY-MM")
    return value


class Period(_Strict):
    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("from_", "to")
    @classmethod
    def _months(cls, value: str) -> str:
        return _month(value, "a collection month")

    @model_validator(mode="after")
    def _order(self) -> "Period":
        if self.to < self.from_:
            raise ValueError("the collection period ends before it starts")
        return self


class Crawler(_Strict):
    name: Name
    user_agent: Name | None = None


class TopDomain(_Strict):
    domain: Annotated[str, Field(min_length=3, max_length=253)]
    share_percent: Annotated[float, Field(ge=0, le=100)] | None = None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        value = value.strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(value):
            raise ValueError(f"{value!r} is not a domain name")
        return value


class Source(_Strict):
    used: bool
    modalities: list[Modality] = []
    description: Text | None = None
    names: list[Name] = []


class Crawled(Source):
    crawlers: list[Crawler] = []
    purposes: list[Name] = []
    behaviour: Text | None = None
    period: Period | None = None
    top_domains: Annotated[list[TopDomain], Field(max_length=100_000)] = []

    @model_validator(mode="after")
    def _when_used(self) -> "Crawled":
        if self.used:
            missing = [n for n in ("crawlers", "period", "top_domains") if not getattr(self, n)]
            if missing:
                raise ValueError(f"crawled content is used, so {', '.join(missing)} must be given")
        return self


class Sources(_Strict):
    public_datasets: Source
    licensed: Source
    private_third_party: Source
    crawled: Crawled
    user_data: Source
    synthetic: Source
    other: Source


class OptOut(_Strict):
    code_of_practice_signatory: bool
    measures: Text


class Disclosure(_Strict):
    """A public summary of training content (see the module docstring for the sections)."""

    summary_version: Annotated[str, Field(min_length=1, max_length=40)]
    last_updated: date
    provider: Provider
    model: Model
    modalities: Annotated[list[ModalitySize], Field(min_length=1)]
    latest_collection: str
    continuous_training: bool = False
    sources: Sources
    opt_out: OptOut
    other_information: Text | None = None

    @field_validator("latest_collection")
    @classmethod
    def _latest(cls, value: str) -> str:
        return _month(value, "latest_collection")


def _month_end(month: str) -> datetime:
    year, mon = int(month[:4]), int(month[5:])
    first_next = date(year + (mon == 12), mon % 12 + 1, 1)
    return datetime.combine(first_next, datetime.min.time(), timezone.utc)


def _host(subject: str) -> str:
    try:
        return (urlsplit(subject).hostname or "").lower()
    except ValueError:
        return ""


def cross_check(disclosure: Disclosure, terms_history: list[dict], licensed_urls: list[tuple[str, str]],
                use: str = "ai-train-generative") -> dict:
    """Each top domain against the registry (see the module docstring).

    ``terms_history`` is every version of the web-location terms (``subject``, ``version``,
    ``terms``, ``set_at``, ``journal_event``); ``licensed_urls`` the (licence id, URL) of the items
    of the licences the provider holds.
    """
    from obra.aiuse.terms import AITerms
    from obra.aiuse.vocabulary import Use

    crawled = disclosure.sources.crawled
    period = crawled.period
    end = _month_end(period.to) if period else None
    start = datetime.combine(date(int(period.from_[:4]), int(period.from_[5:]), 1), datetime.min.time(),
                             timezone.utc) if period else None
    domains = []
    counts: dict[str, int] = {}
    for top in crawled.top_domains:
        d = top.domain
        on_domain = [t for t in terms_history if (h := _host(t["subject"])) == d or h.endswith("." + d)]
        in_force: dict[str, dict] = {}
        for t in sorted(on_domain, key=lambda t: (t["subject"], t["version"])):
            set_at = t["set_at"] if isinstance(t["set_at"], datetime) else datetime.fromisoformat(str(t["set_at"]))
            set_at = set_at if set_at.tzinfo else set_at.replace(tzinfo=timezone.utc)
            if end is None or set_at < end:
                in_force[t["subject"]] = {**t, "set_at": set_at}
        findings = []
        for subject, t in sorted(in_force.items()):
            term = AITerms.model_validate({"subject_kind": "location", "subject": subject,
                                           "uses": t["terms"].get("uses", [])}).permission(Use(use))
            if term is None:
                continue
            findings.append({"subject": subject, "permission": term.permission.value, "version": t["version"],
                             "stated_at": t["set_at"].isoformat(), "journal_event": t["journal_event"],
                             "before_collection_started": bool(start and t["set_at"] < start)})
        licences = sorted({lid for lid, url in licensed_urls if (h := _host(url)) == d or h.endswith("." + d)})
        permissions = {f["permission"] for f in findings}
        if licences:
            status = "licensed"
        elif "not-allowed" in permissions:
            status = "reserved"
        elif "licence" in permissions:
            status = "licence-required"
        elif "allowed" in permissions:
            status = "allowed"
        else:
            status = "no-terms"
        counts[status] = counts.get(status, 0) + 1
        domains.append({"domain": d, "share_percent": top.share_percent, "status": status, "terms": findings,
                        "licences": licences})
    return {"use": use, "collection_period": {"from": period.from_, "to": period.to} if period else None,
            "domains": domains, "counts": dict(sorted(counts.items())),
            "reserved_domains": [x["domain"] for x in domains if x["status"] == "reserved"],
            "opt_out_measures": disclosure.opt_out.measures,
            "code_of_practice_signatory": disclosure.opt_out.code_of_practice_signatory}


def parse_disclosure(data: Any, source: str = "disclosure.json") -> Disclosure:
    """The disclosure validated, or :class:`obra.errors.InvalidInput` naming every missing or wrong field."""
    from obra.model import parse

    return parse(Disclosure, data, source=source)
