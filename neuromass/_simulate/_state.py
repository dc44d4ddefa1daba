"""The state carried by the fixed-step loop, and the problem it runs."""

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Int

from .._delay._structure import DelayStructure
from .._delay.interpolation import AbstractInterpolation
from .._inputs._system import System
from ._grid import TimeGrid


class LoopState(eqx.Module):
    """What the fixed-step loop carries from step to step (or block to block).

    - `y`: the state `{variable: (N,)}`.
    - `step`: the step counter.
    - `history`: the delay history (a `HistoryState` of the step-by-step loop, a
      `BlockState` of the blocked loop, or None without delays).
    - `solver_state`: the Diffrax solver's state (solvers stepped by `solver.step`).
    """

    y: dict
    step: Int[Array, ""]
    history: object = None
    solver_state: object = None


class BlockState(eqx.Module):
    """The delay history of the blocked loop: the node-major `ring`, the source
    values of the last block not yet written to it (`pending`, `(S, N, V, *sweep)`),
    and the delayed sums of the block's read times (`sums`: the last one is the first
    read of the next block)."""

    ring: Array
    pending: Array | None
    sums: Array


@dataclasses.dataclass(frozen=True)
class LoopConfig:
    """The static configuration of the fixed-step loop (hashable: part of the key of
    the compiled program).

    - `solver`, `stepper` (the one that steps `solver`), `loop` (the strategy),
      `adjoint` (the delay adjoint, with the options of long gradients).
    - `grid`: the time grid; `period`: the steps between outputs (the saved samples
      and the monitors) and the transient, which blocks of steps must divide.
    - `interpolation`, `structure`: how the delay history is read, and its static
      structure (edge pattern, history length, shortest lag); `hold`: the coupling
      is evaluated once per step (`coupling_evaluation="step"`).
    - `linear`: the long-range coupling is linear in the delayed value.
    - `n_nodes`, `dtype`: the number of nodes and the floating dtype of the state.
    - `nodes`: the region of every node of a surface network (a `NodeMap`), or None.
    """

    solver: diffrax.AbstractSolver
    stepper: object
    loop: object
    adjoint: object
    grid: TimeGrid
    period: int
    interpolation: AbstractInterpolation
    structure: DelayStructure
    hold: bool
    linear: bool
    n_nodes: int
    dtype: object
    nodes: object = None

    @property
    def dt(self) -> float:
        return self.grid.dt

    @property
    def horizon(self) -> int | None:
        """The gradient horizon in steps."""
        h = self.adjoint.gradient_horizon
        return None if h is None else int(round(h / self.grid.dt))


class LoopProblem(eqx.Module):
    """What one run of the fixed-step loop takes: the `system` (node and inputs),
    the initial state `y0`, the history `past` (`{variable: (M, N)}` or None), the
    random `key` (None without noise), the `monitors` and the static `config`."""

    system: System
    y0: dict
    past: dict | None
    key: object
    monitors: tuple
    config: LoopConfig = eqx.field(static=True)

    @property
    def has_history(self) -> bool:
        return self.config.structure.has_delays


def source_past(coupling, y0, past, length: int):
    """The history's source values at steps `-(length-1) ... 0`, `(length, N, V)`:
    those of the constant `y0`, or of the history `past` (padded with its first
    sample) ending at `y0`."""
    first = coupling.source(y0)
    if past is None:
        return jnp.broadcast_to(first, (length,) + first.shape)
    pc = jax.vmap(coupling.source)(past)
    pc = pc[-length:]
    if pc.shape[0] < length:
        pad = jnp.broadcast_to(pc[:1], (length - pc.shape[0],) + pc.shape[1:])
        pc = jnp.concatenate([pad, pc], axis=0)
    return pc.at[-1].set(first)
