"""`Solution`: the result of a simulation."""

import equinox as eqx
from jaxtyping import Array, Float, Int

from ._custom_types import State, Trajectory


class Solution(eqx.Module):
    """The result of [`neuromass.simulate`][].

    **Attributes:**

    - `ts`: saved times in ms, shape `(T,)`.
    - `ys`: the saved trajectory, a dict `{variable: array of shape (T, N)}`; with batch
      axes (ensembles, sweeps through `eqx.filter_vmap`) these lead: `(B, T, N)`.
    - `y_final`: the state at the last step, `{variable: (N,)}` (to continue a run).
    - `num_steps`: the number of solver steps taken.
    - `monitors`: `{name: MonitorOutput(ts, data)}` for each monitor given to
      `simulate` (`ts` is None for streaming monitors).
    - `stats`: a dict of static facts: `dt`, `solver`, `interpolation` (None without
      delays), `max_delay` (ms) and `saved_every` (ms).

    `sol["x"]` is `sol.ys["x"]`; `sol["bold"]` is the data of the monitor named
    `"bold"` when no state variable has that name.
    """

    ts: Float[Array, " times"]
    ys: Trajectory
    y_final: State
    num_steps: Int[Array, ""]
    monitors: dict
    stats: dict = eqx.field(static=True)

    def __getitem__(self, name: str) -> Float[Array, "times nodes"]:
        if name in self.ys:
            return self.ys[name]
        if name in self.monitors:
            return self.monitors[name].data
        raise KeyError(
            f"No saved variable or monitor {name!r}; saved variables are "
            f"{sorted(self.ys)}, monitors {sorted(self.monitors)}."
        )

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the saved variables."""
        return tuple(self.ys)
