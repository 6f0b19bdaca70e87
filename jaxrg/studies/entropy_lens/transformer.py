r"""A small GPT-style decoder-only transformer (Flax nnx) that exposes its residual stream.

Token embeddings (optionally scaled by :math:`\sqrt d`, Gemma), learned absolute positions (GPT-2)
or rotary position embeddings (RoPE, LLaMA/Gemma/Qwen), ``num_layers`` causal blocks, a final norm
and an output matrix (the *unembedding*, optionally tied to the token embedding). Every block reads
and writes the residual stream :math:`x`:

- ``norm_position="pre"`` (GPT-2, LLaMA): :math:`x \leftarrow x + \mathrm{Attn}(N_1 x)`,
  :math:`x \leftarrow x + \mathrm{MLP}(N_2 x)`;
- ``norm_position="post"`` (original Transformer, BERT):
  :math:`x \leftarrow N_1(x + \mathrm{Attn}(x))`,
  :math:`x \leftarrow N_2(x + \mathrm{MLP}(x))`.

Norms are ``"layernorm"`` or ``"rmsnorm"``; the MLP activation is ``"gelu"``, ``"relu"``,
``"silu"``, ``"swiglu"`` (gated, LLaMA/Qwen) or ``"geglu"`` (gated, Gemma). Every component is a
field of :class:`TransformerConfig`, so an ablation swaps one at a time. :data:`FAMILIES` names
three recipes (the first Entropy-Lens study) and :data:`LLM_FAMILIES` the four that differ the
way GPT-2, LLaMA, Gemma and Qwen do; :data:`COMPONENTS` lists the swappable components.

For the logit lens the model exposes :meth:`Transformer.hidden_states` (the residual stream after
every block, ``(L, ..., T, d)``), :meth:`Transformer.final_norm` and :meth:`Transformer.unembed`;
``model(tokens) == model.unembed(model.final_norm(model.hidden_states(tokens)[-1]))``.

Example:
    >>> from flax import nnx
    >>> cfg = TransformerConfig(vocab_size=11, max_len=8, num_layers=2, d_model=16, num_heads=2)
    >>> model = Transformer(cfg, rngs=nnx.Rngs(0))
    >>> tokens = jax.numpy.zeros((3, 8), dtype=jax.numpy.int32)
    >>> model(tokens).shape, model.hidden_states(tokens).shape
    ((3, 8, 11), (2, 3, 8, 16))
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float, Int

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "MLP",
    "NORMS",
    "NORM_POSITIONS",
    "Block",
    "CausalSelfAttention",
    "Transformer",
    "TransformerConfig",
    "generate",
    "rotary_embedding",
]

NORM_POSITIONS = ("pre", "post")
NORMS = ("layernorm", "rmsnorm")
ACTIVATIONS = ("gelu", "relu", "silu", "swiglu", "geglu")
POSITIONS = ("learned", "rope")
_GATED = {"swiglu": jax.nn.silu, "geglu": jax.nn.gelu}


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    r"""Shape and recipe of a :class:`Transformer` (all static).

    Attributes:
        vocab_size: number of tokens.
        max_len: longest sequence (size of the position table).
        num_layers: number of blocks ``L``.
        d_model: width of the residual stream.
        num_heads: attention heads (must divide ``d_model``).
        d_ff: hidden width of the MLP (default ``4 * d_model``).
        norm_position: ``"pre"`` or ``"post"``.
        norm: ``"layernorm"`` or ``"rmsnorm"``.
        activation: ``"gelu"``, ``"relu"``, ``"silu"``, ``"swiglu"`` or ``"geglu"``.
        positions: ``"learned"`` (absolute table, GPT-2) or ``"rope"`` (rotary, on queries and
            keys; needs an even head width).
        qkv_bias: biases on the query/key/value projection (GPT-2, Qwen).
        bias: biases on the attention output and MLP projections (GPT-2).
        tie_embeddings: the unembedding is the transposed token embedding (Gemma).
        scale_embeddings: multiply token embeddings by :math:`\sqrt{d}` (Gemma).
        rope_base: RoPE frequency base :math:`b` (angles :math:`t\,b^{-2i/c}`).
    """

    vocab_size: int
    max_len: int = 64
    num_layers: int = 4
    d_model: int = 64
    num_heads: int = 4
    d_ff: int | None = None
    norm_position: str = "pre"
    norm: str = "layernorm"
    activation: str = "gelu"
    positions: str = "learned"
    qkv_bias: bool = True
    bias: bool = True
    tie_embeddings: bool = False
    scale_embeddings: bool = False
    rope_base: float = 10000.0

    def __post_init__(self):
        for name in ("vocab_size", "max_len", "num_layers", "d_model", "num_heads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}.")
        if self.d_model % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide d_model={self.d_model}.")
        for name, allowed in (
            ("norm_position", NORM_POSITIONS),
            ("norm", NORMS),
            ("activation", ACTIVATIONS),
            ("positions", POSITIONS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}.")
        if self.positions == "rope" and (self.d_model // self.num_heads) % 2:
            raise ValueError(
                f"positions='rope' needs an even head width d_model/num_heads; got "
                f"{self.d_model}/{self.num_heads}."
            )

    @property
    def hidden(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.d_model


#: Three recipes ("families"): GPT-2 (pre-LN, GELU), LLaMA-like (pre-RMSNorm, SwiGLU) and the
#: original post-LN Transformer (ReLU). Add sizes: ``TransformerConfig(**FAMILIES[f], ...)``.
FAMILIES = {
    "gpt2": dict(norm_position="pre", norm="layernorm", activation="gelu"),
    "llama": dict(norm_position="pre", norm="rmsnorm", activation="swiglu"),
    "postln": dict(norm_position="post", norm="layernorm", activation="relu"),
}

#: Four recipes that differ the way the real model families do (Entropy-Lens's GPT, LLaMA, Gemma
#: and Qwen): GPT-2 (learned positions, LayerNorm, GELU MLP, biases everywhere), LLaMA (RoPE,
#: RMSNorm, SwiGLU, no biases), Gemma (RoPE, RMSNorm, GeGLU, tied and :math:`\sqrt d`-scaled
#: embeddings) and Qwen (as LLaMA, with biases on Q/K/V). All pre-norm.
LLM_FAMILIES = {
    "gpt2": dict(norm="layernorm", activation="gelu", positions="learned", qkv_bias=True,
                 bias=True, tie_embeddings=False, scale_embeddings=False),
    "llama": dict(norm="rmsnorm", activation="swiglu", positions="rope", qkv_bias=False,
                  bias=False, tie_embeddings=False, scale_embeddings=False),
    "gemma": dict(norm="rmsnorm", activation="geglu", positions="rope", qkv_bias=False,
                  bias=False, tie_embeddings=True, scale_embeddings=True),
    "qwen": dict(norm="rmsnorm", activation="swiglu", positions="rope", qkv_bias=True,
                 bias=False, tie_embeddings=False, scale_embeddings=False),
}

#: The components an ablation swaps one at a time: name -> the config fields it sets.
COMPONENTS = {
    "norm": ("norm",),
    "positions": ("positions",),
    "mlp": ("activation",),
    "qkv_bias": ("qkv_bias",),
    "embeddings": ("tie_embeddings", "scale_embeddings"),
}


def rotary_embedding(
    x: Float[Array, "... t c"], *, base: float = 10000.0
) -> Float[Array, "... t c"]:
    r"""Rotary position embedding (RoPE, Su et al. 2021) of ``(..., T, c)`` vectors, ``c`` even.

    Position :math:`t` rotates the pair :math:`(x_i, x_{i+c/2})` by the angle
    :math:`t\,\theta_i`, :math:`\theta_i = b^{-2i/c}` (the "rotate half" layout of LLaMA), so
    :math:`\langle R_m q, R_n k\rangle` depends on :math:`m - n` only.

    Args:
        x: ``(..., T, c)`` queries or keys of one head (positions on the second to last axis).
        base: the frequency base :math:`b`.

    Returns:
        ``(..., T, c)`` rotated vectors (norms preserved).
    """
    t, c = x.shape[-2], x.shape[-1]
    if c % 2:
        raise ValueError(f"rotary_embedding needs an even last axis; got {c}.")
    theta = base ** (-jnp.arange(c // 2, dtype=x.dtype) * 2 / c)
    angle = jnp.arange(t, dtype=x.dtype)[:, None] * theta[None, :]  # (T, c/2)
    lead = (1,) * (x.ndim - 2)  # explicit broadcasting (rank promotion may be an error)
    cos = jnp.cos(angle).reshape(lead + angle.shape)
    sin = jnp.sin(angle).reshape(lead + angle.shape)
    x1, x2 = x[..., : c // 2], x[..., c // 2 :]
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def _norm(cfg: TransformerConfig, rngs: nnx.Rngs) -> nnx.Module:
    if cfg.norm == "rmsnorm":
        return nnx.RMSNorm(cfg.d_model, epsilon=1e-5, rngs=rngs)
    return nnx.LayerNorm(cfg.d_model, epsilon=1e-5, rngs=rngs)


class CausalSelfAttention(nnx.Module):
    r"""Multi-head causal self-attention (a token attends to itself and earlier tokens).

    Maps ``(..., T, d)`` to ``(..., T, d)``: with ``h`` heads of width ``c = d/h``,
    :math:`y = W_O\,\mathrm{concat}_h\big(\mathrm{softmax}(q_h k_h^\top/\sqrt c + M)\,v_h\big)`,
    :math:`M` masking the future (positions :math:`k > q`).

    Args:
        cfg: :class:`TransformerConfig` (``d_model``, ``num_heads``, ``num_layers`` are read).
        rngs: ``nnx.Rngs`` (keyword-only).
    """

    def __init__(self, cfg: TransformerConfig, *, rngs: nnx.Rngs):
        self.num_heads = cfg.num_heads
        self.rope_base = cfg.rope_base if cfg.positions == "rope" else None
        self.qkv = nnx.Linear(cfg.d_model, 3 * cfg.d_model, use_bias=cfg.qkv_bias, rngs=rngs)
        self.out = nnx.Linear(
            cfg.d_model,
            cfg.d_model,
            use_bias=cfg.bias,
            kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.num_layers)),
            rngs=rngs,
        )

    def __call__(self, x: Float[Array, "... t d"]) -> Float[Array, "... t d"]:
        *batch, t, d = x.shape
        h = self.num_heads
        q, k, v = jnp.split(self.qkv(x), 3, axis=-1)
        q, k, v = (y.reshape(*batch, t, h, d // h) for y in (q, k, v))
        if self.rope_base is not None:  # rotate each head's (T, c) slice
            q, k = (
                jnp.swapaxes(rotary_embedding(jnp.swapaxes(y, -3, -2), base=self.rope_base), -3, -2)
                for y in (q, k)
            )
        scores = jnp.einsum("...qhc,...khc->...hqk", q, k) / math.sqrt(d // h)
        causal = jnp.broadcast_to(jnp.tril(jnp.ones((t, t), dtype=bool)), scores.shape)
        # a finite floor rather than -inf keeps softmax NaN-free for any mask
        scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
        weights = jax.nn.softmax(scores, axis=-1)
        y = jnp.einsum("...hqk,...khc->...qhc", weights, v).reshape(*batch, t, d)
        return self.out(y)


class MLP(nnx.Module):
    r"""Position-wise feed-forward network (plain, or gated SwiGLU / GeGLU).

    Maps ``(..., d)`` to ``(..., d)``: :math:`W_2\,\sigma(W_1 x)`, or
    :math:`W_2(g(W_g x)\odot W_v x)` with :math:`g` = silu for ``"swiglu"`` and gelu (tanh
    approximation) for ``"geglu"``; hidden width ``cfg.hidden``.

    Args:
        cfg: :class:`TransformerConfig` (``d_model``, ``hidden``, ``activation``, ``num_layers``
            are read).
        rngs: ``nnx.Rngs`` (keyword-only).
    """

    def __init__(self, cfg: TransformerConfig, *, rngs: nnx.Rngs):
        self.activation = cfg.activation
        width = cfg.hidden * (2 if cfg.activation in _GATED else 1)
        self.up = nnx.Linear(cfg.d_model, width, use_bias=cfg.bias, rngs=rngs)
        self.down = nnx.Linear(
            cfg.hidden,
            cfg.d_model,
            use_bias=cfg.bias,
            kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.num_layers)),
            rngs=rngs,
        )

    def __call__(self, x: Float[Array, "... d"]) -> Float[Array, "... d"]:
        u = self.up(x)
        if self.activation in _GATED:
            gate, value = jnp.split(u, 2, axis=-1)
            u = _GATED[self.activation](gate) * value
        else:
            u = {"gelu": jax.nn.gelu, "relu": jax.nn.relu, "silu": jax.nn.silu}[self.activation](u)
        return self.down(u)


class Block(nnx.Module):
    r"""One transformer block, pre- or post-norm.

    Maps ``(..., T, d)`` to ``(..., T, d)``. Pre-norm: :math:`x \leftarrow x + A(N_1(x))`,
    :math:`x + F(N_2(x))`; post-norm: :math:`x \leftarrow N_1(x + A(x))`, :math:`N_2(x + F(x))`
    (``A`` :class:`CausalSelfAttention`, ``F`` :class:`MLP`).

    Args:
        cfg: :class:`TransformerConfig`.
        rngs: ``nnx.Rngs`` (keyword-only).
    """

    def __init__(self, cfg: TransformerConfig, *, rngs: nnx.Rngs):
        self.pre = cfg.norm_position == "pre"
        self.norm1, self.norm2 = _norm(cfg, rngs), _norm(cfg, rngs)
        self.attn = CausalSelfAttention(cfg, rngs=rngs)
        self.mlp = MLP(cfg, rngs=rngs)

    def __call__(self, x: Float[Array, "... t d"]) -> Float[Array, "... t d"]:
        if self.pre:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


class Transformer(nnx.Module):
    """GPT-style decoder: ``tokens (..., T) -> logits (..., T, vocab)``.

    Args:
        config: a :class:`TransformerConfig`.
        rngs: ``nnx.Rngs`` for the initialisation (keyword-only).
    """

    def __init__(self, config: TransformerConfig, *, rngs: nnx.Rngs):
        self.config = config
        init = nnx.initializers.normal(0.02)
        self.token_embed = nnx.Embed(
            config.vocab_size, config.d_model, embedding_init=init, rngs=rngs
        )
        self.pos_embed = (
            nnx.Embed(config.max_len, config.d_model, embedding_init=init, rngs=rngs)
            if config.positions == "learned"
            else None
        )
        self.blocks = nnx.List([Block(config, rngs=rngs) for _ in range(config.num_layers)])
        self.norm_f = _norm(config, rngs)
        self.head = (
            None
            if config.tie_embeddings
            else nnx.Linear(
                config.d_model, config.vocab_size, use_bias=False, kernel_init=init, rngs=rngs
            )
        )

    def _check(self, tokens) -> jax.Array:
        tokens = jnp.asarray(tokens)
        if not jnp.issubdtype(tokens.dtype, jnp.integer):
            raise TypeError(f"tokens must be integer ids; got dtype {tokens.dtype}.")
        if tokens.ndim == 0 or tokens.shape[-1] > self.config.max_len:
            raise ValueError(
                f"tokens must have shape (..., T) with 1 <= T <= max_len={self.config.max_len}; "
                f"got {tokens.shape}."
            )
        return tokens

    def hidden_states(self, tokens: Int[Array, "... t"]) -> Float[Array, "l ... t d"]:
        """Residual stream after each block, stacked: ``(num_layers, ..., T, d_model)``."""
        tokens = self._check(tokens)
        t = tokens.shape[-1]
        x = self.token_embed(tokens)
        if self.config.scale_embeddings:
            x = x * math.sqrt(self.config.d_model)
        if self.pos_embed is not None:
            x = x + self.pos_embed(jnp.arange(t)).reshape((1,) * (x.ndim - 2) + (t, -1))
        states = []
        for block in self.blocks:
            x = block(x)
            states.append(x)
        return jnp.stack(states)

    def final_norm(self, hidden: Float[Array, "... d"]) -> Float[Array, "... d"]:
        """The final norm applied before the unembedding."""
        return self.norm_f(hidden)

    def unembed(self, hidden: Float[Array, "... d"]) -> Float[Array, "... v"]:
        """Output matrix only: ``hidden @ W_U`` (apply :meth:`final_norm` first)."""
        if self.head is None:
            return hidden @ self.unembedding
        return self.head(hidden)

    @property
    def unembedding(self) -> Float[Array, "d v"]:
        """The ``(d_model, vocab)`` output matrix ``W_U`` (the transposed embedding if tied)."""
        if self.head is None:
            return self.token_embed.embedding[...].T
        return self.head.kernel[...]

    def __call__(self, tokens: Int[Array, "... t"]) -> Float[Array, "... t v"]:
        return self.unembed(self.final_norm(self.hidden_states(tokens)[-1]))


def generate(
    model: Transformer, prompt: Int[Array, "b p"], num_new: int, *, key=None, temperature=1.0
) -> Int[Array, "b t"]:
    """Extend ``prompt`` by ``num_new`` tokens: greedy when ``key`` is None, else sampled.

    One compiled loop; every step runs the model on the fixed-length buffer (causality makes the
    unwritten tail irrelevant), which is cheap at the sizes this model is meant for.

    Args:
        model: the transformer.
        prompt: ``(B, P)`` token ids, ``P >= 1``.
        num_new: tokens to add (``P + num_new <= max_len``).
        key: PRNG key for sampling at ``temperature``; None for greedy decoding.
        temperature: softmax temperature (> 0) when sampling.

    Returns:
        ``(B, P + num_new)`` token ids.
    """
    prompt = jnp.asarray(prompt)
    if prompt.ndim != 2 or prompt.shape[1] < 1:
        raise ValueError(f"prompt must have shape (B, P) with P >= 1; got {prompt.shape}.")
    b, p = prompt.shape
    total = p + int(num_new)
    if total > model.config.max_len:
        raise ValueError(f"P + num_new = {total} exceeds max_len = {model.config.max_len}.")
    graphdef, state = nnx.split(model)
    return _generate(graphdef, state, prompt.astype(jnp.int32), total, key, temperature)


@jax.jit(static_argnums=(0, 3))
def _generate(graphdef, state, prompt, total, key, temperature):
    model = nnx.merge(graphdef, state)
    b, p = prompt.shape
    buf = jnp.zeros((b, total), jnp.int32).at[:, :p].set(prompt)
    keys = None if key is None else jax.random.split(key, total)

    def step(i, buf):
        logits = jax.lax.dynamic_index_in_dim(model(buf), i - 1, axis=1, keepdims=False)
        if keys is None:
            new = jnp.argmax(logits, axis=-1)
        else:
            new = jax.random.categorical(keys[i], logits / temperature, axis=-1)
        return jax.lax.dynamic_update_index_in_dim(buf, new.astype(jnp.int32), i, axis=1)

    return jax.lax.fori_loop(p, total, step, buf)
