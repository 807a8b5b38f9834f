"""``obra review``: the office's review queue of registrations with near-duplicate warnings.

Thin shells over ``Obra.review`` (:class:`obra.registry.review.ReviewQueue`); only office staff (and
admins) may list or mark, checked there. The API's ``GET /review`` and ``POST /review/{number}`` take
the same requests.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from obra.cli.common import JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra, user_text

review_app = typer.Typer(help="Review registrations with near-duplicate warnings (office staff).",
                         no_args_is_help=True)


def _warning_text(w: dict) -> str:
    seen = w["reviewed"]
    state = f"reviewed by {seen['by']}" if seen else "TO REVIEW"
    return f"{w['number']} {w['unit']} at {w['distance']} bits: {state}"


def _render(page: dict) -> None:
    table = Table("number", "entity", "mode", "title", "registered", "near duplicates")
    for item in page["items"]:
        warnings = "\n".join(_warning_text(w) for w in item["warnings"]) or "—"
        table.add_row(item["number"], item["entity"], item["creation_mode"], user_text(item["title"]),
                      (item["created_at"] or "")[:16], user_text(warnings))
    console.print(table)
    if page["next_offset"] is not None:
        console.print(f"more: obra review list --offset {page['next_offset']}")


@review_app.command("list")
@handle_errors
def list_cmd(entity: Optional[str] = typer.Option(None, "--entity", help="work or recording"),
             mode: Optional[str] = typer.Option(None, "--mode", help="human, ai_assisted or ai_generated"),
             limit: int = typer.Option(20, "--limit", help="registrations per page (1-200)"),
             offset: int = typer.Option(0, "--offset", help="skip this many (the previous page's next offset)"),
             token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Recent registrations, newest first, each with its near-duplicate warnings and their review."""
    obra = open_obra()
    emit(obra.review.list(current_principal(obra, token), entity=entity, mode=mode, limit=limit, offset=offset),
         as_json, _render)


@review_app.command("mark")
@handle_errors
def mark(number: str = typer.Argument(..., help="the registration whose warnings were reviewed"),
         note: str = typer.Option(..., "--note", help="what the review found"),
         warning: Optional[str] = typer.Option(None, "--warning", help="only the warning naming this registration "
                                                                       "(default: all of them)"),
         token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Mark a registration's near-duplicate warnings reviewed (a registry.review journal event)."""
    obra = open_obra()
    done = obra.review.mark(current_principal(obra, token), number, note, warning)
    emit(done, as_json, lambda d: console.print(
        f"{d['number']}: {len(d['event']['payload']['warnings'])} warning(s) reviewed "
        f"(journal event {d['event']['id']}); {d['unreviewed']} left to review"))


def register(app: typer.Typer) -> None:
    """Add ``obra review`` to the ``obra`` application."""
    app.add_typer(review_app, name="review")
