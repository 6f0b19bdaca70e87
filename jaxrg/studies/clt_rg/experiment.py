r"""Reproduction: neural approximations of the CLT renormalisation step and their symmetry.

Ashworth, Liò and Caso (arXiv:2510.16591) train small networks to map two fine variables
:math:`(\xi_1, \xi_2)` to the coarse variable of one CLT RG step, :math:`(\xi_1 + \xi_2)/\sqrt2`,
and follow the learned map through cumulants. This module reproduces the study in four parts:

1. **The exact flow** — densities on a grid (:func:`jaxrg.clt.clt_flow`), the cumulant recursion
   :math:`\kappa_r \to 2^{1-r/2}\kappa_r` and Monte Carlo pairs, from uniform, exponential,
   Laplace and two-bump-mixture starts, converging to the Gaussian fixed point.
2. **Linear networks** — the talk's constrained network (:class:`RGNetwork`, symmetric, width 2)
   lands on the analytic solution manifold :math:`w_0 = 1/(w_2\sqrt2) - w_1`,
   :math:`b_2 = -2w_2b_1`; every seed at a different point of it.
3. **Quadratic activation** :math:`\phi(h) = h + \alpha h^2` — the talk's network cannot satisfy
   all cumulant constraints: trained on continuous inputs its loss only decays as the weights run
   off to the linearising limit (:math:`|w_2| \to \infty`); trained on ±1 spins it fits exactly
   (:math:`\xi^2 = 1`) and fails on every continuous family. Unconstrained networks (and symmetric
   ones with two mirrored pairs) can cancel the quadratic terms.
4. **Learned flows and generalisation** — cumulants of the learned map iterated for several RG
   steps against the exact recursion, and exact test errors on held-out input families.

Outputs (under ``out``): ``config.json``, ``clt_flow.json``, ``runs.jsonl`` and ``drift.jsonl``
(one line per finished unit of work: a restarted run skips them), ``summary.json`` and the figures
``clt_flow.png``, ``linear_manifold.png``, ``learned_flow_cumulants.png``, ``generalisation.png``,
``drift.png``. Everything runs in float64 inside ``jax.enable_x64(True)``.

Run it with ``jaxrg study clt-rg run --out results/clt_rg`` (about three minutes on two CPU cores).

Example:
    >>> make_model("sym2", alpha=0.0, seed=0).width  # the talk's constrained network
    2
"""

from __future__ import annotations

import functools
import json
import math
import pathlib
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxrg import _io
from jaxrg.clt import (
    FAMILIES,
    clt_cumulant_flow,
    clt_cumulant_step,
    clt_flow,
    clt_sample_step,
    density_cumulants,
    distance_to_gaussian,
    family_cumulants,
    family_density,
    family_moments,
    family_sample,
)
from jaxrg.cumulants import sample_cumulants
from jaxrg.studies._common.engine import optimizer_step, warmup_cosine
from jaxrg.studies.clt_rg.rg_network import (
    RGNetwork,
    cumulant_recursion_error,
    exact_map_error,
    output_cumulants,
    quadratic_coefficients,
    solution_manifold_residuals,
    talk_parameters,
)

__all__ = [
    "MODELS",
    "CLTRGConfig",
    "clt_flow_study",
    "learned_flow_cumulants",
    "make_model",
    "report",
    "run_clt_rg",
    "train_rg_network",
]

#: Architectures: name -> (width, symmetric). ``sym2`` is the talk's constrained network.
MODELS = {"sym2": (2, True), "free2": (2, False), "sym4": (4, True), "free4": (4, False)}
_DENSITY_FAMILIES = ("uniform", "exponential", "laplace", "mixture")


class CLTRGConfig(NamedTuple):
    r"""Settings of the reproduction (defaults: the run in ``results/clt_rg``); all scalars/tuples.

    Attributes:
        seeds: training seeds per (model, activation, family) (int).
        steps: Adam steps per training run (int).
        batch: i.i.d. input pairs per step (int).
        learning_rate: peak Adam step size (float).
        alpha: :math:`\alpha` of the quadratic activation :math:`\phi(h) = h + \alpha h^2`.
        models: names from :data:`MODELS` (tuple of str).
        activations: ``"linear"`` and/or ``"quadratic"`` (tuple of str).
        train_families: training input families from :data:`jaxrg.clt.FAMILIES`.
        rg_steps: iterations of the learned map along the flow (int).
        flow_samples: draws for the learned flow (int, even).
        mc_samples: draws for the Monte Carlo route of part 1 (int).
        grid_points: points ``n`` of the density grid (int).
        grid_half_width: the grid is ``linspace(-w, w, n)`` (float).
        density_steps: RG steps on densities (int).
        drift_steps: training lengths of the drift study (tuple of int).
        figures: write figures (bool).
    """

    seeds: int = 6
    steps: int = 3000
    batch: int = 512
    learning_rate: float = 0.02
    alpha: float = 0.5
    models: tuple[str, ...] = tuple(MODELS)
    activations: tuple[str, ...] = ("linear", "quadratic")
    train_families: tuple[str, ...] = ("uniform", "spins")
    rg_steps: int = 4
    flow_samples: int = 2**18
    mc_samples: int = 2**20
    grid_points: int = 2048
    grid_half_width: float = 30.0
    density_steps: int = 8
    drift_steps: tuple[int, ...] = (1000, 4000, 16000)
    figures: bool = True


def make_model(name: str, *, alpha: float, seed: int) -> RGNetwork:
    r"""An :class:`RGNetwork` of architecture ``name`` (see :data:`MODELS`).

    Args:
        name: a key of :data:`MODELS` (``"sym2"``, ``"free2"``, ``"sym4"``, ``"free4"``).
        alpha: :math:`\alpha` of :math:`\phi(h) = h + \alpha h^2` (0 = linear).
        seed: seed of the ``nnx.Rngs``.

    Returns:
        :class:`RGNetwork` mapping ``(..., 2)`` pairs to ``(...)`` outputs.

    Raises:
        ValueError: unknown ``name``.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {tuple(MODELS)}.")
    width, symmetric = MODELS[name]
    return RGNetwork(width=width, symmetric=symmetric, alpha=alpha, rngs=nnx.Rngs(seed))


@functools.partial(jax.jit, static_argnames=("graphdef", "family", "steps", "batch"))
def _fit(graphdef, params, rest, key, learning_rate, *, family, steps, batch):
    dtype = jax.tree.leaves(params)[0].dtype

    optimiser = optax.adam(warmup_cosine(learning_rate, steps, floor=0.01, dtype=dtype))

    def loss_fn(p, x):
        y = nnx.merge(graphdef, p, rest)(x)
        return jnp.mean((y - (x[:, 0] + x[:, 1]) / math.sqrt(2.0)) ** 2)

    def body(carry, k):
        p, state = carry
        x = family_sample(family, k, (batch, 2), dtype=dtype)
        loss, grads = jax.value_and_grad(loss_fn)(p, x)
        return optimizer_step(optimiser, grads, state, p), loss

    carry = (params, optimiser.init(params))
    (params, _), losses = jax.lax.scan(body, carry, jax.random.split(key, steps))
    return params, losses


def train_rg_network(
    model: RGNetwork, *, family: str, key, steps: int, batch: int = 512, learning_rate=0.02
) -> tuple[RGNetwork, jax.Array]:
    r"""Fit ``model`` to :math:`(\xi_1+\xi_2)/\sqrt2` by Adam (cosine decay) on fresh i.i.d. pairs.

    Each step draws ``batch`` pairs from ``family`` (:data:`jaxrg.clt.FAMILIES`) and takes one
    optimiser step on the mean squared error
    :math:`\frac1B\sum_b (y(\xi_{b1}, \xi_{b2}) - (\xi_{b1}+\xi_{b2})/\sqrt2)^2`;
    :math:`\alpha` is not trained.

    Args:
        model: an :class:`RGNetwork` (not modified).
        family: input family name.
        key: PRNG key.
        steps: number of optimiser steps ``S`` (static).
        batch: pairs per step ``B``.
        learning_rate: peak Adam step size.

    Returns:
        The trained model (a new object) and the ``(S,)`` training losses.
    """
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    params, losses = _fit(
        graphdef, params, rest, key, learning_rate, family=family, steps=steps, batch=batch
    )
    return nnx.merge(graphdef, params, rest), losses


def learned_flow_cumulants(model: RGNetwork, family: str, key, *, rg_steps: int, samples: int):
    r"""Cumulants (orders 1-4) along ``rg_steps`` iterations of the learned map and the exact one.

    Both flows start from the same ``samples`` draws and pair them identically (common random
    numbers), so their difference is the network's error, not Monte Carlo noise. Each step maps
    ``(n,)`` draws to ``(n/2,)``; ``analytic`` is :math:`2^{n(1-r/2)}\kappa_r` of the family.

    Args:
        model: a trained :class:`RGNetwork`.
        family: starting family (:data:`jaxrg.clt.FAMILIES`).
        key: PRNG key for the draws.
        rg_steps: number of RG steps ``K``.
        samples: number of starting draws (divisible by ``2**K``).

    Returns:
        dict with ``learned``, ``exact_mc`` and ``analytic`` arrays of shape ``(rg_steps+1, 4)``.
    """
    graphdef, state = nnx.split(model)
    x = family_sample(family, key, (samples,))
    learned, exact = _paired_flows(graphdef, state, x, rg_steps=rg_steps)
    analytic = clt_cumulant_flow(family_cumulants(family, 4), steps=rg_steps)
    return {"learned": learned, "exact_mc": exact, "analytic": analytic}


@functools.partial(jax.jit, static_argnames=("graphdef", "rg_steps"))
def _paired_flows(graphdef, state, x, *, rg_steps):
    model = nnx.merge(graphdef, state)
    learned, exact = x, x
    out_l, out_e = [sample_cumulants(x, 4)], [sample_cumulants(x, 4)]
    for _ in range(rg_steps):
        learned = model(learned.reshape(-1, 2))
        exact = clt_sample_step(exact)
        out_l.append(sample_cumulants(learned, 4))
        out_e.append(sample_cumulants(exact, 4))
    return jnp.stack(out_l), jnp.stack(out_e)


_flow_jit = jax.jit(clt_flow, static_argnames=("steps", "conserve"))
_cumulants_jit = jax.jit(jax.vmap(lambda p, x: density_cumulants(p, x, 6), in_axes=(0, None)))
_tv_jit = jax.jit(jax.vmap(distance_to_gaussian, in_axes=(0, None)))


def clt_flow_study(config: CLTRGConfig) -> dict:
    r"""Part 1: density, cumulant and Monte Carlo routes of the CLT flow, per starting family.

    For each density family the grid density is iterated ``density_steps`` times with
    :func:`jaxrg.clt.clt_rg_step` (``conserve`` 0 and 4) and its cumulants are compared with the
    recursion :math:`\kappa_r \to 2^{1-r/2}\kappa_r`, with the exact family cumulants and with
    sample cumulants along :func:`jaxrg.clt.clt_sample_step`.

    Args:
        config: :class:`CLTRGConfig` (grid, steps and sample sizes are read).

    Returns:
        JSON-ready dict: ``grid_step`` (float), ``plot_grid`` (list) and ``families`` mapping each
        name to lists such as ``density_cumulants`` ``(density_steps+1, 6)``,
        ``exact_cumulants`` ``(density_steps+1, 6)``, ``mc_cumulants`` ``(k, 6)``,
        ``tv_to_gaussian`` ``(density_steps+1,)`` and scalar error summaries.
    """
    grid = jnp.linspace(-config.grid_half_width, config.grid_half_width, config.grid_points)
    step = 2 * config.grid_half_width / (config.grid_points - 1)  # the linspace's step, exactly
    steps, result = config.density_steps, {"grid_step": float(step), "families": {}}
    plot = np.flatnonzero(np.abs(np.asarray(grid)) <= 6.0)[:: max(1, config.grid_points // 512)]
    for i, name in enumerate(_DENSITY_FAMILIES):
        by_order = {}
        for conserve in (0, 4):  # the last (default, 4) path is kept for the plots
            path = _flow_jit(family_density(name, grid), grid, steps=steps, conserve=conserve)
            dens = _cumulants_jit(path, grid)
            one_step = jnp.concatenate([dens[:1], clt_cumulant_step(dens[:-1])])
            by_order[conserve] = np.max(np.abs(np.asarray(dens - one_step)), axis=0).tolist()
        from_grid = clt_cumulant_flow(dens[0], steps=steps)
        exact = clt_cumulant_flow(family_cumulants(name, 6), steps=steps)
        mc_x = family_sample(name, jax.random.key(1000 + i), (config.mc_samples,))
        mc = [sample_cumulants(mc_x, 6)]
        for _ in range(min(steps, int(math.log2(config.mc_samples)) - 14)):  # keep ≥ 2^14 draws
            mc_x = clt_sample_step(mc_x)
            mc.append(sample_cumulants(mc_x, 6))
        result["families"][name] = {
            "density_cumulants": np.asarray(dens).tolist(),
            "exact_cumulants": np.asarray(exact).tolist(),
            "mc_cumulants": np.asarray(jnp.stack(mc)).tolist(),
            "tv_to_gaussian": np.asarray(_tv_jit(path, grid)).tolist(),
            "max_one_step_error_by_order_conserve4": by_order[4],
            "max_one_step_error_by_order_conserve0": by_order[0],
            "max_error_vs_recursion_from_grid_r4": float(jnp.max(jnp.abs(dens - from_grid)[:, :4])),
            "max_error_vs_exact_recursion_r4": float(jnp.max(jnp.abs(dens - exact)[:, :4])),
            "mass_error": float(jnp.max(jnp.abs(jnp.sum(path, 1) / jnp.sum(path[0]) - 1))),
            "densities": {  # a few steps on a coarser, |x| <= 6 grid, for the figure
                str(n): np.asarray(path[n][plot]).tolist() for n in sorted({0, 1, 2, steps})
            },
        }
    result["plot_grid"] = np.asarray(grid[plot]).tolist()
    return result


def _train_run(
    config: CLTRGConfig, model_name, activation, family, seed, *, steps=None, flow=False
) -> dict:
    alpha = 0.0 if activation == "linear" else config.alpha
    key = jax.random.fold_in(jax.random.key(seed), FAMILIES.index(family))
    model = make_model(model_name, alpha=alpha, seed=seed)
    model, losses = train_rg_network(
        model,
        family=family,
        key=key,
        steps=steps or config.steps,
        batch=config.batch,
        learning_rate=config.learning_rate,
    )
    moments = {f: family_moments(f, 8) for f in FAMILIES}
    record = {
        "model": model_name,
        "activation": activation,
        "train_family": family,
        "seed": seed,
        "alpha": alpha,
        "final_loss": float(jnp.mean(losses[-100:])),
        "coefficients": np.asarray(quadratic_coefficients(model)).tolist(),
        "test_mse": {f: float(exact_map_error(model, m)) for f, m in moments.items()},
        "recursion_error": {
            f: np.asarray(cumulant_recursion_error(model, m, order=4)).tolist()
            for f, m in moments.items()
        },
        "output_cumulants": {
            f: np.asarray(output_cumulants(model, m, order=4)).tolist() for f, m in moments.items()
        },
    }
    if MODELS[model_name] == (2, True):
        talk = talk_parameters(model)
        record["talk"] = dict(zip(talk._fields, map(float, talk), strict=True))
        record["manifold_residuals"] = [float(r) for r in solution_manifold_residuals(talk)]
        # d kappa_1(out) / d kappa_2(in): must vanish for the recursion; 0 only if w0 = w1 = 0.
        record["mean_variance_coupling"] = 2 * alpha * talk.w2 * (talk.w0**2 + talk.w1**2)
        record["mean_variance_coupling"] = float(record["mean_variance_coupling"])
    if flow:
        record["flow"] = {
            f: {
                k: np.asarray(v).tolist()
                for k, v in learned_flow_cumulants(
                    model,
                    f,
                    jax.random.key(77),
                    rg_steps=config.rg_steps,
                    samples=config.flow_samples,
                ).items()
            }
            for f in FAMILIES
        }
    return record


def _summarise(config: CLTRGConfig, runs: list[dict], drift: list[dict], flow: dict) -> dict:
    """Aggregate the run records (medians over seeds) into ``summary.json``."""
    groups: dict[str, dict] = {}
    for r in runs:
        key = f"{r['model']}/{r['activation']}/{r['train_family']}"
        groups.setdefault(key, []).append(r)
    table = {}
    for key, rs in sorted(groups.items()):
        mse = {f: float(np.median([r["test_mse"][f] for r in rs])) for f in FAMILIES}
        exact = sum(max(r["test_mse"].values()) < 1e-8 for r in rs)
        entry = {
            "seeds": len(rs),
            "median_test_mse": mse,
            "seeds_exact_everywhere": exact,
            "median_final_loss": float(np.median([r["final_loss"] for r in rs])),
        }
        if "talk" in rs[0]:
            entry["max_abs_manifold_residuals"] = np.max(
                np.abs([r["manifold_residuals"] for r in rs]), axis=0
            ).tolist()
            entry["talk_parameters"] = [r["talk"] for r in rs]
            entry["mean_variance_coupling"] = [r["mean_variance_coupling"] for r in rs]
        table[key] = entry
    fams = flow["families"]
    return {
        "config": config._asdict(),
        "clt_flow": {
            f: {k: v for k, v in d.items() if k.startswith(("max", "mass"))}
            | {"tv_to_gaussian": d["tv_to_gaussian"]}
            for f, d in fams.items()
        },
        "runs": table,
        "drift": [
            {k: d[k] for k in ("steps", "final_loss", "talk")}
            | {"loss_times_w2_squared": d["final_loss"] * d["talk"]["w2"] ** 2}
            for d in drift
        ],
    }


def run_clt_rg(out, config: CLTRGConfig | None = None, *, progress: bool = True) -> dict:
    """Run (or resume) the whole reproduction; write results and figures under ``out``.

    Writes ``config.json``, ``clt_flow.json`` (:func:`clt_flow_study`), ``runs.jsonl`` and
    ``drift.jsonl`` (one record per training run, appended so an interrupted run resumes) and
    ``summary.json``.

    Args:
        out: output folder (str or path).
        config: :class:`CLTRGConfig`; None for the defaults.
        progress: show a tqdm bar.

    Returns:
        The summary dict (as written to ``summary.json``): medians over seeds per
        ``model/activation/train_family``.

    Raises:
        ValueError: if ``out`` holds results of a different configuration.
    """
    from tqdm.auto import tqdm

    config = CLTRGConfig() if config is None else config
    out = pathlib.Path(out)
    cfg = json.loads(json.dumps(config._asdict()))
    cfg_path = out / "config.json"
    if cfg_path.exists() and json.loads(cfg_path.read_text()) != cfg:
        raise ValueError(f"{out} holds results of another configuration; choose a fresh --out.")
    _io.atomic_write_json(cfg_path, cfg)
    with jax.enable_x64(True):
        flow_path = out / "clt_flow.json"
        if not flow_path.exists():
            _io.atomic_write_json(flow_path, clt_flow_study(config))
        flow = json.loads(flow_path.read_text())
        runs_path, drift_path = out / "runs.jsonl", out / "drift.jsonl"
        fields = ("model", "activation", "train_family", "seed")
        done_runs = _io.finished_keys(_io.read_jsonl(runs_path), fields)
        done_drift = _io.finished_keys(_io.read_jsonl(drift_path), fields[:3] + ("steps",))
        todo = [
            (runs_path, (m, a, f, s))
            for f in config.train_families
            for a in config.activations
            for m in config.models
            for s in range(config.seeds)
            if (m, a, f, s) not in done_runs
        ]
        todo += [
            (drift_path, ("sym2", "quadratic", "uniform", n))
            for n in config.drift_steps
            if ("sym2", "quadratic", "uniform", n) not in done_drift
        ]
        for path, (m, a, f, s) in tqdm(todo, desc="clt-rg", disable=not progress):
            if path == runs_path:
                _io.append_jsonl(path, _train_run(config, m, a, f, s, flow=s == 0))
            else:  # drift: the talk's quadratic network trained for s steps (seed 0)
                record = _train_run(config, m, a, f, 0, steps=s)
                _io.append_jsonl(path, record | {"steps": s})
    runs, drift = _io.read_jsonl(out / "runs.jsonl"), _io.read_jsonl(out / "drift.jsonl")
    summary = _summarise(config, runs, drift, flow)
    _io.atomic_write_json(out / "summary.json", summary)
    if config.figures:
        _plot_all(out, flow, runs, drift)
    return summary


def report(out, *, figures: bool = True) -> dict:
    """Summarise the records under ``out`` again: rewrite ``summary.json`` (and the figures).

    Trains nothing; reads ``config.json``, ``clt_flow.json``, ``runs.jsonl`` and ``drift.jsonl``
    as :func:`run_clt_rg` wrote them (also from an unfinished run).

    Args:
        out: the results folder of :func:`run_clt_rg` (str or path).
        figures: also redraw the figures (matplotlib).

    Returns:
        The summary dict, as :func:`run_clt_rg` returns it.

    Raises:
        FileNotFoundError: ``out`` holds no run of this study.
    """
    out = pathlib.Path(out)
    if not (out / "config.json").is_file() or not (out / "clt_flow.json").is_file():
        raise FileNotFoundError(f"no CLT-RG results in {out}: run `jaxrg study clt-rg run` first")
    fields = json.loads((out / "config.json").read_text())
    config = CLTRGConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    flow = json.loads((out / "clt_flow.json").read_text())
    runs, drift = _io.read_jsonl(out / "runs.jsonl"), _io.read_jsonl(out / "drift.jsonl")
    summary = _summarise(config, runs, drift, flow)
    _io.atomic_write_json(out / "summary.json", summary)
    if figures:
        _plot_all(out, flow, runs, drift)
    return summary


def _plot_all(out, flow: dict, runs: list[dict], drift: list[dict]) -> list[pathlib.Path]:
    """Write the five figures of the reproduction (matplotlib, Agg) and return their paths."""
    from jaxrg.plots._common import panel_grid, pyplot
    from jaxrg.plots._common import save as save_figure

    plt = pyplot()
    out, paths = pathlib.Path(out), []

    def save(fig, name):
        fig.tight_layout()
        paths.append(save_figure(fig, out / name))

    # 1. The exact CLT flow: densities and cumulant decay by three routes.
    fams, x = flow["families"], np.asarray(flow["plot_grid"])
    fig, axes = panel_grid(len(fams) + 1, panel=(4.0, 3.4))
    for ax, (name, d) in zip(axes, fams.items(), strict=False):
        for n, values in d["densities"].items():
            ax.plot(x, values, label=f"step {n}")
        ax.plot(x, np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi), "k--", lw=1, label="N(0,1)")
        tv = d["tv_to_gaussian"]
        ax.set(xlim=(-4, 4), title=f"{name}: TV to N {tv[0]:.3f} → {tv[-1]:.1e}", xlabel="x")
        ax.legend(fontsize=7)
    ax = axes[-1]
    for i, (name, d) in enumerate(fams.items()):
        c = f"C{i}"
        exact, dens, mc = (
            np.abs(np.asarray(d[k])[:, 3])
            for k in ("exact_cumulants", "density_cumulants", "mc_cumulants")
        )
        ax.semilogy(exact, "-", color=c, label=f"{name}: recursion")
        ax.semilogy(dens, "o", color=c, ms=4, mfc="none")
        ax.semilogy(mc, "x", color=c, ms=5)
    ax.set(xlabel="RG step n", ylabel="|κ4|", title="κ4: line exact, o grid, x Monte Carlo")
    ax.legend(fontsize=7)
    save(fig, "clt_flow.png")

    # 2. The talk's network against the analytic solution manifold.
    talk = [r for r in runs if "talk" in r]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for act, marker in (("linear", "o"), ("quadratic", "x")):
        rs = [r["talk"] for r in talk if r["activation"] == act]
        if not rs:
            continue
        w0 = np.array([t["w0"] for t in rs])
        pred = np.array([1 / (t["w2"] * math.sqrt(2)) - t["w1"] for t in rs])
        b2 = np.array([t["b2"] for t in rs])
        axes[0].plot(pred, w0, marker, label=f"{act} φ", mfc="none")
        axes[1].plot([-2 * t["w2"] * t["b1"] for t in rs], b2, marker, label=f"{act} φ", mfc="none")
    for ax, (xl, yl) in zip(
        axes, (("1/(w2√2) − w1", "learned w0"), ("−2 w2 b1", "learned b2")), strict=True
    ):
        lim = np.array(ax.get_xlim())
        ax.plot(lim, lim, "k-", lw=0.8, label="solution manifold")
        ax.set(xlabel=xl, ylabel=yl)
        ax.legend(fontsize=8)
    axes[0].set_title("talk's network: w0 = 1/(w2√2) − w1")
    axes[1].set_title("b2 = −2 w2 b1")
    save(fig, "linear_manifold.png")

    # 3. Cumulants of the learned flow against the exact recursion (held-out exponential).
    flows = [r for r in runs if "flow" in r]
    if flows:
        train = flows[0]["train_family"]
        acts = sorted({r["activation"] for r in flows})
        fig, axes = plt.subplots(2, len(acts), figsize=(5 * len(acts), 7), squeeze=False)
        for j, act in enumerate(acts):
            for i, order in enumerate((3, 4)):
                ax = axes[i, j]
                for r in flows:
                    if r["activation"] == act and r["train_family"] == train:
                        f = r["flow"]["exponential"]
                        ax.semilogy(
                            np.abs(f["learned"])[:, order - 1], "o-", ms=3, label=r["model"]
                        )
                ax.semilogy(np.abs(f["analytic"])[:, order - 1], "k-", lw=2, label="recursion")
                ax.semilogy(np.abs(f["exact_mc"])[:, order - 1], "k--", lw=1, label="exact map, MC")
                ax.set(
                    xlabel="RG step",
                    ylabel=f"|κ{order}|",
                    title=f"{act} φ, trained on {train}, exponential input",
                )
                ax.legend(fontsize=7)
        save(fig, "learned_flow_cumulants.png")

    # 4. Generalisation: exact test error per held-out family (quadratic activation).
    quad = [r for r in runs if r["activation"] == "quadratic"]
    trains = sorted({r["train_family"] for r in quad})
    if quad:
        models = sorted({r["model"] for r in quad})
        fig, axes = plt.subplots(1, len(trains), figsize=(6 * len(trains), 3.8), squeeze=False)
        for ax, train in zip(axes[0], trains, strict=True):
            for k, m in enumerate(models):
                rs = [r for r in quad if r["model"] == m and r["train_family"] == train]
                if not rs:
                    continue
                mse = np.array([[r["test_mse"][f] for f in FAMILIES] for r in rs])
                med = np.maximum(np.median(mse, 0), 1e-16)
                lo, hi = np.maximum(mse.min(0), 1e-16), np.maximum(mse.max(0), 1e-16)
                pos = np.arange(len(FAMILIES)) + (k - len(models) / 2 + 0.5) * 0.8 / len(models)
                ax.bar(pos, med, 0.8 / len(models), yerr=[med - lo, hi - med], label=m, capsize=2)
            ax.set_yscale("log")
            ax.set_xticks(range(len(FAMILIES)), FAMILIES, rotation=20)
            ax.set(ylabel="test MSE vs (ξ1+ξ2)/√2", title=f"φ = x + αx², trained on {train}")
            ax.legend(fontsize=8)
        save(fig, "generalisation.png")

    # 5. The quadratic talk network only approaches the RG map as |w2| grows.
    if drift:
        d = sorted(drift, key=lambda r: r["steps"])
        steps = [r["steps"] for r in d]
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.loglog(steps, [r["final_loss"] for r in d], "o-", label="training loss")
        ax.loglog(steps, [abs(r["talk"]["w2"]) for r in d], "s-", label="|w2|")
        ax.set(xlabel="training steps", title="talk's network, φ = x + αx², uniform inputs")
        ax.legend()
        save(fig, "drift.png")
    return paths
