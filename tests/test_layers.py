"""charlib's imports point one way: down through its layers, and never in a circle.

Every module of the package is parsed with ``ast`` (nothing is imported, so this takes well under a
second) and every import in it, at the top or inside a function, becomes an edge of the import
graph: a lazy import runs too, just later. ``from charlib.pkg import name`` is an edge to the
submodule ``charlib.pkg.name`` when there is one, else to ``charlib.pkg``. The layers, lowest first:

1. **base**: ``charlib`` (the package itself: ``__version__``), ``errors``, ``config``, ``system`` and
   ``base.*`` (``base.run``: run folders and config.json; ``base.io``: atomic writes and model export;
   ``base.images``: image checks, grids, PNG and GIF files). They import only each other.
2. **data**: ``data.*`` (sprites, skeletons, image folders, tf.data), ``losses`` and ``augment``.
3. **models**: ``models.*``, the networks.
4. **training**: ``training.*``, the trainers, the shared loop and ``training.sampling``.
5. **analysis**: ``viz``, ``animation`` and ``diagnostics.*``, which look at what was trained.
6. **commands**: ``bench``, ``cli`` and ``__main__``, the entry points.

A module may import modules of its own layer or of lower ones; the graph has no cycle at all, within
a layer included. A new module must be given a layer in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "charlib"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("charlib", "charlib.errors", "charlib.config", "charlib.system", "charlib.base",
              "charlib.base.*")),
    ("data", ("charlib.data", "charlib.data.*", "charlib.losses", "charlib.augment")),
    ("models", ("charlib.models", "charlib.models.*")),
    ("training", ("charlib.training", "charlib.training.*")),
    ("analysis", ("charlib.viz", "charlib.animation", "charlib.diagnostics", "charlib.diagnostics.*")),
    ("commands", ("charlib.bench", "charlib.cli", "charlib.__main__")),
)
"""Layer name and the modules in it (``fnmatch`` patterns), lowest layer first."""


def module_name(path: Path, package: Path) -> str:
    """``charlib/data/sprites.py`` -> ``charlib.data.sprites``; a package's ``__init__`` is the package."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool, modules: set[str],
                     top: str) -> set[str]:
    """The modules of package ``top`` that ``module`` imports anywhere in its source."""
    here = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..pkg import y
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in modules else source)
    return {name for name in found if name == top or name.startswith(top + ".")} - {module}


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module of the package at ``package`` (a folder) and the package's modules it imports."""
    paths = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    modules = set(paths)
    return {name: imported_modules(ast.parse(path.read_text(), str(path)), name,
                                   path.name == "__init__.py", modules, package.name)
            for name, path in paths.items()}


def layer_of(module: str, layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS) -> int | None:
    """The index of ``module``'s layer in ``layers`` (None when no layer lists it)."""
    for index, (_, patterns) in enumerate(layers):
        if any(fnmatchcase(module, pattern) for pattern in patterns):
            return index
    return None


def unplaced(graph: dict[str, set[str]], layers=LAYERS) -> list[str]:
    """Modules of the graph (importing or imported) that no layer lists."""
    names = set(graph).union(*graph.values())
    return sorted(name for name in names if layer_of(name, layers) is None)


def upward_imports(graph: dict[str, set[str]], layers=LAYERS) -> list[str]:
    """One line per import that goes to a higher layer, naming both modules and their layers."""
    problems = []
    for module in sorted(graph):
        own = layer_of(module, layers)
        for target in sorted(graph[module]):
            theirs = layer_of(target, layers)
            if own is not None and theirs is not None and theirs > own:
                problems.append(f"{module} ({layers[own][0]}) imports {target} ({layers[theirs][0]}), "
                                "a higher layer")
    return problems


def import_cycles(graph: dict[str, set[str]]) -> list[str]:
    """One line per import cycle (a strongly connected group of modules), as ``a -> b -> a``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [f"import cycle: {' -> '.join(_cycle_through(graph, group))}" for group in sorted(groups)]


def _cycle_through(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A path from the group's first module back to it, through modules of the group only."""
    start, members = group[0], set(group)
    paths = [[start]]
    while paths:  # breadth first: the shortest cycle through ``start``
        path = paths.pop(0)
        for nxt in sorted(graph.get(path[-1], ()) & members):
            if nxt == start:
                return [*path, start]
            if nxt not in path:
                paths.append([*path, nxt])
    raise AssertionError(f"no cycle through {start} in {group}")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_the_graph_holds_every_module_and_its_lazy_imports(graph):
    assert {"charlib", "charlib.base.run", "charlib.training.loop", "charlib.cli"} <= set(graph)
    # imported inside functions, and ``from charlib.training import hardware`` names the submodule
    assert "charlib.training.sampling" in graph["charlib.diagnostics.report"]
    assert "charlib.training.hardware" in graph["charlib.training.trainer"]


def test_every_import_names_a_module_that_exists(graph):
    assert sorted(set().union(*graph.values()) - set(graph)) == []


def test_every_charlib_module_has_a_layer(graph):
    assert unplaced(graph) == [], "give these modules a layer in LAYERS"


def test_charlib_imports_form_no_cycle(graph):
    assert import_cycles(graph) == []


def test_every_charlib_import_points_to_the_same_or_a_lower_layer(graph):
    assert upward_imports(graph) == []


def test_models_import_no_training_and_training_no_pictures_diagnostics_or_cli(graph):
    banned = {"charlib.models.": ("charlib.training",),
              "charlib.training.": ("charlib.animation", "charlib.viz", "charlib.diagnostics", "charlib.cli")}
    found = [f"{module} imports {target}" for module, targets in graph.items() for target in targets
             for prefix, above in banned.items() if module.startswith(prefix) and target.startswith(above)]
    assert found == []


# -- the checker itself: broken graphs are reported, naming the modules --------------------------

TWIN_LAYERS = (("low", ("pkg", "pkg.low*")), ("high", ("pkg.high*",)))


def test_an_upward_import_is_reported_naming_both_modules_and_layers():
    graph = {"pkg": set(), "pkg.low": {"pkg.high"}, "pkg.high": {"pkg.low"}, "pkg.low_ok": {"pkg"}}
    assert upward_imports(graph, TWIN_LAYERS) == ["pkg.low (low) imports pkg.high (high), a higher layer"]


def test_an_import_cycle_is_reported_naming_its_modules_in_order():
    graph = {"pkg.low_a": {"pkg.low_b"}, "pkg.low_b": {"pkg.low_c"}, "pkg.low_c": {"pkg.low_a"},
             "pkg.low_d": {"pkg.low_a"}}
    assert import_cycles(graph) == ["import cycle: pkg.low_a -> pkg.low_b -> pkg.low_c -> pkg.low_a"]
    assert upward_imports(graph, TWIN_LAYERS) == []  # a cycle within one layer is caught as a cycle


def test_a_module_without_a_layer_is_reported():
    assert unplaced({"pkg.low": {"pkg.elsewhere"}, "pkg.new": set()}, TWIN_LAYERS) == ["pkg.elsewhere",
                                                                                      "pkg.new"]


def test_a_broken_package_on_disk_is_reported_from_its_source(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from pkg.high import g  # lazy, still an import\n")
    (pkg / "low" / "b.py").write_text("from . import a\nfrom .a import f\n")
    (pkg / "high.py").write_text("import pkg.high_two as two\n")
    (pkg / "high_two.py").write_text("from pkg import high\n")
    graph = import_graph(pkg)
    assert graph["pkg.low.a"] == {"pkg.high"} and graph["pkg.low.b"] == {"pkg.low.a"}
    assert upward_imports(graph, TWIN_LAYERS) == [
        "pkg.low.a (low) imports pkg.high (high), a higher layer"]
    assert import_cycles(graph) == ["import cycle: pkg.high -> pkg.high_two -> pkg.high"]
