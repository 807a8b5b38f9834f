"""AI licences as a service: what ``obra ai quote``, ``obra ai licence …`` and ``/ai/licences`` call.

The one module joining the store, the journal, the office's keys and access for issue #15:

* :meth:`LicensingService.offers` — the offers the terms in force make (public);
* :meth:`LicensingService.quote` — a manifest priced (``ai_quote``: AI developers, CMO, office
  staff); the items kept as Parquet under the home, an ``aiuse.quote`` event;
* :meth:`LicensingService.accept` — the developer who asked for the quote accepts it (``ai_licence``):
  a licence signed by the office key over the Merkle root of its items, its client credentials
  for the licence server (the secret shown once), the fee lines as licence income, an
  ``aiuse.licence.issued`` event anchoring the licence's hash;
* :meth:`LicensingService.revoke` (``ai_licence_manage``: CMO, office staff) and
  :meth:`LicensingService.expire_due` — ``aiuse.licence.revoked`` / ``aiuse.licence.expired``;
* :meth:`LicensingService.licensed_items` — what the training check asks: the manifest items a
  licence the developer holds covers today, with the licence as evidence;
* :meth:`LicensingService.report_usage` — a usage report priced against the licence, lines
  outside it held (``aiuse.usage.reported``);
* :meth:`LicensingService.royalties` — a period's licence income split over each work's
  rightholders through the contract waterfall (``distribute``: CMO), ``aiuse.licence.royalties``.

Who sees what: a licence, its items and its income are the licensee's and the CMO's or office's;
a creator reads licences covering their own works through their statements.
"""

from __future__ import annotations

import csv
import hashlib
import secrets
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import insert, select, update

from obra.access import Principal, require
from obra.aiuse.licensing.licence import (build_licence, inclusion_bundle, item_tree, leaf_object, licence_hash,
                                          sign_licence, verify_licence)
from obra.aiuse.licensing.quote import Catalogue, QuoteQuestion, price_items, read_quote_manifest, totals
from obra.aiuse.terms import Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.canonical import sha256_hex
from obra.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from obra.ids import ascii_digits
from obra.journal import Journal
from obra.money import from_minor, minor_exponent
from obra.store.schema import ai_licence_income, ai_licence_items, ai_licences, ai_quotes
from obra.transparency.signing import format_time
from obra.transparency.translog import TransparencyLog

__all__ = ["LicensingService", "LicensedItems", "QUOTE_DAYS", "PAY_ON_ACCEPTANCE", "PAY_ON_USE"]

QUOTE_DAYS = 30
"""How long a quote may be accepted."""
PAY_ON_ACCEPTANCE = ("flat", "per-item")
"""Price models whose amounts are the licence fee, due when the licence is issued."""
PAY_ON_USE = ("per-use", "per-crawl", "revenue-share")
"""Price models paid as used: per use or output reported, per paid fetch, on reported revenue."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LicensedItems(set):
    """The manifest items a licence covers (a set of item ids, as the training check takes), with
    ``evidence`` (item → the licence that covers it) and ``licences`` (each licence used)."""

    def __init__(self, items=(), evidence: dict[int, dict] | None = None, licences: list[dict] | None = None):
        super().__init__(items)
        self.evidence = evidence or {}
        self.licences = licences or []

    def for_question(self, use: str, on: date) -> "LicensedItems":
        """Only the items licensed for ``use`` by a licence in force on ``on``."""
        keep = {item: e for item, e in self.evidence.items()
                if e["use"] == use and e["valid_from"] <= on.isoformat() <= e["valid_until"]}
        ids = {e["licence_id"] for e in keep.values()}
        return LicensedItems(keep, keep, [m for m in self.licences if m["licence_id"] in ids])


class LicensingService:
    """Quotes, licences, the licence server's state, usage reports and licence royalties."""

    def __init__(self, store: Any):
        self.store = store

    @property
    def home(self) -> Path:
        return self.store.paths.home / "ai-licences"

    # --- offers and quotes ----------------------------------------------------------------------

    def offers(self, use: str | Use = Use.AI_TRAIN_GENERATIVE, *, territory: str | None = None,
               purpose: str | None = None, user_type: str | None = None, on: date | None = None,
               days: int = 365) -> list[dict]:
        """Every subject whose terms in force offer ``use`` under licence, with the price (public)."""
        from obra.aiuse.licensing.quote import offers_table
        from obra.aiuse.service import current_terms_rows

        question = self.question(use, territory=territory, purpose=purpose, user_type=user_type, on=on, days=days)
        table = offers_table(current_terms_rows(self.store), question)
        return [{k: v for k, v in row.items() if k != "rank"} for row in table.to_pylist()
                if row["permission"] == "licence"]

    @staticmethod
    def question(use: str | Use, *, territory: str | None = None, purpose: str | None = None,
                 user_type: str | None = None, on: date | None = None, days: int = 365) -> QuoteQuestion:
        """A :class:`QuoteQuestion` from plain values, every bad one named."""
        def member(enum: Any, value: Any, name: str) -> Any:
            if value is None or isinstance(value, enum):
                return value
            try:
                return enum(value)
            except ValueError:
                raise InvalidInput(Problem(f"unknown {name} {value!r}", field=name),
                                   hint=f"use one of: {', '.join(m.value for m in enum)}") from None

        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
            raise InvalidInput(Problem(f"a licence lasts 1 to 3660 days, not {days!r}", field="days"))
        start = on or _now().date()
        return QuoteQuestion(member(Use, use, "use"), start, start + timedelta(days=days - 1),
                             territory.upper() if territory else None, member(Purpose, purpose, "purpose"),
                             member(UserType, user_type, "user_type"))

    def quote(self, principal: Principal, manifest: str | Path | pa.Table, question: QuoteQuestion, *,
              catalogue: Catalogue | None = None, show: int = 20) -> dict:
        """Price ``manifest`` for ``question``; returns the quote (id, totals, the first ``show`` items and
        the items that are not licensable, with why)."""
        require(principal, "ai_quote")
        if isinstance(manifest, pa.Table):
            items, fmt, source = manifest, "arrow", "<table>"
        else:
            items, fmt = read_quote_manifest(manifest)
            source = Path(manifest).name
        catalogue = catalogue or Catalogue.from_store(self.store)
        priced = price_items(items, catalogue, question)
        summary = totals(priced)
        acceptance = pc.is_in(priced["model"], pa.array(PAY_ON_ACCEPTANCE))
        summary["due_on_acceptance_minor"] = _sum_by_currency(priced.filter(acceptance.fill_null(False)))
        summary["payable_on_use_minor"] = _sum_by_currency(priced.filter(pc.invert(acceptance.fill_null(False))))
        summary |= {"source": source, "format": fmt}
        quote_id = "Q-" + secrets.token_hex(8).upper()
        directory = self.home / "quotes"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{quote_id}.parquet"
        tmp = directory / f".{quote_id}.parquet"
        pq.write_table(priced, tmp)
        items_sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
        now = _now()
        try:
            with self.store.begin() as conn:
                event = Journal(self.store).record(conn, "aiuse.quote", f"ai-quote/{quote_id}", {
                    "quote_id": quote_id, "question": question.to_json(), "items_sha256": items_sha,
                    "summary": {k: v for k, v in summary.items() if k != "not_licensable_reasons"}}, principal.name)
                conn.execute(insert(ai_quotes).values(
                    quote_id=quote_id, requested_by=principal.name, question=question.to_json(), summary=summary,
                    items_file=path.name, items_sha256=items_sha, created_at=now,
                    expires_at=now + timedelta(days=QUOTE_DAYS), journal_event_id=event.id))
                tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        not_licensable = priced.filter(pc.equal(priced["status"], "not-licensable"))
        return {"quote_id": quote_id, "question": question.to_json(), "summary": summary,
                "expires_at": format_time(now + timedelta(days=QUOTE_DAYS)), "journal_event": event.id,
                "log_index": event.log_index, "items_sha256": items_sha,
                "items": priced.slice(0, show).to_pylist(),
                "not_licensable": not_licensable.slice(0, max(show, 100)).to_pylist()}

    def _quote_row(self, conn: Any, quote_id: str) -> Any:
        row = conn.execute(select(ai_quotes).where(ai_quotes.c.quote_id == quote_id)).first()
        if row is None:
            raise NotFound(f"no quote {quote_id}", hint="quotes are made by `obra ai quote MANIFEST`")
        return row

    def quote_items(self, principal: Principal, quote_id: str) -> pa.Table:
        """A quote's priced items (its requester, CMO and office staff)."""
        require(principal, "ai_quote")
        with self.store.connect() as conn:
            row = self._quote_row(conn, quote_id)
        self._own(principal, row.requested_by, "quote")
        return pq.read_table(self.home / "quotes" / row.items_file)

    def _my_works(self, principal: Principal) -> set[str] | None:
        """For a rightholder (a creator with a party), the registration numbers their party holds
        a share in, contributed to or performed on; None for roles that read every licence or only their own."""
        from obra.aiuse.service import _parties_of
        from obra.store.schema import registrations

        if principal.can("ai_licence_manage") or principal.role.value != "creator" \
                or principal.party_id is None:
            return None
        with self.store.connect() as conn:
            rows = conn.execute(select(registrations.c.number, registrations.c.entity, registrations.c.record)
                                .where(registrations.c.is_current)).all()
        return {r.number for r in rows if principal.party_id in _parties_of((r.record or {}).get(r.entity, {}))}

    def _covering(self, conn: Any, licence_id: str, numbers: set[str]) -> list[str]:
        if not numbers:
            return []
        found = conn.execute(select(ai_licence_items.c.number).distinct().where(
            ai_licence_items.c.licence_id == licence_id, ai_licence_items.c.number.in_(sorted(numbers)))).scalars()
        return sorted(found)

    @staticmethod
    def _own(principal: Principal, owner: str, what: str) -> None:
        require(principal, "ai_quote" if what == "quote" else "ai_licence_read")
        if principal.name != owner and not principal.can("ai_licence_manage"):
            raise PermissionDenied(f"this {what} is {owner}'s, not yours",
                                   hint="only its holder, CMO and office staff may read it")

    # --- licences -------------------------------------------------------------------------------

    def accept(self, principal: Principal, quote_id: str) -> dict:
        """Accept a quote: the signed licence, its items, its client credentials (secret shown once)."""
        require(principal, "ai_licence")
        with self.store.connect() as conn:
            row = self._quote_row(conn, quote_id)
        if row.requested_by != principal.name:
            raise PermissionDenied(f"quote {quote_id} was made for {row.requested_by}: only they may accept it")
        if row.licence_id:
            raise Conflict(f"quote {quote_id} was already accepted: licence {row.licence_id}")
        expires = _aware(row.expires_at)
        if expires < _now():
            raise InvalidInput(Problem(f"quote {quote_id} expired on {format_time(expires)}", field="quote"),
                               hint="ask for a new quote: the offers may have changed")
        path = self.home / "quotes" / row.items_file
        if hashlib.sha256(path.read_bytes()).hexdigest() != row.items_sha256:
            raise InvalidInput(Problem(f"the items of quote {quote_id} changed on disk since it was made",
                                       field="quote"), hint="ask for a new quote")
        priced = pq.read_table(path)
        covered = priced.filter(pc.equal(priced["status"], "licensable"))
        if covered.num_rows == 0:
            raise InvalidInput(Problem(f"quote {quote_id} has no licensable item", field="quote"),
                               hint="the items are free to use, not licensable, or not in the catalogue "
                                    "(see the quote's reasons)")
        rows = covered.to_pylist()
        leaves = [leaf_object(i, r) for i, r in enumerate(rows)]
        tree = item_tree(leaves)
        question = dict(row.question)
        summary = dict(row.summary)
        offers = sorted({(r["offer_kind"], r["offer_subject"], r["terms_version"], r["terms_event"]) for r in rows})
        licence_id = "L-" + secrets.token_hex(8).upper()
        secret = "olp_" + secrets.token_urlsafe(32)
        log = TransparencyLog(self.store)
        log.keys.history()
        moment = _now()
        body = build_licence(
            licence_id=licence_id, office=log.office, issued_at=format_time(moment),
            licensee={"principal": principal.name, "role": principal.role.value},
            question=question,
            price={"totals_minor": summary.get("totals_minor", {}),
                   "due_on_acceptance_minor": summary.get("due_on_acceptance_minor", {}),
                   "payable_on_use_minor": summary.get("payable_on_use_minor", {}),
                   "models": summary.get("models", {}),
                   "revenue_shares_percent": summary.get("revenue_shares_percent", []),
                   "rounding": "flat fees split over their items by largest remainder (obra.money.allocate)"},
            item_count=len(leaves), merkle_root=tree.root().hex(),
            quote={"quote_id": quote_id, "items_sha256": row.items_sha256},
            offers={"count": len(offers), "sha256": sha256_hex([list(o) for o in offers]),
                    "terms_events": sorted({int(o[3]) for o in offers})[:1000]})
        licence = sign_licence(log.keys, body, moment)
        digest = licence_hash(licence)
        period = moment.strftime("%Y-%m")
        with self.store.begin() as conn:
            again = conn.execute(select(ai_quotes.c.licence_id).where(ai_quotes.c.quote_id == quote_id)).scalar()
            if again:
                raise Conflict(f"quote {quote_id} was already accepted: licence {again}")
            event = Journal(self.store, log).record(conn, "aiuse.licence.issued", f"ai-licence/{licence_id}", {
                "licence_id": licence_id, "licence_sha256": digest, "merkle_root": body["items"]["merkle_root"],
                "items": len(leaves), "licensee": principal.name, "quote_id": quote_id, "term": body["term"],
                "price": body["price"]}, principal.name)
            conn.execute(insert(ai_licences).values(
                licence_id=licence_id, quote_id=quote_id, licensee=principal.name, document=licence,
                document_sha256=digest, merkle_root=body["items"]["merkle_root"], item_count=len(leaves),
                valid_from=date.fromisoformat(question["valid_from"]),
                valid_until=date.fromisoformat(question["valid_until"]), status="active",
                client_secret_hash=_hash_secret(secret), created_at=moment, journal_event_id=event.id))
            batch = []
            for leaf in leaves:
                batch.append({"licence_id": licence_id, "position": leaf["position"], "number": leaf.get("number"),
                              "url": leaf.get("url"), "sha256": leaf.get("sha256"), "model": leaf["model"],
                              "amount_minor": leaf.get("amount_minor", 0), "currency": leaf.get("currency"),
                              "unit_minor": leaf.get("unit_minor"), "share_percent": leaf.get("share_percent")})
                if len(batch) >= 5000:
                    conn.execute(insert(ai_licence_items), batch)
                    batch = []
            if batch:
                conn.execute(insert(ai_licence_items), batch)
            fees: dict[tuple[str, str], int] = {}
            for r in rows:
                if r["model"] in PAY_ON_ACCEPTANCE and r["amount_minor"]:
                    key = (r["number"], r["currency"])
                    fees[key] = fees.get(key, 0) + int(r["amount_minor"])
            income = [{"licence_id": licence_id, "source": "fee", "number": number, "amount_minor": amount,
                       "currency": currency, "period": period, "status": "pending", "created_at": moment,
                       "journal_event_id": event.id} for (number, currency), amount in sorted(fees.items())]
            for i in range(0, len(income), 5000):
                conn.execute(insert(ai_licence_income), income[i:i + 5000])
            conn.execute(update(ai_quotes).where(ai_quotes.c.quote_id == quote_id).values(licence_id=licence_id))
        return {"licence_id": licence_id, "licence": licence, "licence_sha256": digest, "journal_event": event.id,
                "log_index": event.log_index, "client_id": licence_id, "client_secret": secret,
                "items": len(leaves), "fee_minor": _fold(fees)}

    def _licence_row(self, conn: Any, licence_id: str) -> Any:
        row = conn.execute(select(ai_licences).where(ai_licences.c.licence_id == licence_id)).first()
        if row is None:
            raise NotFound(f"no licence {licence_id}")
        return row

    def licence(self, principal: Principal, licence_id: str) -> dict:
        """The signed licence with its status (its holder, CMO and office staff; a rightholder whose works it
        covers, with which)."""
        require(principal, "ai_licence_read")
        mine = self._my_works(principal)
        with self.store.connect() as conn:
            row = self._licence_row(conn, licence_id)
            yours = self._covering(conn, licence_id, mine) if mine is not None and row.licensee != principal.name \
                else None
        if yours is None:
            self._own(principal, row.licensee, "licence")
        elif not yours:
            raise PermissionDenied(f"licence {licence_id} covers none of your works",
                                   hint="a rightholder reads the licences that cover their own works")
        out = {"licence": row.document, "status": self._status(row), "licence_sha256": row.document_sha256,
               "journal_event": row.journal_event_id}
        return out | ({"your_works": yours} if yours else {})

    @staticmethod
    def _status(row: Any, on: date | None = None) -> str:
        today = on or _now().date()
        if row.status in ("revoked", "expired"):
            return row.status
        if today > row.valid_until:
            return "expired"
        if today < row.valid_from:
            return "not-yet-valid"
        return "active"

    def licences(self, principal: Principal) -> list[dict]:
        """Licences the principal holds (all of them for CMO and office staff; for a rightholder, also those
        covering their works)."""
        require(principal, "ai_licence_read")
        stmt = select(ai_licences.c.licence_id, ai_licences.c.licensee, ai_licences.c.item_count,
                      ai_licences.c.valid_from, ai_licences.c.valid_until, ai_licences.c.status,
                      ai_licences.c.revoked_at, ai_licences.c.document_sha256).order_by(ai_licences.c.id)
        mine = self._my_works(principal)
        if mine is not None:
            covering = select(ai_licence_items.c.licence_id).where(ai_licence_items.c.number.in_(sorted(mine)))
            stmt = stmt.where((ai_licences.c.licensee == principal.name) | ai_licences.c.licence_id.in_(covering))
        elif not principal.can("ai_licence_manage"):
            stmt = stmt.where(ai_licences.c.licensee == principal.name)
        with self.store.connect() as conn:
            rows = conn.execute(stmt).all()
        return [{"licence_id": r.licence_id, "licensee": r.licensee, "items": r.item_count,
                 "valid_from": r.valid_from.isoformat(), "valid_until": r.valid_until.isoformat(),
                 "status": self._status(r), "licence_sha256": r.document_sha256} for r in rows]

    def _leaves(self, conn: Any, licence_id: str) -> list[dict]:
        rows = conn.execute(select(ai_licence_items).where(ai_licence_items.c.licence_id == licence_id)
                            .order_by(ai_licence_items.c.position)).all()
        return [leaf_object(r.position, {"number": r.number, "url": r.url, "sha256": r.sha256, "model": r.model,
                                         "currency": r.currency, "unit_minor": r.unit_minor,
                                         "amount_minor": r.amount_minor, "share_percent": r.share_percent})
                for r in rows]

    def items(self, principal: Principal, licence_id: str) -> list[dict]:
        """The licence's items, the leaves of its Merkle tree in order (what ``verify --items`` checks)."""
        require(principal, "ai_licence_read")
        with self.store.connect() as conn:
            row = self._licence_row(conn, licence_id)
            self._own(principal, row.licensee, "licence")
            return self._leaves(conn, licence_id)

    def proof(self, principal: Principal, licence_id: str, *, position: int | None = None,
              number: str | None = None) -> dict:
        """One item of the licence with its inclusion proof (by position, or the first with ``number``)."""
        leaves = self.items(principal, licence_id)
        if position is None:
            found = [leaf["position"] for leaf in leaves if number is not None and leaf.get("number") == number]
            if not found:
                raise NotFound(f"licence {licence_id} covers no item {number}")
            position = found[0]
        if not 0 <= position < len(leaves):
            raise NotFound(f"licence {licence_id} has items 0 to {len(leaves) - 1}, not {position}")
        return {"licence_id": licence_id, **inclusion_bundle(item_tree(leaves), leaves, position)}

    def verify(self, licence: bytes | str | dict, *, items: Any = None, proof: dict | None = None,
               key_history: Any = None) -> dict:
        """Verify a licence against this office's key history (or the one given), and say whether the
        office has revoked it (public: what a third party does offline, plus the revocation)."""
        history = key_history if key_history is not None else TransparencyLog(self.store).key_history()
        done = verify_licence(licence, history, items=items, proof=proof)
        doc = done["licence"]
        with self.store.connect() as conn:
            row = conn.execute(select(ai_licences.c.status, ai_licences.c.revoked_at, ai_licences.c.revoked_reason,
                                      ai_licences.c.document_sha256)
                               .where(ai_licences.c.licence_id == doc.get("licence_id"))).first()
        revoked = bool(row is not None and row.status == "revoked" and row.document_sha256 == licence_hash(doc))
        return {"licence_id": doc["licence_id"], "valid": True, "expired": done["expired"],
                "not_yet_valid": done["not_yet_valid"], "revoked": revoked,
                "revoked_at": format_time(_aware(row.revoked_at)) if revoked and row.revoked_at else None,
                "revoked_reason": row.revoked_reason if revoked else None,
                "items_checked": done["items_checked"], "proof_checked": done["proof_checked"],
                "key_id": doc.get("key_id"), "issued_at": doc.get("issued_at"), "items": doc["items"]["count"],
                "merkle_root": doc["items"]["merkle_root"], "licensee": doc.get("licensee")}

    def document(self, principal: Principal, licence_id: str, *, fmt: str = "html", locale: str = "en") -> bytes:
        """The licence as a document for people (HTML or PDF; en, es, fr, pt), with its status."""
        from obra.aiuse.licensing.document import licence_html, licence_pdf

        if fmt not in ("html", "pdf"):
            raise InvalidInput(Problem(f"format {fmt!r}: html or pdf", field="format"))
        found = self.licence(principal, licence_id)
        if fmt == "pdf":
            return licence_pdf(found["licence"], found["status"], locale)
        return licence_html(found["licence"], found["status"], locale).encode("utf-8")

    def revoke(self, principal: Principal, licence_id: str, reason: str) -> dict:
        """Revoke a licence (CMO, office staff): an ``aiuse.licence.revoked`` event; its tokens stop working."""
        require(principal, "ai_licence_manage")
        if not reason or not reason.strip():
            raise InvalidInput(Problem("say why the licence is revoked", field="reason"))
        now = _now()
        with self.store.begin() as conn:
            row = self._licence_row(conn, licence_id)
            if row.status == "revoked":
                raise Conflict(f"licence {licence_id} was already revoked at {format_time(_aware(row.revoked_at))}")
            event = Journal(self.store).record(conn, "aiuse.licence.revoked", f"ai-licence/{licence_id}",
                                               {"licence_id": licence_id, "reason": reason.strip(),
                                                "licence_sha256": row.document_sha256}, principal.name)
            conn.execute(update(ai_licences).where(ai_licences.c.licence_id == licence_id).values(
                status="revoked", revoked_at=now, revoked_reason=reason.strip()))
        return {"licence_id": licence_id, "status": "revoked", "revoked_at": format_time(now),
                "journal_event": event.id}

    def expire_due(self, principal: Principal, on: date | None = None) -> list[dict]:
        """Record an ``aiuse.licence.expired`` event for each active licence whose term has ended."""
        require(principal, "ai_licence_manage")
        today = on or _now().date()
        out = []
        with self.store.begin() as conn:
            rows = conn.execute(select(ai_licences).where(ai_licences.c.status == "active",
                                                          ai_licences.c.valid_until < today)).all()
            for row in rows:
                event = Journal(self.store).record(conn, "aiuse.licence.expired", f"ai-licence/{row.licence_id}",
                                                   {"licence_id": row.licence_id,
                                                    "valid_until": row.valid_until.isoformat()}, principal.name)
                conn.execute(update(ai_licences).where(ai_licences.c.licence_id == row.licence_id)
                             .values(status="expired"))
                out.append({"licence_id": row.licence_id, "journal_event": event.id})
        return out

    # --- the training check's hook --------------------------------------------------------------

    def licensed_items(self, principal: Any, items: pa.Table, *, use: str | None = None,
                       on: date | None = None) -> LicensedItems:
        """The manifest items (the check's item table: ``item``, ``url``, ``sha256``) that an active (not
        revoked, not expired) licence the principal holds covers — on ``on`` and for ``use`` when given,
        else :meth:`LicensedItems.for_question` narrows them — matched by the URL or SHA-256 the licence
        names; each with its licence as evidence."""
        if principal is None or getattr(principal, "name", None) is None:
            return LicensedItems()
        today = on
        with self.store.connect() as conn:
            held = conn.execute(select(ai_licences).where(
                ai_licences.c.licensee == principal.name, ai_licences.c.status == "active")).all()
            if on is not None:
                held = [h for h in held if h.valid_from <= today <= h.valid_until]
            if use is not None:
                held = [h for h in held if h.document.get("use") == use]
            if not held:
                return LicensedItems()
            ids = [h.licence_id for h in held]
            rows = conn.execute(select(ai_licence_items.c.licence_id, ai_licence_items.c.position,
                                       ai_licence_items.c.number, ai_licence_items.c.url, ai_licence_items.c.sha256)
                                .where(ai_licence_items.c.licence_id.in_(ids))).all()
        by_url: dict[str, tuple] = {}
        by_sha: dict[str, tuple] = {}
        for r in rows:
            if r.url:
                by_url.setdefault(r.url, (r.licence_id, r.position, r.number))
            if r.sha256:
                by_sha.setdefault(r.sha256.lower(), (r.licence_id, r.position, r.number))
        meta = {h.licence_id: {"licence_id": h.licence_id, "licence_sha256": h.document_sha256,
                               "merkle_root": h.merkle_root, "journal_event": h.journal_event_id,
                               "use": h.document.get("use"), "valid_from": h.valid_from.isoformat(),
                               "valid_until": h.valid_until.isoformat()} for h in held}
        names = set(items.column_names)
        item_ids = items["item"].to_pylist()
        urls = items["url"].to_pylist() if "url" in names else [None] * len(item_ids)
        shas = items["sha256"].to_pylist() if "sha256" in names else [None] * len(item_ids)
        evidence: dict[int, dict] = {}
        for item, url, sha in zip(item_ids, urls, shas):
            hit = (by_url.get(url) if url else None) or (by_sha.get(sha.lower()) if sha else None)
            if hit:
                evidence[int(item)] = {**meta[hit[0]], "position": hit[1], "number": hit[2]}
        used = sorted({e["licence_id"] for e in evidence.values()})
        return LicensedItems(evidence, evidence, [meta[i] for i in used])

    # --- the licence server ---------------------------------------------------------------------

    def server(self, base: str):
        """The RSL licence server answering at ``base`` (:class:`obra.aiuse.licensing.server.LicenceServer`)."""
        from obra.aiuse.licensing.server import LicenceServer

        return LicenceServer(self.store, base)

    # --- usage reports ---------------------------------------------------------------------------

    def report_usage(self, principal: Principal, licence_id: str, data: bytes, *, source: str = "report.csv",
                     period: str | None = None, currency: str | None = None) -> dict:
        """Record a usage report under a licence (its holder, or a CMO for it): every line priced against
        the licence (:mod:`obra.aiuse.licensing.usage`), lines outside it held, all in one transaction with
        an ``aiuse.usage.reported`` event. The same file again for the same licence changes nothing."""
        from obra.aiuse.licensing.usage import items_by_key, price_line, read_usage_report
        from obra.store.schema import ai_usage_reports

        require(principal, "ai_usage_report")
        period = period or _now().strftime("%Y-%m")
        digits = period[:4] + period[5:]
        if len(period) != 7 or period[4] != "-" or not ascii_digits(digits):
            raise InvalidInput(Problem(f"period {period!r} must be YYYY-MM", field="period"))
        if currency is not None:
            minor_exponent(currency)
            currency = currency.upper()
        sha = hashlib.sha256(data).hexdigest()
        with self.store.connect() as conn:
            lic = self._licence_row(conn, licence_id)
            if lic.licensee != principal.name and not principal.can("ai_licence_manage"):
                raise PermissionDenied(f"licence {licence_id} is {lic.licensee}'s: only they (or a CMO) report "
                                       "usage under it")
            earlier = conn.execute(select(ai_usage_reports).where(ai_usage_reports.c.licence_id == licence_id,
                                                                  ai_usage_reports.c.sha256 == sha)).first()
            if earlier is not None:
                return {**earlier.summary, "report_id": earlier.report_id, "already": True,
                        "journal_event": earlier.journal_event_id}
            leaves = self._leaves(conn, licence_id)
        lines = read_usage_report(data, source)
        by_number, by_url, by_sha = items_by_key(leaves)
        revoked = lic.status == "revoked"
        income, held, owed = [], [], {}
        covered_by_fee = 0
        for line in lines:
            item = ((by_number.get(line.number) if line.number else None) or (by_url.get(line.url) if line.url else
                    None) or (by_sha.get(line.sha256) if line.sha256 else None))
            name = line.number or line.url or line.sha256
            if item is None or revoked:
                why = (f"licence {licence_id} was revoked" if revoked else
                       f"{name} is not among the {lic.item_count} items licence {licence_id} covers")
                held.append({"line": line.line, "item": name, "reason": why})
                continue
            item = dict(item, currency=item.get("currency") or currency)
            amount = price_line(line, item, source)
            if item["model"] in PAY_ON_ACCEPTANCE:
                covered_by_fee += 1
                continue
            if amount:
                income.append((line, item, amount))
                owed[item["currency"]] = owed.get(item["currency"], 0) + amount
        report_id = "R-" + secrets.token_hex(8).upper()
        summary = {"licence_id": licence_id, "period": period, "lines": len(lines), "paid_lines": len(income),
                   "covered_by_fee": covered_by_fee, "held_lines": len(held), "owed_minor": dict(sorted(owed.items())),
                   "held": held[:200], "sha256": sha, "file": source}
        now = _now()
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "aiuse.usage.reported", f"ai-licence/{licence_id}", {
                "report_id": report_id, **{k: v for k, v in summary.items() if k != "held"}}, principal.name)
            conn.execute(insert(ai_usage_reports).values(
                report_id=report_id, licence_id=licence_id, sha256=sha, file=source[:255], summary=summary,
                submitted_by=principal.name, created_at=now, journal_event_id=event.id))
            rows = [{"licence_id": licence_id, "source": f"report:{report_id}", "line": line.line,
                     "number": item["number"], "url": line.url, "amount_minor": amount, "currency": item["currency"],
                     "period": period, "status": "pending", "reason": None, "created_at": now,
                     "journal_event_id": event.id} for line, item, amount in income]
            rows += [{"licence_id": licence_id, "source": f"report:{report_id}", "line": h["line"], "number": None,
                      "url": None, "amount_minor": 0, "currency": currency or "XXX", "period": period,
                      "status": "held", "reason": f"{h['item']}: {h['reason']}"[:1000], "created_at": now,
                      "journal_event_id": event.id} for h in held]
            for i in range(0, len(rows), 5000):
                conn.execute(insert(ai_licence_income), rows[i:i + 5000])
        return {**summary, "report_id": report_id, "already": False, "journal_event": event.id}

    # --- training-data disclosures ---------------------------------------------------------------

    def disclose(self, principal: Principal, document: bytes | str | dict, *, source: str = "disclosure.json",
                 use: str = "ai-train-generative") -> dict:
        """File an AI provider's public summary of training content (:mod:`obra.aiuse.licensing.disclosure`):
        validated with every problem named, cross-checked against the registered web locations' terms and
        the provider's licences, kept with an ``aiuse.disclosure`` event. The same document again is found."""
        import json as _json

        from obra.aiuse.licensing.disclosure import cross_check, parse_disclosure
        from obra.store.schema import ai_disclosures, ai_terms

        require(principal, "ai_disclosure")
        if isinstance(document, (bytes, str)):
            try:
                document = _json.loads(document)
            except ValueError as exc:
                raise InvalidInput(Problem(f"the disclosure is not JSON: {exc}", source=source)) from None
        parsed = parse_disclosure(document, source)
        body = parsed.model_dump(mode="json", by_alias=True)
        digest = sha256_hex(body)
        with self.store.connect() as conn:
            earlier = conn.execute(select(ai_disclosures).where(ai_disclosures.c.sha256 == digest)).first()
            history = [{"subject": r.subject, "version": r.version, "terms": r.terms, "set_at": r.set_at,
                        "journal_event": r.journal_event_id}
                       for r in conn.execute(select(ai_terms).where(ai_terms.c.subject_kind == "location")).all()]
            urls = [(r.licence_id, r.url) for r in conn.execute(
                select(ai_licence_items.c.licence_id, ai_licence_items.c.url)
                .join(ai_licences, ai_licences.c.licence_id == ai_licence_items.c.licence_id)
                .where(ai_licences.c.licensee == principal.name, ai_licence_items.c.url.is_not(None))).all()]
        report = cross_check(parsed, history, urls, use)
        if earlier is not None:
            return {"disclosure_id": earlier.disclosure_id, "already": True, "sha256": digest,
                    "provider": parsed.provider.name, "model": parsed.model.names, "report": report,
                    "journal_event": earlier.journal_event_id}
        disclosure_id = "D-" + secrets.token_hex(8).upper()
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "aiuse.disclosure", f"ai-disclosure/{disclosure_id}", {
                "disclosure_id": disclosure_id, "sha256": digest, "provider": parsed.provider.name,
                "model": parsed.model.names, "counts": report["counts"],
                "reserved_domains": report["reserved_domains"][:100]}, principal.name)
            conn.execute(insert(ai_disclosures).values(
                disclosure_id=disclosure_id, provider=parsed.provider.name[:300],
                model=", ".join(parsed.model.names)[:300], document=body, sha256=digest,
                submitted_by=principal.name, created_at=_now(), journal_event_id=event.id))
        return {"disclosure_id": disclosure_id, "already": False, "sha256": digest, "provider": parsed.provider.name,
                "model": parsed.model.names, "report": report, "journal_event": event.id}

    def disclosure_report(self, done: dict, *, fmt: str = "html", locale: str = "en") -> bytes:
        """A filed disclosure's cross-check (what :meth:`disclose` returned) as a report for rightholders
        and offices: HTML or PDF, in en, es, fr or pt."""
        from obra.aiuse.licensing.document import disclosure_html, disclosure_pdf

        if fmt not in ("html", "pdf"):
            raise InvalidInput(Problem(f"format {fmt!r}: html or pdf", field="format"))
        office, checked = TransparencyLog(self.store).office, _now().date().isoformat()
        if fmt == "pdf":
            return disclosure_pdf(done, office, checked, locale)
        return disclosure_html(done, office, checked, locale).encode("utf-8")

    # --- royalties ------------------------------------------------------------------------------

    def income(self, principal: Principal, *, licence_id: str | None = None, status: str | None = None,
               limit: int = 1000) -> list[dict]:
        """Licence income lines (the licensee's own, every one for CMO and office staff, a rightholder's works'
        for a rightholder)."""
        require(principal, "ai_licence_read")
        i, lic = ai_licence_income, ai_licences
        stmt = select(i, lic.c.licensee).join(lic, lic.c.licence_id == i.c.licence_id).order_by(i.c.id).limit(limit)
        mine = self._my_works(principal)
        if mine is not None:
            stmt = stmt.where((lic.c.licensee == principal.name) | i.c.number.in_(sorted(mine)))
        elif not principal.can("ai_licence_manage"):
            stmt = stmt.where(lic.c.licensee == principal.name)
        if licence_id:
            stmt = stmt.where(i.c.licence_id == licence_id)
        if status:
            stmt = stmt.where(i.c.status == status)
        with self.store.connect() as conn:
            rows = conn.execute(stmt).all()
        return [{"id": r.id, "licence_id": r.licence_id, "source": r.source, "line": r.line, "number": r.number,
                 "url": r.url, "amount_minor": int(r.amount_minor), "currency": r.currency, "period": r.period,
                 "status": r.status, "reason": r.reason, "run_id": r.run_id} for r in rows]

    def royalties(self, principal: Principal, period: str, currency: str) -> dict:
        """Split a period's pending licence income in ``currency`` over each licensed item's rightholders.

        The income lines (licence fees, usage-report lines, paid fetches) become one incoming
        statement of right type ``ai_training`` (one row per line, the work's or recording's registration
        number and the amount), run through the contract waterfall by
        :func:`obra.royalties.pipeline.split_for_store` like any society statement, over works *and*
        recordings: a work's money follows its ``ai_training`` shares (authors, publishers), a recording's
        its own (performers, producers), each through its agreement chains; a kept run, every payee's
        statement, money conserved to the minor unit. The lines are then marked distributed with the run, and the trace (income line → licence,
        source, report line → statement row) is kept beside the run; an ``aiuse.licence.royalties``
        event anchors its hash. Held lines are never paid.
        """
        from obra.model.vocab import RightType
        from obra.royalties.incoming import StatementLayout
        from obra.royalties.pipeline import split_for_store

        require(principal, "distribute")
        currency = (currency or "").upper()
        digits = minor_exponent(currency)
        if not period or len(period) > 10:
            raise InvalidInput(Problem("give the period as YYYY-MM", field="period"))
        with self.store.connect() as conn:
            rows = conn.execute(select(ai_licence_income).where(
                ai_licence_income.c.period == period, ai_licence_income.c.currency == currency,
                ai_licence_income.c.status == "pending").order_by(ai_licence_income.c.id)).all()
        if not rows:
            raise NotFound(f"no pending licence income in {currency} for {period}",
                           hint="income comes from accepted licences, usage reports and paid fetches")
        work = self.home / "royalties" / f".staging-{secrets.token_hex(4)}"
        work.mkdir(parents=True)
        try:
            statement = work / f"ai-licences-{period}-{currency}.csv"
            trace = work / "trace.csv"
            with statement.open("w", newline="", encoding="utf-8") as fh, trace.open("w", newline="",
                                                                                     encoding="utf-8") as th:
                out, tw = csv.writer(fh), csv.writer(th)
                out.writerow(["Registration", "Amount"])
                tw.writerow(["statement_line", "income_id", "licence_id", "source", "source_line", "number",
                             "amount_minor", "currency"])
                for n, r in enumerate(rows, 2):
                    out.writerow([r.number, str(from_minor(int(r.amount_minor), currency))])
                    tw.writerow([n, r.id, r.licence_id, r.source, r.line or "", r.number, int(r.amount_minor),
                                 currency])
            layout = StatementLayout(period=period, currency=currency, work_id_column="Registration",
                                     right_type_column=None, right_type=RightType.AI_TRAINING, minor_digits=digits)
            report = split_for_store(self.store, principal, statement, layout, targets=("work", "recording"))
            run_id = report["run"]
            kept = Path(report["directory"]) / "ai-licence-trace.csv"
            shutil.copyfile(trace, kept)
            trace_sha = hashlib.sha256(kept.read_bytes()).hexdigest()
            total = sum(int(r.amount_minor) for r in rows)
            with self.store.begin() as conn:
                event = Journal(self.store).record(conn, "aiuse.licence.royalties", f"run/{run_id}", {
                    "run": run_id, "period": period, "currency": currency, "lines": len(rows),
                    "amount_minor": total, "trace_sha256": trace_sha,
                    "licences": sorted({r.licence_id for r in rows})}, principal.name)
                conn.execute(update(ai_licence_income).where(ai_licence_income.c.id.in_([r.id for r in rows]))
                             .values(status="distributed", run_id=run_id))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return {"run": run_id, "period": period, "currency": currency, "lines": len(rows), "amount_minor": total,
                "trace": str(kept), "trace_sha256": trace_sha, "journal_event": event.id,
                "rights": report.get("rights", {})}


def _sum_by_currency(table: pa.Table) -> dict[str, int]:
    """Amounts (minor units) summed per currency, in Arrow (exact: int64 sums)."""
    summed = (table.filter(pc.is_valid(table["currency"])).group_by("currency")
              .aggregate([("amount_minor", "sum")]))
    return {c: int(a) for c, a in sorted(zip(summed["currency"].to_pylist(), summed["amount_minor_sum"].to_pylist()))}


def _fold(fees: dict[tuple[str, str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_number, currency), amount in fees.items():
        out[currency] = out.get(currency, 0) + amount
    return dict(sorted(out.items()))
