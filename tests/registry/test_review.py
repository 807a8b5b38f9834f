"""The review queue: a near duplicate shows as a warning with its distance, a reviewed warning is marked
(a ``registry.review`` journal event), and only office staff (and admins) may list or mark."""

from __future__ import annotations

import pytest

from obra.app import Obra
from obra.errors import AuthenticationRequired, InvalidInput, NotFound, PermissionDenied

LYRICS = ("Bajo la luna de Montevideo camina el viejo tambor, la calle entera lo sigue cantando, "
          "y en cada esquina una voz nueva se suma al candombe que baja hasta el puerto. ") * 12


def lyrics(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def queue(store, principals, tmp_path):
    """Three registrations: a text, a near copy of it (one word changed), and one without a file."""
    obra = Obra(store)
    creator = principals["creator"][0]
    first = obra.identify.register_with_file(creator, "work", {"title": "Tambor", "kind": "literary"},
                                             lyrics(tmp_path, "a.txt", LYRICS))
    copy = obra.identify.register_with_file(creator, "work", {"title": "El tambor", "kind": "literary"},
                                            lyrics(tmp_path, "b.txt", LYRICS.replace("viejo", "nuevo", 1)))
    plain = obra.registry.register(creator, "work", {"title": "Sin archivo", "creation_mode": "ai_assisted",
                                                     "disclosure": {"systems": [{"name": "Suno"}],
                                                                    "ai_contribution": "melody"}})
    return obra, first.number, copy.number, plain.number


def test_a_near_duplicate_shows_as_a_warning_with_its_distance(queue, principals):
    obra, first, copy, plain = queue
    staff = principals["office_staff"][0]
    page = obra.review.list(staff)
    assert [i["number"] for i in page["items"]] == [plain, copy, first]  # newest first
    by = {i["number"]: i for i in page["items"]}
    assert by[plain]["warnings"] == [] and by[plain]["iscc"] is None  # no codes, no warnings
    (warning,) = [w for w in by[copy]["warnings"] if w["unit"].startswith("content")]
    assert warning["number"] == first and 0 <= warning["distance"] <= 8 and warning["reviewed"] is None
    assert all(w["unit"] != "meta" for w in by[copy]["warnings"])
    assert {w["number"] for w in by[first]["warnings"]} == {copy}  # the warning is seen from both sides
    assert by[copy]["unreviewed"] == len(by[copy]["warnings"])


def test_filters_and_pages(queue, principals):
    obra, first, copy, plain = queue
    staff = principals["office_staff"][0]
    assert [i["number"] for i in obra.review.list(staff, mode="ai_assisted")["items"]] == [plain]
    assert obra.review.list(staff, entity="recording")["items"] == []
    one = obra.review.list(staff, limit=1)
    assert [i["number"] for i in one["items"]] == [plain] and one["next_offset"] == 1
    rest = obra.review.list(staff, limit=5, offset=one["next_offset"])
    assert [i["number"] for i in rest["items"]] == [copy, first] and rest["next_offset"] is None
    with pytest.raises(InvalidInput) as bad:
        obra.review.list(staff, entity="song", mode="robot", limit=0)
    assert {p.field for p in bad.value.problems} == {"entity", "mode", "limit"}


def test_a_reviewed_warning_is_marked_in_the_journal(queue, principals):
    obra, first, copy, plain = queue
    staff = principals["office_staff"][0]
    done = obra.review.mark(staff, copy, "same lyrics, a second edition by the same author", warning=first)
    assert done["event"]["kind"] == "registry.review" and done["event"]["actor"] == staff.name
    assert done["event"]["payload"]["warnings"][0]["number"] == first
    reviewed = [w["reviewed"] for w in done["warnings"] if w["number"] == first]
    assert reviewed and all(r["by"] == staff.name and r["note"].startswith("same lyrics") for r in reviewed)
    assert done["unreviewed"] == 0
    event = obra.journal.events("registry.review", subject=copy)[0]
    assert obra.journal.verify(event.id)["valid"] is True  # anchored in the transparency log
    # the other side's warning is its own: still to review
    other = obra.review.show(staff, first)
    assert other["unreviewed"] == len(other["warnings"]) > 0


def test_marking_refuses_what_it_cannot_do_and_writes_nothing(queue, principals):
    obra, first, copy, plain = queue
    staff = principals["office_staff"][0]
    before = len(obra.journal.events("registry.review"))
    with pytest.raises(InvalidInput, match="needs a note"):
        obra.review.mark(staff, copy, "  ")
    with pytest.raises(InvalidInput, match="no near-duplicate warnings"):
        obra.review.mark(staff, plain, "nothing here")
    with pytest.raises(InvalidInput, match="no warning about"):
        obra.review.mark(staff, copy, "wrong pair", warning=plain)
    with pytest.raises(NotFound):
        obra.review.mark(staff, "UYMVD-2026-9999999-X", "no such registration")
    assert len(obra.journal.events("registry.review")) == before


@pytest.mark.parametrize("role", ["creator", "registrant", "cmo", "ai_developer"])
def test_only_office_staff_may_review(queue, principals, role):
    obra, first, copy, plain = queue
    who = principals[role][0]
    with pytest.raises(PermissionDenied, match="may not review"):
        obra.review.list(who)
    with pytest.raises(PermissionDenied, match="may not review"):
        obra.review.mark(who, copy, "not mine to judge")
    with pytest.raises(AuthenticationRequired):
        obra.review.list(None)
    assert obra.review.list(principals["admin"][0])["items"]
