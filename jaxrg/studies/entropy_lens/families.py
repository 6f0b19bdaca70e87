r"""Entropy-Lens at the paper's design: 12 models in 4 families × 3 sizes, and a component ablation.

Ali et al. (arXiv:2502.16570) classify 12 pretrained LLMs — GPT, LLaMA, Gemma and Qwen families
at three sizes each — from their entropy profiles (k-NN, 10-fold): family macro-F1 97.99 ± 0.66,
size macro-F1 96.31 ± 0.87. No weights can be fetched here, so this study trains 12 small models
whose families differ the way the real ones do
(:data:`jaxrg.studies.entropy_lens.transformer.LLM_FAMILIES`: learned positions/LayerNorm/GELU for
GPT-2; RoPE/RMSNorm/SwiGLU for LLaMA; GeGLU and tied,
:math:`\sqrt d`-scaled embeddings for Gemma; Q/K/V biases for Qwen) at three sizes with one fixed
budget (steps × batch) for every model, then:

1. **Data** — a 50/50 mixture of character-level tiny-shakespeare windows (text tokens after the
   task vocabulary) and the four synthetic tasks of :mod:`jaxrg.studies.entropy_lens.tasks`, so the
   task-type and correctness protocols of :mod:`jaxrg.studies.entropy_lens.experiment` run
   unchanged.
2. **Family, size and model identity** — the same held-out text prompts for every model
   (``BOS`` + 15 characters), 16 characters sampled at temperature 0.7, depth-normalised profiles
   in 3 token windows; k-NN with the paper's ``k = 29``, 10-fold stratified CV, macro-F1.
3. **Task type and correctness** — as in the first study, per model.
4. **Ablation** (the paper's future work: which parts of the architecture shape the profile) —
   the ``base`` family at the middle size with one component swapped at a time (normalisation,
   positions, MLP gate, Q/K/V bias, embedding tying+scaling) and a seed-only control; for each,
   the RMS distance between its mean profile and the base's, and the family that the classifier
   trained on the 12 models assigns to its samples.

Outputs under ``out`` (resumable; a restarted run skips finished models and analyses):
``config.json``, ``training.jsonl``, ``results.jsonl``, ``ablation.jsonl``, ``summary.json``,
``results.md``, ``family_profiles.png``, ``ablation.png``; per-model profiles in ``out/.cache``.

Run it with ``jaxrg study entropy-lens families --out results/entropy_lens_v2``.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import numpy as np
from tqdm.auto import tqdm

from jaxrg import _io
from jaxrg.knn import knn_predict_proba
from jaxrg.lens import profile_features
from jaxrg.studies._common.engine import with_x64
from jaxrg.studies.entropy_lens import tasks as tasks_mod
from jaxrg.studies.entropy_lens.experiment import LensConfig, analyse, fit_or_load
from jaxrg.studies.entropy_lens.report import report
from jaxrg.studies.entropy_lens.transformer import LLM_FAMILIES, TransformerConfig

__all__ = [
    "ABLATIONS",
    "PUBLISHED",
    "FamiliesConfig",
    "TextTokens",
    "ablation_scores",
    "families_report",
    "run",
]

PUBLISHED = {
    "family_f1": "97.99 ± 0.66 (12 LLMs, 4 families)",
    "size_f1": "96.31 ± 0.87 (3 sizes)",
    "task_auc": "94.8–98.4 (task type, k-NN)",
    "correct_auc": "67–74 (MMLU correctness)",
}

#: One-at-a-time swaps of the ablation: name -> config fields set on the base family.
ABLATIONS = {
    "norm=layernorm": dict(norm="layernorm"),
    "positions=learned": dict(positions="learned"),
    "mlp=gelu": dict(activation="gelu"),
    "mlp=geglu": dict(activation="geglu"),
    "qkv_bias=on": dict(qkv_bias=True),
    "embeddings=tied+scaled": dict(tie_embeddings=True, scale_embeddings=True),
    "seed": {},
}


@dataclasses.dataclass(frozen=True)
class FamiliesConfig(LensConfig):
    """Settings of the 12-model study (defaults: the full run); inherits the task protocols.

    ``sizes`` are ``(name, layers, width)``; every model trains ``steps`` × ``batch`` sequences
    of ``seq_len`` tokens, a ``text_fraction`` of them text. ``family_samples`` text prompts of
    ``prompt_chars`` characters, ``family_tokens`` sampled characters each.
    """

    families: tuple[str, ...] = ("gpt2", "llama", "gemma", "qwen")
    sizes: tuple[tuple[str, int, int], ...] = (("s", 2, 32), ("m", 3, 48), ("l", 4, 64))
    steps: int = 600
    batch: int = 32
    seq_len: int = 32
    text_fraction: float = 0.5
    eval_per_task: int = 100
    arithmetic_prompts: int = 400
    family_samples: int = 96
    family_tokens: int = 16
    prompt_chars: int = 15
    k_family: int = 29
    base: str = "llama"
    base_size: str = "m"
    ablations: tuple[str, ...] = tuple(ABLATIONS)

    @classmethod
    def quick(cls) -> FamiliesConfig:
        """Tiny settings for tests (seconds, not meaningful numbers)."""
        return cls(
            sizes=(("s", 1, 16), ("m", 2, 16)),
            steps=6,
            batch=8,
            eval_per_task=12,
            arithmetic_prompts=24,
            family_samples=12,
            alphas=(1.0,),
            k=5,
            k_family=3,
            folds=3,
            depth_points=3,
            ablations=("norm=layernorm", "seed"),
        )

    def config(self, family: str, layers: int, width: int, vocab_size: int, **swap):
        """The :class:`TransformerConfig` of one model (``swap`` overrides components)."""
        recipe = {**LLM_FAMILIES[family], **swap}
        return TransformerConfig(
            vocab_size=vocab_size,
            max_len=self.seq_len,
            num_layers=layers,
            d_model=width,
            num_heads=4,
            **recipe,
        )


class TextTokens:
    """Character tokens of a corpus placed after the task vocabulary (ids ``18 + index``).

    Args:
        text: the corpus; the first 90 % trains, the last 10 % gives the held-out prompts.
    """

    def __init__(self, text: str):
        if len(text) < 1000:
            raise ValueError(f"text must hold at least 1000 characters; got {len(text)}.")
        chars = sorted(set(text))
        lookup = np.zeros(max(map(ord, chars)) + 1, np.int32)
        lookup[[ord(c) for c in chars]] = np.arange(len(chars)) + tasks_mod.VOCAB_SIZE
        ids = lookup[np.frombuffer(text.encode("utf-32-le"), np.uint32)]
        cut = int(0.9 * ids.size)
        self.chars = chars
        self.train, self.held_out = ids[:cut], ids[cut:]
        self.vocab_size = tasks_mod.VOCAB_SIZE + len(chars)

    def windows(self, rng: np.random.Generator, n: int, length: int, *, held_out=False):
        """``(n, length)`` token ids: ``BOS`` and ``length - 1`` consecutive characters."""
        ids = self.held_out if held_out else self.train
        starts = rng.integers(0, ids.size - length, n)
        chars = ids[starts[:, None] + np.arange(length - 1)[None, :]]
        return np.concatenate([np.full((n, 1), tasks_mod.BOS, np.int32), chars], axis=1)

    def mixture(self, config: FamiliesConfig):
        """``sample(rng, n) -> (tokens, weight)``: text windows and task sequences, padded."""

        def sample(rng, n):
            n_text = int(round(n * config.text_fraction))
            batch = tasks_mod.sample_batch(rng, n - n_text)
            pad = config.seq_len - batch.tokens.shape[1]
            tokens = np.pad(batch.tokens, ((0, 0), (0, pad)), constant_values=tasks_mod.PAD)
            weight = np.pad(batch.weight, ((0, 0), (0, pad)))
            text = self.windows(rng, n_text, config.seq_len)
            return (
                np.concatenate([tokens, text]).astype(np.int32),
                np.concatenate([weight, np.ones(text.shape, weight.dtype)]),
            )

        return sample


def _alpha_index(config: FamiliesConfig) -> int:
    return list(config.alphas).index(1.0) if 1.0 in config.alphas else 0


def _features(d: dict, config: FamiliesConfig) -> np.ndarray:
    return profile_features(
        d["bos_profiles"][:, _alpha_index(config)],
        num_windows=config.windows,
        depth_points=config.depth_points,
    )


def ablation_scores(data, meta, ablated, config: FamiliesConfig) -> list[dict]:
    """Distance of each ablated model's mean profile from the base's, and its family votes.

    Distance: RMS over the feature entries of the difference of mean (depth-normalised,
    windowed, α = 1) profiles, in nats. Votes: the share of the model's samples that the k-NN
    family classifier (``k_family``), trained on every sample of the grid, assigns to each family.
    """
    names = list(data)
    feats = {n: _features(data[n], config) for n in names}
    x = np.concatenate([feats[n] for n in names])
    families = list(config.families)
    y = np.repeat([families.index(meta[n]["family"]) for n in names],
                  [len(feats[n]) for n in names])
    base_name = f"{config.base}-{config.base_size}"
    base_mean = feats[base_name].mean(0)

    def rms(a):
        return float(np.sqrt(np.mean((a - base_mean) ** 2)))

    rows = []
    for name, d in ablated.items():
        f = _features(d, config)
        proba = knn_predict_proba(x, y, f, k=min(config.k_family, len(x)),
                                  num_classes=len(families))
        votes = np.bincount(np.argmax(proba, 1), minlength=len(families)) / len(f)
        rows.append({
            "variant": name.split("+", 1)[1],
            "model": name,
            "distance": rms(f.mean(0)),
            "votes": dict(zip(families, votes.tolist(), strict=True)),
        })
    for fam in families:  # the scale: distances between families at the base size
        other = f"{fam}-{config.base_size}"
        if other != base_name and other in feats:
            rows.append({"variant": f"family={fam}", "model": other,
                         "distance": rms(feats[other].mean(0)), "votes": None})
    return rows


def families_report(summary: dict) -> str:
    """Markdown: headline cells beside the published ones, the first study's tables, ablation."""
    res = summary["results"]

    def pooled(label):
        return [r for r in res if r["analysis"] == label and r["features"] == "all"]

    lines = ["# Entropy-Lens at the paper's design (12 models, 4 families × 3 sizes)", "",
             "| cell | α | here: macro-F1 (± fold std) | accuracy | dummy F1 | published |",
             "|---|---|---|---|---|---|"]
    pub = {"family": PUBLISHED["family_f1"], "size": PUBLISHED["size_f1"], "model": "—"}
    for label in ("family", "size", "model"):
        for r in pooled(label):
            lines.append(
                f"| {label} | {r['alpha']} | {100 * r['f1']:.2f} ± {100 * r['f1_std']:.2f} | "
                f"{r['accuracy']:.3f} | {100 * r['dummy_f1']:.2f} | {pub[label]} |"
            )
    task = [r["roc_auc"] for r in res if r["analysis"] == "task" and r["features"] == "all"
            and r["alpha"] == 1.0]
    corr = [r["roc_auc"] for r in res if r["analysis"] == "correct" and r["alpha"] == 1.0]
    if task:
        lines.append(f"| task type ROC-AUC, per model (range) | 1.0 | {min(task):.3f}–"
                     f"{max(task):.3f} | | | {PUBLISHED['task_auc']} |")
    if corr:
        lines.append(f"| correctness ROC-AUC, per model (range) | 1.0 | {min(corr):.3f}–"
                     f"{max(corr):.3f} ({len(corr)} models) | | | {PUBLISHED['correct_auc']} |")
    lines += ["", "## Ablation: one component of the base swapped at a time", "",
              "| variant | model | RMS distance of mean profile from base (nats) | family votes |",
              "|---|---|---|---|"]
    for r in summary["ablation"]:
        votes = ("—" if r["votes"] is None else
                 ", ".join(f"{k} {v:.2f}" for k, v in r["votes"].items()))
        lines.append(f"| {r['variant']} | {r['model']} | {r['distance']:.4f} | {votes} |")
    body = report(summary).split("\n", 2)[2]  # the first study's tables, without its title
    return "\n".join(lines) + "\n\n" + body


@with_x64
def run(out, config: FamiliesConfig | None = None, *, data_dir=None) -> dict:
    """Train (or load) the 12 models and the ablation, analyse, write tables and figures."""
    from jaxrg.datasets.text import load_text

    config = config or FamiliesConfig()
    out = pathlib.Path(out)
    (out / ".cache").mkdir(parents=True, exist_ok=True)
    _io.atomic_write_json(out / "config.json", dataclasses.asdict(config))
    text = TextTokens(load_text(data_dir))
    sample = text.mixture(config)
    prompts = text.windows(np.random.default_rng(30_000), config.family_samples,
                           config.prompt_chars + 1, held_out=True)
    trained = {r["model"]: r for r in _io.read_jsonl(out / "training.jsonl")}
    common = dict(sample=sample, family_prompts=prompts)
    data, meta = {}, {}
    grid = [(f, s, layers, width) for f in config.families for s, layers, width in config.sizes]
    for i, (family, size, layers, width) in enumerate(tqdm(grid, desc="models")):
        name = f"{family}-{size}"
        cfg = config.config(family, layers, width, text.vocab_size)
        data[name], meta[name] = fit_or_load(out, trained, name, cfg, config,
                                             config.seed * 100 + i,
                                             extra={"family": family, "size": size}, **common)
    base_index = [f"{f}-{s}" for f, s, *_ in grid].index(f"{config.base}-{config.base_size}")
    layers, width = {s: (lay, w) for s, lay, w in config.sizes}[config.base_size]
    ablated = {}
    for variant in tqdm(config.ablations, desc="ablation"):
        name = f"{config.base}-{config.base_size}+{variant}"
        seed = config.seed * 100 + base_index + (1000 if variant == "seed" else 0)
        cfg = config.config(config.base, layers, width, text.vocab_size, **ABLATIONS[variant])
        ablated[name], _ = fit_or_load(out, trained, name, cfg, config, seed,
                                       extra={"family": config.base, "size": config.base_size,
                                              "ablation": variant}, **common)
    records = analyse(data, meta, config, out, groupings=("family", "size", "model"))
    ablation = ablation_scores(data, meta, ablated, config)
    # recomputed from the cached profiles on every run (deterministic), so rewritten whole
    _io.atomic_write_text(out / "ablation.jsonl", "".join(json.dumps(r) + "\n" for r in ablation))
    summary = {"config": dataclasses.asdict(config), "training": list(trained.values()),
               "results": records, "ablation": ablation, "published": PUBLISHED,
               "family_prompts": "held-out text prompts"}
    _io.atomic_write_json(out / "summary.json", summary)
    _io.atomic_write_text(out / "results.md", families_report(summary))
    from jaxrg.studies.entropy_lens import figures

    figures.families_figures(
        data, meta, ablated, ablation, config, out,
        answer_lengths={t: tasks_mod.ANSWER_LEN[t] for t in tasks_mod.TASKS})
    return summary
