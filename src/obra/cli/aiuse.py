"""``obra ai …``: AI-use terms (state, show, decide) and the signal files that publish them (protect).

Thin shells over ``Obra.ai_terms`` (:class:`obra.aiuse.service.AITermsService`); the signal
generator and the training check add their commands here as they land.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from obra.aiuse.terms import Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.cli.common import JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra, user_text

ai_app = typer.Typer(help="AI use: rightholders' terms for AI training, input and mining.", no_args_is_help=True)
terms_app = typer.Typer(help="State and read AI-use terms of works, recordings, catalogues and web locations.",
                        no_args_is_help=True)
ai_app.add_typer(terms_app, name="terms")

KINDS = "work, recording, party or location"


def _render_terms(data: dict) -> None:
    versions = data if isinstance(data, list) else [data]
    for v in versions:
        table = Table(title=f"{user_text(v['subject_kind'])} {user_text(v['subject'])} — version {v['version']}")
        for col in ("use", "permission", "price", "scope"):
            table.add_column(col)
        for u in v["terms"].get("uses", []):
            price = u.get("price") or {}
            amount = (f"{price.get('amount_minor')} minor units {price.get('currency')}" if "amount_minor" in price
                      else f"{price.get('share_percent')} % of revenue" if price else "")
            scope = "; ".join(f"{k}: {', '.join(map(str, u[k]))}" for k in ("territories", "purposes", "user_types")
                              if u.get(k))
            table.add_row(u["use"], u["permission"], f"{price.get('model', '')} {amount}".strip(), scope)
        console.print(table)
        console.print(f"stated by {user_text(v.get('set_by', ''))} at {v.get('set_at', '')}; "
                      f"journal event {v.get('journal_event')} (prove it: obra journal proof {v.get('journal_event')})")


@terms_app.command("set")
@handle_errors
def terms_set(file: Path = typer.Argument(..., exists=True, help="a JSON file: {subject_kind, subject, uses: [...]}"),
              party: Optional[int] = typer.Option(None, help="for a location: the party declaring it (default: yours)"),
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """State AI-use terms (a new version; earlier versions stay, each a journal event)."""
    from obra.registry.batch import load_json_document

    obra = open_obra()
    done = obra.ai_terms.set_terms(current_principal(obra, token), load_json_document(file), party=party)
    emit(done, as_json, lambda d: console.print(
        f"Terms of {user_text(d['subject_kind'])} {user_text(d['subject'])}: version {d['version']}, "
        f"journal event {d['journal_event']}."))


@terms_app.command("show")
@handle_errors
def terms_show(kind: str = typer.Argument(..., help=KINDS), subject: str = typer.Argument(...),
               history: bool = typer.Option(False, "--history", help="every version, oldest first"),
               as_json: bool = JSON_OPT) -> None:
    """The terms in force for a subject (or every version with --history). Public."""
    svc = open_obra().ai_terms
    if history:
        emit(svc.history(kind, subject), as_json, _render_terms)
        return
    current = svc.current(kind, subject)
    if current is None:
        from obra.errors import NotFound

        raise NotFound(f"no AI-use terms were stated for {kind} {subject}")
    emit(current, as_json, _render_terms)


@terms_app.command("decide")
@handle_errors
def terms_decide(number: str = typer.Argument(..., help="a registration number"),
                 use: Use = typer.Argument(..., help="the use asked about"),
                 territory: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-2 country"),
                 purpose: Optional[Purpose] = typer.Option(None), user_type: Optional[UserType] = typer.Option(None),
                 on: Optional[str] = typer.Option(None, help="date (YYYY-MM-DD) the use happens"),
                 as_json: bool = JSON_OPT) -> None:
    """What a registration's terms (else its parties' catalogue terms) say about one use. Public."""
    when = date.fromisoformat(on) if on else None
    decided = open_obra().ai_terms.decide(number, use, territory=territory, purpose=purpose, user_type=user_type,
                                          on=when)
    emit(decided, as_json, lambda d: console.print(
        f"{use.value}: {d['permission'] or 'nothing stated (no term covers it: silence is not permission)'}"))


@ai_app.command("protect")
@handle_errors
def protect(kind: Optional[str] = typer.Argument(None, help=KINDS + " (or --terms FILE)"),
            subject: Optional[str] = typer.Argument(None, help="registration number, party id or location"),
            terms: Optional[Path] = typer.Option(None, "--terms", exists=True, dir_okay=False,
                                                 help="a terms JSON file to publish instead of stored terms"),
            site: Optional[str] = typer.Option(None, help="the site's origin, e.g. https://example.org "
                                                          "(a location's own by default)"),
            licence_url: Optional[str] = typer.Option(None, help="where license.xml will be served "
                                                                 "(default: SITE/license.xml)"),
            policy_url: Optional[str] = typer.Option(None, help="where tdm-policy.json will be served "
                                                                "(default: SITE/tdm-policy.json)"),
            contact: Optional[str] = typer.Option(None, help="e-mail address licensees write to "
                                                             "(default: the terms' contact)"),
            media: Optional[List[Path]] = typer.Option(None, "--media", exists=True, dir_okay=False,
                                                       help="a media file to sign with the terms (repeat the "
                                                            "option); needs OBRA_C2PA_CERT and OBRA_C2PA_KEY"),
            output: Path = typer.Option(Path("ai-signals"), "--out", file_okay=False,
                                        help="directory the files are written into"),
            as_json: bool = JSON_OPT) -> None:
    """Write every signal file of a subject's terms: robots.txt, tdmrep.json and its policy, the RSL
    licence, nginx/Apache/Caddy headers, an HTML head snippet, a README, signed media. Public."""
    import os
    import tempfile

    from obra.registry.batch import load_json_document

    document = load_json_document(terms, "terms") if terms is not None else None
    files = [(path.name, path.read_bytes()) for path in media or ()]
    done = open_obra().protect.bundle(kind, subject, terms=document, site=site, licence_url=licence_url,
                                      policy_url=policy_url, contact=contact, media=files)
    written = []
    for name, content in sorted(done["files"].items()):
        target = output / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, target)
        written.append(str(target))
    summary = done["summary"] | {"out": str(output), "written": written}

    def render(d: dict) -> None:
        table = Table(title=f"What the files say about {user_text(d['subject_kind'])} {user_text(d['subject'])}'s "
                            f"terms at {user_text(d['site'] + d['path'])}")
        table.add_column("use")
        for name in d["readings"]:
            table.add_column(name)
        for use in Use:
            table.add_row(use.value, *(d["readings"][name][use.value] for name in d["readings"]))
        console.print(table)
        console.print(f"Wrote {len(d['written'])} files into {user_text(d['out'])}; {user_text(d['out'])}/README.txt "
                      "says where each one goes and what it cannot say.")

    emit(summary, as_json, render)


DECISIONS = ("allowed", "reserved", "licence-required", "licensed", "unknown")


@ai_app.command("check")
@handle_errors
def check(manifest: Path = typer.Argument(..., exists=True, help="CSV, JSONL or Parquet: url, sha256, iscc, headers, "
                                                                   "crawled_at per item"),
          sites: Optional[Path] = typer.Option(None, exists=True, help="JSONL site captures (robots.txt, tdmrep.json, "
                                                                       "RSL) per origin"),
          jurisdiction: str = typer.Option(..., help="where the training happens, e.g. DE, EU, GB, US, JP"),
          purpose: str = typer.Option(..., help="research, non-commercial or commercial"),
          commercial: Optional[bool] = typer.Option(None, "--commercial/--non-commercial",
                                                    help="whether the use is commercial (default: from the purpose)"),
          user_agent: str = typer.Option("*", help="the crawler's product token, e.g. GPTBot"),
          use: Use = typer.Option(Use.AI_TRAIN_GENERATIVE, help="the use asked about"),
          engine: str = typer.Option("duckdb", help="duckdb, or spark for manifests beyond one machine"),
          radius: int = typer.Option(8, min=0, max=16, help="near-duplicate radius in bits for content matches"),
          items: int = typer.Option(0, min=0, help="also print the first N items with every reason "
                                                   "(--json prints all of them)"),
          output: Optional[Path] = typer.Option(None, "--out", help="directory for the results (default: under "
                                                                     "OBRA_HOME/ai-checks)"),
          formats: Optional[list[str]] = typer.Option(None, "--format", help="per-item results to write: parquet, "
                                                      "csv, json or all (repeatable; default: parquet, plus csv or "
                                                      "json for a CSV or JSON Lines manifest)"),
          token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """May I train on this? Decide every item of a manifest (allowed, reserved, licence-required, licensed,
    unknown) with its reasons and evidence, and sign a receipt of the run."""
    obra = open_obra()
    principal = current_principal(obra, token)
    inline = items or (2**31 - 1 if as_json else 0)  # --json: one document with every item
    done = obra.ai_check.check(principal, manifest, sites, jurisdiction=jurisdiction, purpose=purpose,
                               commercial=commercial, user_agent=user_agent, use=use, engine=engine,
                               out_dir=output, radius=radius, inline=inline, formats=formats)

    def render(d: dict) -> None:
        summary = d["summary"]
        table = Table(title=f"{user_text(manifest.name)}: {d['question']['use']} in {d['question']['jurisdiction']}"
                            f" ({d['question']['purpose']})")
        table.add_column("decision")
        table.add_column("items", justify="right")
        for name in DECISIONS:
            table.add_row(name, f"{summary.get('decisions', {}).get(name, 0):,}")
        console.print(table)
        law = d.get("law") or {}
        fact = law.get("exception_fact") or {}
        console.print(f"law in {user_text(law.get('jurisdiction', ''))}: {user_text(law.get('key', ''))} is "
                      f"{user_text(str(law.get('exception', '')).replace('_', ' '))} "
                      f"({user_text(fact.get('citation') or 'no fact recorded')}; confidence "
                      f"{user_text(fact.get('confidence') or '-')})")
        if d["problem_count"]:
            console.print(f"[yellow]{d['problem_count']:,} problems in the inputs[/] (each kept as an 'unknown' item; "
                          f"see problems.json)")
        console.print(f"results: {user_text(d['directory'])}")
        console.print(f"receipt sha256 {d['receipt_sha256']}, journal event {d['journal_event']} "
                      f"(verify offline: obra ai receipt {user_text(d['files'].get('receipt', ''))})")
        for item in d.get("items") or ():
            console.print(f"  line {item['line']}: {user_text(item['url'])} → {item['decision']} "
                          f"({user_text(item.get('rule') or '')})")

    emit(done, as_json, render)


@ai_app.command("receipt")
@handle_errors
def receipt(file: Path = typer.Argument(..., exists=True, help="a check's receipt.json"),
            results: Optional[Path] = typer.Option(None, help="the check's results directory, to check its files "
                                                              "against the receipt too"),
            as_json: bool = JSON_OPT) -> None:
    """Verify a training-check receipt against the office's key history (and its result files)."""
    from obra.aiuse.check.engine import RESULT_FILES

    outputs = None
    if results is not None:
        outputs = {name: results / filename for name, filename in RESULT_FILES.items() if (results / filename).exists()}
    done = open_obra().ai_check.verify(file.read_bytes(), outputs=outputs)
    emit(done, as_json, lambda d: console.print(f"[green]valid[/]: receipt of {d.get('issued_at', '')} "
                                                f"signed by key {d.get('key_id', '')}"))


STANDARDS = ("aipref", "content-signals", "tdmrep", "rsl", "noai", "cawg")


@ai_app.command("signals")
@handle_errors
def signals(url: str = typer.Argument(..., help="the URL whose signals to read"),
            header: Optional[list[str]] = typer.Option(None, "--header", "-H",
                                                      help="a response header 'Name: value' (repeatable)"),
            robots: Optional[Path] = typer.Option(None, exists=True, help="the site's robots.txt"),
            robots_status: Optional[int] = typer.Option(None, min=100, max=599,
                                                        help="the HTTP status of the robots.txt fetch"),
            tdmrep: Optional[Path] = typer.Option(None, exists=True, help="the site's /.well-known/tdmrep.json"),
            rsl: Optional[list[Path]] = typer.Option(None, exists=True, help="an RSL licence document (repeatable)"),
            html: Optional[Path] = typer.Option(None, exists=True, help="the page's HTML"),
            media: Optional[Path] = typer.Option(None, exists=True, help="the file itself (image, audio, video, "
                                                                        "PDF, EPUB)"),
            user_agent: str = typer.Option("*", help="the crawler's product token, e.g. GPTBot"),
            user_type: Optional[str] = typer.Option(None, help="RSL user type: commercial, non-commercial, "
                                                               "education, government, personal"),
            country: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-2 country of the user (RSL geo)"),
            as_json: bool = JSON_OPT) -> None:
    """What every AI-use signal says about one URL, each standard read by its own rules. Public; nothing is
    fetched: give what the crawler captured."""
    from obra.aiuse.inspect import parse_header_lines

    def text(p: Optional[Path]) -> Optional[str]:
        return p.read_text(encoding="utf-8", errors="replace") if p else None

    done = open_obra().ai_inspect(url, headers=parse_header_lines(header or []), robots_txt=text(robots),
                                  robots_status=robots_status, tdmrep_json=text(tdmrep),
                                  rsl_documents=[p.read_bytes() for p in rsl or ()], html=text(html),
                                  media=media.read_bytes() if media else None, user_agent=user_agent,
                                  user_type=user_type, country=country)

    def render(d: dict) -> None:
        table = Table(title=f"AI-use signals of {user_text(d['url'])} for {user_text(d['user_agent'])}")
        table.add_column("use")
        present = [s for s in STANDARDS if s in d["signals"]]
        for name in present:
            table.add_column(name)
        for use, row in d["uses"].items():
            table.add_row(use, *[row.get(name) or "-" for name in present])
        console.print(table)
        if d["crawl"]:
            console.print(f"robots.txt: {d['crawl']['reading']} — {user_text(d['crawl']['rule'])}")
        console.print(f"TDMRep: {user_text(d['tdmrep']['rule'])}")

    emit(done, as_json, render)


def register(app: typer.Typer) -> None:
    """Add ``obra ai`` to the ``obra`` application."""
    app.add_typer(ai_app, name="ai")
