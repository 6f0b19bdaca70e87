"""The cumulants/CLT notebook runs end to end at small sizes under the strict test runtime
(x64, strict promotion, warnings as errors) and reaches its claims."""

import pathlib
import runpy

NOTEBOOK = pathlib.Path(__file__).parents[1] / "notebooks" / "cumulants_clt.py"


def test_cumulants_clt_notebook_runs_and_finds_the_solution_manifold(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXRG_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("JAXRG_FIGURES", str(tmp_path))
    namespace = runpy.run_path(str(NOTEBOOK), run_name="__main__")
    assert namespace["manifold_residual"] < 1e-6
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "activation_taylor_vs_mc.png",
        "clt_flow.png",
        "learned_flow.png",
    }
