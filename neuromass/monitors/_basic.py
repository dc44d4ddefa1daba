"""Raw, subsampled, temporally averaged and projected (EEG/MEG) observations."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._base import AbstractMonitor


def _names(variables):
    if variables is None:
        return None
    return (variables,) if isinstance(variables, str) else tuple(variables)


def _pick(y, variables):
    names = tuple(y) if variables is None else variables
    return {v: y[v] for v in names}


class Subsample(AbstractMonitor):
    """The state every `every` ms (no averaging).

    **Arguments:**

    - `every`: sampling period in ms, a multiple of `dt` (None: every step).
    - `variables`: the state variables to record (default: all).
    - `name`: key of the output in `Solution.monitors` (default `"subsample"`).

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.Hopf(), t1=50.0, dt=0.1,
                          monitors=[nm.monitors.Subsample(5.0, variables="x")])
        sol.monitors["subsample"].data["x"].shape   # (10, 1)
        ```
    """

    every: float | None = eqx.field(static=True, default=None)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="subsample")

    def period(self, dt):
        return dt if self.every is None else self.every

    def init(self, y0, dt):
        return _pick(y0, self.variables)

    def update(self, state, t, y, dt):
        return _pick(y, self.variables)

    def emit(self, state):
        return state, state


def Raw(variables=None, name: str = "raw") -> Subsample:
    """Every integration step of the chosen variables (a `Subsample` with
    `every=None`). Memory grows with the number of steps: prefer `Subsample`,
    `TemporalAverage` or a streaming monitor for long runs."""
    return Subsample(None, variables, name)


class TemporalAverage(AbstractMonitor):
    r"""The average of the state over consecutive windows of `window` ms.

    Sample $m$ is $\frac{1}{W}\sum_{n \in \text{window } m} y(t_n)$ over the $W$ steps
    ending at its time stamp.

    **Arguments:**

    - `window`: averaging window = sampling period, in ms (a multiple of `dt`).
    - `variables`: the state variables to average (default: all).
    - `name`: output key (default `"tavg"`).

    !!! example

        ```python
        import neuromass as nm

        tavg = nm.monitors.TemporalAverage(2.0, variables="x")
        sol = nm.simulate(nm.models.Hopf(), t1=20.0, dt=0.1, monitors=[tavg])
        sol.monitors["tavg"].data["x"].shape   # (10, 1)
        ```
    """

    window: float = eqx.field(static=True)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="tavg")

    def period(self, dt):
        return self.window

    def init(self, y0, dt):
        picked = _pick(y0, self.variables)
        return ({v: jnp.zeros_like(x) for v, x in picked.items()}, jnp.zeros(()))

    def update(self, state, t, y, dt):
        total, count = state
        picked = _pick(y, self.variables)
        return ({v: total[v] + picked[v] for v in total}, count + 1.0)

    def emit(self, state):
        total, count = state
        sample = {v: x / count for v, x in total.items()}
        return ({v: jnp.zeros_like(x) for v, x in total.items()}, 0.0 * count), sample


class Projection(AbstractMonitor):
    r"""A linear projection of one variable through a gain (lead-field) matrix, as an
    EEG or MEG forward model, averaged over each sampling period:

    $$s(t_m) = G\,\bar x(t_m), \qquad G \in \mathbb{R}^{M \times N}$$

    with $\bar x$ the average of the variable over the period ending at $t_m$.

    **Arguments:**

    - `gain`: `(M, N)` gain matrix: sensor `m` sees `gain[m, i] * x_i`.
    - `variable`: the source variable (e.g. `"x"`, or for Jansen-Rit a potential).
    - `every`: sampling period in ms (default 1 ms, i.e. 1 kHz).
    - `name`: output key (default `"eeg"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        eeg = nm.monitors.Projection(jnp.ones((3, 1)), variable="x", every=1.0)
        sol = nm.simulate(nm.models.Hopf(), t1=10.0, dt=0.1, monitors=[eeg])
        sol.monitors["eeg"].data.shape   # (10, 3)
        ```
    """

    gain: Float[Array, "sensors nodes"]
    variable: str = eqx.field(static=True, default="x")
    every: float = eqx.field(static=True, default=1.0)
    name: str = eqx.field(static=True, default="eeg")

    def __check_init__(self):
        if jnp.ndim(self.gain) != 2:
            raise ValueError(
                "`gain` must be an (M sensors, N regions) matrix; got shape "
                f"{jnp.shape(self.gain)}."
            )

    @property
    def variables(self):
        return (self.variable,)

    def period(self, dt):
        return self.every

    def init(self, y0, dt):
        x = y0[self.variable]
        if x.shape[-1] != self.gain.shape[1]:
            raise ValueError(
                f"`gain` has {self.gain.shape[1]} columns but the network has "
                f"{x.shape[-1]} regions."
            )
        return (jnp.zeros_like(x), jnp.zeros(()))

    def update(self, state, t, y, dt):
        return (state[0] + y[self.variable], state[1] + 1.0)

    def emit(self, state):
        total, count = state
        sample = jnp.asarray(self.gain, total.dtype) @ (total / count)
        return (jnp.zeros_like(total), 0.0 * count), sample
