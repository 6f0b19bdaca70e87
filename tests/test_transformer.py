"""Tests of jaxrg.models.transformer: shapes, causality, lens decomposition, generation, fitting."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from tolerances import tol

from jaxrg.models.transformer import FAMILIES, Transformer, TransformerConfig, generate

SMALL = dict(vocab_size=11, max_len=8, num_layers=2, d_model=16, num_heads=2)


@nnx.jit
def _forward(model, tokens):
    return model(tokens), model.hidden_states(tokens)


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def model(request):
    return Transformer(TransformerConfig(**SMALL, **FAMILIES[request.param]), rngs=nnx.Rngs(0))


def test_output_is_final_norm_and_unembedding_of_the_last_hidden_state(model):
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 11, (3, 8)))
    logits, hidden = _forward(model, tokens)
    assert logits.shape == (3, 8, 11) and hidden.shape == (2, 3, 8, 16)
    lens = nnx.jit(lambda m, h: m.unembed(m.final_norm(h)))(model, hidden[-1])
    np.testing.assert_allclose(logits, lens, **tol(np.float32))
    np.testing.assert_allclose(
        nnx.jit(lambda m, h: h @ m.unembedding)(model, hidden[0]),
        nnx.jit(lambda m, h: m.unembed(h))(model, hidden[0]),
        **tol(np.float32),
    )


def test_attention_is_causal(model):
    tokens = jnp.asarray(np.random.default_rng(1).integers(0, 11, (2, 8)))
    changed = tokens.at[:, 5].set((tokens[:, 5] + 1) % 11)
    a, ha = _forward(model, tokens)
    b, hb = _forward(model, changed)
    np.testing.assert_array_equal(a[:, :5], b[:, :5])
    np.testing.assert_array_equal(ha[:, :, :5], hb[:, :, :5])
    assert not np.allclose(a[:, 5:], b[:, 5:])


def test_greedy_generation_matches_a_step_by_step_argmax():
    model = Transformer(TransformerConfig(**SMALL), rngs=nnx.Rngs(5))
    prompt = jnp.array([[1, 2, 3], [4, 5, 6]])
    out = generate(model, prompt, 4)
    seq = np.zeros((2, 8), np.int32)  # fixed length: one compilation (the model is causal)
    seq[:, :3] = prompt
    for i in range(3, 7):  # the oracle: run the model on the prefix, append the argmax
        logits, _ = _forward(model, jnp.asarray(seq))
        seq[:, i] = np.argmax(logits[:, i - 1], -1)
    np.testing.assert_array_equal(out, seq[:, :7])
    sampled = generate(model, prompt, 4, key=jax.random.key(0), temperature=0.7)
    assert sampled.shape == (2, 7) and np.all(
        (np.asarray(sampled) >= 0) & (np.asarray(sampled) < 11)
    )


def test_families_differ_in_norm_placement_and_activation():
    counts = {}
    for name, recipe in FAMILIES.items():
        m = Transformer(TransformerConfig(**SMALL, **recipe), rngs=nnx.Rngs(0))
        counts[name] = sum(x.size for x in jax.tree.leaves(nnx.state(m, nnx.Param)))
    d, h, blocks = 16, 64, 2
    base = 11 * d + 8 * d + d * 11 + blocks * (3 * d * d + 3 * d + d * d + d)  # embeds, head, attn
    ln, rms = 2 * d, d
    plain_mlp, glu_mlp = d * h + h + h * d + d, d * 2 * h + 2 * h + h * d + d
    assert counts["gpt2"] == base + blocks * (plain_mlp + 2 * ln) + ln
    assert counts["postln"] == counts["gpt2"]
    assert counts["llama"] == base + blocks * (glu_mlp + 2 * rms) + rms


def test_training_overfits_a_fixed_batch():
    cfg = TransformerConfig(**SMALL)
    model = Transformer(cfg, rngs=nnx.Rngs(3))
    graphdef, params = nnx.split(model, nnx.Param)
    tokens = jnp.asarray(np.random.default_rng(2).integers(0, 11, (4, 8)))
    tx = optax.adam(1e-2)
    state = tx.init(params)

    def loss_fn(p):
        logits = nnx.merge(graphdef, p)(tokens[:, :-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

    @jax.jit
    def step(p, s):
        loss, g = jax.value_and_grad(loss_fn)(p)
        with jax.numpy_dtype_promotion("standard"):  # optax's bias correction: float ** int
            u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    losses = []
    for _ in range(60):
        params, state, loss = step(params, state)
        losses.append(float(loss))
    assert np.isfinite(losses).all()
    assert losses[0] > 2.0 and losses[-1] < 0.5 * losses[0]  # from ~log(11) towards memorised


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(d_model=10, num_heads=4), "must divide"),
        (dict(norm="batchnorm"), "norm must be one of"),
        (dict(activation="tanh"), "activation must be one of"),
        (dict(norm_position="middle"), "norm_position must be one of"),
        (dict(num_layers=0), "num_layers must be >= 1"),
    ],
)
def test_bad_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransformerConfig(**{**SMALL, **kwargs})


def test_bad_tokens_raise(model):
    with pytest.raises(ValueError, match="max_len"):
        model.hidden_states(jnp.zeros((1, 9), jnp.int32))
    with pytest.raises(TypeError, match="integer"):
        model(jnp.zeros((1, 3)))
    with pytest.raises(ValueError, match="exceeds max_len"):
        generate(model, jnp.zeros((1, 5), jnp.int32), 4)
