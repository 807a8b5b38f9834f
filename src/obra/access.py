"""Who may do what: authenticated principals, bearer tokens and one table of permissions.

Every write needs an authenticated principal. Reads of public records need none. The
CLI and the API both call :func:`authenticate` and :func:`require`, so the rules live in
one place (:data:`PERMISSIONS`) and tests can prove every denial.

Tokens are random (``obra_`` + 43 url-safe characters); only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select

from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied, Problem
from obra.model.vocab import AccessRole as R
from obra.store import Store
from obra.store.schema import parties, principals

# action -> roles allowed to do it for anyone. Admin may do everything.
PERMISSIONS: dict[str, frozenset[R]] = {
    "register": frozenset({R.REGISTRANT, R.CREATOR, R.OFFICE_STAFF, R.CMO}),
    "correct": frozenset({R.REGISTRANT, R.CREATOR, R.OFFICE_STAFF, R.CMO}),
    "withdraw": frozenset({R.REGISTRANT, R.CREATOR, R.OFFICE_STAFF, R.CMO}),
    "correct_any": frozenset({R.OFFICE_STAFF}),
    # The register's keeper judges possible prior work; a CMO is a party to such disputes, not their judge.
    "review": frozenset({R.OFFICE_STAFF}),
    "add_party": frozenset({R.REGISTRANT, R.CREATOR, R.OFFICE_STAFF, R.CMO}),
    "add_agreement": frozenset({R.REGISTRANT, R.OFFICE_STAFF, R.CMO}),
    "import": frozenset({R.OFFICE_STAFF, R.CMO, R.REGISTRANT}),
    "ingest_usage": frozenset({R.CMO, R.OFFICE_STAFF}),
    "match": frozenset({R.CMO, R.OFFICE_STAFF}),
    "distribute": frozenset({R.CMO}),
    "read_statement": frozenset({R.CMO, R.OFFICE_STAFF}),
    "read_journal": frozenset({R.CMO, R.OFFICE_STAFF}),
    "claim": frozenset({R.REGISTRANT, R.CREATOR, R.CMO}),
    "ai_terms": frozenset({R.REGISTRANT, R.CREATOR, R.CMO, R.OFFICE_STAFF}),
    "ai_terms_any": frozenset({R.CMO, R.OFFICE_STAFF}),
    "ai_check": frozenset({R.AI_DEVELOPER, R.CMO, R.OFFICE_STAFF, R.REGISTRANT}),
    "ai_quote": frozenset({R.AI_DEVELOPER, R.CMO, R.OFFICE_STAFF}),
    "ai_licence": frozenset({R.AI_DEVELOPER}),
    "ai_licence_read": frozenset({R.AI_DEVELOPER, R.CMO, R.OFFICE_STAFF, R.CREATOR}),
    "ai_licence_manage": frozenset({R.CMO, R.OFFICE_STAFF}),
    "ai_usage_report": frozenset({R.AI_DEVELOPER, R.CMO}),
    "ai_disclosure": frozenset({R.AI_DEVELOPER, R.CMO, R.OFFICE_STAFF}),
    "likeness_consent": frozenset({R.CREATOR, R.REGISTRANT, R.CMO, R.OFFICE_STAFF}),
    "likeness_consent_any": frozenset({R.CMO, R.OFFICE_STAFF}),
    "ai_evidence": frozenset({R.CMO, R.OFFICE_STAFF}),
    "observatory": frozenset({R.CMO, R.OFFICE_STAFF}),
    "manage_keys": frozenset({R.OFFICE_STAFF}),
    "federation": frozenset({R.OFFICE_STAFF}),
    "manage_principals": frozenset(),
    "fairness_terms": frozenset({R.REGISTRANT, R.OFFICE_STAFF, R.CMO}),
    "fairness_check": frozenset({R.CMO, R.OFFICE_STAFF}),
    "fairness_report": frozenset({R.CMO, R.OFFICE_STAFF}),
}

# action -> roles allowed to do it only for the party they are (a creator reads their own statement).
OWN_PARTY: dict[str, frozenset[R]] = {
    "read_statement": frozenset({R.CREATOR, R.REGISTRANT}),
    "fairness_check": frozenset({R.CREATOR, R.REGISTRANT}),
    "fairness_report": frozenset({R.CREATOR, R.REGISTRANT}),
    "ai_evidence": frozenset({R.CREATOR, R.REGISTRANT}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a name, a role and, for creators, the party they are."""

    name: str
    role: R
    party_id: int | None = None
    id: int | None = None

    def can(self, action: str, party: int | str | None = None) -> bool:
        """May this principal do ``action`` (for ``party``, where the action is about one party)?"""
        if action not in PERMISSIONS:
            raise KeyError(f"unknown action '{action}'")
        if self.role == R.ADMIN or self.role in PERMISSIONS[action]:
            return True
        return (party is not None and self.party_id is not None and str(self.party_id) == str(party)
                and self.role in OWN_PARTY.get(action, frozenset()))


ANONYMOUS = Principal("anonymous", R.PUBLIC)


def require(principal: Principal | None, action: str, party: int | str | None = None) -> Principal:
    """Raise 401 for no/unknown principal, 403 when the role may not do ``action`` (for ``party``).

    The one access check of the house: every service calls it, at its entrance, from
    :data:`PERMISSIONS` and :data:`OWN_PARTY`; interfaces only authenticate.
    """
    if principal is None or principal.role == R.PUBLIC:
        raise AuthenticationRequired(f"'{action.replace('_', ' ')}' needs an authenticated principal")
    if not principal.can(action, party):
        allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action] | {R.ADMIN}))
        own = OWN_PARTY.get(action)
        also = (f"; {', '.join(sorted(r.value for r in own))} only for their own party" if own else "")
        mine = f" (you are party {principal.party_id})" if own and principal.party_id is not None else ""
        raise PermissionDenied(f"role '{principal.role.value}' may not {action.replace('_', ' ')}"
                               + (f" for party {party}{mine}" if party is not None else "")
                               + f"; allowed roles: {allowed}{also}",
                               hint="ask an admin for a principal with one of those roles (`obra principal add`)")
    return principal


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_principal(store: Store, name: str, role: R | str, party_id: int | None = None,
                     by: Principal | None = None) -> tuple[Principal, str]:
    """Create a principal and return it with its token (shown once, stored only as a hash).

    ``by`` must be an admin, except when the store has no principal yet (bootstrap by ``obra init``).
    """
    try:
        role = R(role)
    except ValueError:
        raise InvalidInput(Problem(f"unknown role '{role}'; use one of {', '.join(r.value for r in R)}",
                                   field="role")) from None
    from obra.journal import Journal

    token = "obra_" + secrets.token_urlsafe(32)
    with store.begin() as conn:
        existing = conn.execute(select(principals.c.id).limit(1)).first()
        if existing is not None:
            require(by, "manage_principals")
        if conn.execute(select(principals.c.id).where(principals.c.name == name)).first():
            raise InvalidInput(Problem(f"a principal named '{name}' already exists", field="name"))
        if party_id is not None and conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first() is None:
            raise InvalidInput(Problem(f"no party with id {party_id}", field="party"),
                               hint="add the party first (`obra party add`), then give its id")
        pid = conn.execute(insert(principals).values(
            name=name, role=role.value, party_id=party_id, token_hash=_hash(token), active=True,
            created_at=datetime.now(timezone.utc))).inserted_primary_key[0]
        Journal(store).record(conn, "principal.created", f"principal/{pid}",
                              {"name": name, "role": role.value, "party_id": party_id},
                              by.name if existing is not None else "bootstrap")
    return Principal(name, role, party_id, pid), token


def authenticate(store: Store, token: str | None) -> Principal:
    """The principal a token belongs to; :class:`AuthenticationRequired` if none or unknown."""
    if not token:
        raise AuthenticationRequired("no token given: pass Authorization: Bearer <token> or set OBRA_TOKEN")
    with store.connect() as conn:
        row = conn.execute(select(principals).where(principals.c.token_hash == _hash(token.strip()))).first()
    if row is None or not row.active:
        raise AuthenticationRequired("the token is not valid (unknown or revoked)")
    return Principal(row.name, R(row.role), row.party_id, row.id)
