"""Readers of the delay history: what the long-range coupling sees at a stage.

The loop builds one reader per step (or per step of a block); the coupling input
asks it for its afferent input at a stage (`afferent(coupling, t, x_i, stage)`):

- `EdgeReader`: the delayed source value of every edge, interpolated at the stage
  time (any coupling);
- `SumReader`: the delayed weighted sums of a coupling linear in the delayed value,
  computed once per read time (the stage offsets are known at trace time);
- `HeldReader`: a coupling evaluated once at the start of the step and held over
  its stages (`coupling_evaluation="step"`, The Virtual Brain's rule).
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .interpolation import read_window, window_values


class EdgeReader(eqx.Module):
    """Per-edge reads of step `step` (starting at `tn`): from the window of grid
    values (`plan.uses_window`) or from the ring (`store`). Stage offsets known at
    trace time (`offsets`) use the interpolation weights computed once outside the
    loop (`coefficients`)."""

    plan: object
    store: Array
    step: Int[Array, ""]
    tn: Float[Array, ""]
    w_edges: Float[Array, "edges nodes"]
    coefficients: tuple
    offsets: tuple[float, ...] = eqx.field(static=True)
    dt: float = eqx.field(static=True)

    def values(self, t, c) -> Float[Array, "edges nodes cvars"]:
        """The delayed source values of every edge at stage time `t` (offset `c`)."""
        if c is not None and c in self.offsets:
            coef = self.coefficients[self.offsets.index(c)]
            return read_window(window_values(self.store, self.step), coef)
        c = (t - self.tn) / self.dt if c is None else c
        return self.plan.interpolation.read(self.plan, self.store, self.step, c)

    def afferent(self, coupling, t, x_i, stage):
        x_j = self.values(t, stage.c)
        if self.plan.zero is not None:  # zero delays: the stage's own state
            x_j = jnp.where(self.plan.zero[..., None], x_i[self.plan.idx], x_j)
        return coupling.afferent(x_j, x_i, self.w_edges)


class SumReader(eqx.Module):
    """The delayed weighted sums `(N, V)` of a linear coupling at each stage offset
    of the step (`offsets`), with the row sums of the weights (for its local
    term)."""

    sums: tuple
    row_sums: Float[Array, "nodes 1"]
    offsets: tuple[float, ...] = eqx.field(static=True)

    def afferent(self, coupling, t, x_i, stage):
        c = self.sums[self.offsets.index(stage.c)]
        return coupling.afferent_from_sums(c, x_i, self.row_sums)


class HeldReader(eqx.Module):
    """The coupling input of every region computed at the start of the step, held
    over its stages."""

    coupling: dict

    def afferent(self, coupling, t, x_i, stage):
        return self.coupling
