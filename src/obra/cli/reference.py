"""The CLI reference (``docs/cli.md``), generated from the commands themselves.

``python -m obra.cli.reference > docs/cli.md`` writes it; a test fails when the file and
the commands disagree, so the reference cannot go stale.
"""

from __future__ import annotations

from typing import Any

import typer


def _options(command: Any) -> list[str]:
    lines = []
    for param in command.params:
        if param.param_type_name == "argument":
            lines.append(f"- `{(param.metavar or param.name).upper()}` (argument{', required' if param.required else ''})")
            continue
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        names = ", ".join(f"`{n}`" for n in param.opts + param.secondary_opts)
        help_text = (param.help or "").strip()
        extra = []
        if param.envvar:
            extra.append(f"env `{param.envvar}`")
        if param.required:
            extra.append("required")
        elif param.default not in (None, False, (), []) and not param.is_flag:
            extra.append(f"default `{param.default}`")
        lines.append(f"- {names}" + (f": {help_text}" if help_text else "") + (f" ({'; '.join(extra)})" if extra else ""))
    return lines


def _walk(command: Any, path: list[str], out: list[str]) -> None:
    if path:
        out.append(f"{'#' * min(len(path) + 1, 4)} `{' '.join(['obra', *path])}`\n")
        if command.help:
            out.append(command.help.strip().split("\n\n")[0].replace("\n", " ") + "\n")
        opts = _options(command)
        if opts:
            out.append("\n".join(opts) + "\n")
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            _walk(command.commands[name], [*path, name], out)


def reference(app: typer.Typer | None = None) -> str:
    """The Markdown reference of every ``obra`` command and option."""
    if app is None:
        from obra.cli.main import app
    root = typer.main.get_command(app)
    out = ["# `obra` command reference\n",
           "Generated from the commands by `python -m obra.cli.reference > docs/cli.md`; "
           "`tests/interfaces/test_cli_reference.py` fails when it is out of date. Every command "
           "that writes needs a principal: `--token`, `OBRA_TOKEN`, or the local admin created by "
           "`obra init`. Errors print a message (and a hint) on stderr and exit with the error's code: "
           "2 invalid input, 3 not found, 4 not authenticated, 5 not permitted, 6 conflict, "
           "7 too large, 8 does not verify, 69 a tool is missing, 70 an internal invariant failed, "
           "75 the schema needs `obra migrate`.\n"]
    _walk(root, [], out)
    return "\n".join(out)


if __name__ == "__main__":
    print(reference(), end="")
