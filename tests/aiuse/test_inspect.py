"""Reading every signal of one URL: each standard by its own rules, side by side, on CLI and API."""

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from obra.aiuse.inspect import inspect, parse_header_lines
from obra.api.app import create_app
from obra.cli.main import app
from obra.errors import InvalidInput

ROBOTS = ("User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\n"
          "Content-Signal: ai-train=no, search=yes\n")
RSL = ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
       '<permits type="usage">search</permits></license></content></rsl>')


def test_the_attach_example_read_per_path_and_standards_kept_apart():
    # draft-ietf-aipref-attach-05's example: /test → n, /ai-ok/test → y
    assert inspect("https://a.example/test", robots_txt=ROBOTS)["uses"]["ai-train-generative"]["aipref"] == "not-allowed"
    ok = inspect("https://a.example/ai-ok/test", robots_txt=ROBOTS)["uses"]
    assert ok["ai-train-generative"]["aipref"] == "allowed"
    # Content Signals is a source of its own: ai-train=no covers every kind of training
    assert ok["ai-train-generative"]["content-signals"] == ok["ai-train-other"]["content-signals"] == "not-allowed"
    assert ok["ai-train-other"]["aipref"] is None       # AIPREF has no token for non-generative training


def test_tdmrep_precedence_and_rsl_evaluation():
    done = inspect("https://a.example/p", headers=[("tdm-reservation", "1")],
                   html='<meta name="tdm-reservation" content="0">', rsl_documents=[RSL])
    assert done["tdmrep"]["reservation"] == 0            # HTML meta overrides the header (more embedded wins)
    assert done["uses"]["search"]["rsl"] == "allowed"
    assert done["uses"]["ai-train-generative"]["rsl"] == "not-allowed"   # not in a closed permits list


def test_a_failing_robots_fetch_disallows_every_crawl():
    assert inspect("https://a.example/x", robots_status=503, user_agent="GPTBot")["crawl"]["allowed"] is False


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=200))
def test_junk_never_raises(header, robots_txt, tdm):
    inspect("https://a.example/x", headers=[("Content-Usage", header), ("X-Robots-Tag", header)],
            robots_txt=robots_txt, tdmrep_json=tdm, rsl_documents=[robots_txt], html=header)


def test_bad_inputs_are_named():
    with pytest.raises(InvalidInput):
        inspect("a.example/x")
    with pytest.raises(InvalidInput):
        parse_header_lines(["no colon here"])


def test_cli_and_api_answer_the_same(sqlite_store, cli_home, tmp_path):
    robots = tmp_path / "robots.txt"
    robots.write_text(ROBOTS)
    cli = CliRunner().invoke(app, ["ai", "signals", "https://a.example/test", "--robots", str(robots),
                                   "-H", "X-Robots-Tag: noai", "--json"])
    assert cli.exit_code == 0, cli.output
    api = TestClient(create_app(sqlite_store)).post(
        "/ai/signals", data={"url": "https://a.example/test", "header": ["X-Robots-Tag: noai"]},
        files={"robots": ("robots.txt", ROBOTS.encode(), "text/plain")})
    assert api.status_code == 200, api.text
    assert json.loads(cli.stdout)["uses"] == api.json()["uses"]
    assert api.json()["uses"]["ai-train-generative"]["noai"] == "not-allowed"
    text = CliRunner().invoke(app, ["ai", "signals", "https://a.example/test", "--robots", str(robots)])
    assert text.exit_code == 0 and "content-signals" in text.stdout
