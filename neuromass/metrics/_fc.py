"""Functional connectivity (FC) and its sliding-window dynamics (FCD)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._common import (
    as_real_array,
    check_eps,
    check_series,
    check_square,
    lead,
    standardize,
    static_int,
    static_positive,
)


def upper_triangle(m: Float[ArrayLike, "... n n"], k: int = 1) -> Float[Array, "... m"]:
    r"""Flatten the upper triangle of a (batch of) square matrices.

    Takes the entries $m_{ij}$ with $j - i \ge k$, row by row (the order of
    `numpy.triu_indices`). With the default `k=1` the diagonal is left out, which is
    what FC comparisons use since $\mathrm{FC}_{ii} = 1$ carries no information.

    **Arguments:**

    - `m`: array of shape `(..., n, n)`; leading axes are batch axes.
    - `k`: diagonal offset: `0` includes the diagonal, `1` (default) starts just
        above it. Must be an integer in `[0, n]`.

    **Returns:**

    Array of shape `(..., n_entries)` with `n_entries = (n - k) (n - k + 1) / 2`.

    !!! example

        ```python
        import jax.numpy as jnp
        from neuromass import metrics

        m = jnp.arange(9.0).reshape(3, 3)
        print(metrics.upper_triangle(m))  # [1. 2. 5.]
        ```
    """
    m = jnp.asarray(m)
    check_square(m, "m", "upper_triangle")
    n = m.shape[-1]
    k = static_int(k, "k", "upper_triangle", 0)
    if k > n:
        raise ValueError(f"`upper_triangle` needs `k` <= n = {n}; got k={k}.")
    rows, cols = np.triu_indices(n, k)
    return m[..., rows, cols]


@jax.jit
def _fc(x: Array, eps) -> Array:
    n_time, n_nodes = x.shape[-2:]
    z = standardize(x, axis=-2, eps=eps)
    corr = (
        jnp.einsum("...ti,...tj->...ij", z, z, precision=jax.lax.Precision.HIGHEST)
        / n_time
    )
    # Rounding can push |corr| past 1 (e.g. for identical signals in float32).
    corr = jnp.clip(corr, -1.0, 1.0)
    eye = lead(np.eye(n_nodes, dtype=bool), corr.ndim)
    return jnp.where(eye, 1.0, corr)


def fc(
    x: Float[ArrayLike, "... time nodes"], *, eps: float = 1e-12
) -> Float[Array, "... nodes nodes"]:
    r"""Functional connectivity: the Pearson correlation between all pairs of regions.

    With $\bar x_i$ and $\sigma_i^2$ the mean and (population) variance over the $T$
    samples of region $i$,

    $$
    \mathrm{FC}_{ij} = \frac{1}{T} \sum_{t=1}^{T}
        \frac{x_i(t) - \bar x_i}{\sqrt{\sigma_i^2 + \varepsilon}}
        \frac{x_j(t) - \bar x_j}{\sqrt{\sigma_j^2 + \varepsilon}},
        \qquad \mathrm{FC}_{ii} = 1 .
    $$

    For $\varepsilon = 0$ this is `numpy.corrcoef(x.T)`. The small $\varepsilon$ keeps
    the value and its gradient finite when a region is constant (a fixed point, a
    silent region): such a region gets correlation 0 with every other region instead
    of NaN. For ordinary signals the relative change is about $\varepsilon /
    \sigma^2$, negligible unless the variance is itself near $\varepsilon$. The
    diagonal is set to exactly 1, and values are clipped to $[-1, 1]$ against
    rounding (as NumPy does). Dimensionless; independent of the time unit.

    **Arguments:**

    - `x`: signals of shape `(..., time, nodes)`; leading axes are batch axes.
        Integers are converted to floats.
    - `eps`: variance floor $\varepsilon \ge 0$, in squared units of `x`.
        Default `1e-12`.

    **Returns:**

    The correlation matrices, shape `(..., nodes, nodes)`, symmetric, with entries
    in $[-1, 1]$.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        x = np.random.default_rng(0).standard_normal((500, 4))   # (time, nodes)
        print(metrics.fc(x).shape)                               # (4, 4)
        ```
    """
    x = as_real_array(x, "x", "fc")
    check_series(x, "x", "fc", min_time=2)
    check_eps(eps, "fc")
    return _fc(x, eps)


def _to_samples(value, name: str, dt: float | None) -> int:
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise ValueError(
            f"`fcd` needs `{name}` as a Python number (it fixes array shapes); got "
            f"{type(value).__name__}."
        )
    if not value > 0:
        raise ValueError(f"`fcd` needs a positive `{name}`; got {value}.")
    if dt is None:
        if not float(value).is_integer():
            raise ValueError(
                f"`fcd` reads `{name}` in samples when `dt` is not given, so it must "
                f"be an integer; got {value}. To give it in ms, also pass `dt` (the "
                "sample spacing in ms)."
            )
        return int(value)
    samples = int(round(float(value) / dt))
    if samples < 1:
        raise ValueError(
            f"`fcd`: `{name}` = {value} ms is shorter than one sample (dt = {dt} ms)."
        )
    return samples


def fcd(
    x: Float[ArrayLike, "... time nodes"],
    window: int | float,
    step: int | float,
    *,
    dt: float | None = None,
    eps: float = 1e-12,
) -> Float[Array, "... windows windows"]:
    r"""Functional connectivity dynamics: how similar FC is between time windows.

    The series is cut into windows of $L$ samples starting every $S$ samples,
    $w = 0, \dots, W - 1$ with $W = \lfloor (T - L) / S \rfloor + 1$ (trailing samples
    that do not fill a window are dropped). With $\mathrm{FC}^{(w)}$ the
    `neuromass.metrics.fc` of window $w$ and $u^{(w)}$ its upper triangle
    (diagonal excluded),

    $$
    \mathrm{FCD}_{vw} = \operatorname{corr}\left(u^{(v)}, u^{(w)}\right),
    $$

    the Pearson correlation over the $n(n-1)/2$ region pairs, with the same
    $\varepsilon$ guard as `fc` at both stages. Dimensionless.

    **Arguments:**

    - `x`: signals of shape `(..., time, nodes)`, at least 3 nodes.
    - `window`: window length $L$: in samples, or in ms when `dt` is given (then
        rounded to the nearest whole number of samples). At least 2 samples and at
        most the length of the series.
    - `step`: distance $S$ between window starts, in samples or in ms like `window`.
    - `dt`: sample spacing of `x` in ms. If `None` (default) `window` and `step` are
        integers counted in samples.
    - `eps`: variance floor, see `neuromass.metrics.fc`.

    **Returns:**

    The FCD matrices, shape `(..., W, W)`, symmetric with unit diagonal.

    Memory is about $W \cdot n^2$ numbers per batch element (all windowed FCs are
    kept, which is what makes the result differentiable).

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        bold = np.random.default_rng(0).standard_normal((300, 5))  # TR = 2000 ms
        m = metrics.fcd(bold, window=60_000.0, step=4_000.0, dt=2000.0)
        print(m.shape)                                    # (136, 136)
        ```
    """
    x = as_real_array(x, "x", "fcd")
    check_series(x, "x", "fcd", min_time=2)
    check_eps(eps, "fcd")
    if dt is not None:
        dt = static_positive(dt, "dt", "fcd")
    n_time, n_nodes = x.shape[-2:]
    if n_nodes < 3:
        raise ValueError(
            f"`fcd` needs at least 3 regions (so that each FC has at least 2 "
            f"distinct pairs to correlate); got shape {x.shape}."
        )
    length = _to_samples(window, "window", dt)
    stride = _to_samples(step, "step", dt)
    unit = "samples" if dt is None else f"samples at dt = {dt} ms"
    if length < 2:
        raise ValueError(
            f"`fcd` needs a window of at least 2 samples; got {length} {unit}."
        )
    if length > n_time:
        raise ValueError(
            f"`fcd` window of {length} {unit} is longer than the series "
            f"({n_time} samples on axis -2 of `x`, shape {x.shape}); use a shorter "
            "`window` or a longer series."
        )
    return _fcd(x, eps, length, stride)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _fcd(x: Array, eps, length: int, stride: int) -> Array:
    n_windows = (x.shape[-2] - length) // stride + 1
    index = np.arange(n_windows)[:, None] * stride + np.arange(length)[None, :]
    windows = x[..., index, :]  # (..., W, L, N)
    pairs = upper_triangle(_fc(windows, eps), k=1)  # (..., W, N(N-1)/2)
    return _fc(jnp.swapaxes(pairs, -1, -2), eps)
