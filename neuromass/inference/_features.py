"""Summary features of simulated activity for simulation-based inference."""

import jax.numpy as jnp
from jaxtyping import Array, Float

from ..metrics import fc as _fc, fcd as _fcd, peak_frequency, upper_triangle


def summary_features(
    x: Float[Array, "time nodes"],
    *,
    dt: float,
    fcd_window: float | None = None,
    fcd_step: float | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    nperseg: int | None = None,
) -> dict[str, Float[Array, "..."]]:
    r"""A standard set of summary features of one simulated (or recorded) run.

    For activity $x_{ti}$ sampled every `dt` ms:

    - `"fc"`: the upper triangle ($i < j$) of the functional connectivity
        (`nm.metrics.fc`), Fisher-transformed,
        $\operatorname{artanh}(\mathrm{FC}_{ij})$ (clipped to $\pm 0.999$);
    - `"fcd_mean"`, `"fcd_std"`: mean and standard deviation of the off-diagonal
        FCD entries (`nm.metrics.fcd`), when `fcd_window` is given;
    - `"peak_freq"`: each region's spectral peak frequency in Hz
        (`nm.metrics.peak_frequency`, Welch);
    - `"mean"`, `"std"`: each region's temporal mean and standard deviation
        (amplitude statistics).

    Pure `jax.numpy`: use it inside a vmapped sweep function.

    **Arguments:**

    - `x`: `(time, nodes)` activity.
    - `dt`: its sampling interval in ms.
    - `fcd_window`, `fcd_step`: FCD window length and step in ms (`fcd_step`
        defaults to half the window); no FCD features without `fcd_window`
        (FCD needs at least 3 regions).
    - `fmin`, `fmax`, `nperseg`: passed to `nm.metrics.peak_frequency`.

    **Returns:**

    A dict of arrays (the columns of a simulation table).

    !!! example

        ```python
        feats = nmi.summary_features(sol["x"], dt=1.0, fcd_window=200.0)
        sorted(feats)   # ['fc', 'fcd_mean', 'fcd_std', 'mean', 'peak_freq', 'std']
        ```
    """
    x = jnp.asarray(x)
    out = {
        "fc": jnp.arctanh(jnp.clip(upper_triangle(_fc(x)), -0.999, 0.999)),
        "peak_freq": peak_frequency(x, dt=dt, fmin=fmin, fmax=fmax, nperseg=nperseg),
        "mean": jnp.mean(x, axis=0),
        "std": jnp.std(x, axis=0),
    }
    if fcd_window is not None:
        step = fcd_window / 2.0 if fcd_step is None else fcd_step
        d = upper_triangle(_fcd(x, fcd_window, step, dt=dt))
        out["fcd_mean"] = jnp.mean(d)
        out["fcd_std"] = jnp.std(d)
    return out
