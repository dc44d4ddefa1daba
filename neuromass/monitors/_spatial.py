"""Spatial averages: over all regions (`GlobalAverage`) and over regions of
interest (`SpatialAverage`, e.g. ROI BOLD)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._base import AbstractMonitor


def _names(variables):
    if variables is None:
        return None
    return (variables,) if isinstance(variables, str) else tuple(variables)


def _averaging_matrix(mask) -> tuple[np.ndarray, tuple]:
    """`(G, N)` matrix averaging the regions of each group, and the group labels."""
    mask = np.asarray(mask)
    if mask.ndim != 1 or mask.size == 0:
        raise ValueError(
            "`mask` must be a non-empty 1-D array of group labels, one per region; "
            f"got shape {mask.shape}."
        )
    labels = tuple(np.unique(mask).tolist())
    member = (mask[None, :] == np.asarray(labels, dtype=mask.dtype)[:, None]).astype(
        float
    )
    return member / member.sum(axis=1, keepdims=True), labels


class SpatialAverage(AbstractMonitor):
    r"""Averages over groups of regions (regions of interest), as TVB's
    `SpatialAverage`: with the group labels `mask` (one per region),

    $$a_g(t_m) = \frac{1}{|g|}\sum_{i:\,\mathrm{mask}_i = g} x_i(t_m)$$

    for the groups $g$ in sorted label order (`labels`). Either of the state
    variables, sampled every `every` ms (instantaneous values, as in TVB), or of the
    samples of another periodic monitor given as `source`: with
    `source=Bold(...)`, the ROI BOLD signal (the average of the regional BOLD
    signals of each ROI, at every TR). `neuromass.monitors.SpatialAverage.reduce`
    applies the same average to any `(..., N)` array after a simulation.

    **Arguments:**

    - `mask`: `(N,)` integer (or string) labels, e.g. a parcellation or
      `connectome.hemispheres`.
    - `every`: sampling period in ms (default: every step); ignored with `source`.
    - `variables`: the state variables to average (default: all).
    - `source`: optional periodic monitor whose `(N,)` samples are averaged.
    - `name`: output key (default `"spatial"`).

    Output: `{variable: (T, G)}`, or `(T, G)` with a source.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        hemi = np.arange(76) >= 38  # two groups of 38 regions
        net = nm.Network(nm.models.Hopf(a=0.1), conn.weights, k=0.1)
        roi = nm.monitors.SpatialAverage(hemi, every=1.0, variables="x")
        roi_bold = nm.monitors.SpatialAverage(
            hemi, source=nm.monitors.Bold("x", tr=100.0), name="roi_bold"
        )
        sol = nm.simulate(net, t1=300.0, dt=0.5, monitors=[roi, roi_bold])
        sol["spatial"]["x"].shape, sol["roi_bold"].shape   # (300, 2), (3, 2)
        ```
    """

    matrix: Float[Array, "groups nodes"]
    labels: tuple = eqx.field(static=True)
    every: float | None = eqx.field(static=True)
    variables: tuple[str, ...] | None = eqx.field(static=True)
    source: AbstractMonitor | None
    name: str = eqx.field(static=True)

    def __init__(
        self,
        mask,
        every: float | None = None,
        variables=None,
        source: AbstractMonitor | None = None,
        name: str = "spatial",
    ):
        matrix, labels = _averaging_matrix(mask)
        self.matrix = jnp.asarray(matrix)
        self.labels = labels
        self.every = every
        self.variables = (
            tuple(getattr(source, "variables", ()) or ())
            if source is not None
            else _names(variables)
        )
        self.source = source
        self.name = name
        if source is not None and source.period(1.0) is None:
            raise ValueError(
                f"`source` must be a periodic monitor; {type(source).__name__} is a "
                "streaming monitor."
            )

    @property
    def warm_through_transient(self):
        return self.source is not None and self.source.warm_through_transient

    def reduce(self, x: Float[Array, "... nodes"]) -> Float[Array, "... groups"]:
        """The group averages of an array whose last axis is the regions."""
        x = jnp.asarray(x)
        return x @ jnp.asarray(self.matrix, x.dtype).T

    def period(self, dt):
        if self.source is not None:
            return self.source.period(dt)
        return dt if self.every is None else self.every

    def init(self, y0, dt):
        if self.source is not None:
            return self.source.init(y0, dt)
        names = tuple(y0) if self.variables is None else self.variables
        n = y0[names[0]].shape[-1]
        if n != self.matrix.shape[1]:
            raise ValueError(
                f"`mask` has {self.matrix.shape[1]} entries but the network has {n} "
                "regions."
            )
        return {v: y0[v] for v in names}

    def update(self, state, t, y, dt):
        if self.source is not None:
            return self.source.update(state, t, y, dt)
        return {v: y[v] for v in state}

    def emit(self, state):
        if self.source is not None:
            state, sample = self.source.emit(state)
            return state, self.reduce(sample)
        return state, {v: self.reduce(x) for v, x in state.items()}


class GlobalAverage(AbstractMonitor):
    r"""The average over all regions of the state variables, every `every` ms, as
    TVB's `GlobalAverage` (instantaneous values, no temporal averaging):

    $$\bar x(t_m) = \frac{1}{N}\sum_i x_i(t_m)$$

    Output: `{variable: (T,)}`.

    **Arguments:**

    - `every`: sampling period in ms (default: every step).
    - `variables`: the state variables to average (default: all).
    - `name`: output key (default `"global"`).

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(a=0.1), conn.weights, k=0.1)
        g = nm.monitors.GlobalAverage(every=1.0, variables="x")
        sol = nm.simulate(net, t1=50.0, dt=0.5, monitors=[g])
        sol["global"]["x"].shape   # (50,)
        ```
    """

    every: float | None = eqx.field(static=True, default=None)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="global")

    def period(self, dt):
        return dt if self.every is None else self.every

    def init(self, y0, dt):
        names = tuple(y0) if self.variables is None else self.variables
        return {v: y0[v] for v in names}

    def update(self, state, t, y, dt):
        return {v: y[v] for v in state}

    def emit(self, state):
        return state, {v: jnp.mean(x, axis=-1) for v, x in state.items()}
