"""The registration workflow on both stores: numbers, disclosure, versions, search, refusals."""

import pytest
from sqlalchemy import func, select

from obra import ids
from obra.errors import InvalidInput, NotFound
from obra.registry.service import Registry
from obra.store.schema import registrations

AI_WORK = {
    "title": "Canción de la Luna",
    "creation_mode": "ai_generated",
    "disclosure": {"systems": [{"name": "Suno", "version": "v4.5", "provider": "Suno Inc."}],
                   "ai_contribution": "music, vocals and arrangement from a text prompt",
                   "human_contribution": "the prompt and the selection of one take",
                   "excluded_material": "all AI-generated audio"},
}


@pytest.fixture
def registry(store):
    return Registry(store)


@pytest.fixture
def composer(registry, admin):
    return registry.add_party(admin, {"name": "José Pérez", "ipi": "00014107338", "roles": ["composer"]})


def test_ai_generated_work_gets_a_checked_number_and_states_its_disclosure(registry, admin, composer):
    record = registry.register(admin, "work", AI_WORK | {
        "shares": [{"party": composer.id, "right_type": "performance", "share": "100"}]})
    assert ids.parse_registration_number(record.number) == record.number
    shown = registry.show(record.number)
    assert shown.record["creation_mode"] == "ai_generated"
    assert shown.record["disclosure"]["systems"][0]["name"] == "Suno"
    assert shown.record["disclosure"]["excluded_material"] == "all AI-generated audio"
    assert shown.record_hash == record.record_hash


def test_numbers_are_sequential_per_office(registry, admin):
    a = registry.register(admin, "work", {"title": "Uno"})
    b = registry.register(admin, "work", {"title": "Dos"})
    assert int(b.number.split("-")[2]) == int(a.number.split("-")[2]) + 1


def test_ai_work_without_disclosure_is_refused(registry, admin):
    with pytest.raises(InvalidInput, match="needs a disclosure"):
        registry.register(admin, "work", {"title": "Sin declarar", "creation_mode": "ai_assisted"})


def test_corrections_and_withdrawals_append_versions(registry, admin, store):
    first = registry.register(admin, "work", {"title": "Saudade do mar"})
    registry.correct(admin, first.number, {"title": "Saudade do Mar", "language": "pt"}, "capitalisation")
    registry.withdraw(admin, first.number, "registered twice by mistake")
    history = registry.history(first.number)
    assert [(h.version, h.status) for h in history] == [(1, "registered"), (2, "corrected"), (3, "withdrawn")]
    assert history[0].record["work"]["title"] == "Saudade do mar"
    assert history[0].record_hash == first.record_hash
    assert registry.show(first.number).status == "withdrawn"
    assert registry.show(first.number, version=1).record["work"]["title"] == "Saudade do mar"
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(registrations)
                            .where(registrations.c.number == first.number)).scalar_one() == 3


@pytest.mark.parametrize("query,title", [
    ("cancion", "Canción del Mar"), ("CANCIÓN DEL", "Canción del Mar"), ("coracao", "Coração Vagabundo"),
    ("月亮", "月亮代表我的心"), ("ｔｏｋｙｏ", "Tokyo Nights"), ("nino", "El Niño y la Luna"),
])
def test_search_ignores_accents_case_and_width_in_every_script(registry, admin, query, title):
    for t in ("Canción del Mar", "Coração Vagabundo", "月亮代表我的心", "Tokyo Nights", "El Niño y la Luna"):
        registry.register(admin, "work", {"title": t})
    found = [r["title"] for r in registry.search(query)]
    assert found == [title]


def test_search_by_identifier_alternate_title_and_party(registry, admin, composer):
    rec = registry.register(admin, "work", {
        "title": "Yesterday's Song", "iswc": "T-034.524.680-1",
        "alternate_titles": [{"title": "Canción de ayer", "kind": "translated", "language": "es"}],
        "shares": [{"party": "00014107338", "right_type": "performance", "share": "100"}]})
    registry.register(admin, "work", {"title": "Another"})
    assert [r["number"] for r in registry.search(iswc="T0345246801")] == [rec.number]
    assert [r["number"] for r in registry.search("cancion de ayer")] == [rec.number]
    assert [r["number"] for r in registry.search(party="perez")] == [rec.number]
    assert [r["number"] for r in registry.search(party=composer.id)] == [rec.number]


def test_refusals_name_the_field(registry, admin, composer):
    with pytest.raises(InvalidInput) as exc:
        registry.register(admin, "work", {"title": "Mal", "shares": [
            {"party": composer.id, "right_type": "performance", "share": "60"},
            {"party": 999, "right_type": "performance", "share": "30"}]})
    messages = {p.field: p.message for p in exc.value.problems}
    assert "add up to 90%" in messages["shares"]
    assert "no party with id 999" in messages["shares.1.party"]
    with pytest.raises(InvalidInput) as exc:
        registry.register(admin, "work", {"title": "Mal", "shares": [
            {"party": composer.id, "right_type": "performance", "territory": "QQ", "share": "100"}]})
    assert exc.value.problems[0].field == "shares.0.territory"


def test_recording_must_point_to_a_registered_work(registry, admin):
    work = registry.register(admin, "work", {"title": "Obra", "iswc": "T0345246801"})
    rec = registry.register(admin, "recording", {"title": "Obra (live)", "isrc": "UYAB12400001",
                                                 "duration_seconds": 215, "works": ["T-034.524.680-1"]})
    assert rec.record["recording"]["works"] == [work.number]
    with pytest.raises(InvalidInput) as exc:
        registry.register(admin, "recording", {"title": "Huérfana", "works": ["OBRA-2026-0999999-X"]})
    assert exc.value.problems[0].field == "works.0"
    assert "not registered" in exc.value.problems[0].message


def test_unknown_registration_is_not_found(registry):
    with pytest.raises(NotFound):
        registry.show(ids.format_registration_number("OBRA", 2026, 424242))


def test_every_registration_event_is_logged_and_certified(registry, admin, store):
    from obra.registry.certificates import certificate_bytes, certificate_for, verify_certificate
    from obra.transparency.translog import TransparencyLog

    record = registry.register(admin, "work", AI_WORK)
    corrected = registry.correct(admin, record.number, AI_WORK | {"language": "es"}, "language added")
    assert corrected.log_index == record.log_index + 1  # consecutive leaves of the log
    assert registry.show(record.number).log_index == corrected.log_index
    log = TransparencyLog(store)
    assert [e.leaf["record_hash"] for e in log.entries_for(record.number)] == [record.record_hash,
                                                                                corrected.record_hash]
    cert = certificate_bytes(certificate_for(store, record.number))
    verified = verify_certificate(cert, log.key_history())
    assert verified.record["disclosure"]["systems"][0]["name"] == "Suno"
    tampered = cert.replace(b"Suno", b"Sunn")
    with pytest.raises(Exception, match="(?i)hash|signature"):
        verify_certificate(tampered, log.key_history())
