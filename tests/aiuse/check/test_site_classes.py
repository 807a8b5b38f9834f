"""The check reads robots.txt once per class of paths, not per item, and once for every site serving
the same robots.txt: each item must still get what the specification's reader says of its own path.

Sites here share a few robots.txt files (as real crawls do: hosting defaults repeat), with groups for
the crawler, wildcards, ``$`` anchors, ``Content-Usage`` and ``Content-Signal`` lines with paths;
every item's crawl state, AIPREF and Content Signals values in the check's result are compared with
the readers of :mod:`obra.aiuse.signals` called for that item alone, and each site's crawl evidence
must name its own robots.txt and capture date.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse.check.service import CheckService
from obra.aiuse.check.signals import ABSENT, _reading_of
from obra.aiuse.signals import aipref, content_signals, robots
from obra.aiuse.vocabulary import Use

AGENT = "GPTBot"
USE = Use.AI_TRAIN_GENERATIVE
ROBOTS = [
    "User-agent: *\nAllow: /\n",
    f"User-agent: {AGENT}\nDisallow: /private/\nAllow: /private/open$\nContent-Usage: train-ai=n\n"
    "Content-Usage: /articles/ train-ai=y\n\nUser-agent: *\nDisallow: /\n",
    "User-agent: *\nDisallow: /*.png$\nContent-Signal: ai-train=no\nContent-Signal: /news/ ai-train=yes\n",
    f"User-agent: CCBot\nDisallow: /\n\nUser-agent: {AGENT}\nDisallow: /cart/\nDisallow: /a*c\n"
    "Content-Usage: /private/ train-ai=y\n",
    "User-agent: *\nDisallow: /private/\nContent-Usage: train-ai=n, search=y\n",
]
PATHS = ["/", "/private/1", "/private/open", "/private/open/2", "/articles/3.html", "/news/4", "/img/5.png",
         "/img/5.png?x", "/cart/6", "/abc", "/a/b/c", "/robots.txt", "/news/7.png"]
SITE = st.tuples(st.sampled_from(range(len(ROBOTS))), st.sampled_from([200, 200, 200, 404, 503, None]))


def _crawl_state(text: str | None, status: int | None, path: str) -> str:
    if status is None and text is None:
        return "not-captured"
    rule = robots.crawl_rule(text, AGENT, path, status=status)
    if rule.allowed:
        return "crawl-allowed"
    if status is None or not 200 <= status < 300:
        return "disallowed-status"
    return "disallowed-all" if rule.group in (None, "*") else "disallowed-agent"


def _expected(text: str | None, status: int | None, path: str) -> tuple[str, str, str]:
    ok = text is not None and status is not None and 200 <= status < 300
    cs = [s for s in content_signals.read_robots(text, AGENT, path, status=status) if s.use is USE] if ok else []
    usage = [s for s in aipref.read_robots(text, AGENT, path, status=status) if s.use is USE] if ok else []
    return (_crawl_state(text, status, path), _reading_of(cs),
            _reading_of(aipref.combine(usage)) if usage else ABSENT)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sites=st.lists(SITE, min_size=2, max_size=6),
       items=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(PATHS)), min_size=1, max_size=40))
def test_every_item_gets_what_the_readers_say_of_its_own_path(sqlite_world, tmp_path_factory, sites, items):
    store = sqlite_world["store"]
    tmp = tmp_path_factory.mktemp("classes")
    captures = {}
    with open(tmp / "sites.jsonl", "w") as fh:
        for i, (template, status) in enumerate(sites):
            origin = f"https://s{i}.example"
            line = {"origin": origin, "fetched_at": f"2026-10-{i + 1:02d}T00:00:00Z"}
            text = ROBOTS[template] if status == 200 else None
            if status is not None:
                line["robots_status"] = status
                if text is not None:
                    line["robots_txt"] = text
            captures[origin] = (text, status)
            fh.write(json.dumps(line) + "\n")
    with open(tmp / "manifest.jsonl", "w") as fh:
        for site, path in items:
            fh.write(json.dumps({"url": f"https://s{site % len(sites)}.example{path}"}) + "\n")
    done = CheckService(store).check(sqlite_world["developer"], tmp / "manifest.jsonl", tmp / "sites.jsonl", jurisdiction="DE",
                                     purpose="commercial", user_agent=AGENT, use=USE, out_dir=tmp / "out")
    result = pq.read_table(done["files"]["parquet"]).to_pylist()
    parts = json.loads((tmp / "out" / "parts.json").read_text())["parts"]["site"]
    for (site, path), row in zip(items, result):
        origin = f"https://s{site % len(sites)}.example"
        text, status = captures[origin]
        assert (row["crawl"], row["content_signals"], row["aipref"]) == _expected(text, status, path), (origin, path)
        evidence = parts[str(row["site_class"])]["crawl"]["evidence"][0]
        assert evidence["source"] == f"{origin}/robots.txt"
        assert evidence["date"] == f"2026-10-{site % len(sites) + 1:02d}T00:00:00+00:00"
