"""The permission table, walked over both surfaces: every action, every role, the CLI and the API.

:data:`SURFACES` names, for every action of :data:`obra.access.PERMISSIONS` that an interface
performs, the ``obra`` invocation and the API request that do it. For each of them:

* no token → HTTP 401 / exit 4, with a message naming the action ("'match' needs an authenticated
  principal") — the same words on both surfaces, because the service says them;
* a role the table does not allow → 403 / exit 5 ("role 'creator' may not match");
* a role it allows → neither: the call may still fail for its input (422/404/400, exit 2/3/8),
  because the samples are deliberately tiny.

An action without a surface must be listed in :data:`NO_SURFACE` with the reason, so a new
action in the table fails this file until someone says how it is reached.

The CLI side runs on SQLite (one ``OBRA_HOME`` for the module, principals made with
``obra principal add``); the API side walks every role on SQLite and a representative subset
(no token, the first denied role, the first allowed role) on PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra import ids
from obra.access import OWN_PARTY, PERMISSIONS, create_principal
from obra.api.app import create_app
from obra.cli.main import app as cli
from obra.model.vocab import AccessRole
from obra.store.paths import StorePaths
from obra.transparency.translog import TransparencyLog

runner = CliRunner()

# Roles a principal can have (the `principals` fixture makes one of each); public is "no token".
ROLES = tuple(r.value for r in AccessRole if r is not AccessRole.PUBLIC)

# What an allowed call may still answer: it reached the service and failed only for its (tiny) input.
ALLOWED_STATUS = {200, 201, 400, 404, 409, 422}
ALLOWED_EXIT = {0, 2, 3, 6, 8}

# Actions in the table that no interface performs yet, and why.
NO_SURFACE = {
    "likeness_consent_any": "a data rule inside `likeness_consent`: CMO and office staff may record consent for any "
                            "performer (tests/aiuse/licensing/test_consent.py proves it)",
    "ai_terms_any": "a data rule inside `ai_terms`: CMO and office staff may state terms for any subject "
                    "(tests/aiuse/test_terms_service.py::test_denials proves it)",
    "correct_any": "a data rule inside `correct`: office staff may correct a registration someone else made "
                   "(test_correct_any_is_the_rule_inside_correct proves it on both surfaces)",
}


@dataclass
class Samples:
    """Small input files and names the invocations use; one set per store."""

    root: Path
    office: str
    key_history: bytes
    names: Iterator[int]

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        files = {
            "record.json": json.dumps({"title": "Walk, corrected"}),
            "agreement.json": "{}",  # no kind, no parties: refused as input, after the access check
            "batch.json": json.dumps({"parties": [{"name": "Batch Walker"}]}),
            "parties.csv": "key,name\nw,Csv Walker\n",
            "usage.csv": "this,is,not\na,usage,report\n",
            "report.tsv": "HEAD\tnot a DSR\n",
            "works.cwr": "HDR not a CWR file\n",
            "statement.csv": "Work ID,Amount\n",
            "export.json": json.dumps({"format": "not a log export"}),
            "keys.json": self.key_history.decode(),
            "work.txt": "Las palabras de la canción, para sus códigos de contenido.\n",
            "terms.json": json.dumps(self.terms),
            "manifest.csv": "url\nhttps://walk.example/a\n",
        }
        for name, text in files.items():
            (self.root / name).write_text(text, encoding="utf-8")

    def path(self, name: str) -> str:
        return str(self.root / name)

    def upload(self, name: str) -> tuple[str, bytes]:
        return name, (self.root / name).read_bytes()

    @property
    def number(self) -> str:
        """A well-formed registration number of this office that is not registered."""
        return ids.format_registration_number(self.office, 2026, 9_999_999)

    @property
    def terms(self) -> dict:
        """AI-use terms for the unregistered number (refused as not found, after the access check)."""
        return {"subject_kind": "work", "subject": self.number,
                "uses": [{"use": "ai-train-generative", "permission": "not-allowed"}]}

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.names)}"


Request = tuple[str, str, dict]


@dataclass(frozen=True)
class Surface:
    """One way to perform an action: an ``obra`` invocation and the API request that does the same."""

    name: str
    cli: Callable[[Samples], list[str]]
    api: Callable[[Samples], Request]


def _text(s: Samples) -> dict:
    return {"file": s.upload("work.txt")}


SURFACES: dict[str, tuple[Surface, ...]] = {
    "register": (
        Surface("register", lambda s: ["register", "--title", "Walk"],
                lambda s: ("POST", "/registrations", {"json": {"title": "Walk"}})),
        Surface("register --content", lambda s: ["register", "--title", "Walk", "--content", s.path("work.txt")],
                lambda s: ("POST", "/registrations/with-content",
                           {"data": {"record": json.dumps({"title": "Walk"})}, "files": _text(s)})),
    ),
    "correct": (
        Surface("correct", lambda s: ["correct", s.number, "--file", s.path("record.json"), "--reason", "typo"],
                lambda s: ("POST", f"/registrations/{s.number}/corrections",
                           {"json": {"reason": "typo", "record": {"title": "Walk, corrected"}}})),
        Surface("correct --content",
                lambda s: ["correct", s.number, "--file", s.path("record.json"), "--reason", "new master",
                           "--content", s.path("work.txt")],
                lambda s: ("POST", f"/registrations/{s.number}/corrections/with-content",
                           {"data": {"record": json.dumps({"title": "Walk, corrected"}), "reason": "new master"},
                            "files": _text(s)})),
    ),
    "withdraw": (
        Surface("withdraw", lambda s: ["withdraw", s.number, "--reason", "duplicate"],
                lambda s: ("POST", f"/registrations/{s.number}/withdrawal", {"json": {"reason": "duplicate"}})),
    ),
    "add_party": (
        Surface("party add", lambda s: ["party", "add", "Ana Walker"],
                lambda s: ("POST", "/parties", {"json": {"name": "Ana Walker"}})),
    ),
    "add_agreement": (
        Surface("agreement add", lambda s: ["agreement", "add", "--file", s.path("agreement.json")],
                lambda s: ("POST", "/agreements", {"json": {}})),
    ),
    "import": (
        Surface("import FILE.json", lambda s: ["import", s.path("batch.json")],
                lambda s: ("POST", "/batches", {"json": {"parties": [{"name": "Batch Walker"}]}})),
        Surface("import FILE.csv", lambda s: ["import", s.path("parties.csv"), "--entity", "parties"],
                lambda s: ("POST", "/batches/upload",
                           {"data": {"entity": "parties"}, "files": {"file": s.upload("parties.csv")}})),
        Surface("ingest cwr", lambda s: ["ingest", "cwr", s.path("works.cwr")],
                lambda s: ("POST", "/ingest/cwr", {"files": {"file": s.upload("works.cwr")}})),
    ),
    "ingest_usage": (
        Surface("ingest usage", lambda s: ["ingest", "usage", s.path("usage.csv")],
                lambda s: ("POST", "/ingest/usage", {"files": {"file": s.upload("usage.csv")}})),
        Surface("ingest dsr", lambda s: ["ingest", "dsr", s.path("report.tsv")],
                lambda s: ("POST", "/ingest/dsr", {"files": {"file": s.upload("report.tsv")}})),
    ),
    "match": (
        Surface("match", lambda s: ["match", "--period", "2099-01"],
                lambda s: ("POST", "/match", {"json": {"period": "2099-01"}})),
    ),
    "distribute": (
        Surface("distribute", lambda s: ["distribute", "--period", "2099-01"],
                lambda s: ("POST", "/distributions", {"json": {"period": "2099-01"}})),
        Surface("split-statement",
                lambda s: ["split-statement", s.path("statement.csv"), "--period", "2099-Q1", "--currency", "EUR"],
                lambda s: ("POST", "/statements-in", {"data": {"period": "2099-Q1", "currency": "EUR"},
                                                      "files": {"file": s.upload("statement.csv")}})),
        Surface("compare-models", lambda s: ["compare-models", "--period", "2099-01"],
                lambda s: ("GET", "/distributions/compare", {"params": {"period": "2099-01"}})),
        Surface("ai royalties", lambda s: ["ai", "royalties", "2099-01", "EUR"],
                lambda s: ("POST", "/ai/licences/royalties", {"json": {"period": "2099-01", "currency": "EUR"}})),
    ),
    "read_statement": (
        Surface("statements", lambda s: ["statements", "--payee", "10"],
                lambda s: ("GET", "/statements/10", {})),
        Surface("runs", lambda s: ["runs"], lambda s: ("GET", "/distributions", {})),
    ),
    "read_journal": (
        Surface("journal list", lambda s: ["journal", "list"], lambda s: ("GET", "/journal", {})),
    ),
    "claim": (
        Surface("claims claim", lambda s: ["claims", "claim", "no-such-group", "--work", s.number],
                lambda s: ("POST", "/claims/no-such-group", {"json": {"work": s.number}})),
    ),
    "observatory": (
        Surface("report", lambda s: ["report", "--period", "2099-01", "--out", str(s.root / "observatory")],
                lambda s: ("POST", "/observatory/report", {"json": {"period": "2099-01"}})),
    ),
    "manage_keys": (
        Surface("keys rotate", lambda s: ["keys", "rotate"], lambda s: ("POST", "/keys/rotate", {})),
    ),
    "fairness_terms": (
        Surface("fairness terms", lambda s: ["fairness", "terms", "999999", "--jurisdiction", "DE"],
                lambda s: ("PUT", "/fairness/terms/999999", {"json": {"jurisdiction": "DE"}})),
    ),
    "fairness_check": (
        Surface("fairness check", lambda s: ["fairness", "check", "--as-of", "2099-01-01"],
                lambda s: ("POST", "/fairness/checks", {"json": {"as_of": "2099-01-01"}})),
        Surface("fairness letter", lambda s: ["fairness", "letter", "999999", "1"],
                lambda s: ("POST", "/fairness/checks/999999/letters/1", {})),
    ),
    "fairness_report": (
        Surface("fairness report", lambda s: ["fairness", "report", "999999", "--year", "2099"],
                lambda s: ("POST", "/fairness/reports/999999", {"params": {"year": 2099}})),
        Surface("fairness reports", lambda s: ["fairness", "reports", "--year", "2099"],
                lambda s: ("POST", "/fairness/reports", {"params": {"year": 2099}})),
    ),
    "federation": (
        Surface("federation import", lambda s: ["federation", "import", s.path("export.json")],
                lambda s: ("POST", "/federation/import", {"json": {"format": "not a log export"}})),
        Surface("federation import --keys",
                lambda s: ["federation", "import", s.path("export.json"), "--keys", s.path("keys.json")],
                lambda s: ("POST", "/federation/import/upload",
                           {"files": {"file": s.upload("export.json"), "keys": s.upload("keys.json")}})),
    ),
    "ai_terms": (
        Surface("ai terms set", lambda s: ["ai", "terms", "set", s.path("terms.json")],
                lambda s: ("PUT", "/ai/terms", {"json": s.terms})),
    ),
    "ai_check": (
        Surface("ai check", lambda s: ["ai", "check", s.path("manifest.csv"), "--jurisdiction", "DE",
                                       "--purpose", "commercial"],
                lambda s: ("POST", "/ai/check", {"data": {"jurisdiction": "DE", "purpose": "commercial"},
                                                 "files": {"manifest": s.upload("manifest.csv")}})),
    ),
    "ai_evidence": (
        Surface("ai evidence", lambda s: ["ai", "evidence", "1", "--work", s.number, "--against", "Walk AI"],
                lambda s: ("POST", "/ai/evidence", {"json": {"check": "1", "work": s.number, "against": "Walk AI"}})),
    ),
    "ai_quote": (
        Surface("ai quote", lambda s: ["ai", "quote", s.path("manifest.csv")],
                lambda s: ("POST", "/ai/quotes", {"files": {"manifest": s.upload("manifest.csv")}})),
    ),
    "ai_licence": (
        Surface("ai licence accept", lambda s: ["ai", "licence", "accept", "Q-NOPE"],
                lambda s: ("POST", "/ai/quotes/Q-NOPE/accept", {})),
    ),
    "ai_licence_read": (
        Surface("ai licence list", lambda s: ["ai", "licence", "list"], lambda s: ("GET", "/ai/licences", {})),
        Surface("ai licence show", lambda s: ["ai", "licence", "show", "L-NOPE"],
                lambda s: ("GET", "/ai/licences/L-NOPE", {})),
    ),
    "ai_licence_manage": (
        Surface("ai licence revoke", lambda s: ["ai", "licence", "revoke", "L-NOPE", "--reason", "walk"],
                lambda s: ("POST", "/ai/licences/L-NOPE/revoke", {"json": {"reason": "walk"}})),
        Surface("ai licence expire", lambda s: ["ai", "licence", "expire"],
                lambda s: ("POST", "/ai/licences/expire", {})),
    ),
    "ai_usage_report": (
        Surface("ai usage", lambda s: ["ai", "usage", "L-NOPE", s.path("usage.csv")],
                lambda s: ("POST", "/ai/licences/L-NOPE/usage", {"files": {"report": s.upload("usage.csv")}})),
    ),
    "ai_disclosure": (
        Surface("ai disclosure", lambda s: ["ai", "disclosure", s.path("export.json")],
                lambda s: ("POST", "/ai/disclosures", {"files": {"file": s.upload("export.json")}})),
    ),
    "likeness_consent": (
        Surface("likeness consent", lambda s: ["likeness", "consent", s.path("record.json")],
                lambda s: ("POST", "/likeness/consents", {"json": {"title": "Walk, corrected"}})),
        Surface("likeness revoke", lambda s: ["likeness", "revoke", "C-NOPE", "--reason", "walk"],
                lambda s: ("POST", "/likeness/consents/C-NOPE/revoke", {"json": {"reason": "walk"}})),
    ),
    "review": (
        Surface("review list", lambda s: ["review", "list", "--limit", "5"],
                lambda s: ("GET", "/review", {"params": {"limit": 5}})),
        Surface("review mark", lambda s: ["review", "mark", s.number, "--note", "walk"],
                lambda s: ("POST", f"/review/{s.number}", {"json": {"note": "walk"}})),
    ),
    "manage_principals": (
        Surface("principal add", lambda s: ["principal", "add", s.unique("walker"), "--role", "creator"],
                lambda s: ("POST", "/principals", {"json": {"name": s.unique("walker"), "role": "creator"}})),
    ),
}

CASES = [(action, surface) for action, surfaces in SURFACES.items() for surface in surfaces]
CASE_IDS = [f"{action}:{surface.name}" for action, surface in CASES]


def allowed(action: str) -> list[str]:
    """The roles the table lets do ``action`` for anyone (admin always)."""
    return [r for r in ROLES if r == AccessRole.ADMIN.value or AccessRole(r) in PERMISSIONS[action]]


def denied(action: str) -> list[str]:
    return [r for r in ROLES if r not in allowed(action)]


def label(action: str) -> str:
    """How :func:`obra.access.require` names an action in its messages."""
    return action.replace("_", " ")


def test_every_action_has_surfaces_or_a_reason():
    assert not set(SURFACES) & set(NO_SURFACE), "an action is both walked and listed as having no surface"
    assert set(SURFACES) | set(NO_SURFACE) == set(PERMISSIONS), (
        f"actions without a surface in this test and without a reason in NO_SURFACE: "
        f"{sorted(set(PERMISSIONS) - set(SURFACES) - set(NO_SURFACE))}; unknown actions named here: "
        f"{sorted((set(SURFACES) | set(NO_SURFACE)) - set(PERMISSIONS))}")
    assert all(SURFACES[a] for a in SURFACES)


def test_the_walk_has_both_kinds_of_role_for_almost_every_action():
    """Guards the walk itself: an action no role may do, or every role may, proves only half the rule."""
    only_admin = {a for a in SURFACES if allowed(a) == [AccessRole.ADMIN.value]}
    assert only_admin == {"manage_principals"}
    assert all(denied(a) for a in SURFACES)


# --- the API ---------------------------------------------------------------------------------


def _call(client: TestClient, request: Request, token: str | None):
    method, url, kwargs = request
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, url, headers=headers, **kwargs)


def _api_outcome(client: TestClient, samples: Samples, action: str, surface: Surface, role: str | None,
                 token: str | None) -> str | None:
    """What is wrong with one API call (None when it answered as the table says)."""
    response = _call(client, surface.api(samples), token)
    where = f"{surface.api(samples)[0]} {surface.api(samples)[1]} ({action}) as {role or 'no token'}"
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    message = body.get("message", "") if isinstance(body, dict) else ""
    if role is None:
        if response.status_code != 401 or f"'{label(action)}' needs an authenticated principal" not in message:
            return f"{where}: expected 401 naming '{label(action)}', got {response.status_code} {response.text[:200]}"
    elif role in denied(action):
        if response.status_code != 403 or f"may not {label(action)}" not in message:
            return f"{where}: expected 403 naming '{label(action)}', got {response.status_code} {response.text[:200]}"
    elif response.status_code not in ALLOWED_STATUS:
        return f"{where}: an allowed role got {response.status_code} {response.text[:200]}"
    return None


def _samples(store, root: Path) -> Samples:
    return Samples(root, store.office, TransparencyLog(store).key_history().to_json().encode(), itertools.count())


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("action", "surface"), CASES, ids=CASE_IDS)
def test_api_answers_every_role_as_the_table_says(store, principals, tmp_path, action, surface):
    client = TestClient(create_app(store))
    samples = _samples(store, tmp_path / "samples")
    wrong = [_api_outcome(client, samples, action, surface, None, None)]
    wrong += [_api_outcome(client, samples, action, surface, role, principals[role][1]) for role in ROLES]
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_api_denials_hold_on_postgresql(store, principals, tmp_path):
    """On PostgreSQL, every surface with no token, its first denied role and its first allowed one."""
    client = TestClient(create_app(store))
    samples = _samples(store, tmp_path / "samples")
    wrong = []
    for action, surface in CASES:
        wrong.append(_api_outcome(client, samples, action, surface, None, None))
        for role in (denied(action)[0], allowed(action)[0]):
            wrong.append(_api_outcome(client, samples, action, surface, role, principals[role][1]))
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


def test_a_creator_reads_only_their_own_statement_over_the_api(store, principals):
    assert AccessRole.CREATOR in OWN_PARTY["read_statement"]
    client = TestClient(create_app(store))
    admin = {"Authorization": f"Bearer {principals['admin'][1]}"}
    party = client.post("/parties", json={"name": "Rosa Walker"}, headers=admin).json()["id"]
    made = client.post("/principals", json={"name": "rosa", "role": "creator", "party": party}, headers=admin)
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    own = client.get(f"/statements/{party}", headers=headers)
    assert own.status_code == 404, own.text  # allowed: there is simply no run yet
    other = client.get(f"/statements/{party + 1}", headers=headers)
    assert other.status_code == 403
    assert f"for party {party + 1} (you are party {party})" in other.json()["message"]


def test_correct_any_is_the_rule_inside_correct(store, principals):
    """Office staff may correct anyone's registration; another registrant may not (403)."""
    client = TestClient(create_app(store))
    root = principals["admin"][0]
    _, other_token = create_principal(store, "registrant-2", AccessRole.REGISTRANT, by=root)
    created = client.post("/registrations", json={"title": "Mine"},
                          headers={"Authorization": f"Bearer {principals['registrant'][1]}"})
    assert created.status_code == 201, created.text
    url = f"/registrations/{created.json()['number']}/corrections"
    body = {"reason": "typo", "record": {"title": "Mine, corrected"}}
    refused = client.post(url, json=body, headers={"Authorization": f"Bearer {other_token}"})
    assert refused.status_code == 403 and "only they or office staff" in refused.json()["message"]
    staff = client.post(url, json=body, headers={"Authorization": f"Bearer {principals['office_staff'][1]}"})
    assert staff.status_code == 201 and staff.json()["version"] == 2


# --- the CLI ---------------------------------------------------------------------------------


@dataclass
class CliHome:
    """One initialised OBRA_HOME with a principal (and token) per role, made with `obra principal add`."""

    home: Path
    tokens: dict[str, str]
    samples: Samples
    own_party: int

    @contextmanager
    def without_local_admin(self) -> Iterator[None]:
        """No token at all: the local admin's credentials, used when no token is given, are put aside."""
        credentials = StorePaths(self.home).credentials
        aside = credentials.with_name(credentials.name + ".aside")
        shutil.move(credentials, aside)
        try:
            yield
        finally:
            shutil.move(aside, credentials)


def _obra(args: list[str]):
    result = runner.invoke(cli, args)
    assert "Usage:" not in result.output, f"`obra {' '.join(args)}` is not a valid invocation:\n{result.output}"
    return result


@pytest.fixture(scope="module")
def cli_walk(tmp_path_factory) -> Iterator[CliHome]:
    home = tmp_path_factory.mktemp("walk") / "obra-home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OBRA_HOME", str(home))
        mp.setenv("OBRA_OFFICE", "UYMVD")
        mp.delenv("OBRA_DATABASE_URL", raising=False)
        mp.delenv("OBRA_TOKEN", raising=False)
        assert _obra(["init", "--json"]).exit_code == 0
        tokens = {}
        for role in ROLES:
            made = _obra(["principal", "add", f"cli-{role}", "--role", role, "--json"])
            assert made.exit_code == 0, made.output
            tokens[role] = json.loads(made.stdout)["token"]
        party = _obra(["party", "add", "Rosa Walker", "--json"])
        assert party.exit_code == 0, party.output
        own = json.loads(party.stdout)["id"]
        made = _obra(["principal", "add", "cli-rosa", "--role", "creator", "--party", str(own), "--json"])
        assert made.exit_code == 0, made.output
        tokens["rosa"] = json.loads(made.stdout)["token"]
        keys = _obra(["keys", "export"])
        assert keys.exit_code == 0, keys.output
        samples = Samples(home.parent / "samples", "UYMVD", keys.stdout.encode(), itertools.count())
        yield CliHome(home, tokens, samples, own)


def _cli_outcome(walk: CliHome, action: str, surface: Surface, role: str | None) -> str | None:
    """What is wrong with one `obra` invocation (None when it answered as the table says)."""
    args = surface.cli(walk.samples)
    if role is None:
        with walk.without_local_admin():
            result = _obra(args)
    else:
        result = _obra([*args, "--token", walk.tokens[role]])
    where = f"`obra {' '.join(args)}` ({action}) as {role or 'no token'}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{where}: raised {result.exception!r}"
    if role is None:
        if result.exit_code != 4 or f"'{label(action)}' needs an authenticated principal" not in result.stderr:
            return f"{where}: expected exit 4 naming '{label(action)}', got {result.exit_code}: {result.output[-300:]}"
    elif role in denied(action):
        if result.exit_code != 5 or f"may not {label(action)}" not in result.stderr:
            return f"{where}: expected exit 5 naming '{label(action)}', got {result.exit_code}: {result.output[-300:]}"
    elif result.exit_code not in ALLOWED_EXIT:
        return f"{where}: an allowed role got exit {result.exit_code}: {result.output[-300:]}"
    return None


@pytest.mark.parametrize(("action", "surface"), CASES, ids=CASE_IDS)
def test_cli_answers_every_role_as_the_table_says(cli_walk, action, surface):
    wrong = [_cli_outcome(cli_walk, action, surface, None)]
    wrong += [_cli_outcome(cli_walk, action, surface, role) for role in ROLES]
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


def test_obra_match_without_a_token_says_it_needs_a_principal(cli_walk):
    with cli_walk.without_local_admin():
        result = _obra(["match"])
    assert result.exit_code == 4
    assert "'match' needs an authenticated principal" in result.stderr
    assert "--token or OBRA_TOKEN" in result.stderr  # the hint says how


def test_a_creator_reads_only_their_own_statement_on_the_command_line(cli_walk):
    token, party = cli_walk.tokens["rosa"], cli_walk.own_party
    own = _obra(["statements", "--payee", str(party), "--token", token])
    assert own.exit_code == 3, own.output  # allowed: there is simply no run yet
    other = _obra(["statements", "--payee", str(party + 1), "--token", token])
    assert other.exit_code == 5
    assert f"for party {party + 1} (you are party {party})" in other.stderr
