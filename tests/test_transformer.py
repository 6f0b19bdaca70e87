"""Tests of jaxrg.studies.entropy_lens.transformer: shapes, causality, lens decomposition,
generation, fitting."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from tolerances import tol

from jaxrg.studies.entropy_lens.transformer import (
    COMPONENTS,
    FAMILIES,
    LLM_FAMILIES,
    Transformer,
    TransformerConfig,
    generate,
    rotary_embedding,
)

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


# ----------------------------------------------------------------------------- LLM families


def _np_rope(x, base=10000.0):
    """Oracle: rotate each pair (x_i, x_{i+c/2}) at position t by t * base^(-2i/c), by a loop."""
    t, c = x.shape
    out = np.empty_like(x)
    for pos in range(t):
        for i in range(c // 2):
            a = pos * base ** (-2 * i / c)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            out[pos, [i, i + c // 2]] = rot @ x[pos, [i, i + c // 2]]
    return out


def test_rotary_embedding_rotates_pairs_like_the_loop_and_is_relative():
    x = np.random.default_rng(0).normal(size=(7, 8))
    got = np.asarray(rotary_embedding(jnp.asarray(x), base=100.0))
    np.testing.assert_allclose(got, _np_rope(x, 100.0), **tol(np.float64))
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), np.linalg.norm(x, axis=-1),
                               **tol(np.float64))
    # <R_m q, R_n k> depends on m - n only: the same q, k at every position
    q, k = x[0], x[1]
    rq = np.asarray(rotary_embedding(jnp.asarray(np.tile(q, (7, 1)))))
    rk = np.asarray(rotary_embedding(jnp.asarray(np.tile(k, (7, 1)))))
    np.testing.assert_allclose(rq[3] @ rk[1], rq[6] @ rk[4], **tol(np.float64))
    with pytest.raises(ValueError, match="even"):
        rotary_embedding(jnp.ones((3, 5)))


def test_rmsnorm_and_gated_mlps_match_numpy():
    d, h = 6, 5
    x = np.random.default_rng(1).normal(size=(4, d)).astype(np.float32)  # params are float32
    for family in ("llama", "gemma"):
        cfg = TransformerConfig(**{**SMALL, "d_model": d, "num_heads": 1, "d_ff": h},
                                **LLM_FAMILIES[family])
        block = Transformer(cfg, rngs=nnx.Rngs(2)).blocks[0]
        scale = np.asarray(block.norm1.scale[...])
        rms = x / np.sqrt(np.mean(x**2, -1, keepdims=True) + 1e-5) * scale
        np.testing.assert_allclose(block.norm1(jnp.asarray(x)), rms, **tol(np.float32))
        w_up, w_down = np.asarray(block.mlp.up.kernel[...]), np.asarray(block.mlp.down.kernel[...])
        assert block.mlp.up.bias is None and block.mlp.down.bias is None  # no biases
        u = x @ w_up
        gate, value = u[:, :h], u[:, h:]
        if family == "llama":  # SwiGLU: silu(g) * v
            act = gate / (1 + np.exp(-gate))
        else:  # GeGLU with the tanh approximation of gelu
            act = 0.5 * gate * (1 + np.tanh(np.sqrt(2 / np.pi) * (gate + 0.044715 * gate**3)))
        np.testing.assert_allclose(block.mlp(jnp.asarray(x)), (act * value) @ w_down,
                                   **tol(np.float32))


def test_llm_families_have_their_components_and_parameter_counts():
    d, v, t, hid, blocks = 16, 11, 8, 64, 2
    counts, models = {}, {}
    for name, recipe in LLM_FAMILIES.items():
        m = Transformer(TransformerConfig(**SMALL, **recipe), rngs=nnx.Rngs(0))
        models[name] = m
        counts[name] = sum(x.size for x in jax.tree.leaves(nnx.state(m, nnx.Param)))
    attn = 3 * d * d + d * d
    glu = d * 2 * hid + hid * d
    # GPT-2: token + position tables, head, biased attention/MLP, two LayerNorms per block + final
    gpt2 = v * d + t * d + d * v + blocks * (attn + 3 * d + d + d * hid + hid + hid * d + d
                                             + 4 * d) + 2 * d
    assert counts["gpt2"] == gpt2
    assert counts["llama"] == v * d + d * v + blocks * (attn + glu + 2 * d) + d
    assert counts["qwen"] == counts["llama"] + blocks * 3 * d  # biases on Q, K, V only
    assert counts["gemma"] == counts["llama"] - d * v  # tied: no separate head
    assert models["llama"].pos_embed is None and models["gpt2"].pos_embed is not None


def test_tied_embeddings_share_one_parameter_and_gradient():
    model = Transformer(TransformerConfig(**SMALL, **LLM_FAMILIES["gemma"]), rngs=nnx.Rngs(0))
    assert model.head is None
    np.testing.assert_array_equal(model.unembedding, model.token_embed.embedding[...].T)
    tokens = jnp.asarray(np.random.default_rng(3).integers(0, 11, (2, 8)))
    graphdef, params = nnx.split(model, nnx.Param)

    def loss(p):
        return jnp.sum(nnx.merge(graphdef, p)(tokens) ** 2)

    grads = jax.grad(loss)(params)
    # the embedding's gradient has both contributions: the input lookup hits only the rows of
    # tokens present, the output matrix every row
    absent = np.setdiff1d(np.arange(11), np.asarray(tokens))
    g = np.asarray(grads["token_embed"]["embedding"][...])
    assert absent.size and np.all(np.abs(g[absent]).sum(-1) > 0)
    model.token_embed.embedding[...] = model.token_embed.embedding[...] * 2
    np.testing.assert_array_equal(model.unembedding, model.token_embed.embedding[...].T)


def test_scaled_embeddings_multiply_the_input_by_sqrt_d():
    cfg = TransformerConfig(**{**SMALL, "num_layers": 1}, **LLM_FAMILIES["gemma"])
    plain = dataclasses.replace(cfg, scale_embeddings=False)
    a, b = Transformer(cfg, rngs=nnx.Rngs(4)), Transformer(plain, rngs=nnx.Rngs(4))
    tokens = jnp.array([[1, 2, 3]])
    emb = np.asarray(a.token_embed(tokens))
    # the first block's attention input is N(x): compare the residual stream before it
    block = a.blocks[0]
    expected = np.float32(np.sqrt(16)) * emb
    h_a = np.asarray(block(jnp.asarray(expected)))
    np.testing.assert_allclose(a.hidden_states(tokens)[0], h_a, **tol(np.float32))
    np.testing.assert_allclose(b.hidden_states(tokens)[0], np.asarray(block(jnp.asarray(emb))),
                               **tol(np.float32))
    assert not np.allclose(h_a, np.asarray(block(jnp.asarray(emb))))


@pytest.mark.parametrize("family", sorted(LLM_FAMILIES))
def test_llm_families_are_causal_and_lens_consistent(family):
    model = Transformer(TransformerConfig(**SMALL, **LLM_FAMILIES[family]), rngs=nnx.Rngs(0))
    tokens = jnp.asarray(np.random.default_rng(1).integers(0, 11, (2, 8)))
    logits, hidden = _forward(model, tokens)
    assert logits.shape == (2, 8, 11) and hidden.shape == (2, 2, 8, 16)
    np.testing.assert_allclose(logits, model.final_norm(hidden[-1]) @ model.unembedding,
                               **tol(np.float32))
    changed = tokens.at[:, 5].set((tokens[:, 5] + 1) % 11)
    b, _ = _forward(model, changed)
    np.testing.assert_array_equal(logits[:, :5], b[:, :5])


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_swapping_one_component_changes_only_its_fields(component):
    base = TransformerConfig(**SMALL, **LLM_FAMILIES["llama"])
    donor = LLM_FAMILIES["gpt2"] if component != "embeddings" else LLM_FAMILIES["gemma"]
    swapped = dataclasses.replace(base, **{f: donor[f] for f in COMPONENTS[component]})
    changed = {f.name for f in dataclasses.fields(base)
               if getattr(base, f.name) != getattr(swapped, f.name)}
    assert changed == set(COMPONENTS[component])
    Transformer(swapped, rngs=nnx.Rngs(0))  # every swap builds


def test_rope_rejects_odd_head_width():
    with pytest.raises(ValueError, match="even head width"):
        TransformerConfig(**{**SMALL, "d_model": 6, "num_heads": 2}, positions="rope")
    with pytest.raises(ValueError, match="positions must be one of"):
        TransformerConfig(**SMALL, positions="alibi")
