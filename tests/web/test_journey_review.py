"""Office staff review a registration's near-duplicate warning in headless Chromium, in Spanish: the queue
(axe-checked), a note of spaces refused with the problem named, then the warning marked reviewed (a journal
event naming the clerk). Uses the browser, the portal and the walk of ``tests/web/test_journeys.py``."""

from __future__ import annotations

from obra.app import Obra
from tests.registry.test_review import LYRICS, lyrics
from tests.web.test_journeys import walk  # noqa: F401  (the fixture)


def test_office_staff_review_a_near_duplicate_warning(walk, portal, tmp_path):  # noqa: F811
    obra = Obra(portal.store)
    creator = obra.authenticate(portal.logins["creator"][1])
    text = LYRICS.replace("Montevideo", "Salto")
    first = obra.identify.register_with_file(creator, "work", {"title": "Tambor de Salto", "kind": "literary"},
                                             lyrics(tmp_path, "a.txt", text))
    copy = obra.identify.register_with_file(creator, "work", {"title": "El tambor de Salto", "kind": "literary"},
                                            lyrics(tmp_path, "b.txt", text.replace("viejo", "nuevo", 1))).number
    w = walk("es", "es")
    w.sign_in("office_staff", "/portal/review")
    page = w.page
    assert page.url.endswith("/portal/review") and page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Revisar registros"
    section = page.locator(f"#r-{copy}")
    assert first.number in section.inner_text() and "Por revisar" in section.inner_text()
    w.check("queue")
    # a failure first: a note of spaces passes the browser's check, not the office's
    section.locator("textarea").fill("   ")
    w.follow(f"#r-{copy} button[type=submit]")
    assert "No se marcó nada" in page.locator("[role=alert]").inner_text()
    assert page.locator(f"#note-{copy}").get_attribute("aria-invalid") == "true"
    w.check("refused")
    # then with a note, by keyboard alone
    page.locator(f"#note-{copy}").fill("Segunda edición del mismo autor")
    page.locator(f"#r-{copy} button[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "marcadas como revisadas" in page.locator("[role=status]").inner_text()
    reviewed = page.locator(f"#r-{copy}").inner_text()
    assert "Revisada" in reviewed and "Segunda edición del mismo autor" in reviewed
    assert page.locator(f"#r-{copy} textarea").count() == 0   # nothing left to review there
    w.check("reviewed")
    (event,) = [e for e in obra.journal.events("registry.review", subject=copy)]
    assert event.actor == portal.logins["office_staff"][0] and event.payload["warnings"][0]["number"] == first.number
