"""Synthetic connectomes from the exponential distance rule (EDR)."""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._connectome import Connectome


# The generalised golden ratio for three dimensions: the real root of
# x**4 = x + 1. Its inverse powers give the additive-recurrence ("R3")
# low-discrepancy sequence used to place region centres.
_PHI3 = 1.2207440846057596
_R3_STEP = np.array([1.0 / _PHI3, 1.0 / _PHI3**2, 1.0 / _PHI3**3])
_MAX_CANDIDATES = 1_000_000

# The parameters of the bundled default connectome; they are also the defaults of
# `generate_edr_connectome`, and are stored in the shipped file as JSON.
DEFAULT_EDR_PARAMETERS: dict[str, Any] = {
    "n_per_hemisphere": 38,
    "decay": 0.08,
    "axons_per_region": 64,
    "tortuosity": 1.25,
    "semi_axes": [70.0, 85.0, 60.0],
    "midline_gap": 5.0,
    "shell": [0.5, 0.9],
    "seed": 2013,
}


def _hemisphere_centres(
    n: int,
    semi_axes: tuple[float, float, float],
    midline_gap: float,
    shell: tuple[float, float],
) -> np.ndarray:
    """The left-hemisphere centres, `(n, 3)`, sorted from anterior to posterior."""
    axes = np.asarray(semi_axes, dtype=np.float64)
    inner, outer = shell
    # Bounding box of the admissible region: x in [-outer * ax, -gap], and
    # y, z within +-outer times their semi-axes.
    low = np.array([-outer * axes[0], -outer * axes[1], -outer * axes[2]])
    high = np.array([-midline_gap, outer * axes[1], outer * axes[2]])
    accepted = []
    for k in range(1, _MAX_CANDIDATES + 1):
        unit = np.mod(0.5 + k * _R3_STEP, 1.0)
        point = low + unit * (high - low)
        radius = math.sqrt(float(np.sum((point / axes) ** 2)))
        if inner <= radius <= outer:
            accepted.append(point)
            if len(accepted) == n:
                break
    else:
        raise ValueError(
            f"Could not place {n} region centres in the shell {shell} of the "
            f"ellipsoid with semi-axes {semi_axes} mm and midline gap "
            f"{midline_gap} mm; widen `shell` or reduce `midline_gap`."
        )
    points = np.stack(accepted)
    order = np.argsort(-points[:, 1], kind="stable")
    return points[order]


def _edr_arrays(
    n_per_hemisphere: int,
    decay: float,
    axons_per_region: int,
    tortuosity: float,
    semi_axes: Sequence[float],
    midline_gap: float,
    shell: Sequence[float],
    seed: int,
) -> dict[str, Any]:
    """The generator's float64 numpy output (weights, lengths, centres, labels)."""
    if not isinstance(n_per_hemisphere, int) or n_per_hemisphere < 1:
        raise ValueError(
            f"`n_per_hemisphere` must be a positive int; got {n_per_hemisphere!r}."
        )
    if not isinstance(axons_per_region, int) or axons_per_region < 1:
        raise ValueError(
            f"`axons_per_region` must be a positive int; got {axons_per_region!r}."
        )
    if not (math.isfinite(decay) and decay >= 0):
        raise ValueError(f"`decay` must be a finite rate >= 0 in 1/mm; got {decay!r}.")
    if not (math.isfinite(tortuosity) and tortuosity >= 1):
        raise ValueError(
            "`tortuosity` (tract length / straight-line distance) must be >= 1; "
            f"got {tortuosity!r}."
        )
    semi = tuple(float(a) for a in semi_axes)
    if len(semi) != 3 or not all(math.isfinite(a) and a > 0 for a in semi):
        raise ValueError(
            f"`semi_axes` must be three positive lengths in mm; got {semi_axes!r}."
        )
    inner, outer = (float(s) for s in shell)
    if not 0 <= inner < outer <= 1:
        raise ValueError(
            "`shell` must be (inner, outer) fractions with 0 <= inner < outer <= 1; "
            f"got {tuple(shell)!r}."
        )
    if not 0 <= midline_gap < outer * semi[0]:
        raise ValueError(
            f"`midline_gap` must be in [0, {outer * semi[0]}) mm for these "
            f"`semi_axes` and `shell`; got {midline_gap!r}."
        )
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int; got {seed!r}.")

    left = _hemisphere_centres(n_per_hemisphere, semi, midline_gap, (inner, outer))
    right = left * np.array([-1.0, 1.0, 1.0])
    centres = np.concatenate([left, right])
    n = centres.shape[0]
    width = max(2, len(str(n_per_hemisphere)))
    labels = [f"L{k:0{width}d}" for k in range(1, n_per_hemisphere + 1)] + [
        f"R{k:0{width}d}" for k in range(1, n_per_hemisphere + 1)
    ]

    distance = np.sqrt(np.sum((centres[:, None, :] - centres[None, :, :]) ** 2, -1))
    affinity = np.exp(-decay * distance)
    np.fill_diagonal(affinity, 0.0)

    # Each source region j sends `axons_per_region` axons; each axon lands in
    # target i != j with probability proportional to exp(-decay * d_ij). Targets
    # are drawn by inverting the cumulative distribution with uniform variates,
    # which keeps the output tied only to the PCG64 bit stream of `seed`.
    rng = np.random.default_rng(seed)
    counts = np.zeros((n, n), dtype=np.int64)
    for source in range(n):
        cdf = np.cumsum(affinity[:, source])
        cdf = cdf / cdf[-1]
        draws = rng.random(axons_per_region)
        targets = np.searchsorted(cdf, draws, side="right")
        counts[:, source] = np.bincount(targets, minlength=n)

    return {
        "weights": counts / counts.max(),
        "lengths": tortuosity * distance,
        "centres": centres,
        "labels": labels,
    }


def generate_edr_connectome(
    n_per_hemisphere: int = DEFAULT_EDR_PARAMETERS["n_per_hemisphere"],
    *,
    decay: float = DEFAULT_EDR_PARAMETERS["decay"],
    axons_per_region: int = DEFAULT_EDR_PARAMETERS["axons_per_region"],
    tortuosity: float = DEFAULT_EDR_PARAMETERS["tortuosity"],
    semi_axes: Sequence[float] = tuple(DEFAULT_EDR_PARAMETERS["semi_axes"]),
    midline_gap: float = DEFAULT_EDR_PARAMETERS["midline_gap"],
    shell: Sequence[float] = tuple(DEFAULT_EDR_PARAMETERS["shell"]),
    seed: int = DEFAULT_EDR_PARAMETERS["seed"],
) -> Connectome:
    r"""Generate a synthetic two-hemisphere connectome with the exponential distance
    rule (EDR).

    With the default arguments this reproduces, bit for bit, the bundled default
    connectome returned by
    `neuromass.datasets.load_connectome`.

    **Geometry.** The brain is the ellipsoid
    $(x/a_x)^2 + (y/a_y)^2 + (z/a_z)^2 \le 1$ with `semi_axes` $(a_x, a_y, a_z)$
    in mm (x: left to right, y: posterior to anterior, z: inferior to
    superior). Left-hemisphere centres are the first `n_per_hemisphere` points
    of the deterministic additive-recurrence ("R3") low-discrepancy sequence
    $u_k = \{0.5 + k\,(\phi^{-1}, \phi^{-2}, \phi^{-3})\}$, $k = 1, 2, \ldots$,
    ($\phi \approx 1.22074$ is the real root of $\phi^4 = \phi + 1$), mapped
    into the box around the admissible region and kept when they fall in the
    shell `shell[0]` $\le \rho \le$ `shell[1]` of normalised ellipsoidal radius
    $\rho$ and at least `midline_gap` mm left of the midsagittal plane
    $x = 0$. They are sorted from anterior to posterior and labelled `"L01"`,
    `"L02"`, ...; the right hemisphere is their mirror image $x \to -x$,
    labelled `"R01"`, ... in the same order. Regions `0 .. n-1` are left,
    `n .. 2n-1` right. No randomness is involved in this step.

    **Wiring (EDR).** Ercsey-Ravasz et al. (2013) found that the number of
    axons between macaque cortical areas decays exponentially with their
    distance, $p(d) \propto e^{-\lambda d}$ with $\lambda \approx 0.19$ /mm,
    and that a model drawing axon lengths from this law reproduces the
    inter-areal network. This function is a region-level version of that
    model: every region sends `axons_per_region` axons, and each axon from
    region $j$ ends in region $i \ne j$ with probability
    $e^{-\lambda d_{ij}} / \sum_{k \ne j} e^{-\lambda d_{kj}}$, where $d_{ij}$ is
    the Euclidean distance between centres and $\lambda$ = `decay`. The weight
    `weights[i, j]` is the number of axons to $i$ from $j$, divided by the
    largest count (so the maximum weight is 1 and the diagonal is 0). Because
    every region sends the same number of axons, all column sums (out-strengths)
    are equal. The default $\lambda = 0.08$ /mm is the macaque value scaled by
    the ratio of linear brain sizes (about 2.4) and gives about 28% non-zero
    off-diagonal weights, similar to TVB's 76-region connectome.

    **Lengths.** `lengths = tortuosity * d`: tracts are longer than straight
    lines. The default 1.25 gives a longest tract of about 167 mm, i.e. a
    largest delay of about 17 ms at 10 mm/ms.

    **Arguments:**

    - `n_per_hemisphere`: regions per hemisphere (the network has twice this).
    - `decay`: the EDR rate $\lambda$ in 1/mm; larger means more local wiring.
    - `axons_per_region`: axons sent by each region; more axons means a denser,
        smoother weight matrix.
    - `tortuosity`: tract length divided by straight-line distance, $\ge 1$.
    - `semi_axes`: ellipsoid semi-axes $(a_x, a_y, a_z)$ in mm.
    - `midline_gap`: smallest distance of a centre from the plane $x = 0$, mm.
    - `shell`: `(inner, outer)` bounds on the normalised ellipsoidal radius of
        the centres, `0 <= inner < outer <= 1`.
    - `seed`: seed of the `numpy.random.default_rng` stream that draws the axons.

    **Returns:**

    A `neuromass.datasets.Connectome` named `"edr_<N>"` whose
    `source` records the exact call (all parameters and the seed).

    !!! example

        ```python
        from neuromass.datasets import generate_edr_connectome

        conn = generate_edr_connectome(n_per_hemisphere=10, decay=0.1, seed=0)
        conn.n_regions                           # 20
        ```

    ??? cite "Reference"

        ```bibtex
        @article{ercsey-ravasz2013predictive,
            title={A Predictive Network Model of Cerebral Cortical Connectivity
                   Based on a Distance Rule},
            author={Ercsey-Ravasz, M{\'a}ria and Markov, Nikola T. and
                    Lamy, Camille and Van Essen, David C. and Knoblauch, Kenneth
                    and Toroczkai, Zolt{\'a}n and Kennedy, Henry},
            journal={Neuron},
            volume={80},
            number={1},
            pages={184--197},
            year={2013},
            doi={10.1016/j.neuron.2013.07.036}
        }
        ```
    """
    params = {
        "n_per_hemisphere": n_per_hemisphere,
        "decay": decay,
        "axons_per_region": axons_per_region,
        "tortuosity": tortuosity,
        "semi_axes": [float(a) for a in semi_axes],
        "midline_gap": midline_gap,
        "shell": [float(s) for s in shell],
        "seed": seed,
    }
    arrays = _edr_arrays(**params)
    call = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return Connectome(
        arrays["weights"],
        arrays["lengths"],
        labels=arrays["labels"],
        centres=arrays["centres"],
        name=f"edr_{2 * n_per_hemisphere}",
        source=f"neuromass.datasets.generate_edr_connectome({call})",
    )
