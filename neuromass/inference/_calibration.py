"""Calibration checks: simulation-based calibration ranks and interval coverage."""

import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
from jaxtyping import ArrayLike, Float


def sbc_ranks(
    truths: Float[ArrayLike, "datasets ..."],
    samples: Float[ArrayLike, "datasets draws ..."],
) -> np.ndarray:
    r"""Simulation-based calibration ranks (Talts et al. 2018).

    For $L$ synthetic datasets, each simulated from a true $\theta^{(l)}$ drawn
    from the prior, and $S$ posterior draws $\theta^{(l)}_s$ given that dataset,
    the rank of the truth among the draws is

    $$r^{(l)} = \#\{s : \theta^{(l)}_s < \theta^{(l)}\} \in \{0, \dots, S\}.$$

    If the posterior is calibrated, each element's ranks are uniform on
    $\{0, \dots, S\}$ (a check with `neuromass.inference.rank_uniformity`).
    Posterior draws should be (nearly) independent: thin MCMC chains to their
    effective sample size first.

    **Arguments:**

    - `truths`: `(L, *params)` the true values.
    - `samples`: `(L, S, *params)` posterior draws for each dataset.

    **Returns:**

    `(L, *params)` integer ranks.

    !!! example

        ```python
        import numpy as np
        import neuromass.inference as nmi

        rng = np.random.default_rng(0)
        truths = rng.normal(size=(200,))
        draws = rng.normal(size=(200, 99))   # the prior, a calibrated "posterior"
        ranks = nmi.sbc_ranks(truths, draws)  # uniform on 0..99
        ```
    """
    t = np.asarray(truths)
    s = np.asarray(samples)
    if s.ndim < 2 or s.shape[0] != t.shape[0] or s.shape[2:] != t.shape[1:]:
        raise ValueError(
            f"`samples` must have shape (datasets, draws, *params) = "
            f"({t.shape[0]}, S, {', '.join(map(str, t.shape[1:]))}); got {s.shape}."
        )
    return (s < t[:, None]).sum(axis=1)


def rank_uniformity(
    ranks: ArrayLike, num_draws: int, bins: int | None = None
) -> np.ndarray:
    r"""p-values of Pearson's $\chi^2$ test that SBC ranks are uniform.

    The ranks $\{0, \dots, S\}$ are grouped into $B$ contiguous bins; with $O_b$
    the counts and $E_b = L\,w_b / (S + 1)$ for a bin holding $w_b$ rank values,

    $$\chi^2 = \sum_{b=1}^{B} \frac{(O_b - E_b)^2}{E_b}, \qquad
      p = \Pr\left[\chi^2_{B-1} \ge \chi^2\right].$$

    A small p-value (e.g. below 0.01) flags a miscalibrated posterior: a U shape
    means intervals too narrow, a hump too wide, a slope a bias.

    **Arguments:**

    - `ranks`: `(L, *params)` from `neuromass.inference.sbc_ranks`.
    - `num_draws`: $S$, the number of draws the ranks were computed from.
    - `bins`: $B$ (default: $\min(S + 1, \max(2, L / 10))$ so that every bin
        expects about 10 ranks).

    **Returns:**

    `(*params)` p-values.
    """
    r = np.asarray(ranks)
    n = r.shape[0]
    if bins is None:
        bins = int(min(num_draws + 1, max(2, n // 10)))
    if bins < 2:
        raise ValueError(f"`bins` must be >= 2; got {bins}.")
    b = np.floor(r * bins / (num_draws + 1)).astype(int)
    counts = np.stack([(b == i).sum(axis=0) for i in range(bins)])
    values = np.floor(np.arange(num_draws + 1) * bins / (num_draws + 1)).astype(int)
    width = np.bincount(values, minlength=bins)  # rank values per bin
    expected = (n * width / (num_draws + 1)).reshape((bins,) + (1,) * (r.ndim - 1))
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=0)
    return np.asarray(jsp.gammaincc((bins - 1) / 2.0, jnp.asarray(chi2) / 2.0))


def coverage(
    truths: Float[ArrayLike, "datasets ..."],
    samples: Float[ArrayLike, "datasets draws ..."],
    level: float = 0.9,
) -> np.ndarray:
    """The fraction of datasets whose true value lies inside the central posterior
    interval of probability `level`, per parameter element; close to `level` for a
    calibrated posterior (binomial error $\\sqrt{\\ell (1 - \\ell) / L}$)."""
    t = np.asarray(truths)
    s = np.asarray(samples)
    q = (1.0 - level) / 2.0
    lo = np.quantile(s, q, axis=1)
    hi = np.quantile(s, 1.0 - q, axis=1)
    return ((t >= lo) & (t <= hi)).mean(axis=0)
