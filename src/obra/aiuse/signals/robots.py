"""robots.txt (RFC 9309) for AI crawlers: who may crawl what, and the groups other rules live in.

A robots.txt answers one question — may this crawler fetch this path — and nothing about what
may be done with what it fetched. So a ``Disallow`` is recorded as what it is, a
:class:`CrawlRule` ("crawl-disallowed for agent X"), never as a usage reading: whether a
crawl block counts as a reservation of rights for training is a jurisdiction's rule, decided
later by the training check. The usage statements that *do* live in robots.txt
(AIPREF ``Content-Usage``, Cloudflare ``Content-Signal``, RSL ``License``) are read by their own
modules from the groups this module finds.

The rules followed (RFC 9309):

* **groups** (§2.2.1): a run of ``User-agent`` lines followed by rules; a ``User-agent`` line after
  a rule starts a new group. Only rules (``Allow``, ``Disallow``, and AIPREF's ``Content-Usage``,
  which attach-05 adds to the ``rule`` production) end a run of user-agent lines; other records
  (``Sitemap``, ``Content-Signal``, ``License``, ``Crawl-delay``…) "MUST NOT interfere" and
  belong to the group they appear in, or to the file when they precede every group. Every group
  naming the crawler's product token (case-insensitive) is merged; failing that, every ``*``
  group; failing that, no rules apply.
* **product token**: the value's leading run of letters, digits, ``-``, ``_`` and ``.``
  (``Googlebot/2.1`` → ``googlebot``). RFC 9309's identifier has no digits or dots; they are
  kept because crawlers on the maintained list are named ``AI2Bot`` and ``bigsur.ai``.
* **rules** (§2.2.2): the longest match in octets wins, an ``Allow``/``Disallow`` tie goes to
  ``Allow``, no match means allowed, ``/robots.txt`` is always allowed. The decision is
  protego's (pinned), run on the selected group's rules; the rule quoted as the reason is
  found with :mod:`obra.aiuse.signals.paths`, the same matching the other readers use. The two
  agree (a property test holds them together) except on malformed or ambiguous patterns, where
  protego is more generous and its decision stands, the reason then saying protego decided: a
  stray ``%`` in a pattern, and a final ``$`` that protego also reads as a literal dollar.
* **access** (§2.3.1): 2xx → the file's rules; 3xx (more than five redirects) and 4xx → the file
  is "unavailable", anything may be crawled; 5xx, no answer, or any other status → "unreachable",
  complete disallow.
* **limit** (§2.5): the first 500 KiB are parsed, the rest ignored.

The maintained list of AI crawlers (``ai-robots-txt/ai.robots.txt``, MIT, copied verbatim as
``obra/aiuse/data/aibots.json`` with its ``LICENSE``) says what each crawler does only in free
text (``function``); :func:`crawler_uses` reads that into the uses a crawler serves, so that a
generated robots.txt blocks training crawlers for a training reservation and assistant and
search crawlers for an AI-input reservation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from protego import Protego

from obra.aiuse.signals.paths import match_length, path_of
from obra.aiuse.vocabulary import AI_USES, TRAINING, Permission, Reading, Use

__all__ = [
    "CrawlRule", "Record", "Group", "RobotsTxt", "Crawler", "parse", "product_token", "crawl_rule",
    "ai_crawl_rules", "ai_crawlers", "crawler_uses", "crawlers_to_block", "reading_for", "write_robots_txt",
    "StatedTerms", "Terms", "permissions",
    "PARSE_LIMIT",
]

PARSE_LIMIT = 500 * 1024
"""Octets of a robots.txt that are parsed (RFC 9309 §2.5: at least 500 KiB)."""

_USER_AGENT = frozenset({"user-agent", "useragent", "user agent"})
_DISALLOW = frozenset({"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"})
_ALLOW = frozenset({"allow"})
# Records that are rules of a group (they end a run of user-agent lines).
_RULES = _DISALLOW | _ALLOW | {"content-usage"}
_KNOWN = _USER_AGENT | _DISALLOW | _ALLOW
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class CrawlRule:
    """Whether ``agent`` may crawl ``path``, and the robots.txt rule (or status) that decided.

    A crawl rule is not a usage statement: ``allowed=False`` reads "crawl-disallowed for
    agent X", and how that counts for AI training is for the jurisdiction's rule pack.
    """

    agent: str
    path: str
    allowed: bool
    rule: str
    group: str | None = None
    """The user-agent line(s) of the group that applied, ``*`` for the catch-all, None when none."""
    line: int | None = None
    """The 1-based line of the deciding ``Allow``/``Disallow``, when one decided."""
    status: int | None = None

    @property
    def reading(self) -> str:
        return "crawl-allowed" if self.allowed else "crawl-disallowed"

    def to_json(self) -> dict:
        return {"standard": "robots.txt", "agent": self.agent, "path": self.path,
                "reading": self.reading, "allowed": self.allowed, "rule": self.rule,
                "group": self.group, "line": self.line, "status": self.status}


@dataclass(frozen=True)
class Record:
    """One ``field: value`` line of a robots.txt (field lower-cased, value without comment)."""

    field: str
    value: str
    line: int


@dataclass(frozen=True)
class Group:
    """A group: its user-agent values as written, their product tokens, and its records in order."""

    agents: tuple[str, ...]
    tokens: tuple[str, ...]
    records: tuple[Record, ...]

    def label(self) -> str:
        return ", ".join(self.agents)


@lru_cache(maxsize=4096)
def product_token(value: str) -> str:
    """The product token of a user-agent value or crawler name, lower-cased (``*`` stays ``*``).

    Why: RFC 9309 matches groups by product token, case-insensitively, not by the whole value;
    ``User-agent: Googlebot/2.1`` names the ``googlebot`` group.
    """
    value = value.strip()
    if value.startswith("*"):
        return "*"
    found = _TOKEN.match(value)
    return found.group(0).lower() if found else ""


class RobotsTxt:
    """A parsed robots.txt: its groups, and its records outside every group.

    Parse once per distinct file (:func:`parse` caches), then ask per agent and path; the
    selected groups and protego's matcher are kept per agent.
    """

    def __init__(self, text: str):
        raw = text.encode("utf-8", "surrogatepass")
        self.truncated = len(raw) > PARSE_LIMIT
        if self.truncated:
            text = raw[:PARSE_LIMIT].decode("utf-8", "ignore")
        if text.startswith("\ufeff"):
            text = text[1:]
        groups: list[Group] = []
        global_records: list[Record] = []
        agents: list[str] = []
        records: list[Record] = []
        in_rules = False

        def close() -> None:
            if agents:
                groups.append(Group(tuple(agents), tuple(product_token(a) for a in agents), tuple(records)))

        for number, line in enumerate(_LINE_BREAK.split(text), start=1):
            line = line.split("#", 1)[0]
            key, colon, value = line.partition(":")
            name = " ".join(key.split()).lower()
            if not colon or (name not in _KNOWN and " " in name):
                # "Disallow /x": the colon forgotten; read as meant for the three REP fields
                # (as Google's parser does), any other line without a colon is ignored.
                words = line.split(None, 1)
                if len(words) == 2 and words[0].lower() in _KNOWN:
                    name, value = words[0].lower(), words[1]
                elif not colon:
                    continue
            value = value.strip(" \t\v\f")
            if name in _USER_AGENT:
                if in_rules:
                    close()
                    agents, records, in_rules = [], [], False
                if value:
                    agents.append(value)
                continue
            record = Record(name, value, number)
            if not agents:
                global_records.append(record)
                continue
            records.append(record)
            if name in _RULES:
                in_rules = True
        close()
        self.groups: tuple[Group, ...] = tuple(groups)
        self.global_records: tuple[Record, ...] = tuple(global_records)
        self._matchers: dict[str, tuple[tuple[Group, ...], Protego]] = {}
        self._groups: dict[str, tuple[Group, ...]] = {}
        self._records: dict[tuple[str, str], tuple[Record, ...]] = {}
        self._last: tuple[tuple[str, str], CrawlRule | None] = (("", ""), None)

    def groups_for(self, agent: str) -> tuple[Group, ...]:
        """The groups that apply to ``agent``: those naming its product token, else the ``*``
        groups, else none (RFC 9309 §2.2.1; groups for the same agent are merged)."""
        token = product_token(agent)
        found = self._groups.get(token)
        if found is None:
            found = tuple(g for g in self.groups if token and token != "*" and token in g.tokens)
            if not found:
                found = tuple(g for g in self.groups if "*" in g.tokens)
            self._groups[token] = found
        return found

    def records_for(self, agent: str, name: str) -> tuple[Record, ...]:
        """The ``name`` records (lower-case field name) of the groups that apply to ``agent``."""
        key = (product_token(agent), name)
        found = self._records.get(key)
        if found is None:
            found = tuple(r for g in self.groups_for(agent) for r in g.records if r.field == name)
            self._records[key] = found
        return found

    def global_records_named(self, name: str) -> tuple[Record, ...]:
        """The ``name`` records that precede every group (file-wide records)."""
        return tuple(r for r in self.global_records if r.field == name)

    def _matcher(self, agent: str) -> tuple[tuple[Group, ...], Protego]:
        token = product_token(agent)
        found = self._matchers.get(token)
        if found is None:
            groups = self.groups_for(agent)
            lines = ["User-agent: *"]
            for group in groups:
                for r in group.records:
                    if r.field in _ALLOW or r.field in _DISALLOW:
                        lines.append(f"{'Allow' if r.field in _ALLOW else 'Disallow'}: {r.value}")
            found = (groups, Protego.parse("\n".join(lines)))
            self._matchers[token] = found
        return found

    @staticmethod
    def _label(agent: str, groups: tuple[Group, ...]) -> str:
        """The user-agent line(s) that chose the groups: ``*``, or the lines naming the agent."""
        token = product_token(agent)
        named = [a for g in groups for a, t in zip(g.agents, g.tokens) if t == token and t != "*"]
        if not named:
            return "*"
        size = sum(len(g.agents) for g in groups)
        return ", ".join(named) + (f" (in a group of {size} user agents)" if size > len(named) else "")

    def crawl_rule(self, agent: str, path: str) -> CrawlRule:
        """May ``agent`` crawl ``path`` (a path, or a URL: its path and query are used)?

        The last answer is kept: the crawl rule, the AIPREF rule and Content Signals each ask it for
        the same agent and path in turn (one entry, replaced at once: safe across threads).
        """
        last = self._last
        if last[0][0] == agent and last[0][1] == path and last[1] is not None:
            return last[1]
        rule = self._crawl_rule(agent, path)
        self._last = ((agent, path), rule)
        return rule

    def _crawl_rule(self, agent: str, path: str) -> CrawlRule:
        path = path_of(path)
        if path == "/robots.txt":
            return CrawlRule(agent, path, True, "/robots.txt is always allowed (RFC 9309 §2.2.2)", status=200)
        groups, matcher = self._matcher(agent)
        if not groups:
            return CrawlRule(agent, path, True, f"no group names {agent!r} and there is no * group: "
                             "no rules apply (RFC 9309 §2.2.1)", status=200)
        label = self._label(agent, groups)
        allowed = matcher.can_fetch("http://robots.invalid" + path, "*")
        longest: dict[bool, tuple[int, Record]] = {}
        for group in groups:
            for r in group.records:
                is_allow = r.field in _ALLOW
                if not r.value or not (is_allow or r.field in _DISALLOW):
                    continue
                n = match_length(r.value, path)
                if n is not None and (is_allow not in longest or n > longest[is_allow][0]):
                    longest[is_allow] = (n, r)
        if allowed not in longest:
            why = ("no Allow or Disallow rule matches: allowed (RFC 9309 §2.2.2)" if allowed else
                   f"disallowed by protego's reading of the group — crawl-disallowed for agent {agent}")
            return CrawlRule(agent, path, allowed, why, group=label, status=200)
        n, r = longest[allowed]
        tie = allowed and False in longest and longest[False][0] == n
        if allowed:
            why = (f"Allow: {r.value} (line {r.line}) is the longest match"
                   f"{' (a tie with a Disallow goes to Allow)' if tie else ''}: crawl-allowed (RFC 9309 §2.2.2)")
        else:
            why = (f"Disallow: {r.value} (line {r.line}) is the longest match: crawl-disallowed for "
                   f"agent {agent} (RFC 9309 §2.2.2)")
        return CrawlRule(agent, path, allowed, why, group=label, line=r.line, status=200)


@lru_cache(maxsize=256)
def parse(text: str) -> RobotsTxt:
    """The parsed robots.txt (cached per distinct text: many items share one site's file).

    The cache is small on purpose (a file may be 500 KiB): a caller checking many sites keeps
    each site's :class:`RobotsTxt` itself, or takes the items site by site.
    """
    return RobotsTxt(text)


def _status_rule(agent: str, path: str, status: int | None) -> CrawlRule | None:
    if status is not None and 200 <= status < 300:
        return None
    if status is not None and 300 <= status < 500:
        kind = "redirects past the limit" if status < 400 else "unavailable"
        return CrawlRule(agent, path, True, f"robots.txt answered {status} ({kind}): any path may be "
                         "crawled (RFC 9309 §2.3.1.3)", status=status)
    what = "unreachable" if status is None else f"answered {status}"
    return CrawlRule(agent, path, False, f"robots.txt {what}: complete disallow — crawl-disallowed for "
                     f"agent {agent} (RFC 9309 §2.3.1.4)", status=status)


def crawl_rule(robots_txt: str | None, agent: str, path: str, *, status: int | None = 200) -> CrawlRule:
    """Whether ``agent`` (a product token, e.g. ``GPTBot``) may crawl ``path`` on a site whose
    robots.txt fetch gave ``status`` (None: no answer) and ``robots_txt`` (the body, when 2xx).

    Why the status matters: a missing robots.txt (4xx) allows everything, a failing one (5xx)
    disallows everything — readers that only look at the text get both wrong.
    """
    path = path_of(path)
    if path == "/robots.txt":
        return CrawlRule(agent, path, True, "/robots.txt is always allowed (RFC 9309 §2.2.2)", status=status)
    decided = _status_rule(agent, path, status)
    if decided is not None:
        return decided
    rule = parse(robots_txt or "").crawl_rule(agent, path)
    return rule if rule.status == status else replace(rule, status=status)


# -- the maintained AI crawler list ---------------------------------------------------------------


@dataclass(frozen=True)
class Crawler:
    """One AI crawler of the maintained list, with the uses its stated function serves."""

    token: str
    operator: str
    function: str
    respect: str
    description: str
    uses: frozenset[Use] = field(default_factory=frozenset)
    why: str = ""
    """How ``uses`` was read from ``function``."""


# The list's own category labels, and what each crawler class is used for.
_CATEGORY_USES: dict[str, tuple[frozenset[Use], str]] = {
    "ai data scrapers": (frozenset(TRAINING), "category 'AI Data Scrapers': collects training data"),
    "ai data providers": (frozenset(TRAINING) | {Use.AI_INPUT},
                          "category 'AI Data Providers': sells data for training and for retrieval"),
    "ai assistants": (frozenset({Use.AI_INPUT}), "category 'AI Assistants': fetches for answers at use time"),
    "ai agents": (frozenset({Use.AI_INPUT}), "category 'AI Agents': fetches for a user's task"),
    "ai coding agents": (frozenset({Use.AI_INPUT}), "category 'AI Coding Agents': fetches for a user's task"),
    "ai search crawlers": (frozenset({Use.AI_INPUT, Use.AI_INDEX}),
                           "category 'AI Search Crawlers': indexes for AI search answers"),
    "undocumented ai agents": (frozenset(AI_USES), "category 'Undocumented AI Agents': read as every AI use"),
}
_TRAINING_WORDS = ("train", "scrap", "dataset", "data set", "llm", "language model", "machine learning",
                   "data is sold", "data collection", "ai development", "crawl dataset", "ai model")
_INPUT_WORDS = ("assistant", "search", "agent", "answer", "prompt", "user quer", "retriev", "siri",
                "alexa", "recommendation", "translation", "chat", "real-time", "user-initiated")


def crawler_uses(function: str) -> tuple[frozenset[Use], str]:
    """The uses a crawler serves, read from the list's free-text ``function``, and why.

    The list has six category labels and many free-text descriptions; the labels map through a
    fixed table, the descriptions through words ("train", "scraping", "dataset" → training;
    "assistant", "search", "answer" → AI input). A crawler whose function says nothing usable
    ("Unclear at this time.", "Undocumented AI Agents") is read as serving every AI use, so a
    reservation of any AI use blocks it: not knowing what a crawler does is no reason to let it in.
    """
    text = " ".join(function.split()).lower().rstrip(".")
    if text in _CATEGORY_USES:
        return _CATEGORY_USES[text]
    uses: set[Use] = set()
    words = []
    for word in _TRAINING_WORDS:
        if word in text:
            uses.update(TRAINING)
            words.append(word)
    for word in _INPUT_WORDS:
        if word in text:
            uses.add(Use.AI_INPUT)
            words.append(word)
    if uses:
        return frozenset(uses), f"function {function!r} mentions {', '.join(repr(w) for w in words)}"
    return frozenset(AI_USES), f"function {function!r} does not say: read as every AI use"


@lru_cache(maxsize=1)
def ai_crawlers() -> dict[str, Crawler]:
    """The maintained AI crawler list, by user-agent token as the list writes it."""
    text = resources.files("obra.aiuse").joinpath("data", "aibots.json").read_text(encoding="utf-8")
    out: dict[str, Crawler] = {}
    for token, info in json.loads(text).items():
        function = str(info.get("function", ""))
        uses, why = crawler_uses(function)
        out[token] = Crawler(token, str(info.get("operator", "")), function, str(info.get("respect", "")),
                             str(info.get("description", "")), uses, why)
    return out


def ai_crawl_rules(robots_txt: str | None, path: str, *, status: int | None = 200,
                   crawlers: Iterable[str] | None = None) -> list[CrawlRule]:
    """The crawl rule for ``path`` of every listed AI crawler (or of ``crawlers``): what a site's
    robots.txt says to each of them, one :class:`CrawlRule` per crawler."""
    names = list(ai_crawlers()) if crawlers is None else list(crawlers)
    return [crawl_rule(robots_txt, name, path, status=status) for name in names]


# -- writer -----------------------------------------------------------------------------------------


class StatedTerms(Protocol):
    """What the writers need of :class:`obra.aiuse.terms.AITerms`: the term deciding a use when
    nothing narrows the question (kept structural, so signal writers do not depend on the model)."""

    def permission(self, use: Use) -> Any: ...


Terms = Mapping[Use, Permission] | StatedTerms
"""A rightholder's terms as the writers take them: a plain use → permission map, or ``AITerms``."""


def permissions(terms: Terms) -> dict[Use, Permission]:
    """Use → permission for the unscoped question.

    Yes/no signals cannot say "for research only" or "not in the US": the term that decides a use
    with no territory, purpose, user type or date is what they write, and a use whose terms are
    all scoped is left unsaid here (its conditions are published in the RSL and TDMRep documents).
    """
    if isinstance(terms, Mapping):
        return dict(terms)
    out = {}
    for use in Use:
        term = terms.permission(use)
        if term is not None:
            out[use] = term.permission
    return out


def _reserved(permission: Permission | None) -> bool:
    return permission is not None and permission is not Permission.ALLOWED


def reading_for(uses: Iterable[Use], terms: Terms) -> Reading:
    """What a token covering ``uses`` must say under ``terms``, for every writer of a yes/no signal.

    Not allowed when the terms reserve any covered use (not allowed, or only under licence: a
    licence is a reservation until it is granted); allowed only when they allow every covered
    use; unknown otherwise (the token is then not written). So a written token never grants
    more than the terms, and a coarse token (Content Signals' ``ai-train`` covers both kinds of
    training) reserves both when the terms reserve either.
    """
    stated = permissions(terms)
    said = [stated.get(use) for use in uses]
    if any(_reserved(p) for p in said):
        return Reading.NOT_ALLOWED
    if said and all(p is Permission.ALLOWED for p in said):
        return Reading.ALLOWED
    return Reading.UNKNOWN


def crawlers_to_block(terms: Terms) -> list[Crawler]:
    """The listed crawlers a robots.txt should turn away under ``terms``: those serving any use
    the terms reserve (not allowed, or allowed only under licence), in list order."""
    stated = permissions(terms)
    reserved = {use for use in AI_USES if _reserved(stated.get(use))}
    return [c for c in ai_crawlers().values() if c.uses & reserved]


def write_robots_txt(terms: Terms, *, rules: Sequence[str] = (),
                     crawlers: Sequence[Crawler] | None = None, disallow: str = "/",
                     allow: Sequence[str] = (), preamble: Sequence[str] = ()) -> str:
    """A robots.txt from a rightholder's terms: one group turning away every listed AI crawler
    whose function serves a reserved use, and a ``*`` group allowing the rest, carrying
    ``rules`` — the ``Content-Usage`` and ``Content-Signal`` lines written by
    :func:`obra.aiuse.signals.aipref.write_robots_rules` and
    :func:`obra.aiuse.signals.content_signals.write_robots_rules` (each standard's writer stays
    in its module; this one only places their lines).

    A crawl block is the blunt instrument (it also stops the crawler reading the usage lines):
    it is written because many crawlers honour nothing else. ``disallow`` is the path pattern
    the turned-away crawlers may not fetch (``/``: the whole site), ``allow`` the paths they may
    still fetch inside it (the licence and the reservation, so that they can read them), and
    ``preamble`` records placed before every group, for every crawler (RSL's ``License`` lines).
    """
    blocked = crawlers_to_block(terms) if crawlers is None else list(crawlers)
    out = ["# robots.txt written by Obra from the rightholder's AI-use terms.",
           "# Crawl rules (RFC 9309) say who may fetch; the Content-Usage (IETF AIPREF) and",
           "# Content-Signal lines say how what is fetched may be used.", ""]
    if preamble:
        out += [*preamble, ""]
    if blocked:
        out.append("# AI crawlers serving a use these terms reserve (list: ai-robots-txt/ai.robots.txt, MIT)")
        for crawler in blocked:
            serves = ", ".join(sorted(u.value for u in crawler.uses))
            out.append(f"User-agent: {crawler.token}  # {serves}")
        out += [f"Disallow: {disallow}", *(f"Allow: {path}" for path in allow), ""]
    out += ["User-agent: *", "Allow: /"]
    out += [line for line in rules if line]
    return "\n".join(out) + "\n"
