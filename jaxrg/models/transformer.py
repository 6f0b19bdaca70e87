r"""A small GPT-style decoder-only transformer (Flax nnx) that exposes its residual stream.

Token + learned position embeddings, ``num_layers`` causal blocks, a final norm and an output
matrix (the *unembedding*). Every block reads and writes the residual stream :math:`x`:

- ``norm_position="pre"`` (GPT-2, LLaMA): :math:`x \leftarrow x + \mathrm{Attn}(N_1 x)`,
  :math:`x \leftarrow x + \mathrm{MLP}(N_2 x)`;
- ``norm_position="post"`` (original Transformer, BERT):
  :math:`x \leftarrow N_1(x + \mathrm{Attn}(x))`,
  :math:`x \leftarrow N_2(x + \mathrm{MLP}(x))`.

Norms are ``"layernorm"`` or ``"rmsnorm"``; the MLP activation is ``"gelu"``, ``"relu"``,
``"silu"`` or ``"swiglu"`` (gated, LLaMA). :data:`FAMILIES` names three such recipes, the
"families" whose entropy profiles :mod:`jaxrg.lens` compares.

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
    "Block",
    "CausalSelfAttention",
    "FAMILIES",
    "MLP",
    "NORMS",
    "NORM_POSITIONS",
    "Transformer",
    "TransformerConfig",
    "generate",
]

NORM_POSITIONS = ("pre", "post")
NORMS = ("layernorm", "rmsnorm")
ACTIVATIONS = ("gelu", "relu", "silu", "swiglu")


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Shape and recipe of a :class:`Transformer` (all static).

    Attributes:
        vocab_size: number of tokens.
        max_len: longest sequence (size of the position table).
        num_layers: number of blocks ``L``.
        d_model: width of the residual stream.
        num_heads: attention heads (must divide ``d_model``).
        d_ff: hidden width of the MLP (default ``4 * d_model``).
        norm_position: ``"pre"`` or ``"post"``.
        norm: ``"layernorm"`` or ``"rmsnorm"``.
        activation: ``"gelu"``, ``"relu"``, ``"silu"`` or ``"swiglu"``.
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
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got {getattr(self, name)!r}.")

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
        self.qkv = nnx.Linear(cfg.d_model, 3 * cfg.d_model, rngs=rngs)
        self.out = nnx.Linear(
            cfg.d_model,
            cfg.d_model,
            kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.num_layers)),
            rngs=rngs,
        )

    def __call__(self, x: Float[Array, "... t d"]) -> Float[Array, "... t d"]:
        *batch, t, d = x.shape
        h = self.num_heads
        q, k, v = jnp.split(self.qkv(x), 3, axis=-1)
        q, k, v = (y.reshape(*batch, t, h, d // h) for y in (q, k, v))
        scores = jnp.einsum("...qhc,...khc->...hqk", q, k) / math.sqrt(d // h)
        causal = jnp.broadcast_to(jnp.tril(jnp.ones((t, t), dtype=bool)), scores.shape)
        # a finite floor rather than -inf keeps softmax NaN-free for any mask
        scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
        weights = jax.nn.softmax(scores, axis=-1)
        y = jnp.einsum("...hqk,...khc->...qhc", weights, v).reshape(*batch, t, d)
        return self.out(y)


class MLP(nnx.Module):
    r"""Position-wise feed-forward network (plain or gated SwiGLU).

    Maps ``(..., d)`` to ``(..., d)``: :math:`W_2\,\sigma(W_1 x)`, or
    :math:`W_2(\mathrm{silu}(W_g x)\odot W_v x)` for ``"swiglu"``; hidden width ``cfg.hidden``.

    Args:
        cfg: :class:`TransformerConfig` (``d_model``, ``hidden``, ``activation``, ``num_layers``
            are read).
        rngs: ``nnx.Rngs`` (keyword-only).
    """

    def __init__(self, cfg: TransformerConfig, *, rngs: nnx.Rngs):
        self.activation = cfg.activation
        width = cfg.hidden * (2 if cfg.activation == "swiglu" else 1)
        self.up = nnx.Linear(cfg.d_model, width, rngs=rngs)
        self.down = nnx.Linear(
            cfg.hidden,
            cfg.d_model,
            kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.num_layers)),
            rngs=rngs,
        )

    def __call__(self, x: Float[Array, "... d"]) -> Float[Array, "... d"]:
        u = self.up(x)
        if self.activation == "swiglu":
            gate, value = jnp.split(u, 2, axis=-1)
            u = jax.nn.silu(gate) * value
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
        self.pos_embed = nnx.Embed(config.max_len, config.d_model, embedding_init=init, rngs=rngs)
        self.blocks = nnx.List([Block(config, rngs=rngs) for _ in range(config.num_layers)])
        self.norm_f = _norm(config, rngs)
        self.head = nnx.Linear(
            config.d_model, config.vocab_size, use_bias=False, kernel_init=init, rngs=rngs
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
        return self.head(hidden)

    @property
    def unembedding(self) -> Float[Array, "d v"]:
        """The ``(d_model, vocab)`` output matrix ``W_U``."""
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
