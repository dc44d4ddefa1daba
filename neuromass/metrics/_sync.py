"""Phase synchrony: analytic signal, Kuramoto order parameter, metastability."""

import functools
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from ._common import as_real_array, check_series, lead, safe_sqrt, static_int


def _analytic(x: Array, demean: bool) -> Array:
    n_time = x.shape[-2]
    spectrum = jnp.fft.fft(x, axis=-2)
    # Keep 0 Hz (and Nyquist for even lengths) once, double positive frequencies,
    # drop negative ones: the inverse transform is then x + i H[x].
    gain = np.zeros(n_time)
    gain[0] = 0.0 if demean else 1.0
    gain[1 : (n_time + 1) // 2] = 2.0
    if n_time % 2 == 0:
        gain[n_time // 2] = 1.0
    gain = lead(gain[:, None].astype(spectrum.dtype), spectrum.ndim)
    return jnp.fft.ifft(spectrum * gain, axis=-2)


def analytic_signal(
    x: Float[ArrayLike, "... time nodes"], *, demean: bool = False
) -> Complex[Array, "... time nodes"]:
    r"""Analytic signal $x + i\,\mathcal{H}[x]$ along time, by FFT.

    With $X(k)$ the discrete Fourier transform of the $T$ samples,

    $$
    z(t) = \mathrm{IFFT}\left[ X(k)\, h(k) \right], \qquad
    h(k) = \begin{cases} 1 & k = 0 \text{ or } k = T/2 \\
                         2 & 0 < k < T/2 \\
                         0 & k > T/2, \end{cases}
    $$

    identical to `scipy.signal.hilbert(x, axis=-2)`. The transform treats the
    series as periodic, so the first and last few oscillation cycles are less
    reliable; trim them if that matters. Its modulus $|z(t)|$ is the amplitude
    envelope (units of `x`).

    **Arguments:**

    - `x`: real signals of shape `(..., time, nodes)`.
    - `demean`: remove each region's temporal mean first ($h(0) = 0$). Default
        `False` (as scipy).

    **Returns:**

    Complex array of the shape of `x`.

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        from neuromass import metrics

        t = np.arange(1000.0)                               # ms
        x = 2.0 * np.cos(2 * np.pi * 0.01 * t)[:, None]     # 10 Hz, amplitude 2
        print(jnp.abs(metrics.analytic_signal(x))[500])     # [2.]
        ```
    """
    x = as_real_array(x, "x", "analytic_signal")
    check_series(x, "x", "analytic_signal")
    return _analytic_signal(x, bool(demean))


def _phase(z: Array) -> Array:
    # Angle with a finite gradient where the amplitude is exactly 0 (phase set to 0).
    re, im = z.real, z.imag
    zero = (re == 0) & (im == 0)
    return jnp.where(
        zero, 0.0, jnp.arctan2(jnp.where(zero, 0.0, im), jnp.where(zero, 1.0, re))
    )


def analytic_phase(
    x: Float[ArrayLike, "... time nodes"], *, demean: bool = False
) -> Float[Array, "... time nodes"]:
    r"""Instantaneous phase of each region from the analytic signal.

    $$
    \theta_j(t) = \arg z_j(t) \in (-\pi, \pi],
    $$

    with $z$ the `neuromass.metrics.analytic_signal`; equal to
    `numpy.angle(scipy.signal.hilbert(x, axis=-2))`. The phase is meaningful for
    narrow-band signals oscillating around their mean: use `demean=True` (or
    band-pass filter first) when the signal has an offset. Where the amplitude is
    exactly 0 the phase is set to 0, with a finite gradient. Radians.

    **Arguments:**

    - `x`: real signals of shape `(..., time, nodes)`.
    - `demean`: remove each region's temporal mean first. Default `False` (as
        scipy).

    **Returns:**

    Phases in radians, same shape as `x`.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        t = np.arange(1000.0)                          # ms
        x = np.cos(2 * np.pi * 0.01 * t)[:, None]      # 10 Hz
        theta = metrics.analytic_phase(x)              # ~ 2 pi 0.01 t, wrapped
        ```
    """
    x = as_real_array(x, "x", "analytic_phase")
    check_series(x, "x", "analytic_phase")
    return _analytic_phase(x, bool(demean))


def _order(phases: Array) -> Array:
    c = jnp.mean(jnp.cos(phases), axis=-1)
    s = jnp.mean(jnp.sin(phases), axis=-1)
    return safe_sqrt(c * c + s * s)


def kuramoto_order(
    phases: Float[ArrayLike, "... time nodes"],
) -> Float[Array, "... time"]:
    r"""Kuramoto order parameter: phase coherence across regions at each time.

    $$
    R(t) = \left| \frac{1}{N} \sum_{j=1}^{N} e^{i \theta_j(t)} \right| \in [0, 1],
    $$

    1 when all $N$ regions share one phase, near 0 when phases are spread out
    (about $1/\sqrt{N}$ for independent uniform phases). Dimensionless. Computed from
    the means of $\cos\theta_j$ and $\sin\theta_j$; the gradient is finite
    everywhere (taken as 0 where $R = 0$ exactly).

    **Arguments:**

    - `phases`: phases in radians, shape `(..., time, nodes)`, e.g. from
        `neuromass.metrics.analytic_phase` or the phase variable
        of a Kuramoto network.

    **Returns:**

    $R(t)$, shape `(..., time)`.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        theta = np.zeros((100, 8))                  # (time, nodes), all in phase
        print(metrics.kuramoto_order(theta)[:3])    # [1. 1. 1.]
        ```
    """
    phases = as_real_array(phases, "phases", "kuramoto_order")
    check_series(phases, "phases", "kuramoto_order")
    return _kuramoto_order(phases)


def kuramoto_order_from_signal(
    x: Float[ArrayLike, "... time nodes"], *, demean: bool = True
) -> Float[Array, "... time"]:
    r"""Kuramoto order parameter of signals, through their analytic phases.

    $$
    R(t) = \left| \frac{1}{N} \sum_{j=1}^{N} e^{i \theta_j(t)} \right|, \qquad
    \theta_j = \arg\left(x_j + i\,\mathcal{H}[x_j]\right),
    $$

    that is `kuramoto_order(analytic_phase(x, demean=demean))`. Unlike
    `analytic_phase`, each region's mean is removed by default, since an offset
    (common in neural-mass state variables) distorts the phase.

    **Arguments:**

    - `x`: real signals of shape `(..., time, nodes)`, ideally narrow-band.
    - `demean`: remove each region's temporal mean first. Default `True`.

    **Returns:**

    $R(t)$, shape `(..., time)`, dimensionless in $[0, 1]$.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        t = np.arange(2000.0)[:, None]                       # ms
        lags = np.linspace(0.0, 0.5, 6)                      # rad
        x = 1.0 + np.sin(2 * np.pi * 0.01 * t + lags)        # 10 Hz, offset 1
        print(metrics.kuramoto_order_from_signal(x)[1000])   # ~0.99
        ```
    """
    x = as_real_array(x, "x", "kuramoto_order_from_signal")
    check_series(x, "x", "kuramoto_order_from_signal")
    return _order_from_signal(x, bool(demean))


def metastability(
    x: Float[ArrayLike, "... time nodes"] | Float[ArrayLike, "... time"],
    *,
    kind: Literal["signal", "phases", "order"] | None = None,
    demean: bool = True,
    ddof: int = 0,
) -> Float[Array, "..."]:
    r"""Metastability: how much global phase synchrony fluctuates over time.

    The standard deviation over time of the Kuramoto order parameter,

    $$
    \mathrm{M} = \sqrt{\frac{1}{T - \mathrm{ddof}} \sum_{t=1}^{T}
        \left(R(t) - \bar R\right)^2},
    $$

    following Deco et al. (2017). Shanahan (2010) introduced the idea with the
    *variance* of synchrony within each community of oscillators, averaged over
    communities; square this value for the variance of the global $R$. A network
    that stays fully synchronised or fully incoherent has $\mathrm{M} \approx 0$;
    one that keeps visiting both has a large $\mathrm{M}$ (at most 0.5).
    Dimensionless. The gradient is finite, and 0 where $R$ is exactly constant.

    **Arguments:**

    - `x`: $R(t)$ itself, or what it is computed from, according to `kind`.
    - `kind`: what `x` holds.
        - `"order"`: $R(t)$, shape `(..., time)`.
        - `"signal"`: signals `(..., time, nodes)`; $R$ is
          `neuromass.metrics.kuramoto_order_from_signal`.
        - `"phases"`: phases in radians `(..., time, nodes)`; $R$ is
          `neuromass.metrics.kuramoto_order`.
        - `None` (default): a 1-D `x` is $R(t)$; for any other shape `kind` must be
          given, because a batch of $R(t)$ `(batch, time)` and one signal
          `(time, nodes)` cannot be told apart.
    - `demean`: with `kind="signal"`, remove each region's mean first. Default `True`.
    - `ddof`: delta degrees of freedom of the standard deviation. Default 0
        (population standard deviation, as `numpy.std`).

    **Returns:**

    Metastability, shape `(...)`.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        x = np.random.default_rng(0).standard_normal((1000, 10))  # (time, nodes)
        print(metrics.metastability(x, kind="signal"))
        r = metrics.kuramoto_order_from_signal(x)                 # (time,)
        print(metrics.metastability(r))                           # the same
        ```

    ??? cite "References"

        ```bibtex
        @article{shanahan2010metastable,
            author = {Shanahan, Murray},
            title = {Metastable chimera states in community-structured oscillator
                     networks},
            journal = {Chaos},
            volume = {20},
            number = {1},
            pages = {013108},
            year = {2010},
            doi = {10.1063/1.3305451}
        }

        @article{deco2017dynamics,
            author = {Deco, Gustavo and Kringelbach, Morten L. and Jirsa, Viktor K.
                      and Ritter, Petra},
            title = {The dynamics of resting fluctuations in the brain:
                     metastability and its dynamical cortical core},
            journal = {Scientific Reports},
            volume = {7},
            pages = {3095},
            year = {2017},
            doi = {10.1038/s41598-017-03073-5}
        }
        ```
    """
    if kind not in ("signal", "phases", "order", None):
        raise ValueError(
            "`metastability` needs `kind` to be 'signal', 'phases', 'order' or None; "
            f"got {kind!r}."
        )
    x = as_real_array(x, "x", "metastability")
    if kind is None:
        if x.ndim != 1:
            raise ValueError(
                "`metastability` cannot tell from its shape alone what `x` of shape "
                f"{x.shape} holds: pass kind='signal' for signals (..., time, "
                "nodes), kind='phases' for phases (..., time, nodes), or "
                "kind='order' for a batch of R(t) (..., time)."
            )
        kind = "order"
    if kind == "order":
        if x.ndim < 1:
            raise ValueError(
                "`metastability` with kind='order' expects `x` = R(t) of shape "
                f"(..., time); got shape {x.shape}."
            )
    else:
        check_series(x, "x", "metastability")
    ddof = static_int(ddof, "ddof", "metastability", 0)
    n_time = x.shape[-1] if kind == "order" else x.shape[-2]
    if n_time - ddof < 1:
        raise ValueError(
            f"`metastability` needs more than ddof={ddof} time samples; got {n_time}."
        )
    return _metastability(x, kind, bool(demean), ddof)


@functools.partial(jax.jit, static_argnums=1)
def _analytic_signal(x: Array, demean: bool) -> Array:
    return _analytic(x, demean)


@functools.partial(jax.jit, static_argnums=1)
def _analytic_phase(x: Array, demean: bool) -> Array:
    return _phase(_analytic(x, demean))


@jax.jit
def _kuramoto_order(phases: Array) -> Array:
    return _order(phases)


@functools.partial(jax.jit, static_argnums=1)
def _order_from_signal(x: Array, demean: bool) -> Array:
    return _order(_phase(_analytic(x, demean)))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _metastability(x: Array, kind: str, demean: bool, ddof: int) -> Array:
    if kind == "signal":
        r = _order(_phase(_analytic(x, demean)))
    elif kind == "phases":
        r = _order(x)
    else:
        r = x
    centred = r - jnp.mean(r, axis=-1, keepdims=True)
    return safe_sqrt(jnp.sum(centred * centred, axis=-1) / (r.shape[-1] - ddof))
