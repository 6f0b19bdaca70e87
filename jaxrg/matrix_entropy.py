r"""Entropies of PSD matrices: von Neumann, matrix Rényi, Vendi score, diffusion spectral entropy.

A positive semi-definite matrix :math:`K` normalised to unit trace, :math:`\rho = K/\mathrm{Tr}K`,
has eigenvalues :math:`\lambda_i \ge 0` summing to 1: a probability vector. Every measure here is
an entropy of :mod:`jaxrg.info` applied to the log-eigenvalues :math:`\log\lambda_i` used as logits
(zero eigenvalues are ``-inf`` logits, i.e. probability 0), so the limits, the stable formulas and
the gradients are those of :mod:`jaxrg.info`:

.. math::
    S(\rho) = -\mathrm{Tr}\,\rho\log\rho = H_1(\lambda),\qquad
    S_\alpha(\rho) = \tfrac{1}{1-\alpha}\log\mathrm{Tr}\,\rho^\alpha = H_\alpha(\lambda),\qquad
    \mathrm{VS}_q = e^{H_q(\lambda(K/n))}.

One example per call (a single matrix or point cloud); batch with ``jax.vmap``. Natural log (nats).

Example:
    >>> import jax.numpy as jnp
    >>> from jaxrg.matrix_entropy import vendi_score
    >>> x = jnp.array([0.0, 0.0, 10.0, 10.0, 20.0, 20.0])
    >>> round(float(vendi_score(jnp.exp(-jnp.abs(x[:, None] - x[None, :])))), 4)  # 3 modes
    3.0
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from jaxrg import _checks, info
from jaxrg._numerics import host_power_of_two_scale, pairwise_sq_distances, power_of_two_scale
from jaxrg.spectral import laplacian_spectrum

__all__ = [
    "diffusion_spectral_entropy",
    "log_spectrum",
    "matrix_renyi_entropy",
    "vendi_score",
    "von_neumann_entropy",
]


def log_spectrum(matrix, *, name: str = "matrix") -> Float[Array, " n"]:
    r"""Log-eigenvalues of a symmetric PSD matrix, ``-inf`` for (round-off) zero eigenvalues.

    Eigenvalues at most :math:`n\,\varepsilon\,\lambda_{\max}` count as exact zeros (the rank
    decision of ``numpy.linalg.matrix_rank``), so :math:`H_0` is the log of the numerical rank.
    A NumPy matrix at a scale the computing float cannot resolve (largest entry below
    :math:`\text{tiny}/\varepsilon` or above :math:`\sqrt{\text{max}}`: a float64 matrix at 1e-40
    or 1e39 with x64 off) is divided by a power of two on the host first, and the logits shifted
    back by its log; the entropies below use the unshifted logits (they are scale invariant).

    Args:
        matrix: ``(n, n)`` symmetric positive semi-definite matrix (a Gram or kernel matrix).
        name: the argument name used in error messages.

    Returns:
        ``(n,)`` logits :math:`\log\lambda_i` (unnormalised: their softmax is the spectrum of
        :math:`K/\mathrm{Tr}K`).

    Raises:
        ValueError: not square, NaN/inf, asymmetric, clearly negative eigenvalues or zero trace
            (value checks on concrete inputs, and under :func:`jaxrg.checked`). Under plain
            ``jit`` such a matrix gives NaN logits, so every entropy of it is NaN.
    """
    logits, shift = _scaled_log_spectrum(matrix, name)
    if shift:  # log(lambda_i) of the matrix as given, which float32 may not hold
        logits = logits + jnp.asarray(shift, logits.dtype)
    return logits


def _scaled_log_spectrum(matrix, name: str) -> tuple[jax.Array, float]:
    r""":func:`log_spectrum` of :math:`K/s` and :math:`\log s` (:func:`_rescaled_matrix`).

    The entropies take the logits of :math:`K/s`: shifted back by :math:`\log s` = -690 (a
    matrix at 1e-300), float32 logits keep only 6e-5 absolutely, which moved the entropy by 1e-5.
    """
    matrix, shift = _rescaled_matrix(matrix)
    k = _checks.as_float_array(matrix, name)
    n = _checks.check_square(k, name)
    eps = float(jnp.finfo(k.dtype).eps)
    valid = True
    if not _checks.is_concrete(k):
        lam, valid = _traced_checks(k, name)
    else:
        with jax.ensure_compile_time_eval():  # concrete even when called while tracing
            if not bool(jnp.all(jnp.isfinite(k))):
                raise ValueError(f"{name} has NaN or inf entries.")
            asym = float(jnp.max(jnp.abs(k - k.T)))
            scale = max(float(jnp.max(jnp.abs(k))), 1e-300)
            if asym > 100 * eps * scale:
                raise ValueError(
                    f"{name} is not symmetric (max |K - K^T| = {asym:.3g}); use (K + K.T) / 2."
                )
            lam = jnp.linalg.eigvalsh(k)
            top, low = float(lam[-1]), float(lam[0])
        if top <= 0:
            raise ValueError(
                f"{name} has no positive eigenvalue (zero trace): no entropy is defined."
            )
        if low < -np.sqrt(eps) * n * top:
            raise ValueError(
                f"{name} is not positive semi-definite (smallest eigenvalue {low:.3g}, "
                f"largest {top:.3g}); pass a Gram or kernel matrix."
            )
    top = lam[-1]
    keep = ~(lam <= n * eps * jax.lax.stop_gradient(top))  # NaN kept: NaN in, NaN out
    # double where: log(0) and log(negative round-off) must not reach value or gradient
    logits = jnp.where(keep, jnp.log(jnp.where(keep, lam, jnp.ones_like(lam))), -jnp.inf)
    # traced input that fails a check: NaN logits, so every entropy of them is NaN (not 0 for an
    # indefinite matrix, not -inf for a zero one); eager input raised above
    return jnp.where(valid, logits, jnp.nan), shift


def _rescaled_matrix(matrix):
    r"""``(K / s, log s)`` for a NumPy ``K`` at a scale the computing float cannot resolve.

    The entropies are those of :math:`K/\mathrm{Tr}K`, so ``K`` may be divided by a power of two
    ``s`` (exact, on the host in float64) and its logits shifted back by :math:`\log s`. Done
    only when the largest :math:`|K_{ij}|` lies outside :math:`[\text{tiny}/\varepsilon,
    \sqrt{\text{max}}]` of the float ``K`` is computed in: below, the cast to float32 turns
    a float64 ``K`` at 1e-40 into subnormals, which XLA flushes to 0 ("no positive eigenvalue"
    for ``diag(1e-40, 2e-40, 3e-40)``), and rounds the small eigenvalues of one at 1e-37; above,
    ``eigvalsh`` overflowed into NaN (float32 from 3e37). Other input passes through unchanged.
    """
    if isinstance(matrix, jax.Array) or isinstance(matrix, np.ma.MaskedArray):
        return matrix, 0.0
    try:
        host = np.asarray(matrix)
    except ValueError:  # ragged: as_float_array names it
        return matrix, 0.0
    if host.dtype.kind != "f" or host.size == 0:
        return matrix, 0.0
    wide = host.dtype.itemsize > 8  # long double: computed in float64, as as_float_array does
    finfo = np.finfo(jax.dtypes.canonicalize_dtype(np.float64 if wide else host.dtype))
    top = float(np.max(np.abs(host[np.isfinite(host)]), initial=0.0))
    if top == 0.0 or float(finfo.tiny / finfo.eps) <= top <= float(np.sqrt(finfo.max)):
        return matrix, 0.0
    scale = host_power_of_two_scale(host)
    out = (host.astype(np.float64) / scale).astype(np.float64 if wide else host.dtype)
    return out, float(np.log(scale))


def _traced_checks(k: jax.Array, name: str) -> tuple[jax.Array, jax.Array]:
    """The value checks of :func:`log_spectrum` on a traced matrix: ``(eigenvalues, valid)``.

    The same rules and messages as the eager checks, as :func:`jaxrg._checks.value_check`
    calls: free under plain ``jit`` (where ``valid`` turns the result into NaN), raised as
    ``ValueError`` under :func:`jaxrg.checked`.
    """
    n, eps = k.shape[0], jnp.finfo(k.dtype).eps
    finite = jnp.all(jnp.isfinite(k))
    _checks.value_check(finite, f"{name} has NaN or inf entries.")
    asym = jnp.max(jnp.abs(k - k.T))
    scale = jnp.maximum(jnp.max(jnp.abs(k)), jnp.finfo(k.dtype).tiny)
    symmetric = ~(asym > 100 * eps * scale)  # NaN passes here: the finiteness check names it
    _checks.value_check(
        symmetric,
        f"{name} is not symmetric (max |K - K^T| = {{asym:.3g}}); use (K + K.T) / 2.",
        asym=asym,
    )
    lam = jnp.linalg.eigvalsh(k)
    top, low = jax.lax.stop_gradient(lam[-1]), jax.lax.stop_gradient(lam[0])
    positive = ~(top <= 0)
    _checks.value_check(
        positive, f"{name} has no positive eigenvalue (zero trace): no entropy is defined."
    )
    psd = ~(low < -np.sqrt(eps) * n * top)
    _checks.value_check(
        psd,
        f"{name} is not positive semi-definite (smallest eigenvalue {{low:.3g}}, "
        f"largest {{top:.3g}}); pass a Gram or kernel matrix.",
        low=low,
        top=top,
    )
    return lam, finite & symmetric & positive & psd


def von_neumann_entropy(matrix) -> Float[Array, ""]:
    r"""Von Neumann entropy :math:`-\mathrm{Tr}\,\rho\log\rho` of :math:`\rho = K/\mathrm{Tr}K`.

    Zero for rank one, :math:`\log n` for :math:`K \propto I`.

    Args:
        matrix: ``(n, n)`` symmetric PSD matrix.

    Returns:
        Scalar entropy in nats.

    Raises:
        ValueError: see :func:`log_spectrum`.

    References:
        J. von Neumann, Mathematische Grundlagen der Quantenmechanik (1932).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxrg.matrix_entropy import von_neumann_entropy
        >>> round(float(von_neumann_entropy(jnp.eye(4))), 6)   # log 4
        1.386294
    """
    return info.shannon_entropy(_scaled_log_spectrum(matrix, "matrix")[0])


def matrix_renyi_entropy(matrix, alpha) -> Float[Array, "..."]:
    r"""Matrix-based Rényi entropy :math:`\frac{1}{1-\alpha}\log\mathrm{Tr}\,\rho^\alpha`.

    The functional of Sánchez Giraldo, Rao & Príncipe, applied to :math:`\rho = K/\mathrm{Tr}K`
    (for their normalisation pass :math:`K_{ij}/\sqrt{K_{ii}K_{jj}}`). Exact limits at
    :math:`\alpha = 0` (log rank), 1 (von Neumann) and :math:`\infty`.

    Args:
        matrix: ``(n, n)`` symmetric PSD matrix.
        alpha: order(s) :math:`\ge 0`, scalar or array.

    Returns:
        Shape of ``alpha``.

    References:
        L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using
        infinitely divisible kernels", IEEE Trans. Inf. Theory 61 (2015).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxrg.matrix_entropy import matrix_renyi_entropy
        >>> k = jnp.diag(jnp.array([2.0, 1.0, 1.0, 0.0]))
        >>> matrix_renyi_entropy(k, jnp.array([0.0, 2.0])).round(6).tolist()   # log 3, log(8/3)
        [1.098612, 0.980829]
    """
    return info.renyi_entropy(_scaled_log_spectrum(matrix, "matrix")[0], alpha)


def vendi_score(kernel_matrix, *, q=1.0) -> Float[Array, "..."]:
    r"""Vendi score: the effective number of distinct samples, :math:`\exp H_q(\lambda(K/n))`.

    For a similarity kernel with :math:`K_{ii} = 1` the eigenvalues of :math:`K/n` sum to 1; here
    :math:`K` is divided by its trace, which is the same thing then and extends it to any PSD
    :math:`K`. :math:`n` identical samples score 1, :math:`n` mutually orthogonal ones :math:`n`.

    Args:
        kernel_matrix: ``(n, n)`` PSD similarity matrix of the samples.
        q: order (scalar or array, :math:`\ge 0`); 1 is the Vendi score of Friedman & Dieng,
            other orders are the family of Pasarkar & Dieng.

    Returns:
        Shape of ``q``; between 1 and ``n``.

    References:
        D. Friedman, A. B. Dieng, "The Vendi Score: A Diversity Evaluation Metric for Machine
        Learning", TMLR (2023); A. P. Pasarkar, A. B. Dieng, "Cousins of the Vendi Score" (2023).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxrg.matrix_entropy import vendi_score
        >>> round(float(vendi_score(jnp.ones((5, 5)))), 6), round(float(vendi_score(jnp.eye(5))), 6)
        (1.0, 5.0)
    """
    return jnp.exp(
        info.renyi_entropy(_scaled_log_spectrum(kernel_matrix, "kernel_matrix")[0], q)
    )


def diffusion_spectral_entropy(
    points, mask: Bool[Array, " n"] | None = None, *, sigma=10.0, t=1.0
) -> Float[Array, ""]:
    r"""Diffusion spectral entropy (DSE) of a point cloud.

    Gaussian affinities :math:`W_{ij} = e^{-\|x_i - x_j\|^2/(2\sigma^2)}`, diffusion operator
    :math:`P = D^{-1}W`; its eigenvalues are :math:`1 - \mu_i`, :math:`\mu_i` those of the
    normalised Laplacian :math:`D^{-1/2}(D - W)D^{-1/2}` of the affinity graph (self-loops
    included; computed by :func:`jaxrg.laplacian_spectrum`, so padded points drop out through its
    ``+inf`` convention). Then

    .. math::
        \mathrm{DSE} = H_1(\eta),\qquad \eta_i = |1-\mu_i|^t \big/ \textstyle\sum_j |1-\mu_j|^t,

    i.e. the Shannon entropy of the logits :math:`t\log|1-\mu_i|`. Nats (the authors' code
    reports bits and adds a small epsilon; divide by :math:`\log 2` to compare).

    Numerics. Distances are direct differences, never the Gram expansion
    :math:`|x_i|^2 + |x_j|^2 - 2x_i\cdot x_j` (in float32 it lost the within-cluster distances of
    two clusters at :math:`\pm 500`). The points and :math:`\sigma` are divided by powers of two
    (exact) after centring, so DSE is invariant to :math:`(x, \sigma) \to (cx, c\sigma)` over
    the whole float range; NumPy points and a concrete :math:`\sigma` are divided on the host,
    in float64, before the cast to JAX's float (a float64 cloud at 1e-40 is subnormal in
    float32, which XLA flushes to 0), and a :math:`\sigma` that float32 cannot hold after that
    is clamped to its smallest or largest normal number (the limits DSE = log n and 0).
    Eigenvalues of :math:`P` within round-off of 0 are dropped, so
    identical points give exactly 0: :math:`P` is positive semi-definite, so the largest computed
    :math:`\mu_i - 1 > 0` is round-off and measures ``eigh``'s error, and every
    :math:`|1-\mu_i| \le \max(4\varepsilon, 2\max_j(\mu_j - 1))\max_j|1-\mu_j|` counts as
    zero (``eigh`` returns the exact zeros of :math:`P` as 1–2 :math:`\varepsilon` in float32 on
    CPU, up to 18 :math:`\varepsilon` in float64 at n = 1000). This sets the intrinsic float32 limit
    when :math:`\sigma` is much larger than the spread of the data: the non-trivial eigenvalues
    of :math:`P` are then about :math:`c_k/\sigma^2` (:math:`c_k` the eigenvalues of the points'
    covariance), each computed with an absolute error of about :math:`\varepsilon`
    (:math:`1.2\times10^{-7}` in float32), and
    :math:`\mathrm{DSE} \approx \sum_k (c_k/\sigma^2)(1 + \log(\sigma^2/c_k))`. For 10
    standard normal coordinates in float32 the relative error is about 1e-3 at
    :math:`\sigma = 100`, up to 10 % at :math:`\sigma = 10^3` (DSE 1.5e-4), and from
    :math:`\sigma \approx 2\times10^3` (:math:`c_k/\sigma^2 < 4\varepsilon`) the result is 0
    for a true 4e-5. Use float64 when :math:`\sigma^2` exceeds the largest variance of the
    points by more than about :math:`10^{-1}/\varepsilon`.

    Args:
        points: ``(n, d)`` point cloud (e.g. the representations of n inputs).
        mask: optional ``(n,)`` boolean, True for real points (padding for ``vmap``).
        sigma: kernel bandwidth :math:`\sigma > 0` (the authors' default is 10).
        t: diffusion time :math:`t > 0` (power of the diffusion operator).

    Returns:
        Scalar DSE.

    Raises:
        ValueError: ``points`` not 2-D or with a NaN/inf entry in a real point, ``sigma`` or
            ``t`` not finite and positive (concrete); NumPy points beyond the computing
            float's normal range with a traced ``sigma`` (they cannot be rescaled together).
            Under ``jit`` a NaN/inf point gives NaN.

    References:
        D. Liao et al., "Assessing Neural Network Representations During Training Using
        Noise-Resilient Diffusion Spectral Entropy", ICML TAGML workshop (2023), arXiv:2312.04823.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxrg.matrix_entropy import diffusion_spectral_entropy
        >>> far = jnp.array([[0.0], [100.0], [200.0]])     # three isolated points: log 3
        >>> round(float(diffusion_spectral_entropy(far, sigma=1.0)), 6)
        1.098612
    """
    points, sigma = _rescaled_on_host(points, sigma, mask)
    x = _checks.as_float_array(points, "points")
    if x.ndim != 2:
        raise ValueError(
            f"points must be a 2-D (n, d) array; got shape {x.shape}. Use vmap for batches."
        )
    sigma = _checks.as_float_array(sigma, "sigma").astype(x.dtype)
    t = _checks.as_float_array(t, "t").astype(x.dtype)
    for value, label in ((sigma, "sigma"), (t, "t")):
        if _checks.is_concrete(value):
            with jax.ensure_compile_time_eval():
                host = np.asarray(value)
            if not np.all((host > 0) & np.isfinite(host)):  # inf passed "> 0", then NaN logits
                raise ValueError(
                    f"{label} must be > 0 and finite; got {host}. Pass a finite {label} "
                    "(a large finite value approaches the limit)."
                )
    # traced sigma / t: the same rule as a checkify check (raised under jaxrg.checked), and NaN
    # out under plain jit (a sigma <= 0 would otherwise give the entropy of |sigma|)
    params_ok = jnp.ones((), bool)
    for value, label in ((sigma, "sigma"), (t, "t")):
        if not _checks.is_concrete(value):
            ok = jnp.all((value > 0) & jnp.isfinite(value))
            _checks.value_check(
                ok, f"{label} must be finite and > 0; got {{value:.3g}}.", value=jnp.min(value)
            )
            params_ok = params_ok & ok
    if mask is not None:
        mask = _checks.check_mask(mask, x.shape[0])
    real = jnp.ones(x.shape[0], bool) if mask is None else mask
    finite = jnp.all(jnp.isfinite(x) | ~real[:, None])
    _checks.value_check(finite, "points has NaN or inf entries (real points must be finite); "
                        "drop those points or mask them out with mask=...")
    x = jnp.where(real[:, None], x, 0)  # padding never reaches the affinities
    # DSE(x, sigma) = DSE(x / s, sigma / s): divide by a power of two (exact), centre on the real
    # points' mean, divide again, so that no difference overflows and sigma is measured against
    # the spread, whatever the scale (1e±20 in float32 overflowed d2 or sigma^2 into NaN)
    first = power_of_two_scale(x)
    x = x / first
    count = jnp.maximum(jnp.sum(real), 1).astype(x.dtype)
    x = jnp.where(real[:, None], x - jnp.sum(x, axis=0, keepdims=True) / count, 0)
    second = power_of_two_scale(x)
    x = x / second
    # a sigma below the smallest normal is 0 to XLA: clamp it, so exact 0 / sigma stays 0 and
    # any other difference / sigma is inf (affinity e^-inf = 0, its true value to round-off)
    scaled_sigma = jnp.maximum(sigma / first / second, jnp.finfo(x.dtype).tiny)
    # direct differences, not the Gram expansion: see pairwise_sq_distances (+62 % for two
    # clusters at ±500 in float32)
    d2 = pairwise_sq_distances(x, x, scaled_sigma)
    # NaN points under jit or a bad traced sigma: the result is NaN below, and the affinity stays
    # finite so that no check of laplacian_spectrum reports an "adjacency" the caller never passed
    affinity = jnp.where(finite & params_ok, jnp.exp(-d2 / 2), 0)
    mu = laplacian_spectrum(affinity, mask, normalized=True)
    padding = mu == jnp.inf  # a NaN mode (NaN sigma under jit) is no padding: it stays NaN
    lam = jnp.abs(1 - jnp.where(padding, jnp.ones_like(mu), mu))
    # round-off zeros of P are dropped. Kept, the n - 1 zeros of identical points (computed as
    # 1-2 eps in float32) added 4e-3 nats to an exact 0 at n = 2000. The bound: |1 - mu| is
    # resolved to ulp(1) = eps at best, and P = D^-1/2 W D^-1/2 is PSD (a Gaussian kernel), so a
    # computed 1 - mu < 0 is pure round-off and its largest size measures this eigh's error (8-18
    # eps in float64 at n = 40-1000, 1-2 eps in float32 on CPU; positive zeros came out up to 1.5
    # times that). A fixed n eps (the rank rule of log_spectrum) would drop real modes: a Gaussian
    # kernel's spectrum decays smoothly through [eps, n eps] (1.4 % of DSE at n = 1000, float32).
    top = jax.lax.stop_gradient(jnp.max(jnp.where(padding, 0, lam)))
    negative = jax.lax.stop_gradient(jnp.max(jnp.where(padding, 0, mu - 1)))  # NaN stays NaN
    floor = jnp.maximum(4 * jnp.finfo(lam.dtype).eps * top, 2 * negative)
    keep = ~padding & ~(lam <= floor)  # NaN kept: NaN out
    logits = jnp.where(keep, t * jnp.log(jnp.where(keep, lam, jnp.ones_like(lam))), -jnp.inf)
    # NaN in (under jit): NaN out, not the entropy of the finite modes alone
    return jnp.where(finite & params_ok, info.shannon_entropy(logits), jnp.nan)


def _rescaled_on_host(points, sigma, mask):
    r"""``(points / s, sigma / s)`` for NumPy points, ``s`` a power of two, before the cast.

    DSE is invariant to :math:`(x, \sigma) \to (x/s, \sigma/s)`; dividing in float64 on the
    host keeps a cloud that the cast to float32 would make subnormal (flushed to 0 by XLA: the
    DSE of points at 1e-40 came out 0 for 1.81) or inf. ``s`` is taken over the real points
    when the mask is concrete. The scaled :math:`\sigma` is clamped to the computing float's
    normal range, as the device code clamps it: far below every distance the points are
    isolated, far above them DSE is 0. A bad ``sigma`` (not finite and positive) is left as
    given, for the check to name it. JAX arrays and non-float input pass through unchanged.
    """
    if isinstance(points, jax.Array) or isinstance(points, np.ma.MaskedArray):
        return points, sigma
    try:
        host = np.asarray(points)
    except ValueError:  # ragged: as_float_array names it
        return points, sigma
    if host.dtype.kind != "f" or host.ndim != 2 or host.size == 0:
        return points, sigma
    real = host
    if mask is not None and _checks.is_concrete(mask):
        keep = np.asarray(mask)
        if keep.shape == host.shape[:1] and keep.dtype == np.bool_:
            real = host[keep]
    scale = host_power_of_two_scale(real)
    target = np.dtype(jax.dtypes.canonicalize_dtype(
        np.float64 if host.dtype.itemsize >= 8 else host.dtype))
    if not _checks.is_concrete(sigma):
        top = float(np.max(np.abs(real[np.isfinite(real)]), initial=0.0))
        finfo = np.finfo(target)
        if top != 0.0 and not float(finfo.tiny / finfo.eps) <= top <= float(finfo.max):
            raise ValueError(
                f"points are at a scale {target.name} cannot hold (largest |x| {top:.3g}; its "
                f"normal numbers span {finfo.tiny:.3g} to {finfo.max:.3g}), and sigma is "
                "traced, so the two cannot be rescaled together on the host. Pass sigma as a "
                "number, rescale points and sigma by the same factor (DSE is invariant to it), "
                "or compute in float64 (jax.config.update('jax_enable_x64', True))."
            )
        return points, sigma
    try:
        width = np.asarray(sigma)
    except (TypeError, ValueError):
        return points, sigma
    if width.dtype.kind not in "iuf" or not np.all((width > 0) & np.isfinite(width)):
        return points, sigma  # the checks report sigma as given
    finfo = np.finfo(target)
    width = np.clip(width.astype(np.float64) / scale, finfo.tiny, finfo.max)
    out = (host.astype(np.float64) / scale).astype(
        np.float64 if host.dtype.itemsize > 8 else host.dtype)
    return out, width
