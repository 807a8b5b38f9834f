"""The one template environment: strict, escaped, per-render locale, offline PDFs."""

from __future__ import annotations

import socket
import threading

import pytest
from jinja2 import UndefinedError

from obra.errors import InvalidInput, NotFound
from obra.render import chart_svg, environment, pdf, render
from obra.render import printing


def test_an_undefined_variable_is_an_error_not_a_blank():
    template = environment.from_string("<p>{{ payee_name }}</p>")
    with pytest.raises(UndefinedError, match="payee_name"):
        template.render()
    with pytest.raises(UndefinedError, match="nonexistent"):
        environment.from_string("{{ s.nonexistent }}").render(s={})


def test_values_are_escaped_in_html(statement):
    statement["lines"][0]["title"] = "<script>alert(1)</script>"
    from obra.render import statement_html

    page = statement_html(statement)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_template_names_the_ones_there_are():
    with pytest.raises(NotFound, match="no document template 'letter.html'.*certificate.html"):
        render("letter.html", {})


def test_render_refuses_a_language_without_a_catalogue():
    with pytest.raises(InvalidInput, match="does not write documents in 'de'"):
        render("base.html", {}, "de")


def test_the_locale_is_per_render_so_threads_do_not_mix_languages(statement):
    from obra.render import statement_html

    results: dict[str, list[str]] = {"es": [], "fr": []}

    def work(locale: str) -> None:
        for _ in range(5):
            results[locale].append(statement_html(statement, locale))

    threads = [threading.Thread(target=work, args=(loc,)) for loc in ("es", "fr")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("Liquidación de regalías" in page and "Relevé" not in page for page in results["es"])
    assert all("Relevé de redevances" in page and "Liquidación" not in page for page in results["fr"])


def test_a_remote_resource_is_never_fetched(monkeypatch):
    """A template pointing at https:// renders without it, and no socket is ever opened."""
    connections: list[object] = []

    def no_network(*args, **kwargs):
        connections.append(args)
        raise AssertionError("rendering tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    fetchers = []
    original = printing.local_fetcher
    monkeypatch.setattr(printing, "local_fetcher", lambda: fetchers.append(original()) or fetchers[-1])
    html = ('<html><head><link rel="stylesheet" href="http://cdn.example.org/style.css"></head><body>'
            '<img src="https://example.org/logo.png" alt="logo"><p>Obra</p></body></html>')
    document = pdf(html)
    assert document.startswith(b"%PDF-")
    assert connections == []
    assert sorted(fetchers[0].refused) == ["http://cdn.example.org/style.css", "https://example.org/logo.png"]


def test_pdf_takes_text_and_a_bytes_identifier():
    with pytest.raises(InvalidInput, match="HTML text"):
        pdf(b"<p>bytes</p>")
    with pytest.raises(InvalidInput, match="must be bytes"):
        pdf("<p>x</p>", identifier="abc")


def test_a_bar_chart_is_inline_svg_with_its_labels_as_text():
    svg = chart_svg("bar", [("Uruguay", 123456), ("日本", 50)], title="Ingresos por territorio (EUR)",
                    value_labels=["1.234,56 €", "0,50 €"])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for text in ("Uruguay", "日本", "1.234,56 €", "0,50 €", "Ingresos por territorio (EUR)"):
        assert text in svg                      # text stays text: searchable, set in the document's fonts
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert svg == chart_svg("bar", [("Uruguay", 123456), ("日本", 50)], title="Ingresos por territorio (EUR)",
                            value_labels=["1.234,56 €", "0,50 €"])  # deterministic: no dates, stable ids


def test_a_line_chart_and_its_input_errors():
    svg = chart_svg("line", {"2024-03": 10, "2024-04": 30, "2024-05": 20})
    assert svg.count("2024-0") == 3
    with pytest.raises(InvalidInput, match="unknown chart kind 'pie'"):
        chart_svg("pie", {"a": 1})
    with pytest.raises(InvalidInput, match="at least one"):
        chart_svg("bar", {})
    with pytest.raises(InvalidInput, match="2 value labels for 1 values"):
        chart_svg("bar", {"a": 1}, value_labels=["1", "2"])
    with pytest.raises(InvalidInput, match="not a number"):
        chart_svg("bar", {"a": "1"})
