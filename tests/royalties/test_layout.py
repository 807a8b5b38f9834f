"""The royalty package's layout holds: no import cycles, readers that know nothing of the store,
and no synthetic-data generator inside the product.

Imports are read from the source (module level *and* inside functions: a cycle through a lazy
import is still a cycle in the design), so the test does not depend on what happens to be
imported already.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROYALTIES = SRC / "obra" / "royalties"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at module level?) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.append((base, id(node) in top))
            out += [(f"{base}.{alias.name}", id(node) in top) for alias in node.names]   # submodules
    return out


def royalty_graph() -> dict[str, set[str]]:
    """Module → the royalty modules it imports (a package import counts as importing its __init__)."""
    modules = {module_name(p): p for p in ROYALTIES.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m, _ in imports(path) if m in modules and m != name}
    return graph


def test_no_import_cycles_in_royalties():
    graph = royalty_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_data_contract_imports_nothing_of_royalties():
    assert royalty_graph()["obra.royalties.records"] == set()


@pytest.mark.parametrize("path", sorted((ROYALTIES / "formats").glob("*.py")), ids=lambda p: p.name)
def test_format_readers_know_nothing_of_the_store_or_the_later_stages(path):
    allowed = ("obra.royalties.formats", "obra.royalties.records")
    for name, _ in imports(path):
        if name.startswith("obra.royalties"):
            assert name.startswith(allowed), f"{path.name} imports {name}"
        assert not name.startswith(("obra.store", "obra.access", "obra.registry")), f"{path.name} imports {name}"


def test_the_dsr_specification_and_reference_never_import_the_fast_reader():
    for name in ("dsr_spec.py", "dsr_reference.py"):
        assert not any("dsr_fast" in m for m, _ in imports(ROYALTIES / "formats" / name)), name
    assert not any("dsr_reference" in m for m, _ in imports(ROYALTIES / "formats" / "dsr_spec.py"))


def test_only_the_pipeline_brings_store_engines_and_access_together():
    graph = royalty_graph()
    for name, path in sorted({module_name(p): p for p in ROYALTIES.rglob("*.py")}.items()):
        names = {m for m, _ in imports(path)}
        uses_access = any(m.startswith("obra.access") for m in names)
        uses_engines = "obra.royalties.engine" in graph[name] or name == "obra.royalties.engine"
        if uses_access and uses_engines:
            assert name == "obra.royalties.pipeline", name


def test_nothing_in_the_product_imports_the_demo_generators_but_the_demo_command():
    for path in sorted((SRC / "obra").rglob("*.py")):
        for name, at_module_level in imports(path):
            if name == "obra_demo" or name.startswith("obra_demo."):
                assert path == SRC / "obra" / "cli" / "main.py" and not at_module_level, \
                    f"{path.relative_to(SRC)} imports {name}"
