# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Cumulants, the central limit theorem as an RG flow, and networks that learn it
#
# A walk through `jaxrg.cumulants`, `jaxrg.clt` and `jaxrg.studies.clt_rg.rg_network`, after
# Ashworth, Liò & Caso, *Symmetry and generalisation in neural approximations of
# renormalisation transformations* (arXiv:2510.16591):
#
# 1. cumulant algebra: moments ↔ cumulants, k-statistics, the generating function by `jacfwd`;
# 2. propagating cumulants through a layer: exact for affine maps, Taylor vs Monte Carlo for
#    activations;
# 3. the CLT step $X' = (X_1 + X_2)/\sqrt2$ on densities, cumulants and samples;
# 4. small networks trained to do one RG step: the solution manifold of the linear network,
#    the inconsistency of the quadratic one, and generalisation with and without symmetry.
#
# Run as a script (`python notebooks/cumulants_clt.py`, well under a minute) or open with
# jupytext. Figures go to `$JAXRG_FIGURES` (default: a temporary folder);
# `JAXRG_NOTEBOOK_SMALL=1` shrinks every size for the tests.

# %%
import math
import os
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import clt
from jaxrg.cumulants import (
    activation_cumulants_mc,
    activation_cumulants_taylor,
    affine_cumulants,
    cgf_cumulants,
    cumulant_tensors,
    k_statistics,
    moments_to_cumulants,
    sample_cumulants,
)
from jaxrg.plots._common import pyplot, save
from jaxrg.studies.clt_rg.experiment import learned_flow_cumulants, make_model, train_rg_network
from jaxrg.studies.clt_rg.rg_network import (
    exact_map_error,
    solution_manifold_residuals,
    talk_parameters,
)

jax.config.update("jax_enable_x64", True)
plt = pyplot()
figures = pathlib.Path(os.environ.get("JAXRG_FIGURES", tempfile.mkdtemp()))
SMALL = os.environ.get("JAXRG_NOTEBOOK_SMALL") == "1"
N_SAMPLES = 2**12 if SMALL else 2**16
TRAIN_STEPS = 400 if SMALL else 2000
SEEDS = 2 if SMALL else 4

# %% [markdown]
# ## 1. Cumulant algebra
# The exponential(1) law has raw moments $m_n = n!$ and cumulants $\kappa_n = (n-1)!$; the
# recursion $\kappa_n = m_n - \sum_{k<n}\binom{n-1}{k-1}\kappa_k m_{n-k}$ finds them.

# %%
m = jnp.asarray([math.factorial(n) for n in range(1, 9)], jnp.float64)
print("kappa_n of exponential(1):", np.asarray(moments_to_cumulants(m)).round(10))

# %% [markdown]
# On a finite sample, the plug-in cumulants (cumulants of the empirical law) equal the derivatives
# of the sample CGF $W(j) = \log\frac1n\sum_i e^{jy_i}$ at 0 (`jax.jacfwd`); the k-statistics are
# the unbiased estimators. Averaged over many samples of size 8, only the k-statistics hit
# $\kappa = (1, 1, 2, 6)$.

# %%
y = jax.random.exponential(jax.random.key(0), (200,), jnp.float64)
print("plug-in :", np.asarray(sample_cumulants(y, 4)).round(6))
print("CGF/jacfwd:", np.asarray(cgf_cumulants(y, 4)).round(6))
small = jax.random.exponential(jax.random.key(1), (N_SAMPLES, 8), jnp.float64)
k_mean = jnp.mean(jax.vmap(lambda s: k_statistics(s, 4))(small), 0)
plug_mean = jnp.mean(jax.vmap(lambda s: sample_cumulants(s, 4))(small), 0)
print("mean k-statistics   :", np.asarray(k_mean).round(3))
print("mean plug-in (n = 8):", np.asarray(plug_mean).round(3))

# %% [markdown]
# ## 2. Cumulants through a layer
# For $z = Wy + b$ every cumulant tensor is contracted with $W$ on each index: exact, also for the
# empirical law of a sample.

# %%
ys = jax.random.laplace(jax.random.key(2), (500, 3), jnp.float64)
w = jnp.asarray([[1.0, -1.0, 0.5], [0.2, 0.3, 1.0]])
b = jnp.asarray([1.0, -2.0])
pred = affine_cumulants(cumulant_tensors(ys, 4), w, b)
direct = cumulant_tensors(ys @ w.T + b[None, :], 4)
print(
    "max |affine - direct| per order:",
    [float(jnp.max(jnp.abs(p - d))) for p, d in zip(pred, direct, strict=True)],
)

# %% [markdown]
# An activation mixes orders. The delta method (Taylor polynomial of degree K about the mean)
# is exact for polynomials and good for narrow inputs; for wide inputs it drifts from Monte Carlo.

# %%
h = jax.random.normal(jax.random.key(3), (N_SAMPLES * 4,), jnp.float64)
sigmas = np.linspace(0.05, 2.0, 12)
taylor_k2, mc_k2 = [], []
for s in sigmas:
    kin = jnp.asarray([0.3, s**2] + [0.0] * 10, jnp.float64)
    taylor_k2.append(float(activation_cumulants_taylor(jnp.tanh, kin, order=2, taylor_order=5)[1]))
    mc_k2.append(float(activation_cumulants_mc(jnp.tanh, 0.3 + s * h, order=2)[1]))
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(sigmas, taylor_k2, "o-", label="Taylor, K = 5")
ax.plot(sigmas, mc_k2, "s--", label="Monte Carlo")
ax.set(xlabel="input sd σ", ylabel="Var tanh(h)", title="h ~ N(0.3, σ²)")
ax.legend()
print("figure:", save(fig, figures / "activation_taylor_vs_mc.png"))

# %% [markdown]
# ## 3. The CLT as an RG flow
# One step on a grid density: exact FFT self-convolution, rescaling by √2 and a moment-matching
# correction; the cumulants follow $\kappa_r \to 2^{1-r/2}\kappa_r$ and the flow reaches the
# Gaussian fixed point.

# %%
grid = jnp.linspace(-30.0, 30.0, 1024 if SMALL else 2048)
steps = 6
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
for ax, name in zip(axes[:2], ("uniform", "exponential"), strict=True):
    path = clt.clt_flow(clt.family_density(name, grid), grid, steps=steps)
    for n in (0, 1, 2, steps):
        ax.plot(grid, path[n], label=f"step {n}")
    ax.set(xlim=(-4, 4), title=name)
    ax.legend(fontsize=8)
    grid_k4 = [float(clt.density_cumulants(p, grid, 4)[3]) for p in path]
    exact_k4 = clt.clt_cumulant_flow(clt.family_cumulants(name, 4), steps=steps)[:, 3]
    axes[2].semilogy(np.abs(grid_k4), "o", label=f"{name}: grid")
    axes[2].semilogy(np.abs(exact_k4), "-", label=f"{name}: recursion")
    print(
        name,
        "TV to N(0,1) per step:",
        [round(float(clt.distance_to_gaussian(p, grid)), 4) for p in path],
    )
axes[2].set(xlabel="RG step", ylabel="|κ4|", title="κ4 halves each step")
axes[2].legend(fontsize=8)
print("figure:", save(fig, figures / "clt_flow.png"))

# %% [markdown]
# ## 4. Networks that learn one RG step
# The talk's constrained network $y = w_2(\phi(w_1x_1 + w_0x_2 + b_1) + \phi(w_0x_1 + w_1x_2 +
# b_1)) + b_2$ is symmetric under $x_1 \leftrightarrow x_2$ by construction. With linear
# $\phi$ every seed lands on a different point of the solution manifold $w_0 = 1/(w_2\sqrt2) - w_1$,
# $b_2 = -2w_2b_1$.

# %%
for seed in range(SEEDS):
    net, losses = train_rg_network(
        make_model("sym2", alpha=0.0, seed=seed),
        family="uniform",
        key=jax.random.key(seed),
        steps=TRAIN_STEPS,
    )
    p = talk_parameters(net)
    res = solution_manifold_residuals(p)
    print(
        f"seed {seed}: w0={float(p.w0):+.4f} w1={float(p.w1):+.4f} w2={float(p.w2):+.4f} "
        f"b1={float(p.b1):+.4f} b2={float(p.b2):+.4f}  residuals "
        f"{float(res[0]):+.1e} {float(res[1]):+.1e}"
    )
manifold_residual = float(jnp.max(jnp.abs(jnp.stack(res))))

# %% [markdown]
# With $\phi(h) = h + \alpha h^2$ the talk's network cannot match the recursion for all inputs:
# the output mean picks up $2\alpha w_2(w_0^2 + w_1^2)\kappa_2$. It fits what it is trained on
# (exactly so on ±1 spins, where $\xi^2 = 1$ hides the square) and fails elsewhere; an
# unconstrained network can cancel the squares and may find the exact map.

# %%
families = ("gaussian", "uniform", "exponential", "laplace", "spins")
moments = {f: clt.family_moments(f, 4) for f in families}
results = {}
for model_name in ("sym2", "free4"):
    for train in ("uniform", "spins"):
        net, _ = train_rg_network(
            make_model(model_name, alpha=0.5, seed=0),
            family=train,
            key=jax.random.key(0),
            steps=TRAIN_STEPS,
        )
        results[model_name, train] = net
        mse = {f: float(exact_map_error(net, moments[f])) for f in families}
        print(
            f"{model_name} trained on {train:8s}: test MSE", {f: f"{v:.1e}" for f, v in mse.items()}
        )

# %% [markdown]
# Iterating the learned map: cumulants of an exponential input over several RG steps, against
# the exact recursion (common random numbers for the exact map).

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for (model_name, train), net in results.items():
    if train != "uniform":
        continue
    flow = learned_flow_cumulants(
        net, "exponential", jax.random.key(9), rg_steps=4, samples=N_SAMPLES * 4
    )
    for ax, r in zip(axes, (3, 4), strict=True):
        ax.semilogy(np.abs(flow["learned"][:, r - 1]), "o-", label=f"{model_name} (quadratic)")
for ax, r in zip(axes, (3, 4), strict=True):
    ax.semilogy(np.abs(flow["analytic"][:, r - 1]), "k-", lw=2, label="recursion")
    ax.set(xlabel="RG step", ylabel=f"|κ{r}|", title="exponential input, trained on uniform")
    ax.legend(fontsize=8)
print("figure:", save(fig, figures / "learned_flow.png"))
plt.close("all")
