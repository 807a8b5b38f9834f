"""``obra identify FILE`` and ``obra similar FILE|CODE``: content codes and near-duplicates.

Thin shells over ``Obra.identify`` (:class:`obra.app.IdentifyService`).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from obra.cli.common import JSON_OPT, console, emit, handle_errors, open_obra
from obra.errors import InvalidInput, Problem
from obra.identify import identify_file
from obra.identify.similar import DEFAULT_RADIUS


def _render_codes(codes: dict) -> None:
    table = Table(title=f"ISCC codes of {codes['filename']}", show_header=False)
    for label, key in (("ISCC-CODE", "iscc"), ("Meta-Code", "meta"), ("Content-Code", "content"),
                       ("Data-Code", "data"), ("Instance-Code", "instance"), ("media type", "mediatype"),
                       ("content kind", "mode"), ("datahash", "datahash"), ("size (bytes)", "filesize")):
        if codes.get(key) is not None:
            table.add_row(label, str(codes[key]))
    console.print(table)


def identify_command(
    file: Path = typer.Argument(..., help="the file to identify (text, image, audio or video)"),
    name: Optional[str] = typer.Option(None, help="title for the Meta-Code (default: embedded metadata or file name)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Compute the ISO 24138 ISCC codes (Meta, Content, Data, Instance, ISCC-CODE) of a file."""
    codes = identify_file(file, name=name).to_dict()
    emit(codes, as_json, _render_codes)


def similar_command(
    target: str = typer.Argument(..., help="a file, or an ISCC code (ISCC-CODE or a single unit)"),
    radius: int = typer.Option(DEFAULT_RADIUS, "--radius", "-r", help="largest Hamming distance in bits (0-16)"),
    unit: Optional[List[str]] = typer.Option(None, "--unit", help="compare only these unit kinds, e.g. content-image"),
    as_json: bool = JSON_OPT,
) -> None:
    """Registered works whose content codes are within RADIUS bits of a file's or a code's (exact)."""
    path = Path(target)
    if not path.exists() and any(c in target for c in "/\\."):  # ISCC codes have no '/', '\\' or '.'
        raise InvalidInput(Problem("no such file (and not an ISCC code either)", source=target))
    query = identify_file(path) if path.exists() else target
    matches = open_obra().identify.similar(query, radius, units=unit)
    data = {"query": query.to_dict() if hasattr(query, "to_dict") else target, "radius": radius,
            "matches": [m.to_dict() for m in matches]}

    def render(d: dict) -> None:
        if not d["matches"]:
            console.print(f"No registered work within {radius} bits.")
            return
        table = Table(title=f"Registered within {radius} bits")
        for col in ("number", "version", "unit", "distance", "code"):
            table.add_column(col)
        for m in d["matches"]:
            table.add_row(m["number"], str(m["version"]), m["unit"], str(m["distance"]), m["code"])
        console.print(table)

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    """Add ``identify`` and ``similar`` to the ``obra`` application."""
    app.command("identify")(handle_errors(identify_command))
    app.command("similar")(handle_errors(similar_command))
