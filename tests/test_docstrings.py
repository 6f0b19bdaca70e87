"""Every public function and class documents its arguments and its return value.

Public = the names in ``__all__`` of ``jaxrg`` and of every module it lists or that defines its
own ``__all__`` (plus the learnable models of ``jaxrg.studies.*``, which define none), except
``jaxrg.cli``. The checks are structural (Google-style section headers), so
they run without executing any numerics.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import types

import pytest

# modules whose public names are checked; submodules listed in an ``__all__`` are added
ROOTS = (
    "jaxrg",
    "jaxrg.batch",
    "jaxrg.clt",
    "jaxrg.cumulants",
    "jaxrg.datasets",
    "jaxrg.eigenvalues",
    "jaxrg.studies.clt_rg.experiment",
    "jaxrg.info",
    "jaxrg.lens",
    "jaxrg.lrg",
    "jaxrg.matrix_entropy",
    "jaxrg.maxent",
    "jaxrg.merging",
    "jaxrg.studies.node_classification.gnn",
    "jaxrg.studies.node_classification.multiscale",
    "jaxrg.studies.clt_rg.rg_network",
    "jaxrg.studies.maxent.subnetworks",
    "jaxrg.studies.entropy_lens.transformer",
    "jaxrg.plots",
    "jaxrg.plots.lrg",
    "jaxrg.sparse",
    "jaxrg.studies.node_classification.train",
)
EXCLUDED = ("jaxrg.cli",)


def _public_names(module: types.ModuleType) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    # no __all__: the functions and classes the module itself defines without a leading _
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]


def _public_callables() -> list[tuple[str, object]]:
    found, seen, queue = {}, set(), list(ROOTS)
    while queue:
        name = queue.pop(0)
        if name in seen or name.startswith(EXCLUDED):
            continue
        seen.add(name)
        module = importlib.import_module(name)
        for attr in _public_names(module):
            value = getattr(module, attr)
            if isinstance(value, types.ModuleType):
                queue.append(value.__name__)
            elif callable(value):
                found.setdefault(f"{name}.{attr}", value)
    return sorted(found.items())


PUBLIC = _public_callables()


def _parameters(obj) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # builtins without a signature take nothing we can name
        return []
    return [p for p in signature.parameters if p not in ("self", "cls")]


def _returns_something(fn) -> bool:
    """True when the return annotation is not None, or (unannotated) the body returns a value."""
    annotation = inspect.signature(fn).return_annotation
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, type(None), "None")
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(fn))))

    def visit(node) -> bool:
        for child in ast.iter_child_nodes(node):
            nested = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
            if isinstance(child, nested):
                continue  # a nested function's return is not ours
            if isinstance(child, ast.Return) and child.value is not None:
                return True
            if isinstance(child, ast.Yield | ast.YieldFrom) or visit(child):
                return True
        return False

    return visit(tree.body[0])


def test_public_api_is_found():
    names = dict(PUBLIC)
    assert len(PUBLIC) > 150
    for name in ("jaxrg.spectral_entropy", "jaxrg.info.renyi_entropy", "jaxrg.lrg.rewire",
                 "jaxrg.studies.clt_rg.rg_network.RGNetwork",
                 "jaxrg.studies.node_classification.train.fit"):
        assert name in names
    assert not any(name.startswith(EXCLUDED) for name in names)


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_callable_documents_args_and_returns(name, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{name} has no docstring"
    assert len(doc.strip().splitlines()) >= 2, f"{name}: one-line docstring"
    if inspect.isclass(obj):
        if _parameters(obj):
            assert "Attributes:" in doc or "Args:" in doc, (
                f"{name}: class taking arguments without an Attributes: or Args: section"
            )
        return
    if _parameters(obj):
        assert "Args:" in doc, f"{name}: takes arguments but has no Args: section"
    if _returns_something(obj):
        assert "Returns:" in doc or "Yields:" in doc, (
            f"{name}: returns a value but has no Returns: (or Yields:) section"
        )
