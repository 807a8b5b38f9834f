"""The RSL licence server: licence documents, licence tokens (OLP), crawler authorisation (CAP), pay per crawl.

What is implemented, from the texts summarised in ``../shared/research/ai-licensing.md`` (RSL 1.0;
the Open License Protocol drafts of 2025 and two RSL 1.0 implementations; the Crawler
Authorization Protocol; Cloudflare's pay-per-crawl documentation), and how the unsettled parts
were decided:

**Licence documents.** Each registered work's terms in force (its own, else its catalogues' —
what :meth:`obra.aiuse.service.AITermsService.decide` reads) as an RSL 1.0 document written by
the same writer as ``obra ai protect`` (:mod:`obra.aiuse.protect`), whose ``<content>`` is the
work's protected resource here (``{base}/ai/licensed/{number}``) and carries the ``server``
attribute naming this licence server (so a token is needed even for a free licence) and the
``<payment>`` with the offer's price.

**OLP tokens** (:meth:`LicenceServer.token`): ``POST {base}/ai/olp/token``, the client
authenticated with HTTP Basic (RFC 6749 §2.3.1: ``client_id`` is the licence id, the secret is the
one shown when the licence was issued). ``grant_type`` is ``client_credentials`` (RSL 1.0 as
implemented) or ``rsl`` (the 2025 drafts' grant): both are accepted, since the final text is
unsettled. ``resource`` (optional) must be covered by the licence, else ``invalid_resource``;
``license`` (optional, the URL-encoded ``<license>`` element) is accepted and recorded as given,
not interpreted: the licence the client holds is the one that was signed. A revoked or expired
licence gets ``invalid_license``. The answer is ``{access_token, token_type: "License",
expires_in}`` with ``Cache-Control: no-store``; errors are RFC 6749 §5.2 JSON (``error``,
``error_description``), 401 with ``WWW-Authenticate: Basic`` for a bad client.

**Introspection** (:meth:`LicenceServer.introspect`, RFC 7662): ``POST {base}/ai/olp/introspect``
with ``token``; the caller authenticates as the licence's client (it sees its own tokens) or as a
CMO or office principal. ``{active: false}`` for anything unknown, expired or revoked.

**CAP** (:meth:`LicenceServer.authorize`) on ``GET {base}/ai/licensed/{number}``:
``Authorization: License <token>``. No or malformed token → **401** with
``WWW-Authenticate: License error="invalid_request"``; unknown, expired or revoked token (or
licence) → **401** ``error="invalid_token"``; a token whose licence does not cover the work →
**402** ``error="insufficient_scope"``; the work's terms do not permit the licence's use →
**403**; each 401/402 also carries ``Link: <licence document>; rel="license";
type="application/rsl+xml"``. The 503 (licence server unreachable) does not arise: the server
is this process.

**Pay per crawl** (Cloudflare's headers): when the licence prices the work ``per-crawl``, a
fetch without a price header gets **402** with ``crawler-price: EUR 0.02``; a retry with
``crawler-exact-price`` equal to it, or ``crawler-max-price`` at or above it, gets **200** with
``crawler-charged: EUR 0.02``, and the fetch is recorded as licence income of the work
(``aiuse.licence.fetch_paid``). A wrong price gets 402 again, with ``crawler-error`` saying why
(Cloudflare's own error codes are not public: ours are ``price-mismatch``, ``price-too-low`` and
``bad-price-header``). Cloudflare identifies the paying crawler by Web Bot Auth signatures;
here the licence token identifies the licensee, who is billed. x402 and Web Bot Auth are not
implemented.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from lxml import etree
from sqlalchemy import insert, select

from obra.aiuse.signals import rsl
from obra.aiuse.terms import AITerms
from obra.errors import InvalidInput, NotFound, Problem
from obra.journal import Journal
from obra.money import from_minor, minor_exponent
from obra.store.schema import ai_licence_income, ai_licence_items, ai_licence_tokens, ai_licences, registrations

__all__ = ["Answer", "LicenceServer", "TOKEN_SECONDS", "format_price", "parse_price"]

TOKEN_SECONDS = 3600
"""How long a licence token lives."""
GRANT_TYPES = ("client_credentials", "rsl")


@dataclass
class Answer:
    """An HTTP answer the interfaces send as it is: status, headers, a JSON body."""

    status: int
    body: dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _problem(code: str, message: str, hint: str | None = None) -> dict:
    """The one error body of Obra's API (``error, message, hint, problems``) for the crawler-facing
    answers; what the RSL protocol fixes for them is in the status and the headers."""
    return {"error": code, "message": message, "hint": hint, "problems": []}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def format_price(amount_minor: int, currency: str) -> str:
    """``EUR 0.02``: the pay-per-crawl header value of an amount in minor units."""
    return f"{currency} {from_minor(amount_minor, currency)}"


def parse_price(value: str) -> tuple[str, int] | None:
    """``(currency, minor units)`` of a ``crawler-*-price`` header value, or None when malformed
    (or finer than the currency's minor unit)."""
    parts = value.strip().split()
    if len(parts) != 2 or len(parts[0]) != 3 or not parts[0].isalpha():
        return None
    currency = parts[0].upper()
    try:
        scaled = Decimal(parts[1]).scaleb(minor_exponent(currency))
    except (InvalidOperation, InvalidInput):
        return None
    if scaled != scaled.to_integral_value() or scaled < 0:
        return None
    return currency, int(scaled)


def _oauth_error(status: int, error: str, description: str, **headers: str) -> Answer:
    return Answer(status, {"error": error, "error_description": description},
                  {"Cache-Control": "no-store", "Pragma": "no-cache", **headers})


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization[:6].lower() == "basic ":
        return None
    try:
        raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (unquote(user), unquote(password)) if sep else None


class LicenceServer:
    """The licence server's answers; ``base`` is the public URL the API is served at."""

    def __init__(self, store: Any, base: str):
        self.store = store
        self.base = base.rstrip("/")

    def licence_url(self, number: str) -> str:
        return f"{self.base}/ai/rsl/{number}.xml"

    def resource_url(self, number: str) -> str:
        return f"{self.base}/ai/licensed/{number}"

    def _link(self, number: str) -> str:
        return f'<{self.licence_url(number)}>; rel="license"; type="{rsl.MEDIA_TYPE}"'

    # --- licence documents ------------------------------------------------------------------------

    def _rsl(self, uses: list[dict], numbers: list[str], licence_url: str) -> str:
        """An RSL 1.0 document stating ``uses`` for the protected resource of each work in ``numbers``
        (one ``<content>`` each, all naming this server), checked conformant by Obra's own reader."""
        from copy import deepcopy

        from obra.aiuse.protect import LICENSE, protect

        stated = AITerms.model_validate({"subject_kind": "location", "subject": self.resource_url(numbers[0]),
                                         "uses": uses})
        root = etree.fromstring(protect(stated, licence_url=licence_url).files[LICENSE].encode())
        contents = list(root.iter("{*}content"))
        for content in contents:
            content.set("server", f"{self.base}/ai/olp")
        for number in numbers[1:]:
            for content in contents:
                clone = deepcopy(content)
                clone.set("url", self.resource_url(number))
                root.append(clone)
        out = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
        parsed = rsl.parse_rsl(out, source="license.xml")
        if not parsed.conformant:
            raise InvalidInput(Problem(f"the RSL document is not conformant: {parsed.problems}"))
        return out

    def rsl_document(self, number: str) -> str:
        """The work's terms in force as an RSL 1.0 document naming this server (public): its own terms,
        else the most restrictive of its parties' catalogue terms for generative training (as the quote
        reads them)."""
        from obra.aiuse.service import AITermsService, _parties_of
        from obra.aiuse.terms import RESTRICTIVENESS
        from obra.aiuse.vocabulary import Use

        svc = AITermsService(self.store)
        with self.store.connect() as conn:
            row = conn.execute(select(registrations.c.entity, registrations.c.record).where(
                registrations.c.number == number, registrations.c.is_current)).first()
        if row is None:
            raise NotFound(f"no registration {number}")
        terms = svc.current(row.entity, number)
        if terms is None or not terms["terms"].get("uses"):
            found = [t for p in sorted(_parties_of((row.record or {}).get(row.entity, {})))
                     if (t := svc.current("party", str(p))) is not None]
            if not found:
                raise NotFound(f"no AI-use terms were stated for {number} or its catalogues",
                               hint="a rightholder states them with `obra ai terms set`")

            def rank(t: dict) -> int:
                term = AITerms.model_validate({"subject_kind": "party", "subject": t["subject"],
                                               "uses": t["terms"]["uses"]}).permission(Use.AI_TRAIN_GENERATIVE)
                return RESTRICTIVENESS[term.permission] if term is not None else 3

            terms = min(found, key=rank)
        return self._rsl(terms["terms"]["uses"], [number], self.licence_url(number))

    def catalogue_document(self, party: int, limit: int = 1000) -> str:
        """A party's catalogue terms as one RSL document: a ``<content>`` for the protected resource of each
        of its registered works (at most ``limit``; more are refused with a hint) that has no terms of its
        own (public)."""
        from obra.aiuse.service import AITermsService, _parties_of

        svc = AITermsService(self.store)
        terms = svc.current("party", str(party))
        if terms is None or not terms["terms"].get("uses"):
            raise NotFound(f"party {party} stated no catalogue terms", hint="`obra ai terms set` with subject_kind "
                                                                            "party")
        with self.store.connect() as conn:
            rows = conn.execute(select(registrations.c.number, registrations.c.entity, registrations.c.record,
                                       registrations.c.status).where(registrations.c.is_current)
                                .order_by(registrations.c.number)).all()
        numbers = [r.number for r in rows if r.status != "withdrawn"
                   and party in _parties_of((r.record or {}).get(r.entity, {})) and svc.current(r.entity, r.number)
                   is None]
        if not numbers:
            raise NotFound(f"party {party} has no registered work under its catalogue terms")
        if len(numbers) > limit:
            raise InvalidInput(Problem(f"party {party} has {len(numbers)} works; one catalogue document lists at "
                                       f"most {limit}", field="party"),
                               hint="use each work's own document, /ai/rsl/{number}.xml")
        return self._rsl(terms["terms"]["uses"], numbers, f"{self.base}/ai/rsl/party/{party}.xml")

    # --- OLP ----------------------------------------------------------------------------------------

    def _client(self, conn: Any, authorization: str | None) -> Any:
        creds = _basic(authorization)
        if creds is None:
            return None
        row = conn.execute(select(ai_licences).where(ai_licences.c.licence_id == creds[0])).first()
        if row is None or not hmac.compare_digest(row.client_secret_hash, _sha(creds[1])):
            return None
        return row

    @staticmethod
    def _usable(row: Any, today: date) -> str | None:
        if row.status == "revoked":
            return f"licence {row.licence_id} was revoked"
        if row.status == "expired" or today > row.valid_until:
            return f"licence {row.licence_id} expired on {row.valid_until.isoformat()}"
        if today < row.valid_from:
            return f"licence {row.licence_id} starts on {row.valid_from.isoformat()}"
        return None

    def _covers(self, conn: Any, licence_id: str, resource: str) -> Any:
        """The licence item the resource (a work's resource URL, a registration number or a URL the
        licence names) is, or None."""
        item = ai_licence_items
        if resource.startswith((f"{self.base}/ai/licensed/", "/ai/licensed/")):
            resource = resource.rsplit("/ai/licensed/", 1)[1]
        stmt = select(item).where(item.c.licence_id == licence_id)
        found = conn.execute(stmt.where(item.c.number == resource).limit(1)).first()
        if found is None and "://" in resource:
            found = conn.execute(stmt.where(item.c.url == resource).limit(1)).first()
        return found

    def token(self, authorization: str | None, form: dict[str, str]) -> Answer:
        """OLP token endpoint (RFC 6749 client credentials; see the module docstring)."""
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "grant_type is missing")
        if grant not in GRANT_TYPES:
            return _oauth_error(400, "unsupported_grant_type",
                                f"grant_type {grant!r}: this server accepts {' or '.join(GRANT_TYPES)}")
        with self.store.connect() as conn:
            row = self._client(conn, authorization)
            if row is None:
                return _oauth_error(401, "invalid_client", "authenticate with HTTP Basic: the licence id and the "
                                                           "client secret issued with the licence",
                                    **{"WWW-Authenticate": 'Basic realm="obra-olp"'})
            why = self._usable(row, _now().date())
            if why:
                return _oauth_error(400, "invalid_license", why)
            resource = form.get("resource")
            if resource and self._covers(conn, row.licence_id, resource) is None:
                return _oauth_error(400, "invalid_resource", f"licence {row.licence_id} does not cover {resource}")
        token = "lic_" + secrets.token_urlsafe(32)
        now = _now()
        expires = min(now + timedelta(seconds=TOKEN_SECONDS),
                      datetime.combine(row.valid_until + timedelta(days=1), datetime.min.time(), timezone.utc))
        with self.store.begin() as conn:
            conn.execute(insert(ai_licence_tokens).values(token_hash=_sha(token), licence_id=row.licence_id,
                                                          resource=resource or None, issued_at=now,
                                                          expires_at=expires))
        return Answer(200, {"access_token": token, "token_type": "License",
                            "expires_in": max(1, int((expires - now).total_seconds())),
                            "licence_id": row.licence_id},
                      {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _token_row(self, conn: Any, token: str) -> tuple[Any, Any] | None:
        """The token's row and its licence's, when both are usable now; else None."""
        t = conn.execute(select(ai_licence_tokens).where(ai_licence_tokens.c.token_hash == _sha(token))).first()
        if t is None or _aware(t.expires_at) <= _now():
            return None
        lic = conn.execute(select(ai_licences).where(ai_licences.c.licence_id == t.licence_id)).first()
        if lic is None or self._usable(lic, _now().date()):
            return None
        return t, lic

    def introspect(self, authorization: str | None, form: dict[str, str], principal: Any = None) -> Answer:
        """RFC 7662 token introspection (see the module docstring)."""
        with self.store.connect() as conn:
            client = self._client(conn, authorization)
            staff = principal is not None and principal.can("ai_licence_manage")
            if client is None and not staff:
                return _oauth_error(401, "invalid_client", "authenticate as the licence's client (HTTP Basic) or "
                                                           "as a CMO or office principal",
                                    **{"WWW-Authenticate": 'Basic realm="obra-olp"'})
            token = form.get("token")
            if not token:
                return _oauth_error(400, "invalid_request", "token is missing")
            found = self._token_row(conn, token)
        if found is None or (client is not None and not staff and found[1].licence_id != client.licence_id):
            return Answer(200, {"active": False}, {"Cache-Control": "no-store"})
        t, lic = found
        return Answer(200, {"active": True, "token_type": "License", "client_id": lic.licence_id,
                            "licence_id": lic.licence_id, "scope": lic.document.get("use"),
                            "sub": lic.licensee, "iat": int(_aware(t.issued_at).timestamp()),
                            "exp": int(_aware(t.expires_at).timestamp()), "resource": t.resource,
                            "licence_sha256": lic.document_sha256}, {"Cache-Control": "no-store"})

    # --- CAP and pay per crawl ----------------------------------------------------------------------

    def _fast_path(self, conn: Any, number: str, token: str) -> Any:
        """One query for the common case: the work (current, not withdrawn), the token (not expired), its
        licence (active, in its term) and the licence's item for the work, or None when any is missing."""
        t, lic, item, reg = ai_licence_tokens, ai_licences, ai_licence_items, registrations
        now = _now()
        today = now.date()
        return conn.execute(
            select(lic.c.licence_id, lic.c.licensee, lic.c.document["use"].as_string().label("use"),
                   item.c.position, item.c.model, item.c.unit_minor, item.c.currency)
            .select_from(t.join(lic, lic.c.licence_id == t.c.licence_id)
                         .join(item, (item.c.licence_id == lic.c.licence_id) & (item.c.number == number))
                         .join(reg, (reg.c.number == number) & reg.c.is_current))
            .where(t.c.token_hash == _sha(token), t.c.expires_at > now, lic.c.status == "active",
                   lic.c.valid_from <= today, lic.c.valid_until >= today, reg.c.status != "withdrawn")
            .limit(1)).first()

    def authorize(self, number: str, authorization: str | None, headers: dict[str, str] | None = None) -> Answer:
        """The answer to a crawler's fetch of the work's protected resource (see the module docstring)."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        scheme, _sp, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        with self.store.connect() as conn:
            hit = self._fast_path(conn, number, token) if scheme.lower() == "license" and token else None
            if hit is not None:
                body = {"number": number, "licence_id": hit.licence_id, "use": hit.use, "position": hit.position}
                if hit.model != "per-crawl":
                    return Answer(200, body)
            else:
                return self._refusal(conn, number, scheme, token)
        return self._pay_per_crawl(hit, hit, number, headers, body)

    def _refusal(self, conn: Any, number: str, scheme: str, token: str) -> Answer:
        """Why the fast path found nothing: 404, 401, 402 or 403 (see the module docstring)."""
        link = {"Link": self._link(number)}
        work = conn.execute(select(registrations.c.number, registrations.c.status)
                            .where(registrations.c.number == number, registrations.c.is_current)).first()
        if work is None or work.status == "withdrawn":
            return Answer(404, _problem("not_found", f"no registration {number}"))
        if scheme.lower() != "license" or not token:
            return Answer(401, _problem("invalid_request", "a licence token is required: "
                                "Authorization: License <token>, from the licence server"),
                          {"WWW-Authenticate": 'License error="invalid_request", error_description="License '
                                               'token required"', **link})
        found = self._token_row(conn, token)
        if found is None:
            return Answer(401, _problem("invalid_token", "the licence token is missing, expired, "
                                "revoked or malformed"),
                          {"WWW-Authenticate": 'License error="invalid_token", error_description="License token '
                                               'missing, expired, revoked, or malformed"', **link})
        lic = found[1]
        use = lic.document.get("use")
        from obra.aiuse.service import AITermsService
        from obra.aiuse.vocabulary import Use

        decided = AITermsService(self.store).decide(number, Use(use)) if use else {"permission": None}
        if decided["permission"] == "not-allowed":
            return Answer(403, _problem("forbidden", f"the rightholder's terms do not permit "
                                f"{use} of {number}: no licence can be had for it"))
        return Answer(402, _problem("insufficient_scope", f"licence {lic.licence_id} does not "
                            f"cover {number}: obtain a licence for it"),
                      {"WWW-Authenticate": 'License error="insufficient_scope", error_description="The licence '
                                           'does not cover this resource"', **link})

    def _pay_per_crawl(self, lic: Any, item: Any, number: str, headers: dict[str, str], body: dict) -> Answer:
        price = int(item.unit_minor or 0)
        currency = item.currency
        quoted = format_price(price, currency)
        exact, most = headers.get("crawler-exact-price"), headers.get("crawler-max-price")
        if exact is None and most is None:
            return Answer(402, _problem("payment_required", f"each fetch costs {quoted}: retry with "
                                "crawler-exact-price or crawler-max-price"), {"crawler-price": quoted})
        offered = parse_price(exact if exact is not None else most)
        error = None
        if offered is None:
            error = "bad-price-header"
        elif offered[0] != currency:
            error = "price-mismatch"
        elif exact is not None and offered[1] != price:
            error = "price-mismatch"
        elif exact is None and offered[1] < price:
            error = "price-too-low"
        if error:
            return Answer(402, _problem("payment_required", f"each fetch costs {quoted} ({error})"),
                          {"crawler-price": quoted, "crawler-error": error})
        now = _now()
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "aiuse.licence.fetch_paid", f"ai-licence/{lic.licence_id}", {
                "licence_id": lic.licence_id, "number": number, "url": self.resource_url(number),
                "amount_minor": price, "currency": currency, "at": now.isoformat()}, lic.licensee)
            conn.execute(insert(ai_licence_income).values(
                licence_id=lic.licence_id, source="fetch", number=number, url=self.resource_url(number),
                amount_minor=price, currency=currency, period=now.strftime("%Y-%m"), status="pending",
                created_at=now, journal_event_id=event.id))
        return Answer(200, body | {"charged_minor": price, "currency": currency, "journal_event": event.id},
                      {"crawler-charged": quoted})
