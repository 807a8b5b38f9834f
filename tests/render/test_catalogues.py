"""Every string a document shows is translated, placeholders intact, in every catalogue."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from obra.render import SUPPORTED
from obra.render.catalogues import DOMAIN, DOMAINS, catalogue_path, translations

RENDER = Path(str(resources.files("obra.render")))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TRANSLATED = [locale for locale in SUPPORTED if locale != "en"]  # a new locale is checked as soon as it is listed
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def _domain_of(filename: str) -> str:
    parts = Path(filename).parts
    if len(parts) > 2 and parts[0] == "templates" and parts[1] in DOMAINS:
        return parts[1]
    return DOMAIN


def _msgids() -> dict[str, dict[str, tuple[str, ...]]]:
    """domain → msgid → (msgid, msgid_plural?) for every marked string in the templates and the package's Python."""
    found: dict[str, dict[str, tuple[str, ...]]] = {domain: {} for domain in (DOMAIN, *DOMAINS)}
    for filename, _line, message, _comments, _context in extract_from_dir(str(RENDER), METHODS, OPTIONS):
        forms = message if isinstance(message, tuple) else (message,)
        if forms[0]:
            found[_domain_of(filename)][forms[0]] = tuple(forms)
    return found


BY_DOMAIN = _msgids()
MSGIDS = BY_DOMAIN[DOMAIN]
#: the domains with strings to translate (a domain's catalogue is required once its templates mark one)
IN_USE = [domain for domain, ids in BY_DOMAIN.items() if ids]


def test_the_templates_and_vocabulary_are_marked_for_translation():
    assert "Certificate of registration" in MSGIDS and "Royalty statement" in MSGIDS
    assert "Equitable remuneration" in MSGIDS                      # vocabulary.py
    assert "German-speaking countries (Germany, Austria, Switzerland)" in MSGIDS  # territories.py
    assert MSGIDS["Period"] == ("Period", "Periods")


@pytest.mark.parametrize("domain", IN_USE)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_msgid_has_a_translation_with_the_same_placeholders(locale, domain):
    with catalogue_path(locale, domain).open("rb") as po:
        catalog = read_po(po, locale=locale)
    problems = []
    for msgid, forms in sorted(BY_DOMAIN[domain].items()):
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(s.strip() for s in strings):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
        wanted = set(PLACEHOLDER.findall(" ".join(forms)))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) != wanted:
                problems.append(f"placeholders differ: {msgid!r} → {s!r}")
        if len(forms) > 1 and len(strings) != catalog.num_plurals:
            problems.append(f"plural forms: {msgid!r} has {len(strings)} of {catalog.num_plurals}")
    assert not problems, f"{catalogue_path(locale, domain)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", IN_USE)
def test_the_template_file_lists_exactly_the_strings_in_use(domain):
    """locale/<domain>.pot is what `pybabel update` merges from; stale, it would drop or miss strings."""
    with (RENDER / "locale" / f"{domain}.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    source = "." if domain == DOMAIN else f"templates/{domain}"
    assert template == set(BY_DOMAIN[domain]), (
        f"regenerate it: cd src/obra/render && pybabel extract -F "
        f"{'babel.cfg' if domain == DOMAIN else 'babel-domain.cfg'} --no-location --sort-output "
        f"-o locale/{domain}.pot {source}" + (" (then drop the other domains' strings: see docs/rendering.md)"
                                               if domain == DOMAIN else ""))


def test_catalogues_compile_in_memory_and_translate():
    assert translations("es").gettext("Royalty statement") == "Liquidación de regalías"
    assert translations("fr").ngettext("%(num)s line", "%(num)s lines", 2) == "%(num)s lignes"
    assert translations("pt").gettext("Territory") == "Território"
    assert translations("en").gettext("Territory") == "Territory"
