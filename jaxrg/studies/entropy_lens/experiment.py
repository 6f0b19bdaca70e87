r"""Reproduction: Entropy-Lens on small transformers trained here (Ali, Caso, Irwin, Liò 2025).

Entropy-Lens (arXiv:2502.16570) decodes every layer's residual stream through the model's final
norm and unembedding and takes the entropy of each next-token distribution, for every generated
token. The paper reports, for off-the-shelf LLMs, that these *entropy profiles* identify the model
family (F1 near 98 in the talk), the task type (k-NN ROC-AUC about 95–98) and whether an answer is
correct (MMLU, ROC-AUC near 70), with Rényi orders :math:`\alpha \in \{0.5, 1, 5\}` giving similar
results. No weights can be downloaded here, so this module trains its own models and applies the
authors' protocols at this scale:

1. **Models** — three families (:data:`jaxrg.studies.entropy_lens.transformer.FAMILIES`:
   GPT-2-like pre-LN/GELU, LLaMA-like pre-RMSNorm/SwiGLU, post-LN/ReLU) in two sizes each, trained
   with AdamW on a mixture
   of four synthetic tasks (:mod:`jaxrg.studies.entropy_lens.tasks`: copying, sorting, counting,
   modular addition).
2. **Task type** — the same prompts for every model, 6 greedy tokens each, profiles averaged in
   3 windows of 2 tokens (and, as a control, the first generated token alone); k-NN (k = 29,
   Euclidean) under 10-fold stratified CV, accuracy, macro F1 and ROC-AUC against a stratified
   dummy (paired t-test of the fold AUCs).
3. **Correctness** — modular-addition prompts; does the profile (one window) predict whether the
   greedy answer is right? Same k-NN protocol, binary ROC-AUC.
4. **Family and size** — BOS-only prompts, 15 tokens sampled at temperature 0.7, 64 samples per
   model (the authors' protocol, with our context length), depth-normalised profiles (resampled on
   :math:`\ell/L`); k-NN (k = 5) identifies the family (3 classes) and the model (6 classes).
5. **Ablations** — every order :math:`\alpha \in \{0.5, 1, 5\}`, and features restricted to the
   first, middle or last third of normalised depth.

Outputs (under ``out``): ``config.json``, ``training.jsonl``, ``results.jsonl`` (one line per
finished unit; a restarted run skips them), ``summary.json``, ``results.md`` and the figures
``task_profiles.png``, ``family_profiles.png``, ``heatmaps.png``, ``correctness_profiles.png``,
``ablation.png``. Trained weights and profiles are cached in ``out/.cache`` (not results).

Run it with ``jaxrg study entropy-lens run --out results/entropy_lens`` (minutes on two CPU cores).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from jaxrg import _io
from jaxrg.knn import cross_validate_knn
from jaxrg.lens import entropy_profile, profile_features
from jaxrg.studies._common.engine import optimizer_step, warmup_cosine, with_x64
from jaxrg.studies.entropy_lens import tasks as tasks_mod
from jaxrg.studies.entropy_lens.report import report
from jaxrg.studies.entropy_lens.transformer import (
    FAMILIES,
    Transformer,
    TransformerConfig,
    generate,
)

__all__ = [
    "PUBLISHED",
    "THIRDS",
    "LensConfig",
    "analyse",
    "evaluate_model",
    "fit_or_load",
    "lens_profiles",
    "run",
    "task_features",
    "train_model",
]

PUBLISHED = {
    "family_f1": "≈98 (talk, real LLM families)",
    "task_auc": "≈95–98 (task type, k-NN)",
    "correct_auc": "≈70 (MMLU correctness)",
}
THIRDS = {"first": (0.0, 1 / 3), "middle": (1 / 3, 2 / 3), "last": (2 / 3, 1.0)}


@dataclasses.dataclass(frozen=True)
class LensConfig:
    """Settings of the reproduction (defaults: the full run, a few minutes on two cores)."""

    families: tuple[str, ...] = ("gpt2", "llama", "postln")
    sizes: tuple[tuple[str, int, int], ...] = (("s", 3, 32), ("m", 6, 32))  # name, layers, width
    steps: int = 2000
    batch: int = 32
    learning_rate: float = 3e-3
    eval_per_task: int = 200
    arithmetic_prompts: int = 600
    family_samples: int = 64
    family_tokens: int = 15
    temperature: float = 0.7
    alphas: tuple[float, ...] = (0.5, 1.0, 5.0)
    k: int = 29
    k_family: int = 5
    folds: int = 10
    windows: int = 3
    depth_points: int = 9
    seed: int = 0

    @classmethod
    def quick(cls) -> LensConfig:
        """Tiny settings for tests and the notebook (seconds, not meaningful numbers)."""
        return cls(
            families=("gpt2", "postln"),
            sizes=(("s", 2, 16),),
            steps=30,
            batch=16,
            eval_per_task=12,
            arithmetic_prompts=24,
            family_samples=12,
            k=5,
            k_family=3,
            folds=3,
            depth_points=4,
        )

    def models(self) -> list[tuple[str, str, str, TransformerConfig]]:
        """``(name, family, size, config)`` for every model of the grid."""
        out = []
        for family in self.families:
            for size, layers, width in self.sizes:
                cfg = TransformerConfig(
                    vocab_size=tasks_mod.VOCAB_SIZE,
                    max_len=tasks_mod.SEQ_LEN,
                    num_layers=layers,
                    d_model=width,
                    num_heads=4,
                    **FAMILIES[family],
                )
                out.append((f"{family}-{size}", family, size, cfg))
        return out


# ----------------------------------------------------------------------------- training


def _task_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    batch = tasks_mod.sample_batch(rng, n)
    return batch.tokens, batch.weight


@with_x64
def train_model(
    cfg: TransformerConfig, config: LensConfig, seed: int, *, desc: str = "", sample=_task_batch
):
    """AdamW (warm-up + cosine) on the task mixture; returns ``(model, final_loss)``.

    ``sample(rng, n)`` gives ``(tokens, weight)``, both ``(n, S)``: the training batches (default
    the task mixture of :mod:`jaxrg.studies.entropy_lens.tasks`).
    """
    model = Transformer(cfg, rngs=nnx.Rngs(seed))
    graphdef, params = nnx.split(model, nnx.Param)
    steps, warm = config.steps, max(1, config.steps // 20)

    schedule = warmup_cosine(config.learning_rate, steps, floor=0.05, warmup=warm)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=0.01))
    opt_state = tx.init(params)

    def loss_fn(p, tokens, weight):
        logits = nnx.merge(graphdef, p)(tokens[:, :-1])
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:])
        weights = weight[:, 1:].astype(losses.dtype)
        return jnp.sum(losses * weights) / jnp.sum(weights)

    @jax.jit
    def step(p, s, tokens, weight):
        loss, grads = jax.value_and_grad(loss_fn)(p, tokens, weight)
        return *optimizer_step(tx, grads, s, p), loss

    rng = np.random.default_rng(seed)
    losses = []
    for _ in tqdm(range(steps), desc=f"train {desc}", leave=False, mininterval=2.0):
        tokens, weight = sample(rng, config.batch)
        params, opt_state, loss = step(params, opt_state, tokens, weight)
        losses.append(loss)
    nnx.update(model, params)
    return model, float(np.mean([float(x) for x in losses[-50:]]))


# ----------------------------------------------------------------------------- profiles


@jax.jit(static_argnums=(0, 3, 4))
def _profiles(graphdef, state, seq, start, length, alphas):
    """Profiles ``(n, A, L, length)`` of the tokens predicted at ``start .. start + length - 1``."""
    model = nnx.merge(graphdef, state)
    hidden = model.hidden_states(seq)[:, :, start : start + length]  # (L, n, m, d)
    prof = entropy_profile(hidden, model.unembedding, alphas, norm=model.final_norm, chunk_size=8)
    return jnp.transpose(prof, (2, 0, 1, 3))


def lens_profiles(model: Transformer, prompts, num_new: int, alphas, *, key=None, temperature=1.0):
    """Generate ``num_new`` tokens after ``prompts`` and profile every generated token.

    Returns ``(sequences (n, P + num_new), profiles (n, A, L, num_new))``: position ``P - 1 + j``
    predicts generated token ``j``.
    """
    prompts = jnp.asarray(prompts, jnp.int32)
    seq = generate(model, prompts, num_new, key=key, temperature=temperature)
    graphdef, state = nnx.split(model)
    p = prompts.shape[1]
    prof = _profiles(graphdef, state, seq, p - 1, num_new, jnp.asarray(alphas, jnp.float32))
    return np.asarray(seq), np.asarray(prof, dtype=np.float64)


def evaluate_model(
    model: Transformer, config: LensConfig, seed: int, *, family_prompts=None
) -> dict[str, np.ndarray]:
    """Profiles for the three protocols (task prompts, arithmetic prompts, BOS-only samples).

    ``family_prompts``: ``(n, P)`` prompts of the family protocol instead of ``family_samples``
    BOS-only prompts (the profiles keep the key ``bos_profiles``).
    """
    alphas = config.alphas
    rng = np.random.default_rng(10_000)  # the same prompts for every model
    n = config.eval_per_task * len(tasks_mod.TASKS)
    batch = tasks_mod.sample_batch(rng, n)
    prompts = batch.tokens[:, : tasks_mod.PROMPT_LEN]
    seq, prof = lens_profiles(model, prompts, 6, alphas)
    gen = seq[:, tasks_mod.PROMPT_LEN :]
    lengths = np.array([tasks_mod.ANSWER_LEN[t] for t in tasks_mod.TASKS])[batch.task]
    correct = np.array(
        [np.array_equal(g[:m], a[:m]) for g, a, m in zip(gen, batch.answer, lengths, strict=True)]
    )

    arith = tasks_mod.sample_batch(
        np.random.default_rng(20_000), config.arithmetic_prompts, tasks=("add",)
    )
    m = tasks_mod.ANSWER_LEN["add"]
    aseq, aprof = lens_profiles(model, arith.tokens[:, : tasks_mod.PROMPT_LEN], m, alphas)
    acorrect = np.all(aseq[:, tasks_mod.PROMPT_LEN :] == arith.answer[:, :m], axis=1)

    bos = (
        np.full((config.family_samples, 1), tasks_mod.BOS, np.int32)
        if family_prompts is None
        else np.asarray(family_prompts, np.int32)
    )
    _, bprof = lens_profiles(
        model,
        bos,
        config.family_tokens,
        alphas,
        key=jax.random.key(seed + 777),
        temperature=config.temperature,
    )
    return {
        "task_profiles": prof,
        "task": batch.task,
        "task_correct": correct,
        "arith_profiles": aprof,
        "arith_correct": acorrect,
        "bos_profiles": bprof,
    }


# ----------------------------------------------------------------------------- analyses


def task_features(data, a: int, config: LensConfig, *, first_token=False, **kw) -> np.ndarray:
    """Window features of the 6 generated tokens (the authors generate a fixed number of tokens
    whatever the task; a 1-token addition answer is followed by EOS and a continuation).

    ``first_token=True``: the profile of the first generated token only (one window), where every
    task is still answering.
    """
    prof = data["task_profiles"][:, a]
    if first_token:
        return profile_features(prof[..., :1], **kw)
    return profile_features(prof, num_windows=config.windows, **kw)


def _record(path, done, key, fields, fn, *args, **kwargs) -> None:
    """Run ``fn(*args, **kwargs)`` (a cross-validation) unless ``key`` is finished; log it."""
    if key in done:
        return
    cv = fn(*args, **kwargs)
    names = ("analysis", "model", "alpha", "features")
    _io.append_jsonl(path, {**dict(zip(names, key, strict=True)), **fields, **cv.summary()})
    done.add(key)


def analyse(
    data: dict[str, dict],
    meta: dict[str, dict],
    config: LensConfig,
    out: pathlib.Path,
    *,
    groupings: tuple[str, ...] = ("family", "model"),
):
    """Run every k-NN protocol; one JSON line per (analysis, model, alpha, features).

    ``groupings``: the labels of the pooled protocol on the family prompts, each ``"model"`` or
    a key of ``meta`` (``"family"``, ``"size"``).
    """
    path = out / "results.jsonl"
    done = _io.finished_keys(_io.read_jsonl(path), ("analysis", "model", "alpha", "features"))
    cv = dict(num_folds=config.folds, seed=config.seed)
    knn_task = dict(cv, k=config.k)
    names = list(data)
    dp = config.depth_points
    for a, alpha in enumerate(config.alphas):
        for name in names:
            d = data[name]
            feats = task_features(d, a, config)
            _record(
                path,
                done,
                ("task", name, alpha, "all"),
                {},
                cross_validate_knn,
                feats,
                d["task"],
                **knn_task,
            )
            y = d["arith_correct"]
            if min(y.sum(), (~y).sum()) >= config.folds:  # both outcomes in every fold
                feats = profile_features(d["arith_profiles"][:, a])
                _record(
                    path,
                    done,
                    ("correct", name, alpha, "all"),
                    {"base_rate": float(y.mean())},
                    cross_validate_knn,
                    feats,
                    y,
                    **knn_task,
                )
            if alpha == 1.0:
                feats = task_features(d, a, config, first_token=True)
                _record(
                    path,
                    done,
                    ("task", name, alpha, "first-token"),
                    {},
                    cross_validate_knn,
                    feats,
                    d["task"],
                    **knn_task,
                )
                for third, span in THIRDS.items():
                    feats = task_features(d, a, config, depth_points=dp, depth_range=span)
                    _record(
                        path,
                        done,
                        ("task", name, alpha, third),
                        {},
                        cross_validate_knn,
                        feats,
                        d["task"],
                        **knn_task,
                    )
        counts = [len(data[n]["bos_profiles"]) for n in names]
        pooled = {
            g: np.repeat(names if g == "model" else [meta[n][g] for n in names], counts)
            for g in groupings
        }
        for third, span in {"all": None, **THIRDS}.items():
            if third != "all" and alpha != 1.0:
                continue
            # depth-normalised per model first: models of different depth share one feature space
            feats = np.concatenate(
                [
                    profile_features(
                        data[n]["bos_profiles"][:, a],
                        num_windows=config.windows,
                        depth_points=dp,
                        depth_range=span,
                    )
                    for n in names
                ]
            )
            for label, y in pooled.items():
                _record(
                    path,
                    done,
                    (label, "all", alpha, third),
                    {},
                    cross_validate_knn,
                    feats,
                    y,
                    k=config.k_family,
                    **cv,
                )
    return _io.read_jsonl(path)


# ----------------------------------------------------------------------------- driver


def _save_npz(path: pathlib.Path, **arrays) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    _io.publish(tmp, path)


def fit_or_load(
    out: pathlib.Path,
    trained: dict,
    name: str,
    cfg: TransformerConfig,
    config: LensConfig,
    seed: int,
    *,
    extra: dict | None = None,
    sample=_task_batch,
    family_prompts=None,
) -> tuple[dict[str, np.ndarray], dict]:
    """Train and profile model ``name`` unless its profiles are cached; log one training line.

    Returns ``(profiles, training record)``; ``trained`` (model name -> record, from
    ``training.jsonl``) is updated in place. ``extra`` adds fields (family, size) to the record.
    """
    file = out / ".cache" / f"{name}.npz"
    if name not in trained or not file.exists():
        model, loss = train_model(cfg, config, seed, desc=name, sample=sample)
        d = evaluate_model(model, config, seed, family_prompts=family_prompts)
        _save_npz(file, **d)
        acc = {
            t: float(d["task_correct"][d["task"] == j].mean())
            for j, t in enumerate(tasks_mod.TASKS)
        }
        params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
        rec = {
            "model": name,
            **(extra or {}),
            "layers": cfg.num_layers,
            "width": cfg.d_model,
            "params": int(params),
            "final_loss": loss,
            "task_accuracy": acc,
            "add_accuracy": float(d["arith_correct"].mean()),
        }
        if name not in trained:
            _io.append_jsonl(out / "training.jsonl", rec)
        trained[name] = rec
    with np.load(file) as f:
        return {k: f[k] for k in f.files}, trained[name]


@_io.locks_folder("out")
@with_x64
def run(out, config: LensConfig | None = None) -> dict:
    """Train (or load), profile, analyse, and write tables and figures under ``out``."""
    config = config or LensConfig()
    out = pathlib.Path(out)
    cache = out / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    _io.atomic_write_json(out / "config.json", dataclasses.asdict(config))
    trained = {r["model"]: r for r in _io.read_jsonl(out / "training.jsonl")}
    data, meta = {}, {}
    grid = config.models()
    for i, (name, family, size, cfg) in enumerate(tqdm(grid, desc="models")):
        data[name], meta[name] = fit_or_load(
            out, trained, name, cfg, config, config.seed * 100 + i,
            extra={"family": family, "size": size},
        )
    records = analyse(data, meta, config, out)
    summary = {
        "config": dataclasses.asdict(config),
        "training": list(meta.values()),
        "results": records,
        "published": PUBLISHED,
    }
    _io.atomic_write_json(out / "summary.json", summary)
    _io.atomic_write_text(out / "results.md", report(summary))
    from jaxrg.studies.entropy_lens import figures

    answer_lengths = {t: tasks_mod.ANSWER_LEN[t] for t in tasks_mod.TASKS}
    figures.lens_figures(data, meta, config, out, answer_lengths=answer_lengths)
    return summary


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(
        json.dumps(
            run(sys.argv[1] if len(sys.argv) > 1 else "results/entropy_lens")["training"], indent=1
        )
    )
