"""Tests of jaxrg.studies.entropy_lens.families: text tokens, the mixture, the ablation
scores and the report (synthetic profiles with known answers; the full run is a command)."""

import numpy as np
import pytest

from jaxrg.studies.entropy_lens import tasks as lens_tasks
from jaxrg.studies.entropy_lens.families import (
    ABLATIONS,
    FamiliesConfig,
    TextTokens,
    ablation_scores,
    families_report,
)
from jaxrg.studies.entropy_lens.transformer import COMPONENTS, LLM_FAMILIES, Transformer

TEXT = "To be, or not to be, that is the question:\n" * 40


def test_text_tokens_follow_the_task_vocabulary_and_decode_back():
    tok = TextTokens(TEXT)
    assert tok.vocab_size == lens_tasks.VOCAB_SIZE + len(set(TEXT))
    ids = np.concatenate([tok.train, tok.held_out])
    assert ids.min() >= lens_tasks.VOCAB_SIZE and ids.size == len(TEXT)
    decoded = "".join(tok.chars[i - lens_tasks.VOCAB_SIZE] for i in ids)
    assert decoded == TEXT
    w = tok.windows(np.random.default_rng(0), 5, 12, held_out=True)
    assert w.shape == (5, 12) and np.all(w[:, 0] == lens_tasks.BOS)
    with pytest.raises(ValueError, match="at least 1000"):
        TextTokens("short")


def test_mixture_pads_tasks_and_weights_text_fully():
    config = FamiliesConfig()
    tokens, weight = TextTokens(TEXT).mixture(config)(np.random.default_rng(1), 10)
    assert tokens.shape == weight.shape == (10, config.seq_len)
    task, text = slice(0, 5), slice(5, 10)
    assert np.all(tokens[task, 16:] == lens_tasks.PAD) and np.all(weight[task, 16:] == 0)
    assert np.all(weight[text] == 1) and np.all(tokens[text, 1:] >= lens_tasks.VOCAB_SIZE)


def test_every_ablation_swaps_components_of_the_base_and_builds():
    fields = {f for fs in COMPONENTS.values() for f in fs}
    config = FamiliesConfig()
    for name, swap in ABLATIONS.items():
        assert set(swap) <= fields, name
        cfg = config.config(config.base, 1, 16, 40, **swap)
        assert all(getattr(cfg, k) == v for k, v in swap.items())
        assert any(LLM_FAMILIES[config.base][k] != v for k, v in swap.items()) or name == "seed"
    from flax import nnx

    Transformer(config.config("gemma", 1, 16, 40), rngs=nnx.Rngs(0))


def _synthetic(config, rng):
    """Family f has flat profiles at level f (nats); sizes only add noise."""
    data, meta = {}, {}
    for i, fam in enumerate(config.families):
        for size, layers, _ in config.sizes:
            name = f"{fam}-{size}"
            data[name] = {"bos_profiles": rng.normal(float(i), 0.05, (20, 1, layers, 6))}
            meta[name] = {"family": fam, "size": size}
    return data, meta


def test_ablation_scores_find_a_copy_of_the_base_and_a_shift_to_another_family():
    config = FamiliesConfig(alphas=(1.0,), k_family=5, depth_points=4, windows=2)
    rng = np.random.default_rng(2)
    data, meta = _synthetic(config, rng)
    base = data["llama-m"]["bos_profiles"]
    ablated = {
        "llama-m+seed": {"bos_profiles": base + rng.normal(0, 0.01, base.shape)},
        "llama-m+norm=layernorm": {"bos_profiles": base + 2.0},  # lands on family 3 (qwen)
    }
    rows = {r["variant"]: r for r in ablation_scores(data, meta, ablated, config)}
    assert rows["seed"]["distance"] < 0.02 and rows["seed"]["votes"]["llama"] == 1.0
    assert rows["norm=layernorm"]["distance"] == pytest.approx(2.0, abs=0.01)
    assert rows["norm=layernorm"]["votes"]["qwen"] == 1.0
    assert rows["family=gpt2"]["distance"] == pytest.approx(1.0, abs=0.02)  # levels 0 vs 1
    assert rows["family=gpt2"]["votes"] is None
    summary = {
        "results": [{"analysis": "family", "features": "all", "alpha": 1.0, "model": "all",
                     "f1": 0.9, "f1_std": 0.01, "accuracy": 0.9, "dummy_f1": 0.25,
                     "roc_auc": 0.95, "dummy_accuracy": 0.25, "dummy_roc_auc": 0.5,
                     "p_value": 1e-6}],
        "training": [],
        "ablation": list(rows.values()),
        "published": {"family_f1": "97.99"},
    }
    text = families_report(summary)
    assert "| family | 1.0 | 90.00 ± 1.00 |" in text and "97.99 ± 0.66" in text
    assert "| seed | llama-m+seed |" in text
