# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Learning a characteristic scale by gradient descent
#
# A characteristic scale $\tau^*$ is a peak of the specific heat, defined by
# $C'(\tau^*) = 0$. By the implicit function theorem
# $d\tau^*/d\theta = -(\partial_\theta C')/(\partial_\tau C')$ at $\tau^*$, and
# `jaxrg.characteristic_scales` returns exactly this derivative under `jax.grad` (a custom JVP;
# differentiating through the bisection would not). Here we use it to learn the weight $w$ of the
# bridge between two cliques so that the slow scale (heat crossing the bridge) moves to a target.
# Run as a script (`python notebooks/learn_scale.py`) or open with jupytext.

# %%
import os

import jax
import jax.numpy as jnp
import numpy as np

import jaxrg

jax.config.update("jax_enable_x64", True)
small = os.environ.get("JAXRG_NOTEBOOK_SMALL") == "1"
k = 5 if small else 10  # clique size

# %% [markdown]
# ## The graph and its two scales
# Two $K_k$ joined by one edge of weight $w$: diffusion equilibrates inside each clique (a peak
# near $2.4/k$), then across the bridge (a peak near $2.4/\lambda_2$, and $\lambda_2 \propto w$
# for a weak bridge).

# %%


def adjacency(w):
    a = jnp.zeros((2 * k, 2 * k))
    clique = 1 - jnp.eye(k)
    a = a.at[:k, :k].set(clique).at[k:, k:].set(clique)
    return a.at[k - 1, k].set(w).at[k, k - 1].set(w)


@jax.jit
def slow_scale(log_w):
    """The largest characteristic scale of the bridged cliques, as a function of log w."""
    ev = jaxrg.laplacian_spectrum(adjacency(jnp.exp(log_w)))
    scales = jaxrg.characteristic_scales(ev, sort_by="tau")
    return jnp.max(jnp.where(scales.valid, scales.taus, 0.0))


w_true = 0.3
target = slow_scale(jnp.log(w_true))  # a scale we know is reachable: the answer is w = 0.3
print(f"target slow scale τ* = {float(target):.6f} (reached at w = {w_true})")

# %% [markdown]
# ## The derivative is the implicit-function one
# Check `jax.grad` against central finite differences of the forward values.

# %%
log_w0 = jnp.log(1.5)
grad = jax.grad(slow_scale)(log_w0)
h = 1e-4
fd = (slow_scale(log_w0 + h) - slow_scale(log_w0 - h)) / (2 * h)
print(f"dτ*/dlog w: grad {float(grad):.10f}, finite differences {float(fd):.10f}")
assert abs(grad / fd - 1) < 1e-6

# %% [markdown]
# ## Gradient descent on log w
# Loss $(\log\tau^*(w) - \log\tau_{\rm target})^2$; the parameter is $\log w$ (weights stay
# positive).

# %%


@jax.jit
def step(log_w, lr=0.4):
    loss, g = jax.value_and_grad(lambda p: (jnp.log(slow_scale(p)) - jnp.log(target)) ** 2)(log_w)
    return log_w - lr * g, loss


log_w = log_w0
for i in range(25):
    log_w, loss = step(log_w)
    if i % 5 == 0:
        print(f"step {i:2d}: w = {float(jnp.exp(log_w)):.6f}, loss = {float(loss):.3e}")
w_learned = float(jnp.exp(log_w))
print(f"learned w = {w_learned:.8f} (true {w_true}); τ* = {float(slow_scale(log_w)):.6f}")
assert abs(w_learned / w_true - 1) < 1e-6

# %% [markdown]
# ## Feature-aware scales are differentiable too
# With node features $X$, `jaxrg.feature_characteristic_scales` finds the peaks of
# $C_X(\tau) = \tau^2\mathrm{Var}_{p(\tau)}(\lambda)/\log N$ with
# $p_i \propto \|u_i^\top X\|^2 e^{-\tau\lambda_i}$, and `jax.grad` gives
# $d\tau^*_X/dX$ by the same implicit-function rule.

# %%
rng = np.random.default_rng(0)
x = jnp.asarray(rng.normal(size=(2 * k, 3)))


@jax.jit
def feature_scale(x):
    spec = jaxrg.feature_spectrum(adjacency(w_true), x)
    return jaxrg.feature_characteristic_scales(spec, sort_by="tau").taus[0]


direction = jnp.asarray(rng.normal(size=x.shape))
g = jnp.sum(jax.grad(feature_scale)(x) * direction)
fd = (feature_scale(x + h * direction) - feature_scale(x - h * direction)) / (2 * h)
print(f"τ*_X = {float(feature_scale(x)):.6f}")
print(f"directional derivative {float(g):.8f} vs finite differences {float(fd):.8f}")
assert abs(g / fd - 1) < 1e-5
