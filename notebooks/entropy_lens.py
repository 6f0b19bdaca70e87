# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Entropies from logits, matrix entropies and the Entropy-Lens
#
# `jaxrg.info` computes Shannon, Rényi and Tsallis entropies straight from logits (log domain,
# exact limits at α = 0, 1, ∞, streamed over large vocabularies); `jaxrg.matrix_entropy` applies
# them to spectra (von Neumann, Vendi score, diffusion spectral entropy); `jaxrg.lens` reads a
# transformer's layers through its own unembedding. Run as a script
# (`python notebooks/entropy_lens.py`) or open with jupytext. Figures go to `$JAXRG_FIGURES`
# (default: a temporary folder). Small sizes: this runs in well under a minute.

# %%
import os
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import jaxrg.info as info
from jaxrg.knn import cross_validate_knn
from jaxrg.lens import profile_features
from jaxrg.matrix_entropy import diffusion_spectral_entropy, vendi_score, von_neumann_entropy
from jaxrg.plots import plot_mean_profiles, plot_profile_heatmap
from jaxrg.plots._common import pyplot as _pyplot
from jaxrg.studies.entropy_lens import tasks as lens_tasks
from jaxrg.studies.entropy_lens.experiment import LensConfig, lens_profiles, train_model

figures = pathlib.Path(os.environ.get("JAXRG_FIGURES", tempfile.mkdtemp()))

# %% [markdown]
# ## The Rényi spectrum of one distribution
# $H_\alpha$ falls from $\log|\mathrm{supp}\,p|$ at α = 0 through Shannon at α = 1 to
# $-\log\max p$ at α = ∞. The α = 1 point is reached through a series, so the curve (and its
# derivative, $-\mathrm{Var}_p(\log p)/2$ at α = 1) is smooth there.

# %%
z = jnp.log(jnp.array([0.5, 0.25, 0.125, 0.125, 0.0]))  # one category with probability 0
alphas = jnp.concatenate([jnp.linspace(0.0, 4.0, 81), jnp.array([jnp.inf])])
h = info.renyi_entropy(z, alphas)
print(
    "H_0 = log 4:",
    round(float(h[0]), 6),
    " H_1:",
    round(float(info.shannon_entropy(z)), 6),
    " H_inf = log 2:",
    round(float(h[-1]), 6),
)
print("dH/dα at α = 1:", round(float(jax.grad(lambda a: info.renyi_entropy(z, a))(1.0)), 6))
plt = _pyplot()
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(alphas[:-1], h[:-1], label="$H_\\alpha$")
ax.plot(alphas[:-1], info.tsallis_entropy(z, alphas[:-1]), label="Tsallis $S_q$")
ax.axhline(float(h[-1]), ls=":", c="0.5", label="$H_\\infty$")
ax.set_xlabel("α (or q)")
ax.legend()
fig.tight_layout()
fig.savefig(figures / "renyi_spectrum.png")

# %% [markdown]
# ## A 50 257-word vocabulary, streamed
# Chunked reduction keeps a running max and rescaled sums; the partial statistics merge in any
# order, so the result equals the one-shot reduction, and huge logits cause no overflow.

# %%
big = jnp.asarray(np.random.default_rng(0).normal(scale=8.0, size=(4, 50257)), jnp.float32)
a = jnp.array([0.5, 1.0, 5.0])
full, streamed = info.renyi_entropy(big, a), info.renyi_entropy_chunked(big, a, chunk_size=4096)
print("max |streamed - full| =", float(jnp.max(jnp.abs(full - streamed))))
huge = np.asarray(info.renyi_entropy(big * 1e3, a)[:, 0])  # logits of size ~1e4: one-hot rows
print("logits of size 1e4:", (np.round(huge, 4) + 0.0).tolist())

# %% [markdown]
# ## Matrix entropies
# The Vendi score of samples $[0, 0, 10, 10, 20, 20]$ with $k(a, b) = e^{-|a-b|}$ is about 3
# (three distinct modes); the diffusion spectral entropy of a point cloud grows with the number
# of separated clusters.

# %%
x = jnp.array([0.0, 0.0, 10.0, 10.0, 20.0, 20.0])
print("Vendi:", round(float(vendi_score(jnp.exp(-jnp.abs(x[:, None] - x[None, :])))), 4))
print("von Neumann of I_8 = log 8:", round(float(von_neumann_entropy(jnp.eye(8))), 6))
rng = np.random.default_rng(1)
for k in (1, 2, 4):
    centres = rng.normal(scale=20.0, size=(k, 2))
    cloud = np.concatenate([c + rng.normal(size=(40 // k, 2)) for c in centres])
    print(
        f"{k} cluster(s): DSE =", round(float(diffusion_spectral_entropy(cloud, sigma=2.0, t=3)), 3)
    )

# %% [markdown]
# ## The lens on a tiny transformer
# A two-layer GPT-style model, trained for a few seconds on copying, sorting, counting and modular
# addition (`jaxrg.studies.entropy_lens.tasks`). Each generated token gets one entropy per layer and
# order α. The full study (six models, the authors' k-NN protocols) is
# `jaxrg study entropy-lens run --out results/entropy_lens`.

# %%
config = LensConfig(families=("gpt2",), sizes=(("xs", 2, 32),), steps=300, batch=32)
name, family, size, cfg = config.models()[0]
model, loss = train_model(cfg, config, seed=0, desc=name)
print(f"{name}: final training loss {loss:.3f}")
batch = lens_tasks.sample_batch(np.random.default_rng(2), 120)
seq, prof = lens_profiles(model, batch.tokens[:, : lens_tasks.PROMPT_LEN], 6, (0.5, 1.0, 5.0))
print("profiles (samples, α, layers, tokens):", prof.shape)
print(lens_tasks.decode(seq[0]))

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
plot_profile_heatmap(prof[0, 1], ax=axes[0], title=lens_tasks.decode(seq[0, 1:2]))
by_task = {
    t: prof[batch.task == i, 1, :, : lens_tasks.ANSWER_LEN[t]].mean(-1)
    for i, t in enumerate(lens_tasks.TASKS)
}
plot_mean_profiles(by_task, ax=axes[1])
fig.tight_layout()
fig.savefig(figures / "lens_profiles.png")

# %% [markdown]
# ## Task type from the profile alone
# k-NN on the profile of the first generated token (Shannon), 5-fold stratified cross-validation
# against a stratified dummy classifier (the authors use k = 29 and 10 folds on more samples).

# %%
features = profile_features(prof[:, 1, :, :1])
cv = cross_validate_knn(features, batch.task, k=7, num_folds=5).summary()
print({k: round(v, 3) for k, v in cv.items() if k in ("accuracy", "roc_auc", "dummy_roc_auc")})
