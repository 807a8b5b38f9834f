"""Each persona's main journey in headless Chromium, in two languages or more, failures included.

Every page visited is checked with axe-core (WCAG 2.0/2.1/2.2 A and AA rules) and must have no
serious or critical violation; each step saves a screenshot under ``tests/web/screenshots/``.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.web.conftest import SHOTS, axe_source

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 375, "height": 740}


class Walk:
    """One visitor's browser: goes to pages, checks each with axe, saves screenshots."""

    def __init__(self, browser, portal, lang: str, name: str, phone: bool = False):
        self.portal, self.name = portal, name
        self.context = browser.new_context(locale=lang, viewport=PHONE if phone else {"width": 1280, "height": 900},
                                           accept_downloads=True, extra_http_headers={"Accept-Language": lang})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.step = 0
        self.axe = axe_source()

    def go(self, path: str):
        self.page.goto(self.portal.url + path)
        return self.page

    def check(self, label: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation; then a screenshot."""
        self.page.evaluate(self.axe)
        result = self.page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{self.page.url}:\n" + "\n".join(bad) + "\n" + self.page.content()[:1500]
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.step += 1
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)

    def sign_in(self, role: str, next_path: str = "/portal/") -> None:
        name, token = self.portal.logins[role]
        self.go(f"/portal/login?next={next_path}")
        self.page.fill("#name", name)
        self.page.fill("#token", token)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")  # the keyboard alone signs in

    def follow(self, selector: str) -> None:
        """Click a link or a plain form's button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def upload(self, field: str, path: Path, wait_for: str) -> None:
        """Choose a file in an upload form, send it (with its progress bar) and wait for the answer."""
        self.page.set_input_files(field, str(path))
        self.page.click("form[data-upload] button[type=submit]")
        self.page.wait_for_selector(wait_for)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def walk(browser, portal, request):
    walks = []

    def make(lang: str, name: str, phone: bool = False) -> Walk:
        w = Walk(browser, portal, lang, f"{request.node.name.split('[')[0].replace('test_', '')}-{name}", phone)
        walks.append(w)
        return w

    yield make
    for w in walks:
        w.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_creator_registers_an_ai_assisted_work_and_verifies_its_certificate(walk, portal, lang, tmp_path):
    w = walk(lang, lang)
    w.sign_in("creator", "/portal/register")
    page = w.page
    assert page.url.endswith("/portal/register")
    assert page.locator("html").get_attribute("lang") == lang
    w.check("register-form")
    # a failure first: AI-assisted without saying which system → refused, every problem named, nothing saved
    page.fill("#title", "Canción del Algoritmo" if lang == "es" else "Song of the Algorithm")
    page.check("input[name=creation_mode][value=ai_assisted]")
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_selector(".problems")
    assert "ai_system" in page.locator(".problems").inner_text()
    w.check("register-refused")
    # then right, with the file
    song = tmp_path / "lyrics.txt"
    song.write_text("Letra escrita por personas; melodía sugerida por una IA.\n" * 20, encoding="utf-8")
    page.fill("#ai_system", "Suno v4.5")
    page.fill("#ai_contribution", "melody")
    page.fill("#human_contribution", "lyrics")
    w.upload("#f-content", song, "text=UYMVD-")
    number = re.search(r"UYMVD-\d{4}-\d{7}-\w", page.locator("main").inner_text()).group(0)
    w.check("registered")
    with page.expect_download() as got:
        page.click(f"a[href*='{number}/certificate.json']")
    certificate = tmp_path / f"{number}.json"
    got.value.save_as(certificate)
    # the public record, then verification by upload, as a third party would
    w.go(f"/portal/records/{number}")
    assert "Suno" in page.locator("main").inner_text()
    w.check("record")
    w.go("/portal/verify")
    w.upload("#f-certificate", certificate, ".notice")
    assert number in page.locator(".notice").inner_text()
    w.check("verified")
    # a tampered certificate does not verify
    data = json.loads(certificate.read_text())
    data["record"]["number"] = data["record"].get("number", "") + "0"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    w.go("/portal/verify")
    w.upload("#f-certificate", tampered, "[role=alert]")
    w.check("tampered")


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_creator_drills_from_a_total_to_the_usage_lines(walk, portal, lang):
    w = walk(lang, lang)
    w.sign_in("creator", "/portal/statements")
    page = w.page
    assert page.url.endswith(f"/portal/statements/{portal.payee}")  # a creator goes straight to their own
    w.check("totals")
    w.follow("main table a")                           # a currency → by service
    w.check("by-service")
    w.follow("main table a")                           # a service → recordings
    w.check("items")
    w.follow("main table a")                           # a recording → why this amount, usage lines
    assert page.locator("section.card table tbody tr").count() >= 1
    w.check("usage-lines")
    with page.expect_download() as got:
        page.click("a[href*='export.csv']")
    assert got.value.suggested_filename.endswith(".csv")
    # another payee's statement is refused, with a way back
    other = str(int(portal.payee) + 1)
    w.go(f"/portal/statements/{other}")
    assert page.locator("h1").count() == 1 and page.locator("a.button").first.is_visible()
    w.check("forbidden")


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_cmo_uploads_a_report_fixes_it_and_reads_match_rates_and_claims(walk, portal, lang, tmp_path):
    w = walk(lang, lang)
    w.sign_in("cmo", "/portal/usage")
    page = w.page
    w.check("usage-form")
    bad = tmp_path / "usage-bad.csv"
    bad.write_text("period,service,territory,title,artist,isrc,plays\n2026-13,S,UY,T,A,XX,ten\n", encoding="utf-8")
    w.upload("#f-report", bad, ".problems")
    assert "usage-bad.csv" in page.locator(".problems").inner_text()
    w.check("usage-problems")
    good = next((portal.home / "reports").glob("usage-*.csv"))
    w.upload("#f-report", good, ".notice")                  # the same report again: accepted, changes nothing
    w.check("usage-again")
    w.go("/portal/distributions")
    assert page.locator("#rates ~ .table-wrap tbody tr").count() >= 1
    w.check("distributions")
    w.go("/portal/compare?period=2026-10&base=pro-rata&other=user-centric")
    assert page.locator("main table").count() >= 2
    w.check("compare")
    w.go("/portal/claims")
    w.check("claims")
    w.go(f"/portal/statements/{portal.payee}")
    w.check("statement")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_ai_developer_checks_a_manifest_item_by_item(walk, portal, lang, tmp_path):
    w = walk(lang, lang)
    w.sign_in("ai_developer", "/portal/ai/check")
    page = w.page
    w.check("check-form")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    page.set_input_files("#f-manifest", str(empty))
    page.fill("#jurisdiction", "DE")
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_selector("[role=alert]")
    w.check("check-refused")
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps({"url": f"https://example.org/track/{i}",
                                            "headers": {"Content-Usage": "train-ai=n"} if i % 2 else {}}) + "\n"
                                for i in range(12)), encoding="utf-8")
    page.set_input_files("#f-manifest", str(manifest))
    page.fill("#jurisdiction", "DE")
    page.fill("#user_agent", "GPTBot")
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_selector("#items")
    assert page.locator("#items ~ .table-wrap tbody tr").count() == 12
    assert "reserved" in page.locator("#items ~ .table-wrap").inner_text()
    w.check("check-items")


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_rightholder_sets_ai_terms_in_plain_words_and_downloads_the_site_files(walk, portal, lang, tmp_path):
    w = walk(lang, lang, phone=(lang == "pt"))
    w.sign_in("creator", "/portal/ai/terms")
    page = w.page
    w.check("terms-form")
    page.check("input[name='use-ai-train-generative'][value=licence]")
    page.fill("#price-ai-train-generative", "abc")
    w.follow("main form.card button[type=submit]")
    page.wait_for_selector(".problems")
    w.check("terms-refused")
    page.fill("#price-ai-train-generative", "5,00")
    page.check("input[name='use-ai-input'][value=not-allowed]")
    page.check("input[name='use-search'][value=allowed]")
    w.follow("main form.card button[type=submit]")
    page.wait_for_selector("[role=status]")
    w.check("terms-stated")
    page.fill("#site", "https://musica.example")
    with page.expect_download() as got:
        page.click("form[action$='/ai/protect'] button")
    bundle = tmp_path / "ai-signals.zip"
    got.value.save_as(bundle)
    names = zipfile.ZipFile(bundle).namelist()
    assert "robots.txt" in names and any(n.endswith("tdmrep.json") for n in names)


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_public_and_office_staff_search_read_the_log_and_are_refused_staff_pages(walk, portal, lang):
    w = walk(lang, lang, phone=(lang == "pt"))
    page = w.go("/portal/")
    w.check("home")
    w.go("/portal/search")
    page.fill("#q", "a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    w.check("search-results")
    w.follow("main table a")
    w.check("record")
    w.go("/portal/log")
    assert "obra.local/UYMVD" in page.locator("pre").first.inner_text()
    w.check("log")
    w.go("/portal/distributions")                     # not signed in: to the sign-in page
    assert "/portal/login" in page.url
    w.check("sign-in")
    w.sign_in("office_staff", "/portal/search")
    w.go("/portal/distributions")
    w.check("office-distributions")
    w.sign_in("ai_developer", "/portal/")
    w.go("/portal/accessibility")
    w.check("accessibility")


def test_the_api_documentation_renders_offline(walk, portal):
    w = walk("en", "docs")
    hosts = set()
    w.page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    w.go("/docs")
    w.page.wait_for_selector(".swagger-ui .information-container", timeout=30_000)
    w.page.screenshot(path=str(SHOTS / "docs-swagger.png"))
    assert hosts == {portal.url.split("/")[2]}


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_public_reads_the_law_compared_with_its_sources(walk, portal, lang):
    w = walk(lang, lang, phone=(lang == "pt"))
    page = w.go("/portal/law?topic=tdm&j=DE&j=UY&j=JP")
    assert page.locator("table").count() >= 3 and page.locator("td[lang=en] details").count() >= 3
    w.check("law-tdm")
    w.follow("main nav ul a >> nth=4")                   # another topic, same jurisdictions
    assert "j=UY" in page.url
    w.check("law-topic")
    w.go("/portal/law/UY")
    w.check("law-uruguay")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_ai_developer_prices_a_manifest_accepts_and_anyone_verifies_the_licence(walk, portal, lang, tmp_path):
    from obra.app import Obra

    obra = Obra(portal.store)
    work = obra.registry.search(entity="work", limit=1)[0]["number"]
    if obra.ai_terms.current("work", work) is None:
        obra.ai_terms.set_terms(obra.authenticate(portal.logins["admin"][1]), {
            "subject_kind": "work", "subject": work, "uses": [{"use": "ai-train-generative", "permission": "licence",
                                                               "price": {"model": "per-item", "currency": "EUR",
                                                                         "amount_minor": 500}}]})
    w = walk(lang, lang)
    w.sign_in("ai_developer", "/portal/licences")
    page = w.page
    w.check("offers")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"number,count\n{work},3\n", encoding="utf-8")
    w.upload("#f-manifest", manifest, "form[action$='/accept']")
    w.check("quote")
    w.follow("form[action$='/accept'] button")
    licence = json.loads(page.locator("main pre").inner_text())
    w.check("licence")
    signed = tmp_path / "licence.json"
    signed.write_text(json.dumps(licence), encoding="utf-8")
    other = walk(lang, f"{lang}-public")                # a third party, not signed in
    other.go("/portal/licences-verify")
    other.upload("#f-licence", signed, "[role=status]")
    other.check("licence-verified")


def test_creator_checks_their_agreements_and_downloads_their_transparency_report(walk, portal):
    w = walk("fr", "fr")
    w.sign_in("creator", "/portal/fairness")
    page = w.page
    w.check("fairness")
    w.follow("form[action$='/fairness/check'] button")
    assert "/portal/fairness/checks/" in page.url
    w.check("fairness-check")
    w.go("/portal/fairness")
    with page.expect_download() as got:
        page.click("form[action$='/fairness/report'] button")
    assert got.value.suggested_filename.startswith("transparency-report-")


def test_cmo_downloads_the_observatory_report(walk, portal):
    w = walk("es", "es")
    w.sign_in("cmo", "/portal/observatory")
    page = w.page
    w.check("observatory")
    page.fill("#o-period", "2026-10")
    page.check("input[name=scenario][value=user-centric]")
    with page.expect_download() as got:
        page.click("main form button[type=submit]")
    assert got.value.suggested_filename == "observatory-2026-10.html"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_performer_records_voice_consent_and_anyone_checks_a_use(walk, portal, lang):
    w = walk(lang, lang)
    w.sign_in("creator", "/portal/likeness")
    page = w.page
    w.check("likeness-form")
    form = "form[action$='/likeness'][method=post]"
    page.check(f"{form} input[name=decision][value=prohibited]")
    page.fill("#c-jur", "US")
    w.follow(f"{form} button")                         # nothing of me chosen, no end date: refused, each named
    assert page.locator(".problems").count() == 1
    w.check("likeness-refused")
    page.check(f"{form} input[name=attributes][value=voice]")
    page.check(f"{form} input[name=uses][value=training]")
    page.check(f"{form} input[name=uses][value=synthetic-replica]")
    page.fill("#c-until", "2030-12-31")
    w.follow(f"{form} button")
    assert page.locator(".notice").count() == 1
    w.check("likeness-recorded")
    other = walk(lang, f"{lang}-public")
    other.go(f"/portal/likeness?performer={portal.payee}&use=training")
    assert other.page.locator("form[role=search] [role=status]").count() == 1
    other.check("likeness-checked")
