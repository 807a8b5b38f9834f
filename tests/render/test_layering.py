"""obra.render is core: the registry, royalties, CLI and API call it, never the other way round."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

ALLOWED_OBRA = {"obra.money", "obra.ids", "obra.errors"}


def test_the_render_package_imports_only_core_obra_modules():
    root = Path(str(resources.files("obra.render")))
    offenders = []
    for source in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "obra":   # from obra import ids
                names = [f"obra.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.startswith("obra") and not name.startswith("obra.render") and name not in ALLOWED_OBRA:
                    offenders.append(f"{source.name}:{node.lineno} imports {name}")
    assert not offenders, offenders
