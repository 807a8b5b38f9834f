"""Ranked search (issue #18): exact title first, then prefix, word, substring, party, typo; both stores alike."""


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.errors import InvalidInput
from obra.model.vocab import AccessRole
from obra.registry import search
from obra.registry.service import Registry


CATALOGUE = ["Camino de canción", "Canción", "Canción de cuna", "La canción del mar", "Micancionero",
             "月亮代表我的心", "夜空中最亮的星", "Amor eterno", "El amor brujo", "Clamor", "Tokyo Nights",
             "Ｆｕｌｌ Ｗｉｄｔｈ Ｓｏｎｇ", "Corazón partío"]


@pytest.fixture
def registry(store):
    return Registry(store)


def _load(registry, admin):
    composer = registry.add_party(admin, {"name": "Armando Manzanero", "ipi": "00014107338"})
    numbers = {}
    for title in CATALOGUE:
        data = {"title": title}
        if title == "Amor eterno":
            data["shares"] = [{"party": composer.id, "right_type": "performance", "share": "100"}]
            data["alternate_titles"] = [{"title": "Eternal Love"}]
        numbers[title] = registry.register(admin, "work", data).number
    return numbers


def _titles(rows):
    return [r["title"] for r in rows]


def test_exact_title_first_then_prefix_then_word_then_substring(registry, admin):
    _load(registry, admin)
    assert _titles(registry.search("cancion")) == [
        "Canción", "Canción de cuna", "Camino de canción", "La canción del mar", "Micancionero"]


def test_cjk_is_found_by_any_substring_of_three_characters(registry, admin):
    _load(registry, admin)
    assert _titles(registry.search("代表我的")) == ["月亮代表我的心"]
    assert _titles(registry.search("月亮")) == ["月亮代表我的心"]  # two characters: by prefix


def test_width_accents_and_case_are_folded(registry, admin):
    _load(registry, admin)
    assert _titles(registry.search("FULL width")) == ["Ｆｕｌｌ Ｗｉｄｔｈ Ｓｏｎｇ"]
    assert _titles(registry.search("CORAZON PARTIO")) == ["Corazón partío"]


def test_a_misspelt_title_is_still_found(registry, admin):
    _load(registry, admin)
    assert _titles(registry.search("corazon patrio"))[:1] == ["Corazón partío"]
    assert _titles(registry.search("tokio nights"))[:1] == ["Tokyo Nights"]
    assert registry.search("zzzzqqqq") == []


def test_a_slip_in_a_short_word_is_undone_and_ranked_before_pieces(registry, admin):
    """A swap in the middle of a five-letter word leaves no three letters of it intact, so the pieces never
    find it; undoing the slip finds it by equality (and a title one slip away is the only answer given)."""
    for title in ("Cielo", "Cielo azul", "Fuego", "Ciel", "Canción", "Micancionero"):
        registry.register(admin, "work", {"title": title})
    assert search.pieces("cileo") == ["cil", "leo"]  # neither is in "cielo"
    assert _titles(registry.search("cileo")) == ["Cielo"]
    assert _titles(registry.search("FEUGO")) == ["Fuego"]
    assert _titles(registry.search("canciion")) == ["Canción"]  # a character too many
    assert _titles(registry.search("cielo azlu")) == ["Cielo azul"]


def test_one_edit_away_swaps_neighbours_and_drops_one_character():
    assert "cielo" in search.one_edit_away("cileo") and "cielo" in search.one_edit_away("cieloo")
    assert "cileo" not in search.one_edit_away("cileo")
    assert search.one_edit_away("abc") == [] and search.one_edit_away("x" * 61) == []
    assert len(search.one_edit_away("canciones de amor")) <= 2 * len("canciones de amor")


def test_alternate_titles_party_names_and_identifiers_are_searched(registry, admin):
    numbers = _load(registry, admin)
    assert _titles(registry.search("eternal love")) == ["Amor eterno"]
    assert "Amor eterno" in _titles(registry.search("manzanero"))
    assert _titles(registry.search(numbers["Clamor"])) == ["Clamor"]
    # "amor": the exact and prefix titles before the ones containing it
    assert _titles(registry.search("amor")) == ["Amor eterno", "El amor brujo", "Clamor"]


def test_filters_apply_to_every_tier(registry, admin):
    _load(registry, admin)
    registry.register(admin, "recording", {"title": "Canción"})
    assert [r["entity"] for r in registry.search("cancion", entity="recording")] == ["recording"]
    assert len(registry.search("cancion", limit=2)) == 2
    assert registry.search("cancion", creation_mode="ai_generated") == []


def test_only_current_versions_are_found(registry, admin):
    number = registry.register(admin, "work", {"title": "Old Name"}).number
    registry.correct(admin, number, {"title": "New Name"}, "renamed")
    assert _titles(registry.search("old name")) == []
    assert _titles(registry.search("new name")) == ["New Name"]


def test_nothing_to_search_for_is_refused_not_answered_with_everything(registry, admin):
    _load(registry, admin)
    with pytest.raises(InvalidInput):
        registry.search(" ¿?¡! ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=40))
def test_any_unicode_query_is_answered_or_refused_never_crashes(sqlite_store, query):
    registry = Registry(sqlite_store)
    try:
        rows = registry.search(query)
    except InvalidInput as exc:  # only a query with nothing left to look for, or with control characters
        assert exc.problems
    else:
        assert isinstance(rows, list)


def test_pieces_cover_one_edit():
    assert search.pieces("cancoin") == ["can", "coin"]
    assert all(len(p) >= 3 for p in search.pieces("abcdefghijkl"))
    # a fragment of a word cut off at a piece's edge is dropped: "n sol" would be "a word ending in n, then sol"
    assert search.pieces("coarzon sol") == ["coa", "rzo", "sol"]


def test_a_misspelt_title_of_two_words_is_found_through_its_intact_word(registry, admin):
    registry.register(admin, "work", {"title": "Corazón sol"})
    registry.register(admin, "work", {"title": "Canción sol"})
    assert _titles(registry.search("coarzon sol"))[:1] == ["Corazón sol"]


@pytest.fixture
def both_stores(tmp_path, pg_admin_engine):
    """The same catalogue in a SQLite and a PostgreSQL store (PostgreSQL as every test gets it: conftest)."""
    from tests.conftest import _pg_store, _sqlite_store

    (tmp_path / "pg").mkdir()
    with _sqlite_store(tmp_path) as lite, _pg_store(pg_admin_engine, tmp_path / "pg") as pg:
        yield [lite, pg]


def test_both_stores_return_the_same_results(both_stores):
    import random

    rng = random.Random(18)
    words = ["amor", "canción", "noche", "luna", "corazón", "月亮", "心", "mar", "vida", "sol", "camino", "cielo"]
    titles = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(300)]
    results = []
    for store in both_stores:
        admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
        registry = Registry(store)
        for title in titles:
            registry.register(admin, "work", {"title": title})
        results.append([[r["number"] for r in registry.search(q, limit=40)]
                        for q in ("amor", "cancion", "luna mar", "月亮", "coraozn", "vida sol", "cam", "ci",
                                  "cileo", "vdia sol", "amor lnua")])
    assert results[0] == results[1]
    assert all(results[0][:4])


def test_the_api_and_the_command_line_answer_the_ranked_order(cli_home):
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from obra.api.app import create_app
    from obra.app import Obra
    from obra.cli.main import app

    obra = Obra.open(home=cli_home)
    admin = obra.authenticate(json.loads((cli_home / "credentials.json").read_text())["token"])
    for title in ("Camino de canción", "Canción de cuna", "Canción"):
        obra.registry.register(admin, "work", {"title": title})
    expected = ["Canción", "Canción de cuna", "Camino de canción"]
    api = TestClient(create_app(obra.store)).get("/search", params={"q": "CANCION"})
    assert api.status_code == 200 and [r["title"] for r in api.json()] == expected
    cli = CliRunner().invoke(app, ["search", "cancion", "--json"])
    assert cli.exit_code == 0, cli.output
    assert [r["title"] for r in json.loads(cli.output)] == expected


_TABLES = ("registrations", "titles", "parties", "shares", "contributors")


def _plan_problems(conn, statement: str, parameters) -> list[str]:
    """Where the plan of ``statement`` reads a whole table or walks a whole index of the register."""
    dbapi = conn.connection.dbapi_connection.cursor()
    if conn.dialect.name == "postgresql":
        dbapi.execute("SET LOCAL enable_seqscan = off")
        dbapi.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        found: list[str] = []

        def walk(node):
            if node.get("Relation Name") in _TABLES:
                kind = node["Node Type"]
                if kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node):
                    found.append(f"{kind} on {node['Relation Name']}")
            for child in node.get("Plans", ()):
                walk(child)
        walk(dbapi.fetchone()[0][0]["Plan"])
        return found
    dbapi.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    # a SCAN of a table, or a SEARCH whose only bound is is_current (every current row, then sorted)
    return [detail for *_, detail in dbapi.fetchall()
            if (detail.startswith("SCAN ") and detail.split()[1] in _TABLES)
            or detail.endswith(("(is_current=?)", "(is_current=? AND entity=?)"))]


# what a sampled ANALYZE (analysis_limit) wrote on a register of a million works: is_current looking selective
_SAMPLED_STATISTICS = [("registrations", "ix_registrations_current_entity", "1110075 1001 1001"),
                       ("registrations", "search_titles_norm", "1855008 3"),
                       ("registrations", "uq_registration_version", "1855008 1 1"),
                       ("registrations", "ix_registrations_iswc", "1043072 1"),
                       ("titles", "search_alt_titles_ordered", "498330 2 1"),
                       ("titles", "ix_titles_registration_id", "260304 1")]


QUERIES_OF_EVERY_KIND = ["cancion", "Canción de cuna", "canc", "ca", "代表我的", "月亮", "corazon patrio",
                         "manzanero", "armando manzanero", "amor", "eternal", "zzzzqqqq", "clamor brujo eterno",
                         "cacnion", "amor etreno", "eternl love", "T-034.524.680-1", "USRC17607839"]


def test_no_search_reads_a_whole_table(registry, admin, store):
    """Every statement a search runs reads the register through its indexes (EXPLAIN on each store), so a
    query costs the same on ten thousand works as on ten million: no sequential scan, no walk of a whole index."""
    from sqlalchemy import event

    _load(registry, admin)
    if store.engine.dialect.name == "sqlite":
        with store.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
            for table, index, stat in _SAMPLED_STATISTICS:
                conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index, stat))
        store.engine.dispose()  # the statistics are read when a connection opens
    seen: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        for q in QUERIES_OF_EVERY_KIND:
            registry.search(q)
            registry.search(q, entity="work", creation_mode="human")
        for party in ("ma", "manzanero", "armando manzanero"):
            registry.search("amor", party=party)
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)
    assert len(seen) > len(QUERIES_OF_EVERY_KIND)
    problems = []
    with store.connect() as conn:
        # the check itself sees a scan when there is one (no index on record_hash)
        none = () if conn.dialect.name == "sqlite" else None
        assert _plan_problems(conn, "SELECT id FROM registrations WHERE record_hash LIKE '%ab%'", none)
        for statement, parameters in seen:
            problems += [(p, statement[:300]) for p in _plan_problems(conn, statement, parameters)]
    assert problems == []


def test_a_short_word_of_a_party_name_substring_is_asked_of_the_trigram_index():
    """PostgreSQL, party names: "阔天空 0" asks the index for a word beginning with "0" beside "阔天空" (the check
    on the rows found alone read every name containing 阔天空); the needle itself is still checked on the rows."""
    from obra.store.schema import parties

    def patterns(needle):
        return [c.right.value for c in search._pg_contains(parties.c.name_norm, needle) if hasattr(c, "right")
                and hasattr(c.right, "value")]
    assert "% 0%" in patterns("阔天空 0") and "%阔天空%" in patterns("阔天空 0")
    assert "%7 %" in patterns("7 vidas")
    assert patterns("amor") == ["%amor%"]


def test_a_title_substring_is_asked_of_the_joint_index_whole():
    """PostgreSQL, titles (migration 0017): the needle is asked for with its spaces written as the joint letter,
    so the index reads the trigrams across the spaces (only them, from two on); a needle with a space is also
    checked as it is."""
    from obra.store.schema import registrations

    def patterns(needle):
        return [str(c.compile(compile_kwargs={"literal_binds": True}))
                for c in search._pg_title_contains(registrations.c.title_norm, needle)]
    assert patterns("amor") == ["replace(registrations.title_norm, ' ', 'ǂ') LIKE '%amor%' ESCAPE '\\'"]
    assert patterns("阔天空 0") == ["replace(registrations.title_norm, ' ', 'ǂ') LIKE '%阔天空ǂ0%' ESCAPE '\\'",
                                  "strpos(registrations.title_norm, '阔天空 0') > 0"]
    # two joints or more (search.JOINTS): asked by the joints alone, the whole needle checked on the rows found
    assert patterns("dolor viento destino") == [
        "replace(registrations.title_norm, ' ', 'ǂ') LIKE '%rǂv%' ESCAPE '\\'",
        "replace(registrations.title_norm, ' ', 'ǂ') LIKE '%oǂd%' ESCAPE '\\'",
        "strpos(registrations.title_norm, 'dolor viento destino') > 0"]


def test_the_register_without_a_query_is_listed_in_code_point_order_from_the_search_index(store):
    """Listing without a query orders titles by code point on both stores (migration 0018), the order of the title
    index the search reads; on PostgreSQL that index (search_titles_prefix) serves the listing's order."""
    from sqlalchemy import event

    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    for title in ("Zeta", "alfa", "Ñandú", "Ángel", "Zeta"):
        registry.register(admin, "work", {"title": title})
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        listed = [r["title"] for r in registry.search(None)]
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)
    assert listed == ["alfa", "Ángel", "Ñandú", "Zeta", "Zeta"]
    if store.engine.dialect.name == "postgresql":
        [statement] = [s for s in seen if "ORDER BY" in s]
        with store.begin() as conn:
            for kind in ("seqscan", "bitmapscan", "sort"):  # five rows: the planner would rather sort them all
                conn.exec_driver_sql(f"SET LOCAL enable_{kind} = off")
            plan = conn.exec_driver_sql("EXPLAIN " + statement, {"param_1": 50}).scalars().all()
        assert any("Index Scan using search_titles_prefix" in line for line in plan), plan
