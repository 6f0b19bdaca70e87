"""Tests of jaxrg.studies.clt_rg.rg_network and the CLT/RG reproduction: symmetry, the analytic
solution manifold, exact output cumulants against closed forms and Monte Carlo, and a resumable
run."""

import argparse
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from tolerances import assert_records_close, study_record, tol

from jaxrg.clt import family_moments, family_sample
from jaxrg.cumulants import moments_to_cumulants, sample_cumulants
from jaxrg.studies.clt_rg.rg_network import (
    RGNetwork,
    TalkParameters,
    cumulant_recursion_error,
    exact_map_error,
    output_cumulants,
    output_moments,
    quadratic_coefficients,
    solution_manifold_residuals,
    talk_parameters,
)

F64 = tol(np.float64)
ARCHS = [(2, True), (2, False), (4, True), (6, False)]


def _set(model: RGNetwork, **values) -> RGNetwork:
    for name, value in values.items():
        getattr(model, name)[...] = jnp.asarray(value, jnp.float64)
    return model


def _talk(w0, w1, w2, b1, b2, alpha=0.0) -> RGNetwork:
    net = RGNetwork(width=2, symmetric=True, alpha=alpha, rngs=nnx.Rngs(0))
    return _set(net, w_other=[w0], w_self=[w1], w_out=[w2], bias=[b1], b_out=b2)


@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize(("width", "symmetric"), ARCHS)
def test_symmetric_networks_are_invariant_under_swapping_inputs(width, symmetric, alpha):
    net = RGNetwork(width=width, symmetric=symmetric, alpha=alpha, rngs=nnx.Rngs(width))
    x = jax.random.normal(jax.random.key(0), (64, 2), jnp.float64)
    gap = float(jnp.max(jnp.abs(net(x) - net(x[:, ::-1]))))
    assert (gap < 1e-12) == symmetric, gap


def test_linear_talk_network_on_the_manifold_is_the_rg_step():
    w1, w2, b1 = 0.3, -1.7, 0.4
    net = _talk(1 / (w2 * math.sqrt(2)) - w1, w1, w2, b1, -2 * w2 * b1)
    x = jax.random.normal(jax.random.key(1), (100, 2), jnp.float64) * 3.0
    np.testing.assert_allclose(net(x), (x[:, 0] + x[:, 1]) / math.sqrt(2), **F64)
    residuals = solution_manifold_residuals(talk_parameters(net))
    np.testing.assert_allclose(residuals, [0.0, 0.0], atol=1e-14)
    off = _talk(0.2, w1, w2, b1, 0.0)
    assert float(jnp.max(jnp.abs(off(x) - (x[:, 0] + x[:, 1]) / math.sqrt(2)))) > 0.1


def test_unconstrained_quadratic_network_can_cancel_the_quadratic_terms():
    # Two units with the same input weights and output weights +-v: phi(h + b1) - phi(h + b2)
    # = 2 alpha (b1 - b2) h + const, linear in h for alpha != 0 (impossible for the talk's net).
    alpha, v = 0.5, 1 / math.sqrt(2)
    net = RGNetwork(width=2, symmetric=False, alpha=alpha, rngs=nnx.Rngs(0))
    _set(
        net,
        kernel=[[1.0, 1.0], [1.0, 1.0]],
        bias=[1.0, 0.0],
        w_out=[v, -v],
        b_out=-v * (1.0 + alpha),
    )
    x = jax.random.normal(jax.random.key(2), (50, 2), jnp.float64)
    np.testing.assert_allclose(net(x), (x[:, 0] + x[:, 1]) / math.sqrt(2), **F64)
    for name in ("uniform", "exponential", "spins"):
        assert float(exact_map_error(net, family_moments(name, 4))) < 1e-20


@pytest.mark.parametrize(("width", "symmetric"), ARCHS)
def test_quadratic_coefficients_reproduce_the_forward_pass(width, symmetric):
    net = RGNetwork(width=width, symmetric=symmetric, alpha=0.4, rngs=nnx.Rngs(3))
    c = quadratic_coefficients(net)
    x = jax.random.normal(jax.random.key(4), (30, 2), jnp.float64)
    powers = x[:, :, None] ** jnp.arange(3, dtype=jnp.float64)[None, None, :]
    poly = jnp.einsum("ab,na,nb->n", c, powers[:, 0], powers[:, 1])
    np.testing.assert_allclose(poly, net(x), **F64)


def test_output_cumulants_of_the_linear_talk_network_scale_by_two_c_to_the_r():
    w0, w1, w2, b1, b2 = 0.2, 0.9, 1.3, -0.4, 0.25
    net = _talk(w0, w1, w2, b1, b2)
    m = family_moments("exponential", 8) + jnp.asarray([0.5] + [0.0] * 7)  # shift: non-zero mean
    kin = moments_to_cumulants(m)
    c = w2 * (w0 + w1)
    expected = [2 * c * kin[0] + 2 * w2 * b1 + b2] + [2 * c**r * kin[r - 1] for r in (2, 3, 4)]
    np.testing.assert_allclose(output_cumulants(net, m, order=4), expected, **F64)


def test_exact_output_cumulants_match_monte_carlo_of_the_quadratic_network():
    net = RGNetwork(width=4, symmetric=False, alpha=0.6, rngs=nnx.Rngs(5))
    x = family_sample("laplace", jax.random.key(6), (40, 20_000, 2), dtype=jnp.float64)
    blocks = jax.vmap(lambda s: sample_cumulants(net(s), 3))(x)
    mean, se = jnp.mean(blocks, 0), jnp.std(blocks, 0) / math.sqrt(40)
    exact = output_cumulants(net, family_moments("laplace", 6), order=3)
    assert np.all(np.abs(np.asarray(mean - exact)) < 5 * np.asarray(se))
    mse = jnp.mean((net(x.reshape(-1, 2)) - x.reshape(-1, 2).sum(1) / math.sqrt(2)) ** 2)
    np.testing.assert_allclose(mse, exact_map_error(net, family_moments("laplace", 4)), rtol=0.02)


def test_output_moments_of_a_product_factorise_for_independent_inputs():
    c = jnp.zeros((3, 3)).at[1, 1].set(1.0)  # y = xi1 xi2: <y^r> = m_r^2
    m = jnp.asarray([0.5, 2.0, 1.0, 7.0, 0.0, 30.0])
    np.testing.assert_allclose(output_moments(c, m, order=3), m[:3] ** 2, **F64)


def test_quadratic_talk_network_cannot_satisfy_the_mean_constraint():
    # kappa_1(out) depends on the input variance through 2 alpha w2 (w0^2 + w1^2): for the
    # recursion (kappa_1 -> sqrt2 kappa_1) it must vanish, which needs w0 = w1 = 0.
    alpha, w0, w1, w2, b1, b2 = 0.5, 0.3, -0.8, 1.1, 0.2, -0.1
    net = _talk(w0, w1, w2, b1, b2, alpha=alpha)

    def mean_out(var):
        return output_cumulants(net, jnp.asarray([0.0, var, 0.0, 3 * var**2]), order=1)[0]

    slope = float(mean_out(2.0) - mean_out(1.0))
    np.testing.assert_allclose(slope, 2 * alpha * w2 * (w0**2 + w1**2), **F64)
    errors = cumulant_recursion_error(net, family_moments("gaussian", 8))
    assert float(errors[0]) > 0.1


def test_recursion_error_vanishes_on_the_linear_manifold_for_every_family():
    w1, w2, b1 = -0.6, 0.8, 1.5
    net = _talk(1 / (w2 * math.sqrt(2)) - w1, w1, w2, b1, -2 * w2 * b1)
    for name in ("uniform", "exponential", "laplace", "spins", "mixture"):
        np.testing.assert_allclose(
            cumulant_recursion_error(net, family_moments(name, 8)), 0.0, atol=1e-12
        )


def test_training_the_linear_talk_network_lands_on_the_solution_manifold():
    from jaxrg.studies.clt_rg.experiment import make_model, train_rg_network

    net, losses = train_rg_network(
        make_model("sym2", alpha=0.0, seed=3), family="uniform", key=jax.random.key(0), steps=400
    )
    assert float(losses[-1]) < 1e-12 < float(losses[0])
    assert np.all(np.abs(np.asarray(solution_manifold_residuals(talk_parameters(net)))) < 1e-6)


def test_quadratic_talk_network_fits_spins_but_not_continuous_inputs():
    from jaxrg.studies.clt_rg.experiment import make_model, train_rg_network

    net, _ = train_rg_network(
        make_model("sym2", alpha=0.5, seed=1), family="spins", key=jax.random.key(1), steps=2000
    )
    assert float(exact_map_error(net, family_moments("spins", 4))) < 1e-8  # xi^2 = 1 hides phi
    assert float(exact_map_error(net, family_moments("exponential", 4))) > 1e-2


def test_models_work_under_jit_vmap_grad_and_in_float32():
    net = RGNetwork(width=2, symmetric=False, alpha=0.3, rngs=nnx.Rngs(7), param_dtype=jnp.float32)
    x = jnp.ones((3, 2), jnp.float64)
    assert net(x).dtype == jnp.float32
    graphdef, params, rest = nnx.split(net, nnx.Param, ...)

    def loss(p):
        return jnp.sum(nnx.merge(graphdef, p, rest)(x) ** 2)

    grads = jax.jit(jax.grad(loss))(params)
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    per_row = jax.vmap(lambda row: net(row))(x)
    np.testing.assert_allclose(per_row, net(x), **tol(np.float32))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="even"):
        RGNetwork(width=3, symmetric=True, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="talk's network"):
        talk_parameters(RGNetwork(width=2, symmetric=False, rngs=nnx.Rngs(0)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        RGNetwork(rngs=nnx.Rngs(0))(jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="input_moments"):
        output_moments(jnp.ones((3, 3)), jnp.ones(3), order=2)
    manifold = solution_manifold_residuals(TalkParameters(0.0, 0.0, 1.0, 0.0, 0.0))
    assert abs(float(manifold[0]) + 1 / math.sqrt(2)) < 1e-12


def test_clt_rg_reproduction_runs_and_resumes(tmp_path, capsys):
    from jaxrg import _io
    from jaxrg.studies.clt_rg import cli
    from jaxrg.studies.clt_rg.experiment import CLTRGConfig, report, run_clt_rg

    cfg = CLTRGConfig(
        seeds=1,
        steps=30,
        models=("sym2",),
        activations=("linear",),
        train_families=("uniform",),
        drift_steps=(30,),
        flow_samples=2**8,
        mc_samples=2**15,
        grid_points=128,
        density_steps=1,
        figures=False,
    )
    summary = run_clt_rg(tmp_path, cfg, progress=False)
    runs = (tmp_path / "runs.jsonl").read_text().splitlines()
    # the code before the studies moved into jaxrg/studies/ (issue 22) wrote the same numbers
    want = study_record("clt_rg_small")
    assert_records_close([json.loads(line) for line in runs], want["runs"])
    assert_records_close(_io.read_jsonl(tmp_path / "drift.jsonl"), want["drift"])
    # report recomputes the summary from the records alone
    assert json.loads(json.dumps(report(tmp_path, figures=False))) == json.loads(
        json.dumps(summary))
    assert len(runs) == 1 and "sym2/linear/uniform" in summary["runs"]
    assert len((tmp_path / "drift.jsonl").read_text().splitlines()) == 1
    run_clt_rg(tmp_path, cfg, progress=False)  # resumes: nothing to redo
    assert (tmp_path / "runs.jsonl").read_text().splitlines() == runs
    with pytest.raises(ValueError, match="another configuration"):
        run_clt_rg(tmp_path, cfg._replace(seeds=2), progress=False)
    record = json.loads(runs[0])
    assert record["model"] == "sym2" and "talk" in record and "flow" in record
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["clt-rg", "run", "--out", str(tmp_path / "cli"), "--seeds", "0"])
    with pytest.raises(ValueError, match="--seeds"):
        args.func(args)
