"""The delay history of the step-by-step loop: how it is stored, written and read.

Three kinds, chosen once per program by `step_history`:

- `EdgeHistory`: any coupling; each stage reads the delayed value of every edge
  (`EdgeReader`), from a per-edge window of grid values (nearest, linear) or from
  the ring (cubic).
- `GatheredSums` and `WindowSums`: couplings linear in the delayed value with the
  solver's stage offsets known at trace time. The delayed part is a weighted sum of
  the history, computed once per stage offset at the start of each step
  (`SumReader`); the read at `c = 1` of step `n` is the read at `c = 0` of step
  `n + 1` and is carried over. Nearest reads gather one grid value per edge from the
  ring (`GatheredSums`); linear reads weigh the window's values (`WindowSums`).
  Their ring goes through the delay adjoint's operations (`init`, `write`, `route`,
  `source`): the pulled adjoint's when every read is at a grid time.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..coupling._base import sum_edges
from . import _ring as rg
from ._plan import DelayPlan, advance_window, init_window
from ._reads import EdgeReader, SumReader
from .interpolation import window_values


class HistoryState(eqx.Module):
    """What the step-by-step loop carries of the history: the `ring` of past
    states, the per-edge `window` of grid values (window reads), and the carried
    delayed sums `sums` (linear couplings that reuse the read at `c = 1`)."""

    ring: Array
    window: Array | None = None
    sums: Array | None = None


class AbstractStepHistory(eqx.Module):
    """Base class of the step-by-step loop's histories (see the module docstring)."""

    @abc.abstractmethod
    def init(self, past) -> HistoryState:
        """The history at step 0 from the source values at steps `-(L-1) ... 0`."""

    @abc.abstractmethod
    def reader(self, hs: HistoryState, step, tn) -> tuple[HistoryState, object]:
        """The reader of step `step` (starting at `tn`)."""

    @abc.abstractmethod
    def write(self, hs: HistoryState, n, x) -> HistoryState:
        """Store the source values `x` `(N, V)` of step `n`."""

    def rejoin(self, hs: HistoryState, step, cut) -> HistoryState:
        """Repair the history after a `gradient_horizon` cut (see `_driver`)."""
        return hs


class EdgeHistory(AbstractStepHistory):
    """Per-edge reads (see the module docstring)."""

    plan: DelayPlan
    w_edges: Array
    coefficients: tuple
    offsets: tuple[float, ...] = eqx.field(static=True)
    dt: float = eqx.field(static=True)

    def init(self, past):
        ring = rg.init(past)
        window = init_window(self.plan, ring) if self.plan.uses_window else None
        return HistoryState(ring=ring, window=window)

    def reader(self, hs, step, tn):
        store = hs.window if self.plan.uses_window else hs.ring
        reader = EdgeReader(
            plan=self.plan,
            store=store,
            step=step,
            tn=tn,
            w_edges=self.w_edges,
            coefficients=self.coefficients,
            offsets=self.offsets,
            dt=self.dt,
        )
        return hs, reader

    def write(self, hs, n, x):
        ring = rg.write(self.plan.length, hs.ring, n, x)
        window = hs.window
        if self.plan.uses_window:
            window = advance_window(self.plan, window, ring, n)
        return HistoryState(ring=ring, window=window, sums=hs.sums)


class _AbstractSums(AbstractStepHistory):
    """The delayed sums of a linear coupling (see the module docstring)."""

    plan: eqx.AbstractVar[DelayPlan]
    weighted: eqx.AbstractVar[tuple]
    row_sums: eqx.AbstractVar[Array]
    ops: eqx.AbstractVar[object]
    offsets: eqx.AbstractVar[tuple[float, ...]]

    @abc.abstractmethod
    def _source(self, ring, window, step):
        """What the reads of step `step` take their values from."""

    @abc.abstractmethod
    def _read(self, src, step, i: int):
        """The delayed sums `(N, V)` of stage offset `offsets[i]`."""

    @abc.abstractmethod
    def _init_window(self, ring):
        """The window at step 0 (None for reads without one)."""

    @abc.abstractmethod
    def _advance(self, window, ring, n):
        """The window after the write of step `n`."""

    @property
    def _reuse(self) -> bool:
        return 1.0 in self.offsets

    def _reads(self, ring, window, step, carried, only=None, route=True):
        """The sums of each stage offset (or of `only`). Each read is computed once:
        with the pulled adjoint a read's time must be unique (`route=False`: a read
        whose cotangent does not go back to the states)."""
        src = self._source(ring, window, step)
        out = []
        for i, c in enumerate(self.offsets):
            if only is not None and c != only:
                continue
            if c == 0.0 and self._reuse and carried is not None:
                out.append(carried)
                continue
            s = self._read(src, step, i)
            if route:  # a read at grid time step + c
                ring, s = self.ops.route(ring, step + int(c), s)
            out.append(s)
        return ring, tuple(out)

    def init(self, past):
        ring = self.ops.init(past)
        window = self._init_window(ring)
        sums = None
        if self._reuse:  # the first step's c = 0 read; later ones are carried
            ring, first = self._reads(
                ring, window, jnp.asarray(0, jnp.int32), None, 0.0
            )
            sums = first[0]
        return HistoryState(ring=ring, window=window, sums=sums)

    def reader(self, hs, step, tn):
        window = None if hs.window is None else self.ops.source(hs.window)
        ring, sums = self._reads(hs.ring, window, step, hs.sums)
        carried = sums[self.offsets.index(1.0)] if self._reuse else hs.sums
        reader = SumReader(sums=sums, row_sums=self.row_sums, offsets=self.offsets)
        return HistoryState(ring=ring, window=window, sums=carried), reader

    def write(self, hs, n, x):
        ring = self.ops.write(hs.ring, n, x)
        return HistoryState(
            ring=ring, window=self._advance(hs.window, ring, n), sums=hs.sums
        )

    def rejoin(self, hs, step, cut):
        """At a `gradient_horizon` cut (the carry's gradients stopped): the sum that
        the next step reuses from the carry is read again from the cut history, so
        that its gradient still reaches the weights (not the states before the
        cut), as that of a read taken inside the step does."""
        if hs.sums is None:
            return hs
        sg = jax.lax.stop_gradient
        window = None if hs.window is None else sg(hs.window)
        fresh = self._reads(sg(hs.ring), window, step, None, 0.0, route=False)[1][0]
        return HistoryState(
            ring=hs.ring, window=hs.window, sums=jnp.where(cut, fresh, hs.sums)
        )


class GatheredSums(_AbstractSums):
    """Nearest reads of a linear coupling: one history value per edge and read,
    gathered from the ring (no window to keep)."""

    plan: DelayPlan
    weighted: tuple  # per offset: (window index q, weights (K, N, 1))
    row_sums: Array
    ops: object
    offsets: tuple[float, ...] = eqx.field(static=True)

    def _source(self, ring, window, step):
        return self.ops.source(ring)

    def _read(self, src, step, i):
        q, w = self.weighted[i]  # window value q is the state of step n - m - 1 + q
        x_j = rg.gather(self.plan, src, step, q - 1 - self.plan.m)
        return sum_edges(w * x_j)

    def _init_window(self, ring):
        return None

    def _advance(self, window, ring, n):
        return None


class WindowSums(_AbstractSums):
    """Linear reads of a linear coupling: the window's three grid values weighed
    per edge."""

    plan: DelayPlan
    weighted: tuple  # per offset: the weights (K, N, 1) of the window's values
    row_sums: Array
    ops: object
    offsets: tuple[float, ...] = eqx.field(static=True)

    def _source(self, ring, window, step):
        return window_values(window, step)

    def _read(self, win, step, i):
        a0, a1, a2 = self.weighted[i]
        if self.offsets[i] >= 1.0:  # reads in (t_{n-m}, t_{n-m+1}]: w0 weighs 0
            return sum_edges(a1 * win[1] + a2 * win[2])
        return sum_edges(a0 * win[0] + a1 * win[1] + a2 * win[2])

    def _init_window(self, ring):
        return init_window(self.plan, self.ops.source(ring))

    def _advance(self, window, ring, n):
        return advance_window(self.plan, window, self.ops.source(ring), n)


def step_history(
    coupling, plan, pattern, w_edges, offsets, adjoint, hold: bool, dt: float
) -> AbstractStepHistory:
    """The history of the step-by-step loop (see the module docstring). `offsets`:
    the solver's stage offsets when known at trace time (None: the solver's own
    `step` evaluates the drift where it chooses); `hold`: the coupling is evaluated
    once per step (at offset 0) and held over the stages."""
    interp = plan.interpolation
    reads = (0.0,) if hold else tuple(offsets or ())
    coefficients = ()
    if plan.uses_window:
        coefficients = tuple(interp.window_coefficients(plan, c) for c in reads)
    linear = (
        coupling.linear
        and plan.uses_window
        and plan.zero is None
        and not hold
        and offsets is not None
    )
    if not linear:
        return EdgeHistory(
            plan=plan,
            w_edges=w_edges,
            coefficients=coefficients if plan.uses_window else (),
            offsets=reads if plan.uses_window else (),
            dt=dt,
        )
    row_sums = sum_edges(w_edges)[:, None]
    ops = adjoint.time_ring(plan, pattern, w_edges, set(reads) <= {0.0, 1.0})
    if interp.whole_steps:
        weighted = tuple((coef, w_edges[..., None]) for coef in coefficients)
        return GatheredSums(plan, weighted, row_sums, ops, reads)
    weighted = tuple(
        tuple(w_edges[..., None] * q for q in coef) for coef in coefficients
    )
    return WindowSums(plan, weighted, row_sums, ops, reads)
