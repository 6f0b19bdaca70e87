"""Heat-kernel diffusion with a learned scale (studies/node_classification/learned_scale.py):
coefficients against scipy's Bessel functions, the diffusion against scipy's expm, derivatives in
τ against finite differences and the closed form −L̂ e^{−τL̂} x, and the runner's SD/SL records."""

import json

import jax
import jax.numpy as jnp
import jraph
import networkx as nx
import numpy as np
import pytest
import scipy.linalg
import scipy.special
from flax import nnx

from jaxrg.studies.node_classification import experiment as nc
from jaxrg.studies.node_classification import learned_scale
from jaxrg.studies.node_classification.learned_scale import (
    HeatEncoder,
    LearnedScaleClassifier,
    heat_coefficients,
    heat_diffusion,
    normalised_laplacian_eigenvalues,
    trained_tau,
)


def _graph(adjacency):
    senders, receivers = np.nonzero(adjacency)
    weights = adjacency[senders, receivers]
    return jraph.GraphsTuple(nodes=None, edges=jnp.asarray(weights), senders=senders,
                             receivers=receivers, globals=None,
                             n_node=np.array([adjacency.shape[0]]),
                             n_edge=np.array([senders.size]))


def _normalised(adjacency):
    with_loops = adjacency + np.eye(adjacency.shape[0])
    d = with_loops.sum(axis=1)
    return np.eye(adjacency.shape[0]) - with_loops / np.sqrt(np.outer(d, d))


@pytest.mark.parametrize("tau", [1e-3, 0.5, 3.0, 19.9, 100.0])
def test_coefficients_equal_scaled_bessel_functions_and_sum_to_one(tau):
    k = np.arange(160)
    got = np.asarray(heat_coefficients(jnp.asarray(tau, jnp.float64), k.size))
    want = np.where(k > 0, 2.0, 1.0) * scipy.special.ive(k, tau)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-300)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)


def test_coefficient_derivative_equals_bessel_recurrence():
    # d/dτ [e^{-τ} I_k(τ)] = e^{-τ} (I_{k-1} + I_{k+1}) / 2 - e^{-τ} I_k
    tau = 2.7
    k = np.arange(1, 20)
    got = jax.jacfwd(lambda t: heat_coefficients(t, 21))(jnp.asarray(tau, jnp.float64))[1:20]
    ive = scipy.special.ive
    want = 2 * ((ive(k - 1, tau) + ive(k + 1, tau)) / 2 - ive(k, tau))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10)


@pytest.mark.parametrize("tau", [0.3, 2.0, 15.0])
def test_diffusion_equals_expm_of_the_normalised_laplacian_on_a_weighted_graph(tau):
    rng = np.random.default_rng(1)
    adjacency = nx.to_numpy_array(nx.karate_club_graph(), weight=None)
    adjacency = adjacency * rng.uniform(0.1, 3.0, adjacency.shape)
    adjacency = np.triu(adjacency, 1) + np.triu(adjacency, 1).T
    x = rng.normal(size=(34, 3))
    got = heat_diffusion(jnp.asarray(x), _graph(adjacency),
                         heat_coefficients(jnp.asarray(tau), 64))
    want = scipy.linalg.expm(-tau * _normalised(adjacency)) @ x
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)


def test_tau_derivative_equals_minus_laplacian_times_the_diffusion_and_finite_differences():
    adjacency = nx.to_numpy_array(nx.les_miserables_graph(), weight=None)
    graph, lap = _graph(adjacency), _normalised(adjacency)
    x = np.random.default_rng(2).normal(size=(adjacency.shape[0], 2))

    def diffused(tau):
        return heat_diffusion(jnp.asarray(x), graph, heat_coefficients(tau, 64))

    tau = jnp.asarray(1.7, jnp.float64)
    got = np.asarray(jax.jacfwd(diffused)(tau))
    closed = -lap @ scipy.linalg.expm(-1.7 * lap) @ x
    np.testing.assert_allclose(got, closed, atol=1e-11)
    h = 1e-5
    fd = (np.asarray(diffused(tau + h)) - np.asarray(diffused(tau - h))) / (2 * h)
    np.testing.assert_allclose(got, fd, atol=1e-8)


def _count_products(monkeypatch) -> list:
    """A list that grows by one each time the diffusion runs a sparse product (at run time)."""
    products = []
    original = learned_scale.gcn_propagate

    def counted(x, graph):
        jax.debug.callback(lambda: products.append(1))
        return original(x, graph)

    monkeypatch.setattr(learned_scale, "gcn_propagate", counted)
    return products


@pytest.mark.parametrize("dtype, tau", [("float64", 2.0), ("float64", 19.9), ("float32", 2.0),
                                        ("float64", 0.05)])
def test_the_recurrence_stops_at_the_negligible_tail_and_agrees_with_all_terms(
        monkeypatch, dtype, tau):
    """The Chebyshev recurrence stops once the coefficients left, sum_{j>=k} c_j, are below
    eps/16 of the dtype (their contribution is below round-off: ||T_j|| <= 1): the products it
    computes are counted and equal the count scipy's Bessel functions give (at tau = 2 in
    float64, 18 of 47: the SD/SL encoders' tau* is about 2), and the sum, its gradient in x
    and its derivative in tau equal those of all 48 terms to round-off. Reference: the same
    recurrence with ``truncate=False`` (itself checked against ``expm`` above)."""
    products = _count_products(monkeypatch)
    adjacency = nx.to_numpy_array(nx.les_miserables_graph(), weight=None)
    graph = _graph(adjacency.astype(dtype))
    x = jnp.asarray(np.random.default_rng(3).normal(size=(adjacency.shape[0], 3)), dtype)

    def loss(tau, x, truncate):
        out = heat_diffusion(x, graph, heat_coefficients(tau, 48), truncate=truncate)
        return jnp.sum(out * jnp.cos(x)), out

    tau = jnp.asarray(tau, dtype)
    grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True), static_argnums=2)
    (_, full), (dtau_full, dx_full) = grad(tau, x, False)
    (_, cut), (dtau_cut, dx_cut) = grad(tau, x, True)
    c = np.where(np.arange(48) > 0, 2.0, 1.0) * scipy.special.ive(np.arange(48), float(tau))
    tails = np.cumsum(c[::-1])[::-1][2:]  # what the steps k = 2..47 would leave out
    needed = 1 + int(np.sum(tails > np.finfo(dtype).eps / 16))  # T_1 x, then one per step
    assert needed < 47 or tau > 19
    for truncate, want in ((False, 47), (True, needed)):
        products.clear()
        jax.block_until_ready(jax.jit(loss, static_argnums=2)(tau, x, truncate))
        jax.effects_barrier()
        assert len(products) == want, (truncate, len(products), want)
    rtol = {"float64": 1e-13, "float32": 2e-5}[dtype]
    scale = float(jnp.max(jnp.abs(full)))
    np.testing.assert_allclose(cut, full, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(dx_cut, dx_full, rtol=0,
                               atol=rtol * float(jnp.max(jnp.abs(dx_full))))
    np.testing.assert_allclose(dtau_cut, dtau_full, rtol=rtol, atol=rtol * scale)



def test_under_vmap_the_batch_stops_when_every_member_may_and_agrees_with_all_terms(monkeypatch):
    """Under jax.vmap (the study's runner vmaps its seeds, even one) a batched predicate would
    turn the cond into a select that runs every product: the batch now steps until every
    member's tail is negligible (one unbatched answer), so a batch of tau = 0.5 and 2 computes
    the products tau = 2 needs alone (scipy's Bessel count), and each member equals its own
    all-terms sum to round-off, with gradients in tau."""
    products = _count_products(monkeypatch)
    adjacency = nx.to_numpy_array(nx.les_miserables_graph(), weight=None)
    graph = _graph(adjacency)
    x = jnp.asarray(np.random.default_rng(4).normal(size=(adjacency.shape[0], 2)))

    def loss(tau, truncate):
        out = heat_diffusion(x, graph, heat_coefficients(tau, 48), truncate=truncate)
        return jnp.sum(out * jnp.cos(x))

    taus = jnp.asarray([0.5, 2.0])
    batched = jax.jit(jax.vmap(jax.value_and_grad(lambda t: loss(t, True))))
    value, grad = batched(taus)
    jax.effects_barrier()
    products.clear()
    jax.block_until_ready(jax.jit(jax.vmap(lambda t: loss(t, True)))(taus))
    jax.effects_barrier()
    c = 2 * scipy.special.ive(np.arange(48), 2.0)
    needed = 1 + int(np.sum(np.cumsum(c[::-1])[::-1][2:] > np.finfo(float).eps / 16))
    assert len(products) == needed < 47, len(products)  # the callback runs once per product
    for i, tau in enumerate(np.asarray(taus)):
        v, g = jax.value_and_grad(lambda t: loss(t, False))(jnp.asarray(tau))
        np.testing.assert_allclose(value[i], v, rtol=1e-13)
        np.testing.assert_allclose(grad[i], g, rtol=1e-11)

def test_a_nan_coefficient_gives_nan_under_jit():
    graph = _graph(nx.to_numpy_array(nx.karate_club_graph(), weight=None))
    coeffs = heat_coefficients(jnp.asarray(2.0), 48).at[40].set(jnp.nan)  # deep in the tail
    out = jax.jit(heat_diffusion)(jnp.ones((34, 2)), graph, coeffs)
    assert np.all(np.isnan(out))
    nan_tau = jax.jit(lambda t: heat_diffusion(jnp.ones((34, 2)), graph,
                                               heat_coefficients(t, 48)))(jnp.asarray(jnp.nan))
    assert np.all(np.isnan(nan_tau))


def test_normalised_spectrum_equals_networkx_with_self_loops():
    g = nx.les_miserables_graph()
    adjacency = nx.to_numpy_array(g, weight="weight")
    looped = nx.Graph(g)
    looped.add_edges_from((n, n, {"weight": 1.0}) for n in g)
    want = np.linalg.eigvalsh(nx.normalized_laplacian_matrix(looped, weight="weight").toarray())
    got = normalised_laplacian_eigenvalues(adjacency)
    np.testing.assert_allclose(got, np.clip(want, 0, None), atol=1e-12)
    assert got[0] == pytest.approx(0.0, abs=1e-12) and got[-1] < 2.0


def _loss_grad(model, x, graph):
    def loss(m):
        return jnp.sum(m(x, [graph]) ** 2)

    return nnx.jit(nnx.grad(loss))(model)


def test_learned_scale_gets_a_gradient_and_a_fixed_scale_does_not():
    adjacency = nx.to_numpy_array(nx.karate_club_graph(), weight=None)
    graph = _graph(adjacency)
    x = jnp.asarray(np.random.default_rng(3).normal(size=(34, 5)), jnp.float32)
    for variant, moves in (("SL", True), ("MD", False)):
        model = LearnedScaleClassifier(5, 3, variant=variant, tau0=2.0, hidden=8, tau_max=4.0,
                                       num_terms=24, rngs=nnx.Rngs(0))
        assert float(model.heat.tau) == pytest.approx(2.0, rel=1e-6)
        grads = _loss_grad(model, x, graph)
        theta_grad = float(grads["heat"]["scale_logit"][...])
        assert (theta_grad != 0.0) == moves, variant
        assert (model.base is not None) == variant.startswith("M")


def test_scale_options_are_checked_with_the_fix_named():
    with pytest.raises(ValueError, match="num_terms >= "):
        HeatEncoder(4, 8, tau0=1.0, tau_max=50.0, num_terms=10, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="0 < tau0 < tau_max"):
        HeatEncoder(4, 8, tau0=30.0, tau_max=20.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="variant must be one of"):
        LearnedScaleClassifier(4, 2, variant="SR", tau0=1.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="original graph only"):
        model = LearnedScaleClassifier(4, 2, variant="SL", tau0=1.0, hidden=4, rngs=nnx.Rngs(0))
        graph = _graph(np.ones((3, 3)) - np.eye(3))
        model(jnp.ones((3, 4), jnp.float32), [graph, graph])


def test_trained_tau_reads_every_seed():
    params = {"heat": {"scale_logit": np.array([0.0, np.log(3.0)])}, "head": {"w": np.ones(2)}}
    np.testing.assert_allclose(trained_tau(params, 8.0), [4.0, 6.0])
    # with tau_rate the leaf holds theta / tau_rate
    params = {"heat": {"scale_logit": np.array([0.0, np.log(3.0) / 4])}}
    np.testing.assert_allclose(trained_tau(params, 8.0, tau_rate=4.0), [4.0, 6.0])


def test_tau_rate_multiplies_the_first_adam_step_of_the_logit_and_keeps_tau0():
    import optax

    from jaxrg.studies._common.engine import optimizer_step

    adjacency = nx.to_numpy_array(nx.karate_club_graph(), weight=None)
    graph = _graph(adjacency)
    x = jnp.asarray(np.random.default_rng(5).normal(size=(34, 5)), jnp.float32)
    lr, moves = 1e-3, {}
    for rate in (1.0, 25.0):
        model = LearnedScaleClassifier(5, 3, variant="SL", tau0=2.0, hidden=8, tau_max=4.0,
                                       num_terms=24, tau_rate=rate, rngs=nnx.Rngs(0))
        assert float(model.heat.tau) == pytest.approx(2.0, rel=1e-6)
        params = nnx.state(model, nnx.Param)
        grads = nnx.state(_loss_grad(model, x, graph), nnx.Param)
        optimizer = optax.adam(lr)
        new, _ = optimizer_step(optimizer, grads, optimizer.init(params), params)
        before, after = (trained_tau(p, 4.0, rate)[0] for p in (params, new))
        # theta = rate * phi, and Adam's first step moves phi by lr (sign of the gradient)
        theta = [np.log(t / (4.0 - t)) for t in (before, after)]
        moves[rate] = theta[1] - theta[0]
    assert abs(moves[1.0]) == pytest.approx(lr, rel=1e-3)
    assert moves[25.0] == pytest.approx(25.0 * moves[1.0], rel=1e-3)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="tau_rate must be a positive finite number"):
            HeatEncoder(4, 8, tau0=1.0, tau_rate=bad, rngs=nnx.Rngs(0))


def test_runner_starts_at_the_normalised_tau_star_and_records_the_learned_tau(tmp_path,
                                                                              data_dir):
    kwargs = dict(encoder="gcn", seeds=2, out=tmp_path, data_dir=data_dir, epochs=3, hidden=8,
                  learning_rate=1e-2, progress=False)
    learned = nc.run("europe", variant="SL", **kwargs)
    data = nc.prepare("europe", variant="SB", data_dir=data_dir, progress=False)[0]
    want = nc.characteristic_tau(data.adjacency, "exact", laplacian="normalised")
    last = [r for r in learned if r["epochs"] == 3]
    assert [r["seed"] for r in last] == [0, 1] and {r["tau"] for r in last} == {want}
    assert all(r["laplacian"] == "normalised" for r in learned)
    assert all("learned_tau" not in r for r in learned if r["epochs"] < 3)
    assert all(0 < r["learned_tau"] != pytest.approx(want, rel=1e-6) for r in last)
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(lines) == len(learned)
    # a larger step on τ is its own run (its own key and report cell); it refuses variants
    # that do not learn τ
    faster = nc.run("europe", variant="SL", tau_rate=30.0, **kwargs)
    assert {r["tau_rate"] for r in faster} == {30.0} and len(faster) == len(learned)
    assert all("tau_rate" not in r for r in learned)
    moved = {r["seed"]: abs(r["learned_tau"] - want) for r in faster if r["epochs"] == 3}
    assert all(moved[r["seed"]] > abs(r["learned_tau"] - want) for r in last)
    with pytest.raises(ValueError, match="tau_rate applies to the variants that learn tau"):
        nc.run("europe", variant="SD", tau_rate=30.0, **kwargs)
    with pytest.raises(ValueError, match="tau_rate must be a positive finite number"):
        nc.run("europe", variant="SL", tau_rate=0.0, **kwargs)
    for variant in ("SD", "SL"):  # the heat encoder alone: no GAT version of it to label
        with pytest.raises(ValueError, match=f"{variant} is the heat encoder alone"):
            nc.run("europe", variant=variant, **dict(kwargs, encoder="gat"))
    from jaxrg.studies.node_classification.report import learned_scale_table, summarise

    table = learned_scale_table(summarise(nc.read_results(tmp_path / "results.jsonl")))
    assert "(τ step ×30)" in table
    # full-graph training is its own run and its own report row (the subgraph rows keep theirs)
    full = nc.run("europe", variant="SL", propagation="full", **kwargs)
    assert {r["propagation"] for r in full} == {"full"} and len(full) == len(learned)
    assert {r["propagation"] for r in learned} == {"subgraph"}
    assert [r["test_acc"] for r in full] != [r["test_acc"] for r in learned]
    table = learned_scale_table(summarise(nc.read_results(tmp_path / "results.jsonl")))
    assert "| europe (full graph) | GCN |" in table and "| europe | GCN |" in table
    with pytest.raises(ValueError, match="propagation must be one of"):
        nc.run("europe", variant="SL", propagation="whole", **kwargs)


def test_feature_tau_with_identity_features_is_the_structure_tau_of_the_curvature_formula():
    # Centred unit-norm identity columns put weight 1 on every non-zero mode and none on the
    # zero mode, which the heat-trace curvature τ² Σ w λ² e^{-τλ} never sees: same peak.
    adjacency = nx.to_numpy_array(nx.les_miserables_graph(), weight=None)
    n = adjacency.shape[0]
    structure = nc.characteristic_tau(adjacency, "authors-analytic")
    features = nc.characteristic_tau(adjacency, "authors-analytic", features=np.eye(n))
    assert features == pytest.approx(structure, rel=1e-9)
    with pytest.raises(ValueError, match="tau\\*_X"):
        nc.characteristic_tau(adjacency, "authors", features=np.eye(n))


def test_sr_at_the_feature_tau_is_its_own_run_and_report_row(tmp_path, data_dir):
    from jaxrg.studies.node_classification.report import report

    kwargs = dict(encoder="gcn", variant="SR", seeds=2, out=tmp_path, data_dir=data_dir,
                  epochs=2, hidden=8, learning_rate=1e-2, scale_variant="authors-analytic",
                  progress=False)
    structure = nc.run("europe", **kwargs)
    features = nc.run("europe", scale_from="features", **kwargs)
    # Europe's features are the identity: τ*_X = τ* (above), yet the runs are kept apart.
    assert len(features) == len(structure) > 0
    assert features[0]["tau"] == pytest.approx(structure[0]["tau"], rel=1e-12)
    assert all(r["scale_source"] == "features" for r in features)
    assert all("scale_source" not in r for r in structure)
    assert nc.run("europe", scale_from="features", **kwargs) == []  # resumes: nothing to do
    text = report(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| europe | GCN | 8 |"))
    assert row.count("τ*_X=") == 1 and row.count("(τ=") == 1  # two SR cells in one row
    with pytest.raises(ValueError, match="scale_from"):
        nc.run("europe", scale_from="labels", **kwargs)


def test_weight_decay_sees_every_weight_matrix_of_both_encoders():
    model = LearnedScaleClassifier(3, 2, variant="ML", tau0=1.0, hidden=4, rngs=nnx.Rngs(0))
    want = sum(0.5 * float(jnp.sum(jnp.square(param[...])))
               for path, param in nnx.iter_graph(model)
               if isinstance(param, nnx.Param) and path and path[-1] == "kernel")
    # 2 encoders x (projection + 2 convolutions) + the head = 7 weight matrices
    assert sum(1 for path, p in nnx.iter_graph(model)
               if isinstance(p, nnx.Param) and path and path[-1] == "kernel") == 7
    assert float(model.l2_loss()) == pytest.approx(want, rel=1e-6)
