"""`TimeSeriesStimulus`: sampled values per region, interpolated linearly in time."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..equations._base import concrete
from ._base import AbstractPatternStimulus, check_variables


class TimeSeriesStimulus(AbstractPatternStimulus):
    r"""An explicit stimulus time course per region (a recording, or a designed or
    optimised control), interpolated linearly between its samples.

    $$S_i(t) = u_{k,i} + \frac{t - t_k}{t_{k+1} - t_k}\,(u_{k+1,i} - u_{k,i}),
      \qquad t_k \leq t \leq t_{k+1}$$

    Outside $[t_0, t_{T-1}]$ the first or last sample is held (as `numpy.interp`
    does). Evenly spaced sample times (an optimised control's grid, a resampled
    recording) are found by arithmetic, $k = \lfloor (t - t_0)/h \rfloor$, and
    other times by a binary search (`jnp.searchsorted`), which costs more at every
    solver stage; a simulation should check `covers(t0, t1)` first, and
    `check_covers(t0, t1)` raises a `ValueError` that names the fix. The
    interpolation is differentiable with respect to the samples (and to `t`), so the
    samples can be optimised by gradient descent.

    **Arguments:**

    - `times`: `(T,)` sample times in ms, strictly increasing, $T \geq 2$ (need not
      be evenly spaced).
    - `values`: `(T, N)` samples, one column per region (added to every stimulated
      variable), or `(T, N, V)`, one slice per entry of `variables`. Stored as the
      field `samples` (replace it with `eqx.tree_at(lambda s: s.samples, ...)`).
    - `variables`: the stimulated state variable(s); None (default) for the
      network's coupled variables.

    `values(t)` returns the `(N,)` (or `(N, V)`) interpolated values at time `t`
    (shape `S + (N,)` for times of shape `S`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        times = jnp.array([0.0, 10.0, 20.0])
        samples = jnp.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # 3 times, 2 regions
        stim = nm.stimuli.TimeSeriesStimulus(times, samples, variables="x")
        print(stim.values(5.0))  # [0.5 1. ]
        print(stim.covers(0.0, 30.0))  # False: the samples end at 20 ms
        ```
    """

    times: Float[Array, " times"]
    samples: Float[Array, "times nodes *vars"]
    variables: tuple[str, ...] | None = eqx.field(static=True)
    evenly_spaced: bool = eqx.field(static=True)
    _nodes_argument: ClassVar[str] = "values"

    def __init__(
        self,
        times: Float[ArrayLike, " times"],
        values: Float[ArrayLike, "times nodes *vars"],
        variables: str | tuple[str, ...] | None = None,
    ):
        dtype = jnp.result_type(float)
        times = jnp.asarray(times, dtype=dtype)
        values = jnp.asarray(values, dtype=dtype)
        if times.ndim != 1 or times.shape[0] < 2:
            raise ValueError(
                "`TimeSeriesStimulus(times=...)` must be a 1-D array of at least two "
                f"sample times (ms); got shape {times.shape}."
            )
        if values.ndim not in (2, 3) or values.shape[0] != times.shape[0]:
            raise ValueError(
                "`TimeSeriesStimulus(values=...)` must have shape (T, N) (one column "
                "per region) or (T, N, V) (one slice per variable), with T = "
                f"len(times) = {times.shape[0]}; got shape {values.shape}. For a "
                "single region use `values[:, None]`."
            )
        t = concrete(times)
        if t is not None:
            if not np.all(np.isfinite(t)):
                raise ValueError("`TimeSeriesStimulus(times=...)` must be finite.")
            steps = np.diff(t)
            if np.any(steps <= 0):
                k = int(np.flatnonzero(steps <= 0)[0])
                raise ValueError(
                    "`TimeSeriesStimulus(times=...)` must be strictly increasing; "
                    f"times[{k}] = {t[k]} is followed by times[{k + 1}] = {t[k + 1]}. "
                    "Sort the samples and drop repeated times."
                )
        v = concrete(values)
        if v is not None and not np.all(np.isfinite(v)):
            bad = np.argwhere(~np.isfinite(v))[0].tolist()
            raise ValueError(
                "`TimeSeriesStimulus(values=...)` must be finite; got NaN or inf at "
                f"index {tuple(bad)}."
            )
        variables = check_variables("TimeSeriesStimulus", variables)
        if values.ndim == 3 and variables is not None:
            if values.shape[2] != len(variables):
                raise ValueError(
                    f"`TimeSeriesStimulus(values=...)` has {values.shape[2]} slices "
                    f"(last axis, one per variable) but `variables` names "
                    f"{len(variables)}: {variables}. Give one name per slice."
                )
        self.times = times
        self.samples = values
        self.variables = variables
        self.evenly_spaced = t is not None and _evenly_spaced(t)

    @property
    def n_nodes(self) -> int:
        return self.samples.shape[1]

    @property
    def per_variable(self) -> bool:
        return self.samples.ndim == 3

    def values(self, t: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """The samples interpolated linearly at time(s) `t` (ms), the end samples
        held outside `[times[0], times[-1]]`: shape `(N,)` (or `(N, V)`) for a
        scalar time, with the shape of `t` in front for an array of times."""
        t = jnp.asarray(t)
        last = self.times.shape[0] - 2

        def at_search(ti):
            k = jnp.clip(jnp.searchsorted(self.times, ti, side="right") - 1, 0, last)
            t0, t1 = self.times[k], self.times[k + 1]
            w = jnp.clip((ti - t0) / (t1 - t0), 0.0, 1.0)
            return self.samples[k] * (1.0 - w) + self.samples[k + 1] * w

        def at_even(ti):
            # k = floor((t - t_0) / h) and the weight by arithmetic, no search.
            # Where round-off puts t one sample off (t within an ulp of a sample
            # time) the weight is clipped to 0 or 1: the same value, to round-off.
            s = (ti - self.times[0]) * ((last + 1) / (self.times[-1] - self.times[0]))
            k = jnp.clip(jnp.floor(s).astype(jnp.int32), 0, last)
            w = jnp.clip(s - k.astype(s.dtype), 0.0, 1.0)
            a = jax.lax.dynamic_index_in_dim(self.samples, k, 0, keepdims=False)
            b = jax.lax.dynamic_index_in_dim(self.samples, k + 1, 0, keepdims=False)
            return a * (1.0 - w) + b * w

        at = at_even if self.evenly_spaced else at_search

        if t.ndim == 0:
            return at(t)
        out = jax.vmap(at)(t.reshape(-1))
        return out.reshape(t.shape + out.shape[1:])

    def _span(self):
        t = concrete(self.times)
        if t is None:
            return self.times[0], self.times[-1], 0.0
        return float(t[0]), float(t[-1]), 1e-9 * float(t[-1] - t[0])

    @property
    def tabulated(self) -> bool:
        """True: a simulation reads the samples for a stretch of steps at once."""
        return True

    def covers(self, t0: float, t1: float) -> bool:
        """Whether `[t0, t1]` (ms) lies within `[times[0], times[-1]]` (up to a
        round-off of 1e-9 of the sampled span). A traced boolean when the times or
        bounds are traced."""
        first, last, tol = self._span()
        inside = jnp.logical_and(
            jnp.asarray(t0) >= first - tol, jnp.asarray(t1) <= last + tol
        )
        value = concrete(inside)
        return inside if value is None else bool(value)

    def check_covers(self, t0: float, t1: float) -> None:
        """Raise a `ValueError` if `[t0, t1]` (ms) is not within the sampled
        interval (nothing is checked when the values are traced)."""
        times = concrete(self.times)
        if self.evenly_spaced and times is not None and not _evenly_spaced(times):
            raise ValueError(
                "`TimeSeriesStimulus(times=...)` were evenly spaced when it was built "
                "and have been replaced by unevenly spaced times (e.g. with "
                "`eqx.tree_at`); build a new `TimeSeriesStimulus(times, values)`."
            )
        covered = self.covers(t0, t1)
        if isinstance(covered, bool) and not covered:
            first, last, _ = self._span()
            raise ValueError(
                f"`TimeSeriesStimulus(times=...)` covers [{first:g}, {last:g}] ms but "
                f"the simulation needs it over [{float(t0):g}, {float(t1):g}] ms; give "
                "samples over the whole simulated interval (or shorten the run)."
            )


def _evenly_spaced(t: np.ndarray) -> bool:
    """Whether the times `t` lie within 1e-3 steps of an even grid."""
    if t.ndim != 1 or t.shape[0] < 2:
        return False
    h = (t[-1] - t[0]) / (t.shape[0] - 1)
    grid = t[0] + h * np.arange(t.shape[0])
    return bool(h > 0 and np.max(np.abs(t - grid)) <= 1e-3 * h)
