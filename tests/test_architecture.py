"""The package's import graph: no cycles, imports point down the layers, no borrowed privates.

Read from the source (the AST of every module, imports inside functions included), so nothing
is imported and the checks cost milliseconds. Layers, lowest first (STYLE.md habits 8, 9, 14):

0. the library: numerics and graph tools (spectral core, thermodynamics, scales, eigenvalues,
   graphs, info, cumulants, CLT, the MaxEnt loss, matrix entropies, LRG, sparse, batch, lens,
   k-NN, file and progress helpers) — imports only jax, numpy and itself;
1. ``datasets``; 2. ``plots`` (figure functions of arrays);
3. ``studies``: one folder per study (its models, training, runs, report, figures and CLI
   registration), plus ``studies/_common`` for what several studies share;
4. ``cli``;
5. the aliases of the previous release's paths (``models``, ``train``, ``experiments``), which
   nothing in the package imports.

A module may import its own layer or a lower one, never a higher one; a study never imports
another study.
"""

from __future__ import annotations

import ast
import os
import pathlib

import numpy as np
import pytest
from jaxtyping import TypeCheckError

from jaxrg import _numerics

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "jaxrg"

#: top-level subpackage -> layer; every other module of jaxrg is library (layer 0).
#: ``jaxrg/__main__.py`` (``python -m jaxrg``) is the CLI's entry point, so it sits with the CLI.
LAYERS = {"datasets": 1, "plots": 2, "studies": 3, "cli": 4, "__main__": 4, "models": 5,
          "train": 5, "experiments": 5}
#: the previous release's homes of the study code, now aliases (removed in the next release)
ALIASES = ("jaxrg.experiments", "jaxrg.models", "jaxrg.train")
STUDIES = ("clt_rg", "entropy_lens", "maxent", "node_classification")
LIBRARY = (
    "jaxrg", "jaxrg._checks", "jaxrg._compile_cache", "jaxrg._components",
    "jaxrg._host", "jaxrg._io",
    "jaxrg._numerics", "jaxrg._optional", "jaxrg._peaks", "jaxrg._progress", "jaxrg._ranges",
    "jaxrg._refine",
    "jaxrg._validation", "jaxrg.batch",
    "jaxrg.clt", "jaxrg.cumulants", "jaxrg.eigenvalues", "jaxrg.features", "jaxrg.graph_io",
    "jaxrg.graphs",
    "jaxrg.info", "jaxrg.knn", "jaxrg.lens", "jaxrg.lrg", "jaxrg.matrix_entropy", "jaxrg.maxent",
    "jaxrg.merging",
    "jaxrg.scales", "jaxrg.sparse", "jaxrg.spectral", "jaxrg.thermo",
)


def module_files(root: pathlib.Path) -> dict[str, tuple[pathlib.Path, bool]]:
    """``{dotted module name: (path, is_package)}`` for every ``.py`` file under ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _owner(name: str, modules) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: pathlib.Path = PACKAGE):
    """Edges ``{module: {imported module}}`` and the private names imported from other modules.

    ``from a import b`` counts as an import of ``a.b`` when that is a module, else of ``a``.
    Private = an underscored name (a module's own ``_x``), not an underscored module.
    """
    modules = module_files(root)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    private: list[tuple[str, str, str]] = []
    for name, (path, is_package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                targets = [(base, alias.name) for alias in node.names]
            else:
                continue
            for base, attr in targets:
                if base.split(".")[0] != "jaxrg":
                    continue
                if attr is not None and f"{base}.{attr}" in modules:
                    target = f"{base}.{attr}"
                else:
                    target = _owner(base, modules)
                    if attr is not None and attr.startswith("_") and not attr.startswith("__"):
                        private.append((name, target, attr))
                if target is not None and target != name:
                    edges[name].add(target)
    return edges, private


def layer(module: str) -> int:
    """The layer of a module (see the module docstring)."""
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


EDGES, PRIVATE = import_graph()


def test_the_import_graph_sees_the_whole_package():
    assert "jaxrg.lrg._kernel" in EDGES and "jaxrg.cli" in EDGES
    assert "jaxrg.graphs" in EDGES["jaxrg.spectral"]  # a top-level import
    # in a def
    assert ("jaxrg.studies.node_classification.experiment"
            in EDGES["jaxrg.studies.node_classification.cli"])


def test_every_top_level_module_has_a_layer():
    top = {".".join(m.split(".")[:2]) for m in EDGES}
    unknown = sorted(m for m in top if layer(m) == 0 and m not in LIBRARY)
    assert not unknown, f"new top-level modules: add them to LIBRARY or LAYERS: {unknown}"


def test_no_import_cycle_between_modules():
    cycle = find_cycle(EDGES)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_a_higher_layer():
    upward = sorted(
        f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
        for a, targets in EDGES.items()
        for b in targets
        if layer(b) > layer(a)
    )
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_the_library_never_imports_a_study_a_model_or_the_cli():
    library = [m for m in EDGES if layer(m) == 0]
    assert "jaxrg.spectral" in library and "jaxrg.lrg._large" in library
    bad = sorted((a, b) for a in library for b in EDGES[a] if layer(b) > 0)
    assert not bad


def test_the_library_never_imports_a_study_or_the_cli():
    library = [m for m in EDGES if layer(m) < layer("jaxrg.studies")]
    assert "jaxrg.plots.lens" in library and "jaxrg.datasets" in library
    bad = sorted((a, b) for a in library for b in EDGES[a]
                 if b.startswith(("jaxrg.studies", "jaxrg.cli")))
    assert not bad, f"library modules import a study or the CLI: {bad}"


def _study_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "studies" else None


def test_each_study_is_one_folder():
    folders = sorted(p.name for p in (PACKAGE / "studies").iterdir()
                     if p.is_dir() and not p.name.startswith(("_", ".")))
    assert folders == sorted(STUDIES)
    import jaxrg.studies

    assert sorted(jaxrg.studies.STUDIES) == sorted(STUDIES)
    assert sorted(p.name for p in (PACKAGE / "studies").glob("*.py")) == ["__init__.py"]
    for study in STUDIES:  # its command line is registered from its own folder
        assert f"jaxrg.studies.{study}.cli" in EDGES
        tree = ast.parse((PACKAGE / "studies" / study / "cli.py").read_text(encoding="utf-8"))
        assert "register" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    # a study imports only itself, the shared study code and layers below; only the CLI and the
    # aliases import a study
    crossing = sorted(
        (a, b) for a, targets in EDGES.items() for b in targets
        if _study_of(b) not in (None, "_common") and _study_of(a) != _study_of(b)
        and not a.startswith(("jaxrg.cli",) + ALIASES)
    )
    assert not crossing, f"imports into a study from outside its folder: {crossing}"


def test_the_old_homes_of_the_studies_are_only_aliases():
    for alias in ALIASES:
        folder = PACKAGE / alias.split(".")[1]
        assert sorted(p.name for p in folder.glob("*.py")) == ["__init__.py"]
        text = (folder / "__init__.py").read_text(encoding="utf-8")
        assert "this alias goes in the next release" in ast.get_docstring(ast.parse(text))
    users = sorted((a, b) for a, targets in EDGES.items() for b in targets
                   if b.startswith(ALIASES) and not a.startswith(ALIASES))
    assert not users, f"modules import a deprecated alias: {users}"


def test_the_old_import_paths_give_the_moved_modules():
    from jaxrg.models.gnn import GraphEncoder
    from jaxrg.train.maxent import fit

    from jaxrg.experiments import maxent as old_maxent
    from jaxrg.studies.maxent import experiment
    from jaxrg.studies.node_classification import gnn, train
    from jaxrg.train import train_node_classifier

    assert old_maxent is experiment and GraphEncoder is gnn.GraphEncoder
    assert train_node_classifier is train.train_node_classifier
    import jaxrg.studies.maxent.train as maxent_train

    assert fit is maxent_train.fit


def test_no_module_imports_another_modules_private_names():
    assert not PRIVATE, "shared private helpers belong in jaxrg/_numerics.py (or their " \
        f"package's private module under a public name): {PRIVATE}"


def _public_modules() -> list[str]:
    return sorted(
        name for name in module_files(PACKAGE)
        if not any(part.startswith("_") for part in name.split("."))
    )


def _bound_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return [ast.literal_eval(e) for e in node.value.elts]
    return None


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_module_declares_its_surface_in_all(module):
    path, is_package = module_files(PACKAGE)[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _declared_all(tree)
    assert names is not None, f"{module} has no __all__"
    assert len(names) == len(set(names)), f"{module}.__all__ lists a name twice"
    bound = _bound_names(tree)
    children = {m.rpartition(".")[2] for m in module_files(PACKAGE) if m.startswith(module + ".")}
    missing = [n for n in names if n not in bound and not (is_package and n in children)]
    assert not missing, f"{module}.__all__ names what it does not define or import: {missing}"
    defined = {n.name for n in tree.body
               if isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")}
    unlisted = sorted(defined - set(names))
    assert not unlisted, f"{module} defines public names missing from __all__: {unlisted}"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "import jaxrg.b\n", "b.py": "def f():\n    from jaxrg import a\n"},
         ["jaxrg.a", "jaxrg.b", "jaxrg.a"]),
        ({"a.py": "from jaxrg.b import x\n", "b.py": "x = 1\n"}, None),
        ({"p/__init__.py": "from . import q\n", "p/q.py": "from .. import p\n"},
         ["jaxrg.p", "jaxrg.p.q", "jaxrg.p"]),
    ],
)
def test_a_deliberate_cycle_is_found(tmp_path, files, expected):
    root = tmp_path / "jaxrg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    edges, _ = import_graph(root)
    assert find_cycle(edges) == expected


def test_an_upward_import_and_a_borrowed_private_are_found(tmp_path):
    root = tmp_path / "jaxrg"
    (root / "plots").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "plots" / "__init__.py").write_text("")
    (root / "spectral.py").write_text("def f():\n    import jaxrg.plots\n")
    (root / "thermo.py").write_text("from jaxrg.spectral import _lead\n")
    edges, private = import_graph(root)
    assert "jaxrg.plots" in edges["jaxrg.spectral"] and layer("jaxrg.plots") > 0
    assert private == [("jaxrg.thermo", "jaxrg.spectral", "_lead")]


def test_the_shape_annotations_are_checked_in_the_suite():
    if os.environ.get("JAXRG_TYPECHECK", "1") == "0":
        pytest.skip("the jaxtyping checker is off (JAXRG_TYPECHECK=0)")
    with pytest.raises(TypeCheckError, match="parameter 'x'"):  # annotated x: jax.Array
        _numerics.lead(np.ones(2), 1)
