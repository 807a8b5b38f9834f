"""``obra ingest``, ``obra match`` and ``obra claims``: usage in, matched to the registry, claimed.

Thin shells over ``Obra.royalties`` (:class:`obra.royalties.pipeline.RoyaltiesService`); every
write needs an authenticated principal, checked in the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from obra.cli.common import JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra, user_text
from obra.errors import InvalidInput, Problem
from obra.royalties.matching import metadata

ingest_app = typer.Typer(help="Ingest usage reports (DDEX DSR, CSV) and repertoire (CISAC CWR).",
                         no_args_is_help=True)
match_app = typer.Typer(help="Match usage lines to registered recordings and works.",
                        invoke_without_command=True)
claims_app = typer.Typer(help="The claims queue: unmatched usage waiting for its rightholder.",
                         no_args_is_help=True)


def _progress(as_json: bool):
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.completed:,} lines"), TimeElapsedColumn(), console=console,
                    disable=as_json, transient=True)


REPLACES_OPT = typer.Option(None, "--replaces", metavar="SOURCE",
                            help="a source this file corrects (repeatable; one file only): superseded when it is "
                                 "published; `obra journal list` shows the usage.superseded events")


def _ingest_files(files: list[Path], token: Optional[str], as_json: bool, job: str, label: str,
                  replaces: Optional[list[str]] = None, **options) -> None:
    if replaces and len(files) != 1:
        raise InvalidInput(Problem("--replaces names what one file corrects: give exactly one file", field="replaces"))
    obra = open_obra()
    principal = current_principal(obra, token)
    fn: Callable[..., dict] = getattr(obra.royalties, job)
    results = []
    with _progress(as_json) as bar:
        for f in files:
            task = bar.add_task(f"{label} {f.name}", total=None)
            results.append(fn(principal, f, progress=lambda n, t=task: bar.update(t, completed=n),
                              replaces=replaces or (), **options))
            bar.update(task, visible=False)
    emit(results, as_json, _render_ingest)


def _render_ingest(results: list[dict]) -> None:
    for r in results:
        counts = r.get("counts") or {}
        extra = ", ".join(f"{v:,} {k}" for k, v in counts.items()) or \
            (f"{len(r.get('works', []))} works, {r.get('parties', 0)} parties "
             f"({r.get('known_parties', 0)} already on file)" if r.get("kind") == "cwr" else "")
        console.print(f"[bold]{user_text(r['file'])}[/]: {r['status']} (source {r['source']}"
                      f"{', period ' + ', '.join(r['periods']) if r.get('periods') else ''}) {extra}")
        if r.get("matched"):
            m = r["matched"]
            console.print(f"  the same as {user_text(m['file'])} (source {m['source']}, {m['status']}): "
                          f"{m['because']}; nothing changed")
        for old in r.get("supersedes") or []:
            console.print(f"  supersedes source {old}: its usage is no longer read")
        for w in r.get("footer_warnings") or []:
            console.print(f"  [yellow]warning[/] {user_text(w['file'])}:{w['line']}: field '{w['field']}' "
                          f"{user_text(w['message'])} (accepted under --footer-policy accept-with-warning)")


@ingest_app.command("dsr")
@handle_errors
def ingest_dsr(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False),
               replaces: Optional[list[str]] = REPLACES_OPT,
               footer_policy: str = typer.Option(
                   "refuse", "--footer-policy", metavar="refuse|accept-with-warning",
                   help="a FOOT whose counts disagree with the file: refuse the file (default), or take it and "
                        "record each disagreement in the result and the usage.ingested journal event"),
               token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """DDEX DSR flat files (.tsv or .tsv.gz); each is validated whole against its FOOT counts.

    A report already in (by sender, recipient, MessageId; gzipped or not) changes nothing; a
    corrected re-delivery (new MessageId, same period and slices) supersedes the earlier one."""
    _ingest_files(files, token, as_json, "ingest_dsr", "DSR", replaces, footer_policy=footer_policy)


@ingest_app.command("usage")
@handle_errors
def ingest_usage(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False),
                 replaces: Optional[list[str]] = REPLACES_OPT,
                 token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Usage or pools CSV files in Obra's format (docs/usage-formats.md); the same records again change
    nothing; a corrected file names the source it corrects with --replaces."""
    _ingest_files(files, token, as_json, "ingest_usage", "CSV", replaces)


@ingest_app.command("cwr")
@handle_errors
def ingest_cwr(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False),
               token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """CISAC CWR 2.1/2.2 files: their works and parties are registered, each file all or nothing."""
    obra = open_obra()
    principal = current_principal(obra, token)
    emit([obra.royalties.ingest_cwr(principal, f) for f in files], as_json, _render_ingest)


@match_app.callback()
@handle_errors
def match(ctx: typer.Context, period: Optional[str] = typer.Option(None, help="only this period, e.g. 2026-03"),
          no_fuzzy: bool = typer.Option(False, "--no-fuzzy", help="identifiers only"),
          engine: str = typer.Option("duckdb", help="duckdb or spark (spark.master from OBRA_SPARK_MASTER)"),
          token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Match ingested usage (identifiers first, then metadata) and apply claims (CMO, office staff)."""
    if ctx.invoked_subcommand is not None:
        return
    obra = open_obra()
    principal = current_principal(obra, token)
    with _progress(as_json) as bar:
        task = bar.add_task("matching", total=None)
        result = obra.royalties.match(principal, period, fuzzy=not no_fuzzy, engine=engine,
                                      progress=lambda n: bar.update(task, completed=n))

    def render(r: dict) -> None:
        table = Table(title=f"Matches{' for ' + period if period else ''}: {r['lines']:,} lines")
        table.add_column("method")
        table.add_column("lines", justify="right")
        for method, n in r["by_method"].items():
            table.add_row(method, f"{n:,}")
        console.print(table)
        if r["matched_share"] is not None:
            console.print(f"matched: {r['matched_share']:.1%}; the rest is in 'obra claims list'")

    emit(result, as_json, render)


@match_app.command("score")
@handle_errors
def match_score(pairs_csv: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="PAIRS.csv"),
                as_json: bool = JSON_OPT) -> None:
    """Score candidate pairs (columns left_title,left_artist,left_album,left_duration,left_isrc,right_…)."""
    rows = metadata.score_pairs_file(pairs_csv)

    def render(rs: list[dict]) -> None:
        table = Table(title=f"{pairs_csv.name}: match ≥ {metadata.MATCH_THRESHOLD}, review ≥ {metadata.REVIEW_THRESHOLD}")
        for c in ("line", "score", "decision", "title", "artist", "duration", "album", "reason"):
            table.add_column(c)
        for r in rs:
            comp = r["components"]
            table.add_row(str(r["line"]), f"{r['score']:.3f}", r["decision"],
                          *(("-" if comp[k] is None else f"{comp[k]:.2f}") for k in ("title", "artist", "duration",
                                                                                     "album")), r["reason"])
        console.print(table)

    emit(rows, as_json, render)


@claims_app.command("list")
@handle_errors
def claims_list(period: Optional[str] = typer.Option(None), limit: int = typer.Option(50),
                as_json: bool = JSON_OPT) -> None:
    """Unmatched usage grouped by title and artist, most played first."""
    groups = open_obra().royalties.claims_queue(period, limit)

    def render(gs: list[dict]) -> None:
        table = Table(title="Claims queue")
        table.add_column("id", no_wrap=True)
        for c in ("title", "artist", "plays", "lines", "best score", "periods"):
            table.add_column(c)
        for g in gs:
            table.add_row(g["id"], user_text(g["title"]), user_text(g["artist"]), f"{g['plays']:,}", f"{g['lines']:,}",
                          f"{g['best_score']:.2f}", ", ".join(g["periods"]))
        console.print(table)

    emit(groups, as_json, render)


@claims_app.command("claim")
@handle_errors
def claims_claim(group: str = typer.Argument(..., help="group id from 'obra claims list'"),
                 recording: Optional[str] = typer.Option(None, help="registration number of the recording"),
                 work: Optional[str] = typer.Option(None, help="registration number of the work"),
                 token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Claim an unmatched group as your registered recording or work (then re-run match and distribute)."""
    obra = open_obra()
    emit(obra.royalties.claim(current_principal(obra, token), group, recording=recording, work=work), as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(match_app, name="match")
    app.add_typer(claims_app, name="claims")
