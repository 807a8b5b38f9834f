"""docs/cli.md is the reference generated from the commands: it must match them."""

from pathlib import Path

from obra.cli.reference import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_cli_reference_is_generated_from_the_commands():
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m obra.cli.reference > docs/cli.md`")


def test_the_reference_names_every_command_and_option():
    text = reference()
    for needle in ("`obra register`", "`obra journal verify`", "`obra log checkpoint`", "`--token`", "`--locale`"):
        assert needle in text
