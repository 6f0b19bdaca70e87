"""The core needs only jax and numpy: the optional packages are extras, and missing ones say so.

Each check runs in a fresh interpreter whose ``sys.modules`` maps the optional packages to None
(``import flax`` then raises ImportError as if it were not installed).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from jaxrg import _optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
STUDIES = ("flax", "optax", "jraph", "matplotlib", "tqdm")
LIBRARY_EXCLUDED = ("jaxrg.__main__", "jaxrg.cli", "jaxrg.datasets", "jaxrg.experiments",
                    "jaxrg.models", "jaxrg.plots", "jaxrg.studies", "jaxrg.train")


def _run_blocked(code: str, blocked=STUDIES) -> dict:
    script = f"import sys\nfor _m in {tuple(blocked)!r}:\n    sys.modules[_m] = None\n"
    script += textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_library_module_imports_and_computes_without_the_study_packages():
    out = _run_blocked(f"""
        import importlib, json, pkgutil
        import jax.numpy as jnp
        import jaxrg
        failed, imported = {{}}, []
        for info in pkgutil.walk_packages(jaxrg.__path__, "jaxrg."):
            if info.name.startswith({LIBRARY_EXCLUDED!r}):
                continue
            try:
                importlib.import_module(info.name)
                imported.append(info.name)
            except ImportError as err:
                failed[info.name] = str(err)
        entropy = jaxrg.spectral_entropy(jnp.array([0.0, 3.0, 3.0]), 1e8)
        blocked = [m for m in {STUDIES!r} if m in sys.modules and sys.modules[m] is not None]
        print(json.dumps({{"failed": failed, "imported": imported, "entropy": float(entropy),
                          "loaded": blocked}}))
    """)
    assert out["failed"] == {}
    assert {"jaxrg.spectral", "jaxrg.lrg._large", "jaxrg.sparse._quadrature",
            "jaxrg.info._stream", "jaxrg.batch"} <= set(out["imported"])
    assert out["entropy"] == pytest.approx(0.0, abs=1e-12)  # S(inf) = 0 for a connected graph
    assert out["loaded"] == []


def test_a_missing_study_package_is_one_message_naming_the_extra():
    out = _run_blocked("""
        import importlib, json
        messages = {}
        for name in ("jaxrg.studies.maxent.experiment", "jaxrg.models", "jaxrg.train",
                     "jaxrg.experiments", "jaxrg.datasets"):
            try:
                importlib.import_module(name)
            except ImportError as err:
                messages[name] = [type(err).__name__, str(err)]
        from jaxrg.plots import _common
        try:
            _common.pyplot()
        except ImportError as err:
            messages["jaxrg.plots"] = [type(err).__name__, str(err)]
        print(json.dumps(messages))
    """)
    assert sorted(out) == ["jaxrg.datasets", "jaxrg.experiments", "jaxrg.models", "jaxrg.plots",
                           "jaxrg.studies.maxent.experiment", "jaxrg.train"]
    for name, (kind, message) in out.items():
        assert kind == "MissingDependency" and "\n" not in message
        extra = "plots" if name == "jaxrg.plots" else "studies"
        owner = "jaxrg.datasets" if name == "jaxrg.datasets" else (
            "jaxrg.plots" if name == "jaxrg.plots" else "jaxrg.studies")  # the aliases too
        assert f"pip install 'jaxrg[{extra}]'" in message and owner in message


def test_progress_bars_are_silent_without_tqdm():
    out = _run_blocked("""
        import json
        from jaxrg import _progress
        with _progress.bar(3, "work", "item") as bar:
            _progress.tick([1, 2])
            bar.update()
        print(json.dumps({"kind": type(_progress.progress_bar(total=2)).__name__}))
    """, blocked=("tqdm",))
    assert out == {"kind": "_Silent"}


def test_every_optional_package_has_an_extra_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    core = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    for package, extra in _optional.EXTRAS.items():
        block = text.split(f"\n{extra} = [", 1)[1].split("]", 1)[0]
        assert f'"{package}' in block, f"{package} missing from the [{extra}] extra"
        assert f'"{package}' not in core, f"{package} is optional but listed as a core dependency"
    assert "chex" not in text


def test_the_cli_without_the_study_packages_lists_the_studies_and_names_the_extra(tmp_path):
    out = _run_blocked(f"""
        import contextlib, io, json
        import numpy as np
        from jaxrg.cli import main
        codes, errs = {{}}, {{}}
        np.save({str(tmp_path / "logits.npy")!r}, np.zeros((2, 3, 4)))
        for argv in (["study", "maxent", "run"], ["maxent", "report"], ["clt-rg"],
                     ["experiment", "node-classification"], ["entropy-lens"],
                     ["entropy-lens", "families", "--quick"],
                     ["entropy-lens", "profile", {str(tmp_path / "logits.npy")!r}, "--out",
                      {str(tmp_path / "p.npz")!r}]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                codes[argv[0] + " " + argv[-1]] = main(argv)
            errs[argv[0] + " " + argv[-1]] = err.getvalue()
        text = io.StringIO()
        with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
            main(["study", "--help"])
        print(json.dumps({{"codes": codes, "errs": errs, "help": text.getvalue()}}))
    """)
    profile = f"entropy-lens {tmp_path / 'p.npz'}"
    assert out["codes"].pop(profile) == 0, out["errs"][profile]  # the lens needs no study package
    for argv, code in out["codes"].items():
        err = out["errs"][argv]
        assert code == 2 and err.count("\n") == 1, (argv, err)
        assert "pip install 'jaxrg[studies]'" in err and "jaxrg.studies" in err, (argv, err)
    for name in ("node-classification", "maxent", "clt-rg", "entropy-lens"):
        assert name in out["help"]
