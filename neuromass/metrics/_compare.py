"""Scores comparing a simulated FC, FCD or spectrum with a target (e.g. empirical)
one."""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._common import (
    as_real_array,
    batch_shape,
    broadcast_batch,
    check_eps,
    check_square,
    standardize,
)
from ._fc import upper_triangle


def fc_corr(
    fc_a: Float[ArrayLike, "... nodes nodes"],
    fc_b: Float[ArrayLike, "... nodes nodes"],
    *,
    eps: float = 1e-12,
) -> Float[Array, "..."]:
    r"""Pearson correlation between two FC matrices over their upper triangles.

    With $a$ and $b$ the upper triangles (diagonal excluded, $M = n(n-1)/2$ entries)
    of the two matrices,

    $$
    r = \frac{1}{M} \sum_{m=1}^{M}
        \frac{a_m - \bar a}{\sqrt{\sigma_a^2 + \varepsilon}}
        \frac{b_m - \bar b}{\sqrt{\sigma_b^2 + \varepsilon}} .
    $$

    The usual goodness-of-fit score between a simulated and an empirical FC
    (higher is better, at most 1). Dimensionless. The $\varepsilon$ guard works as
    in `neuromass.metrics.fc`: a matrix with constant upper triangle scores 0
    with finite gradients.

    **Arguments:**

    - `fc_a`, `fc_b`: square matrices of shape `(..., n, n)` with the same `n >= 3`.
        Their leading batch axes broadcast against each other, so a batch of
        simulated FCs can be scored against one target.
    - `eps`: variance floor, in squared units of the entries. Default `1e-12`.

    **Returns:**

    The correlations, shape: the broadcast batch shape.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        x = np.random.default_rng(0).standard_normal((2, 400, 6))   # two runs
        print(metrics.fc_corr(metrics.fc(x[0]), metrics.fc(x[1])))
        ```
    """
    a = as_real_array(fc_a, "fc_a", "fc_corr")
    b = as_real_array(fc_b, "fc_b", "fc_corr")
    check_square(a, "fc_a", "fc_corr", min_size=3)
    check_square(b, "fc_b", "fc_corr", min_size=3)
    _check_same_size(a, b, "fc_corr")
    check_eps(eps, "fc_corr")
    batch_shape(a, b, ("fc_a", "fc_b"), "fc_corr")
    return _fc_corr(a, b, eps)


@jax.jit
def _fc_corr(a: Array, b: Array, eps) -> Array:
    a, b = broadcast_batch(a, b)
    za = standardize(upper_triangle(a), axis=-1, eps=eps)
    zb = standardize(upper_triangle(b), axis=-1, eps=eps)
    return jnp.mean(za * zb, axis=-1)


def fc_mse(
    fc_a: Float[ArrayLike, "... nodes nodes"],
    fc_b: Float[ArrayLike, "... nodes nodes"],
) -> Float[Array, "..."]:
    r"""Mean squared difference between two FC matrices over their upper triangles.

    $$
    \mathrm{MSE} = \frac{2}{n(n-1)} \sum_{i<j}
        \left(\mathrm{FC}^{a}_{ij} - \mathrm{FC}^{b}_{ij}\right)^2 .
    $$

    A differentiable loss for fitting a model FC to a target: unlike
    `neuromass.metrics.fc_corr` it also penalises a global offset or
    scale. Units: squared units of the entries (dimensionless for FCs). As a
    function of a model's parameters it is only as smooth as the FC estimate of a
    finite noisy run: for oscillatory or chaotic networks it can be rugged at the
    scale of an optimiser's steps (see the fitting guide, "Why a fit can go the
    wrong way").

    **Arguments:**

    - `fc_a`, `fc_b`: square matrices of shape `(..., n, n)` with the same
        `n >= 2`; their leading batch axes broadcast against each other.

    **Returns:**

    The mean squared errors, shape: the broadcast batch shape.

    !!! example

        ```python
        import jax
        import numpy as np
        from neuromass import metrics

        x = np.random.default_rng(0).standard_normal((400, 6))
        target = np.eye(6)
        loss, grad = jax.jit(
            jax.value_and_grad(lambda x: metrics.fc_mse(metrics.fc(x), target))
        )(x)
        ```
    """
    a = as_real_array(fc_a, "fc_a", "fc_mse")
    b = as_real_array(fc_b, "fc_b", "fc_mse")
    check_square(a, "fc_a", "fc_mse", min_size=2)
    check_square(b, "fc_b", "fc_mse", min_size=2)
    _check_same_size(a, b, "fc_mse")
    batch_shape(a, b, ("fc_a", "fc_b"), "fc_mse")
    return _fc_mse(a, b)


@jax.jit
def _fc_mse(a: Array, b: Array) -> Array:
    a, b = broadcast_batch(a, b)
    diff = upper_triangle(a) - upper_triangle(b)
    return jnp.mean(diff * diff, axis=-1)


def log_spectrum_mse(
    power_a: Float[ArrayLike, "... freqs nodes"],
    power_b: Float[ArrayLike, "... freqs nodes"],
    *,
    eps: float = 1e-12,
) -> Float[Array, "..."]:
    r"""Mean squared difference of two power spectra on a logarithmic scale.

        With $P^a_{fi}$, $P^b_{fi}$ the power of region $i$ at frequency $f$ (e.g. from
        `neuromass.metrics.psd`, restricted to a band of interest), $F$
        frequencies and $n$ regions,

        $$
        D = rac{1}{F n} \sum_{f, i}
            \left(\ln (P^a_{fi} + arepsilon) - \ln (P^b_{fi} + arepsilon)
    ight)^2 .
        $$

        Comparing logarithms weighs a peak's position and shape rather than its
        height alone, and scales every frequency alike. A loss for fitting spectra; on
        the Jansen-Rit problem of the fitting guide its landscape in the coupling was
        smoother than that of `neuromass.metrics.fc_mse` (the gradient had
        the sign of the loss's slope at 10 of 10 points, against 9 of 10). Units:
        dimensionless (squared natural logarithms).

        **Arguments:**

        - `power_a`, `power_b`: spectra of shape `(..., freqs, nodes)` with the same
            last two axes; their leading batch axes broadcast against each other.
        - `eps`: added to the powers before the logarithm (in their units), `>= 0`;
            keeps a zero power finite. Default `1e-12`.

        **Returns:**

        The distances, shape: the broadcast batch shape.

        !!! example

            ```python
            import numpy as np
            from neuromass import metrics

            t = np.arange(4000) * 1.0                              # ms
            x = np.sin(2 * np.pi * 0.010 * t)[:, None] + 0.1 * np.random.randn(4000, 2)
            y = np.sin(2 * np.pi * 0.012 * t)[:, None] + 0.1 * np.random.randn(4000, 2)
            freqs, pa = metrics.psd(x, dt=1.0, nperseg=500)
            _, pb = metrics.psd(y, dt=1.0, nperseg=500)
            band = (freqs >= 2) & (freqs <= 40)
            print(metrics.log_spectrum_mse(pa[band], pb[band]))
            ```
    """
    a = as_real_array(power_a, "power_a", "log_spectrum_mse")
    b = as_real_array(power_b, "power_b", "log_spectrum_mse")
    for x, name in ((a, "power_a"), (b, "power_b")):
        if x.ndim < 2:
            raise ValueError(
                f"`log_spectrum_mse` expects `{name}` of shape (..., freqs, nodes); "
                f"got shape {x.shape}. For one region pass `{name}[:, None]`."
            )
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(
            "`log_spectrum_mse` needs spectra with the same (freqs, nodes); got "
            f"{a.shape[-2:]} and {b.shape[-2:]}: compute both with the same `dt`, "
            "`nperseg` and band."
        )
    check_eps(eps, "log_spectrum_mse")
    batch_shape(a, b, ("power_a", "power_b"), "log_spectrum_mse")
    return _log_spectrum_mse(a, b, eps)


@jax.jit
def _log_spectrum_mse(a: Array, b: Array, eps) -> Array:
    a, b = broadcast_batch(a, b)
    diff = jnp.log(a + eps) - jnp.log(b + eps)
    return jnp.mean(diff * diff, axis=(-2, -1))


def _check_same_size(a: Array, b: Array, fn: str) -> None:
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"`{fn}` compares matrices over the same regions, but `fc_a` is "
            f"{a.shape[-2]}x{a.shape[-1]} and `fc_b` is {b.shape[-2]}x{b.shape[-1]}."
        )


def _ks_exact(a: Array, b: Array) -> Array:
    sorted_a = jnp.sort(a)
    sorted_b = jnp.sort(b)
    pooled = jnp.concatenate([sorted_a, sorted_b])
    count_a = jnp.searchsorted(sorted_a, pooled, side="right")
    count_b = jnp.searchsorted(sorted_b, pooled, side="right")
    n_a, n_b = a.shape[-1], b.shape[-1]
    if n_a == n_b:  # difference of integer counts: exactly 0 for identical samples
        return jnp.max(jnp.abs(count_a - count_b)).astype(a.dtype) / n_a
    cdf_a = count_a.astype(a.dtype) / n_a
    cdf_b = count_b.astype(a.dtype) / n_b
    return jnp.max(jnp.abs(cdf_a - cdf_b))


def _ks_smooth(a: Array, b: Array) -> Array:
    sorted_a = jnp.sort(a)
    sorted_b = jnp.sort(b)
    pooled = jnp.concatenate([sorted_a, sorted_b])
    levels_a = (jnp.arange(a.shape[-1], dtype=a.dtype) + 0.5) / a.shape[-1]
    levels_b = (jnp.arange(b.shape[-1], dtype=a.dtype) + 0.5) / b.shape[-1]
    cdf_a = jnp.interp(pooled, sorted_a, levels_a, left=0.0, right=1.0)
    cdf_b = jnp.interp(pooled, sorted_b, levels_b, left=0.0, right=1.0)
    return jnp.max(jnp.abs(cdf_a - cdf_b))


def fcd_ks(
    fcd_a: Float[ArrayLike, "... windows_a windows_a"],
    fcd_b: Float[ArrayLike, "... windows_b windows_b"],
    *,
    smooth: bool = False,
) -> Float[Array, "..."]:
    r"""Kolmogorov–Smirnov distance between the value distributions of two FCDs.

    With $F_a$ and $F_b$ the empirical distribution functions of the upper-triangle
    entries (diagonal excluded) of the two `neuromass.metrics.fcd` matrices,

    $$
    D = \sup_v \left| F_a(v) - F_b(v) \right| \in [0, 1],
    $$

    the statistic of `scipy.stats.ks_2samp(a, b).statistic`. This is the usual FCD
    fit score (lower is better); the two FCDs may have different numbers of
    windows. Dimensionless.

    **Gradients.** $D$ depends on the values only through their ranks, so it is
    piecewise constant: `jax.grad` returns zeros almost everywhere, which is useless
    for fitting. With `smooth=True` each $F$ is replaced by the piecewise-linear
    interpolation through the points $(v_{(k)}, (k - \tfrac12)/n)$ of the sorted
    values $v_{(1)} \le \dots \le v_{(n)}$ (0 below the smallest value, 1 above the
    largest). The result is continuous in the values and has nonzero gradients;
    it differs from the exact $D$ by at most $\tfrac{1}{2 n_a} + \tfrac{1}{2 n_b}$
    and costs the same $O(n \log n)$ sort.

    **Arguments:**

    - `fcd_a`, `fcd_b`: square matrices of shape `(..., W_a, W_a)` and
        `(..., W_b, W_b)`, each with at least 3 windows; their leading batch axes
        broadcast against each other.
    - `smooth`: use the interpolated, differentiable variant. Default `False`.

    **Returns:**

    The distances, shape: the broadcast batch shape.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        x = np.random.default_rng(0).standard_normal((2, 600, 5))
        fcds = metrics.fcd(x, window=60, step=10)     # (2, 55, 55)
        print(metrics.fcd_ks(fcds[0], fcds[1]))
        ```
    """
    a = as_real_array(fcd_a, "fcd_a", "fcd_ks")
    b = as_real_array(fcd_b, "fcd_b", "fcd_ks")
    check_square(a, "fcd_a", "fcd_ks", min_size=3)
    check_square(b, "fcd_b", "fcd_ks", min_size=3)
    batch_shape(a, b, ("fcd_a", "fcd_b"), "fcd_ks")
    return _fcd_ks(a, b, bool(smooth))


@functools.partial(jax.jit, static_argnums=2)
def _fcd_ks(a: Array, b: Array, smooth: bool) -> Array:
    dtype = jnp.result_type(a.dtype, b.dtype)
    a, b = broadcast_batch(a.astype(dtype), b.astype(dtype))
    values_a = upper_triangle(a)
    values_b = upper_triangle(b)
    one = _ks_smooth if smooth else _ks_exact
    flat = jax.vmap(one)(
        values_a.reshape((-1, values_a.shape[-1])),
        values_b.reshape((-1, values_b.shape[-1])),
    )
    return flat.reshape(a.shape[:-2])
