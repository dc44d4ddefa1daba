"""Power spectral density (Welch) and spectral peaks."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._common import as_real_array, check_series, lead, static_int, static_positive


_COSINE_WINDOWS = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.5, 0.08),
    "boxcar": (1.0,),
}


def _window(window, nperseg: int, fn: str) -> np.ndarray:
    """Periodic ("DFT-even") window of length `nperseg`, as `scipy.signal.get_window`
    builds it for spectral analysis."""
    if isinstance(window, str):
        if window not in _COSINE_WINDOWS:
            raise ValueError(
                f"`{fn}` knows the windows {sorted(_COSINE_WINDOWS)}; got "
                f"{window!r}. For another window pass its values as a 1-D array of "
                "length `nperseg`."
            )
        phase = 2 * np.pi * np.arange(nperseg) / nperseg
        coefs = _COSINE_WINDOWS[window]
        return sum((-1) ** k * c * np.cos(k * phase) for k, c in enumerate(coefs))
    values = np.asarray(window, dtype=float)
    if values.shape != (nperseg,):
        raise ValueError(
            f"`{fn}` needs an array `window` of shape (nperseg,) = ({nperseg},); got "
            f"shape {values.shape}."
        )
    if not np.all(np.isfinite(values)) or not np.any(values != 0):
        raise ValueError(f"`{fn}` needs a finite, not all-zero `window`.")
    return values


def _welch(x: Array, dt, nperseg, noverlap, window, nfft, fn: str):
    """Validate; return the frequencies in Hz and the arguments of `_welch_power`."""
    check_series(x, "x", fn, min_time=2)
    dt = static_positive(dt, "dt", fn)
    n_time = x.shape[-2]
    if nperseg is None:
        nperseg = min(256, n_time)
    else:
        nperseg = static_int(nperseg, "nperseg", fn, 2)
        if nperseg > n_time:
            raise ValueError(
                f"`{fn}`: `nperseg` = {nperseg} is longer than the series "
                f"({n_time} samples on axis -2 of `x`); use `nperseg` <= {n_time}, "
                "or leave it as None."
            )
    if noverlap is None:
        noverlap = nperseg // 2
    else:
        noverlap = static_int(noverlap, "noverlap", fn, 0)
        if noverlap >= nperseg:
            raise ValueError(
                f"`{fn}` needs `noverlap` < `nperseg` = {nperseg}; got {noverlap}."
            )
    if nfft is None:
        nfft = nperseg
    else:
        nfft = static_int(nfft, "nfft", fn, nperseg)
    win = _window(window, nperseg, fn)

    fs = 1000.0 / dt
    weight = np.full(nfft // 2 + 1, 1.0 / (fs * np.sum(win**2)))
    weight[1 : (nfft + 1) // 2] *= 2.0  # one-sided: fold negative frequencies
    return np.fft.rfftfreq(nfft, d=dt / 1000.0), (win, weight, nperseg, noverlap, nfft)


@functools.partial(jax.jit, static_argnums=(3, 4, 5))
def _welch_power(
    x: Array, win: Array, weight: Array, nperseg: int, noverlap: int, nfft: int
) -> Array:
    stride = nperseg - noverlap
    n_segments = (x.shape[-2] - noverlap) // stride
    index = np.arange(n_segments)[:, None] * stride + np.arange(nperseg)[None, :]
    segments = x[..., index, :]  # (..., S, L, N)
    segments = segments - jnp.mean(segments, axis=-2, keepdims=True)
    segments = segments * lead(win[:, None].astype(x.dtype), segments.ndim)
    spectrum = jnp.fft.rfft(segments, n=nfft, axis=-2)  # (..., S, F, N)
    power = jnp.mean(spectrum.real**2 + spectrum.imag**2, axis=-3)  # (..., F, N)
    return power * lead(weight[:, None].astype(x.dtype), power.ndim)


@functools.partial(jax.jit, static_argnums=(5, 6, 7))
def _peak_frequency(
    x: Array,
    win: Array,
    weight: Array,
    candidates: Array,
    selected: Array,
    nperseg: int,
    noverlap: int,
    nfft: int,
) -> Array:
    power = _welch_power(x, win, weight, nperseg, noverlap, nfft)[..., selected, :]
    return candidates.astype(x.dtype)[jnp.argmax(power, axis=-2)]


def psd(
    x: Float[ArrayLike, "... time nodes"],
    *,
    dt: float,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str | Float[ArrayLike, " nperseg"] = "hann",
    nfft: int | None = None,
) -> tuple[Float[Array, " freqs"], Float[Array, "... freqs nodes"]]:
    r"""Power spectral density of each region by Welch's method.

    The series is cut into segments of $L$ = `nperseg` samples overlapping by
    `noverlap` samples; each segment $s$ has its mean removed, is multiplied by the
    window $w$ and Fourier transformed ($X_s(f)$, zero-padded to `nfft` points).
    With sampling rate $f_s = 1000 / \mathrm{d}t$ Hz,

    $$
    P(f) = \frac{c_f}{f_s \sum_{n} w_n^2} \, \frac{1}{S} \sum_{s=1}^{S}
        \left| X_s(f) \right|^2, \qquad
    c_f = \begin{cases} 1 & f = 0 \text{ or } f = f_s / 2 \\
                        2 & \text{otherwise,} \end{cases}
    $$

    the one-sided density, so that $\sum_f P(f)\,\Delta f$ approximates the variance
    of the signal. This matches `scipy.signal.welch(x, fs=1000/dt, axis=-2)` with its
    defaults (`detrend="constant"`, `scaling="density"`, `average="mean"`), except
    that a `nperseg` longer than the series is an error here, not a warning.

    **Arguments:**

    - `x`: signals of shape `(..., time, nodes)`.
    - `dt`: sample spacing of `x` in ms (a concrete number, not traced).
    - `nperseg`: segment length in samples; default `min(256, time)`.
    - `noverlap`: overlap between segments in samples; default `nperseg // 2`.
    - `window`: `"hann"` (default), `"hamming"`, `"blackman"`, `"boxcar"` (periodic
        versions, as scipy uses for spectra), or an array of `nperseg` values.
    - `nfft`: FFT length $\ge$ `nperseg` (zero padding); default `nperseg`.

    **Returns:**

    A tuple `(freqs, power)`: `freqs` of shape `(nfft // 2 + 1,)` in Hz, from 0 to
    the Nyquist frequency $f_s / 2$; `power` of shape `(..., freqs, nodes)` in
    squared units of `x` per Hz.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        t = np.arange(4000) * 0.5                        # ms, dt = 0.5 ms
        x = np.sin(2 * np.pi * np.array([0.010, 0.040]) * t[:, None])  # 10, 40 Hz
        freqs, power = metrics.psd(x, dt=0.5, nperseg=1000)
        print(freqs[power.argmax(axis=0)])               # [10. 40.]
        ```
    """
    x = as_real_array(x, "x", "psd")
    freqs, config = _welch(x, dt, nperseg, noverlap, window, nfft, "psd")
    return jnp.asarray(freqs, dtype=x.dtype), _welch_power(x, *config)


def peak_frequency(
    x: Float[ArrayLike, "... time nodes"],
    *,
    dt: float,
    fmin: float | None = None,
    fmax: float | None = None,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str | Float[ArrayLike, " nperseg"] = "hann",
    nfft: int | None = None,
) -> Float[Array, "... nodes"]:
    r"""Frequency of the largest peak of each region's power spectrum.

    $$
    f_{\mathrm{peak}} = \operatorname*{arg\,max}_{f_{\min} \le f \le f_{\max}} P(f),
    $$

    with $P$ the Welch `neuromass.metrics.psd` (same `nperseg`, `noverlap`,
    `window`, `nfft`). The result lies on the Welch frequency grid, whose spacing is
    $f_s / \mathrm{nfft}$ Hz: increase `nperseg` (longer series) or `nfft` (zero
    padding) for a finer grid. Being an argmax it is piecewise constant in `x`, so
    its gradient is zero; fit the spectrum itself for gradient-based work.

    **Arguments:**

    - `x`: signals of shape `(..., time, nodes)`.
    - `dt`: sample spacing of `x` in ms.
    - `fmin`: lowest frequency considered, in Hz. Default `None`: every frequency
        above 0 Hz (the 0 Hz bin is a mean, not an oscillation).
    - `fmax`: highest frequency considered, in Hz. Default `None`: up to Nyquist.
    - `nperseg`, `noverlap`, `window`, `nfft`: as for `neuromass.metrics.psd`.

    **Returns:**

    Peak frequencies in Hz, shape `(..., nodes)`.

    !!! example

        ```python
        import numpy as np
        from neuromass import metrics

        t = np.arange(2000.0)                                     # ms
        x = np.sin(2 * np.pi * 0.011 * t)[:, None] + 0.3          # 11 Hz + offset
        print(metrics.peak_frequency(x, dt=1.0, nperseg=1000))    # [11.]
        ```
    """
    x = as_real_array(x, "x", "peak_frequency")
    freqs, config = _welch(x, dt, nperseg, noverlap, window, nfft, "peak_frequency")
    band = freqs > 0 if fmin is None else freqs >= fmin
    if fmax is not None:
        band &= freqs <= fmax
    if not band.any():
        raise ValueError(
            f"`peak_frequency`: no frequency of the Welch grid (0 to {freqs[-1]:g} "
            f"Hz in steps of {freqs[1]:g} Hz) lies in the band fmin={fmin}, "
            f"fmax={fmax}; widen the band, or refine the grid with a larger "
            "`nperseg` or `nfft`."
        )
    win, weight, *sizes = config
    selected = np.flatnonzero(band)
    return _peak_frequency(x, win, weight, freqs[selected], selected, *sizes)
