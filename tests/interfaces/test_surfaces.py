"""Every write the CLI can do, the API can do, with the same options (and the other way round).

The commands are read from the Typer application itself (every command with a ``--token`` option
is a write: it acts as a principal), the routes from the FastAPI application and their parameters
from its OpenAPI document (query, path and header parameters, and the request body's fields,
multipart forms included). :data:`PARITY` declares which routes perform each command; for each
pair, the command's option and argument names must equal the route's parameter names, after the
small rename table of that pair. Where the two surfaces legitimately differ, the pair says why.

Nothing is compared by hand-written lists of parameters: add an option to ``obra distribute``
and not to ``POST /distributions`` (or the other way round) and this file fails, naming the
command, the route and the option.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from pydantic import BaseModel
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.main import app as cli_app
from obra.model.agreement import Agreement
from obra.model.party import Party
from obra.model.recording import Recording
from obra.model.work import Work
from obra.store import Store
from obra.store.paths import StorePaths

# Options that shape the output of one surface, not what is done: never compared.
PRESENTATION = {
    "token": "the API authenticates with `Authorization: Bearer`",
    "as_json": "the API always answers JSON",
    "locale": "the API reads the document language from `Accept-Language`",
    "output": "the CLI writes the answer to a file; the API returns it",
}

# CLI commands that write locally and have no API, on purpose.
LOCAL_ONLY = {
    "init": "creates the store and the local admin on this machine",
    "migrate": "brings this machine's store schema up to date",
    "demo": "loads a demo catalogue into a local store",
    "serve": "runs the API itself",
}

# API writes (methods other than GET) no CLI command mirrors, and why.
API_ONLY = {
    ("POST", "/ai/check/receipt/verify"): "the receipt is the request body; `obra ai receipt FILE [--results DIR]` is "
                                          "the offline check, which also hashes the result files on the user's disk",
    ("POST", "/ai/evidence/verify"): "the bundle is the request body; `obra ai evidence-verify FILE [--keys]` is the "
                                     "offline check a third party runs with the office's published keys",
    ("POST", "/ai/licences/verify"): "the licence is the request body; `obra ai licence verify FILE [--items] "
                                     "[--proof] [--key-history]` is the offline check anyone runs with the office's keys",
    ("POST", "/ai/olp/token"): "the RSL licence server's OAuth 2.0 token endpoint, for crawlers (HTTP Basic client "
                               "credentials of a licence), not for people",
    ("POST", "/ai/olp/introspect"): "the RSL licence server's RFC 7662 introspection endpoint, for resource servers",
    ("POST", "/verify"): "the certificate is the raw request body (its exact bytes), not a named parameter; "
                         "`obra verify CERT [--keys]` is the offline check a third party runs without any office",
}


@dataclass(frozen=True)
class Route:
    """One API operation performing a CLI command, and how their option names correspond.

    ``renames`` maps a CLI parameter to the API parameter(s) it becomes; a dotted target
    (``body.title``) is a field of the record an API parameter carries whole, checked against
    the record's model in ``records``. ``elsewhere`` lists CLI parameters another route of the same
    command takes; ``fixed`` API parameters the command's own name decides. ``why`` says why the
    shapes differ where they do.
    """

    method: str
    path: str
    renames: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, str] = field(default_factory=dict)
    records: Mapping[str, tuple[type[BaseModel], ...]] = field(default_factory=dict)
    why: str = ""


def _record_flags(target: str) -> dict[str, str]:
    """``obra register``'s flags build the JSON record the API takes whole (as ``target``)."""
    return {"file": target, "title": f"{target}.title", "iswc": f"{target}.iswc", "isrc": f"{target}.isrc",
            "kind": f"{target}.kind", "language": f"{target}.language", "mode": f"{target}.creation_mode",
            "ai_system": f"{target}.disclosure.systems", "ai_contribution": f"{target}.disclosure.ai_contribution",
            "human_contribution": f"{target}.disclosure.human_contribution",
            "excluded": f"{target}.disclosure.excluded_material", "share": f"{target}.shares"}


FLAGS_BUILD_A_RECORD = ("the CLI builds the record from flags (or reads it whole with --file); the API takes "
                        "the record as JSON, so each flag is a field of it")
RECORDS = (Work, Recording)

PARITY: dict[str, tuple[Route, ...]] = {
    "register": (
        Route("POST", "/registrations", renames=_record_flags("body"), records={"body": RECORDS},
              elsewhere={"content": "POST /registrations/with-content takes the work's file"},
              why=FLAGS_BUILD_A_RECORD),
        Route("POST", "/registrations/with-content", renames=_record_flags("record") | {"content": "file"},
              records={"record": RECORDS}, why=FLAGS_BUILD_A_RECORD + "; the work's file is the upload `file`"),
    ),
    "correct": (
        Route("POST", "/registrations/{number}/corrections", renames={"file": "record"}, records={"record": RECORDS},
              elsewhere={"content": "POST /registrations/{number}/corrections/with-content takes the new file"},
              why="--file holds the corrected record, which the API takes as `record`"),
        Route("POST", "/registrations/{number}/corrections/with-content", renames={"file": "record", "content": "file"},
              records={"record": RECORDS}, why="--file is `record`; the replacement file is the upload `file`"),
    ),
    "withdraw": (Route("POST", "/registrations/{number}/withdrawal"),),
    "import": (
        Route("POST", "/batches", renames={"files": "body"},
              elsewhere={"entity": "CSV files (which need --entity) go to POST /batches/upload"},
              why="a JSON batch file's sections are the request body"),
        Route("POST", "/batches/upload", renames={"files": "file"},
              why="the CLI takes several files; the API one upload per request"),
    ),
    "party add": (
        Route("POST", "/parties", renames={"name": "body.name", "kind": "body.kind", "role": "body.roles",
                                           "ipi": "body.ipi", "isni": "body.isni", "country": "body.country"},
              records={"body": (Party,)}, why="the CLI builds the party from flags; the API takes it as JSON"),
    ),
    "agreement add": (
        Route("POST", "/agreements", renames={"file": "body"}, records={"body": (Agreement,)},
              why="--file holds the agreement, which is the request body"),
    ),
    "principal add": (Route("POST", "/principals"),),
    "ai check": (Route("POST", "/ai/check"),),
    "ai evidence": (Route("POST", "/ai/evidence"),),
    "ai signals": (Route("POST", "/ai/signals"),),
    "ai terms set": (Route("PUT", "/ai/terms", renames={"file": "body"},
                           why="--file holds the terms, which are the request body"),),
    "keys rotate": (Route("POST", "/keys/rotate"),),
    "fairness terms": (Route("PUT", "/fairness/terms/{agreement}"),),
    "fairness check": (Route("POST", "/fairness/checks"),),
    "fairness letter": (Route("POST", "/fairness/checks/{check}/letters/{flag}", renames={"fmt": "format"},
                              why="the CLI calls the letter/report format --format (fmt in Python); the API takes it as the query format"),),
    "fairness report": (Route("POST", "/fairness/reports/{party}", renames={"fmt": "format"},
                              why="the CLI calls the letter/report format --format (fmt in Python); the API takes it as the query format"),),
    "fairness reports": (Route("POST", "/fairness/reports"),),
    "fairness documents": (Route("GET", "/fairness/documents"),),
    "federation import": (
        Route("POST", "/federation/import", renames={"file": "body"},
              elsewhere={"keys": "POST /federation/import/upload takes the trusted key history"},
              why="the export file is the request body"),
        Route("POST", "/federation/import/upload"),
    ),
    "journal list": (Route("GET", "/journal"),),
    **{f"ingest {kind}": (Route("POST", "/ingest/{kind}", renames={"files": "file"},
                                fixed={"kind": f"`obra ingest {kind}` is kind {kind}",
                                       **({"replaces": "a CWR file replaces nothing (a revised work is a REV "
                                                       "transaction); the route refuses it for kind cwr"}
                                          if kind == "cwr" else {}),
                                       **({"footer_policy": "a footer policy is for DDEX DSR files (their FOOT "
                                                            "counts); the route refuses it for other kinds"}
                                          if kind != "dsr" else {})},
                                why="the CLI takes several files; the API one upload per request"),)
       for kind in ("dsr", "usage", "cwr")},
    "match": (Route("POST", "/match", renames={"no_fuzzy": "fuzzy"},
                    why="a negative flag on the CLI (fuzzy is the default), a boolean in the body"),),
    "claims claim": (Route("POST", "/claims/{group}"),),
    "distribute": (Route("POST", "/distributions"),),
    "split-statement": (Route("POST", "/statements-in"),),
    "statements": (Route("GET", "/statements/{payee}", renames={"fmt": "format"},
                         why="`--format` is spelled `fmt` inside the CLI (format is a Python builtin)"),),
    "runs": (Route("GET", "/distributions"),),
    "compare-models": (Route("GET", "/distributions/compare"),),
    "report": (Route("POST", "/observatory/report",
        fixed={"format": "`obra report` writes every format at once (site, PDF, tables, report.json)"},
        why="the CLI writes a whole report site; the API answers one of its documents"),),
    # Public computations (no --token) whose API routes are POSTs: compared all the same.
    "identify": (Route("POST", "/identify"),),
    "similar": (
        Route("POST", "/similar", renames={"target": "file"}, why="TARGET is a file or a code; a file is an upload"),
        Route("GET", "/similar", renames={"target": "code"}, why="TARGET is a file or a code; a code is `code`"),
    ),
    "match score": (Route("POST", "/match/score", renames={"pairs_csv": "body"},
                          why="the CLI reads the pairs from a CSV file; the API takes them as a JSON list"),),
    "ai protect": (Route("POST", "/ai/protect"),),
    "ai quote": (Route("POST", "/ai/quotes"),),
    "ai licence accept": (Route("POST", "/ai/quotes/{quote_id}/accept"),),
    "ai licence list": (Route("GET", "/ai/licences"),),
    "ai licence show": (Route("GET", "/ai/licences/{licence_id}"),),
    "ai licence items": (Route("GET", "/ai/licences/{licence_id}/items"),),
    "ai licence proof": (Route("GET", "/ai/licences/{licence_id}/proof"),),
    "ai licence document": (Route("GET", "/ai/licences/{licence_id}/document", renames={"fmt": "format"},
                                  why="`--format` is spelled `fmt` inside the CLI (format is a Python builtin)"),),
    "ai licence revoke": (Route("POST", "/ai/licences/{licence_id}/revoke"),),
    "ai licence income": (Route("GET", "/ai/licences/income"),),
    "ai licence expire": (Route("POST", "/ai/licences/expire"),),
    "ai usage": (Route("POST", "/ai/licences/{licence_id}/usage"),),
    "ai royalties": (Route("POST", "/ai/licences/royalties"),),
    "ai disclosure": (Route("POST", "/ai/disclosures"),),
    "likeness consent": (Route("POST", "/likeness/consents", renames={"file": "body"},
                               why="--file holds the consent record, which is the request body"),),
    "likeness revoke": (Route("POST", "/likeness/consents/{consent_id}/revoke"),),
    "likeness takedown": (Route("POST", "/likeness/takedown/{performer}"),),
    "review list": (Route("GET", "/review"),),
    "review mark": (Route("POST", "/review/{number}"),),
}


# --- the two surfaces, read from the applications ---------------------------------------------


def _walk(command: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every command by its words (``party add``); a group run without a subcommand is one too.

    Typer vendors click, so this uses duck typing (``commands``, ``params``, ``param_type_name``).
    """
    found = {}
    if hasattr(command, "commands"):
        if path and command.params:  # e.g. `obra match [--period]`, `obra log [--entries]`
            found[" ".join(path)] = command
        for name, sub in command.commands.items():
            found |= _walk(sub, (*path, name))
    else:
        found[" ".join(path)] = command
    return found


@cache
def cli_commands() -> dict[str, Any]:
    return _walk(typer.main.get_command(cli_app))


def cli_params(command: str) -> dict[str, str]:
    """A command's parameter names (``param.name``) → how a user spells them (``--ai-system``, ``FILES``)."""
    out = {}
    for p in cli_commands()[command].params:
        if p.param_type_name == "option":
            out[p.name] = max(p.opts, key=len)
        elif p.param_type_name == "argument":
            out[p.name] = p.name.upper()
    return out


def cli_writes() -> set[str]:
    """Commands that act as a principal: they have a ``--token`` option."""
    return {name for name in cli_commands() if "token" in cli_params(name)}


@dataclass(frozen=True)
class Api:
    """The application's operations (method, path), read from ``app.routes``, and its OpenAPI document."""

    operations: frozenset[tuple[str, str]]
    spec: dict

    @property
    def writes(self) -> set[tuple[str, str]]:
        return {(m, p) for m, p in self.operations if m != "GET"}


def _operations(routes: Any, prefix: str = "") -> set[tuple[str, str]]:
    out = set()
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI >= 0.137 keeps an included router whole in app.routes
            context = getattr(route, "include_context", None)
            out |= _operations(route.original_router.routes, prefix + getattr(context, "prefix", ""))
        elif getattr(route, "methods", None):
            out |= {(m, prefix + route.path) for m in route.methods if m != "HEAD"}
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("surfaces")
    store = Store.open(f"sqlite:///{root / 'obra.db'}", root / "home", migrate=True)
    try:
        application = create_app(store)
        yield Api(frozenset(_operations(application.routes)), application.openapi())
    finally:
        store.dispose()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def api_params(api: Api, method: str, path: str) -> set[str]:
    """An operation's parameters: query, path and header names, and the body's fields.

    A body without named fields (a free-form JSON object or a list) is the one parameter ``body``.
    """
    spec = api.spec
    operation = spec["paths"][path][method.lower()]
    names = {p["name"] for p in operation.get("parameters", [])}
    for content in operation.get("requestBody", {}).get("content", {}).values():
        schema = _resolve(spec, content.get("schema", {}))
        names |= set(schema["properties"]) if "properties" in schema else {"body"}
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def record_has(models: tuple[type[BaseModel], ...], dotted: str) -> bool:
    """Whether one of ``models`` has the (nested) field ``dotted``, e.g. ``disclosure.systems``."""
    first, _, rest = dotted.partition(".")
    for model in models:
        found = model.model_fields.get(first)
        if found is not None and (not rest or record_has(tuple(_models_in(found.annotation)), rest)):
            return True
    return False


# --- the tests ---------------------------------------------------------------------------------


def test_the_walk_finds_the_commands_and_routes_we_know(api):
    """Guards the enumeration itself: if it found nothing, every parity test below would pass."""
    assert {"register", "import", "party add", "match", "ingest usage", "keys rotate"} <= cli_writes()
    assert {"init", "show", "search", "match score", "log"} <= set(cli_commands()) - cli_writes()
    assert {("POST", "/registrations"), ("POST", "/batches"), ("POST", "/match")} <= api.writes
    assert ("GET", "/registrations/{number}") in api.operations


def test_the_routes_of_the_app_are_those_of_its_openapi_document(api):
    """The parameters come from the OpenAPI document, so no route may be missing from it."""
    documented = {(m.upper(), p) for p, ops in api.spec["paths"].items() for m in ops}
    undocumented = {(m, p) for m, p in api.operations if p not in ("/openapi.json", "/docs", "/docs/oauth2-redirect",
                                                                 "/redoc")}
    assert undocumented == documented


def _mapped() -> set[tuple[str, str]]:
    return {(r.method, r.path) for routes in PARITY.values() for r in routes}


def test_the_mapping_names_real_commands_and_routes(api):
    unknown_commands = set(PARITY) - set(cli_commands())
    assert not unknown_commands, f"PARITY names commands `obra` does not have: {sorted(unknown_commands)}"
    assert not _mapped() - api.operations, f"PARITY names routes the API does not have: {_mapped() - api.operations}"
    assert not set(LOCAL_ONLY) - set(cli_commands()), "LOCAL_ONLY names commands `obra` does not have"
    assert not set(API_ONLY) - api.writes, "API_ONLY names routes the API does not have"
    assert not set(PARITY) & set(LOCAL_ONLY) and not set(API_ONLY) & _mapped()


def test_every_difference_in_the_table_says_why():
    unexplained = [f"`obra {command}` ↔ {r.method} {r.path}" for command, routes in PARITY.items() for r in routes
                   if (r.renames and not r.why) or not all(r.elsewhere.values()) or not all(r.fixed.values())]
    assert not unexplained, f"renames without a reason: {unexplained}"


def test_every_cli_write_has_an_api_route():
    missing = cli_writes() - set(PARITY) - set(LOCAL_ONLY)
    assert not missing, (f"`obra` commands that write but map to no API route (add the route, or list the command "
                         f"in LOCAL_ONLY with the reason): {sorted(missing)}")


def test_every_api_write_has_a_cli_command(api):
    missing = api.writes - _mapped() - set(API_ONLY)
    assert not missing, (f"API routes that write but no `obra` command performs (add the command, or list the "
                         f"route in API_ONLY with the reason): {sorted(missing)}")


def _compare(api: Api, command: str, route: Route) -> list[str]:
    """What differs between a command's options and a route's parameters, in words."""
    where = f"`obra {command}` ↔ {route.method} {route.path}"
    if (route.method, route.path) not in api.operations:
        return [f"{where}: the API has no such route"]
    spelled = cli_params(command)
    ours = {name for name in spelled if name not in PRESENTATION}
    theirs = api_params(api, route.method, route.path)
    problems = [f"{where}: the table names options `obra {command}` does not have: {sorted(stale)}"
                for stale in [(set(route.renames) | set(route.elsewhere)) - ours] if stale]
    problems += [f"{where}: `fixed` names parameters the route does not have: {sorted(stale)}"
                 for stale in [set(route.fixed) - theirs] if stale]
    reached, api_lacks = set(), []
    for name in sorted(ours - set(route.elsewhere)):
        targets = route.renames.get(name, name)
        for target in (targets,) if isinstance(targets, str) else targets:
            head, _, rest = target.partition(".")
            if head not in theirs:
                api_lacks.append(spelled[name] + (f" (as '{target}')" if target != name else ""))
            elif rest and not record_has(route.records.get(head, ()), rest):
                api_lacks.append(f"{spelled[name]} (the {head} record has no field '{rest}')")
            reached.add(head)
    cli_lacks = sorted(theirs - reached - set(route.fixed))
    if api_lacks:
        problems.append(f"{where}: the API lacks {', '.join(api_lacks)}")
    if cli_lacks:
        problems.append(f"{where}: the CLI lacks {', '.join(cli_lacks)}")
    return problems


@pytest.mark.parametrize("command", sorted(PARITY))
def test_the_cli_and_the_api_take_the_same_options(api, command):
    routes = PARITY[command]
    problems = [p for route in routes for p in _compare(api, command, route)]
    nowhere = [spelling for name, spelling in cli_params(command).items()
               if name not in PRESENTATION and all(name in r.elsewhere for r in routes)]
    if nowhere:
        problems.append(f"`obra {command}`: {', '.join(nowhere)} is taken by none of its routes "
                        f"({', '.join(f'{r.method} {r.path}' for r in routes)})")
    assert not problems, "\n".join(problems)


def test_the_comparison_names_a_missing_option(api):
    """The check itself fails, by name, on an option one side lacks."""
    lacking = Route("POST", "/distributions", renames={"spark_master": "spark_url"})
    assert _compare(api, "distribute", lacking) == [
        "`obra distribute` ↔ POST /distributions: the API lacks --spark-master (as 'spark_url')",
        "`obra distribute` ↔ POST /distributions: the CLI lacks spark_master"]
    wrong_field = Route("POST", "/parties", renames={"name": "body.full_name", "kind": "body.kind",
                                                     "role": "body.roles", "ipi": "body.ipi", "isni": "body.isni",
                                                     "country": "body.country"}, records={"body": (Party,)})
    assert _compare(api, "party add", wrong_field) == [
        "`obra party add` ↔ POST /parties: the API lacks NAME (the body record has no field 'full_name')"]


def test_record_fields_are_read_through_optional_and_nested_models():
    assert record_has(RECORDS, "disclosure.systems") and record_has(RECORDS, "isrc")
    assert not record_has(RECORDS, "disclosure.colour") and not record_has((Party,), "title")


# --- the routes that close the gaps do what their command does ----------------------------------
# One store for both surfaces: `obra` in OBRA_HOME and the API opened on the same store.

runner = CliRunner()


def _obra(*args: str):
    return runner.invoke(cli_app, [*args, "--json"])


@pytest.fixture
def both(cli_home):
    """The API over the CLI's own store, with the local admin's token (the CLI's default principal)."""
    store = Store.open()
    token = json.loads(StorePaths(cli_home).credentials.read_text())["token"]
    try:
        yield TestClient(create_app(store)), {"Authorization": f"Bearer {token}"}
    finally:
        store.dispose()


def test_a_csv_batch_is_refused_alike_by_obra_import_and_post_batches_upload(both, tmp_path):
    client, admin = both
    bad = tmp_path / "parties.csv"
    bad.write_text("key,name,ipi\na,Ana,00014107338\nb,Bruno,00014107339\n", encoding="utf-8")
    refused = _obra("import", str(bad), "--entity", "parties")
    assert refused.exit_code == 2
    answer = client.post("/batches/upload", data={"entity": "parties"}, headers=admin,
                         files={"file": ("parties.csv", bad.read_bytes())})
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert (problem["source"], problem["line"], problem["field"]) == ("parties.csv", 3, "ipi")
    assert f"{bad}:3: field 'ipi' {problem['message']}" in refused.stderr  # the same words, the CLI's path
    assert client.get("/search", params={"party": "Ana"}).json() == []

    good = tmp_path / "more.csv"
    good.write_text("key,name\na,Ana\nb,Bruno\n", encoding="utf-8")
    (by_cli,) = json.loads(_obra("import", str(good), "--entity", "parties").stdout)
    by_api = client.post("/batches/upload", data={"entity": "parties"}, headers=admin,
                         files={"file": ("more.csv", good.read_bytes())})
    assert by_api.status_code == 201, by_api.text
    assert by_cli["parties"] == len(by_api.json()["parties"]) == 2
    assert by_api.json()["source"] == "more.csv"


def test_a_json_batch_file_uploads_like_obra_import(both, tmp_path):
    client, admin = both
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"parties": [{"key": "p", "name": "Pía"}],
                                 "works": [{"title": "Vidala", "shares": [
                                     {"party": "p", "right_type": "performance", "share": "100"}]}]}),
                     encoding="utf-8")
    (by_cli,) = json.loads(_obra("import", str(batch)).stdout)
    by_api = client.post("/batches/upload", headers=admin, files={"file": ("batch.json", batch.read_bytes())})
    assert by_api.status_code == 201, by_api.text
    created = by_api.json()
    assert (by_cli["works"], by_cli["parties"]) == (len(created["works"]), len(created["parties"])) == (1, 1)


def test_a_correction_with_a_new_file_is_the_same_over_both_surfaces(both, tmp_path):
    client, admin = both
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("Primera versión de la letra, escrita en Montevideo en el invierno.\n" * 4, encoding="utf-8")
    second.write_text("Otra canción entera, con otras palabras y otra historia que contar.\n" * 4, encoding="utf-8")
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"title": "Letra, corregida"}), encoding="utf-8")
    numbers = [json.loads(_obra("register", "--title", "Letra", "--content", str(first)).stdout)["number"]
               for _ in range(2)]
    by_cli = _obra("correct", numbers[0], "--file", str(record), "--reason", "new master", "--content", str(second))
    assert by_cli.exit_code == 0, by_cli.output
    by_api = client.post(f"/registrations/{numbers[1]}/corrections/with-content", headers=admin,
                         data={"record": record.read_text(encoding="utf-8"), "reason": "new master"},
                         files={"file": ("second.txt", second.read_bytes())})
    assert by_api.status_code == 201, by_api.text
    cli_record, api_record = json.loads(by_cli.stdout), by_api.json()
    for done in (cli_record, api_record):
        assert (done["version"], done["status"]) == (2, "corrected")
        assert done["record"]["work"]["title"] == "Letra, corregida"
    assert cli_record["record"]["content"]["iscc"] == api_record["record"]["content"]["iscc"]
    original = json.loads(_obra("show", numbers[1], "--version", "1").stdout)["record"]["content"]["iscc"]
    assert api_record["record"]["content"]["iscc"] != original
    bad = client.post(f"/registrations/{numbers[1]}/corrections/with-content", headers=admin,
                      data={"record": "[1, 2]", "reason": "x"}, files={"file": ("second.txt", second.read_bytes())})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "record"


def test_similar_by_upload_takes_unit_like_obra_similar(both, tmp_path):
    client, _ = both
    text = tmp_path / "poema.txt"
    text.write_text("Un poema breve sobre el río, la tarde y la ciudad que se apaga.\n" * 4, encoding="utf-8")
    number = json.loads(_obra("register", "--title", "Poema", "--content", str(text)).stdout)["number"]
    for unit, expected in (("content-text", [number]), ("content-image", [])):
        by_cli = json.loads(_obra("similar", str(text), "--unit", unit).stdout)
        by_api = client.post("/similar", data={"unit": unit}, files={"file": ("poema.txt", text.read_bytes())})
        assert by_api.status_code == 200, by_api.text
        assert [m["number"] for m in by_api.json()["matches"]] == [m["number"] for m in by_cli["matches"]] == expected


def test_federation_import_by_upload_pins_the_keys_given(both, tmp_path, monkeypatch):
    client, admin = both
    export, keys = tmp_path / "esmad.json", tmp_path / "esmad-keys.json"
    monkeypatch.setenv("OBRA_HOME", str(tmp_path / "madrid"))
    monkeypatch.setenv("OBRA_OFFICE", "ESMAD")
    assert _obra("init").exit_code == 0
    assert _obra("register", "--title", "Zarzuela").exit_code == 0
    assert runner.invoke(cli_app, ["federation", "export", "--out", str(export)]).exit_code == 0
    assert runner.invoke(cli_app, ["keys", "export", "--out", str(keys)]).exit_code == 0
    own_keys = client.get("/keys").content  # this office's history: not ESMAD's
    wrong = client.post("/federation/import/upload", headers=admin,
                        files={"file": ("esmad.json", export.read_bytes()), "keys": ("uymvd-keys.json", own_keys)})
    assert wrong.status_code == 400 and "key history" in wrong.json()["message"], wrong.text
    assert "ESMAD" not in _offices(client)
    malformed = client.post("/federation/import/upload", headers=admin,
                            files={"file": ("esmad.json", export.read_bytes()), "keys": ("keys.json", b"{}")})
    assert malformed.status_code == 422 and malformed.json()["problems"][0]["field"] == "keys"
    imported = client.post("/federation/import/upload", headers=admin, files={
        "file": ("esmad.json", export.read_bytes()), "keys": ("keys.json", keys.read_bytes())})
    assert imported.status_code == 201, imported.text
    assert imported.json()["office"] == "ESMAD"
    assert "ESMAD" in _offices(client)


def _offices(client: TestClient) -> list[str]:
    return [o["office"] for o in client.get("/federation/offices").json() if not o.get("local")]
