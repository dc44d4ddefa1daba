"""What the delayed loop's program depends on, derived from a network's values when
`simulate` is called.

A `Network` holds only what the user gave. The structure of its delayed loop — the
edge pattern (which weights are non-zero), the history length and the shortest lag —
is derived here, each time `simulate` runs:

- from the **values**, exactly, when they are concrete (outside `jit`/`vmap`/`grad`,
  or closed over by the traced function);
- from the **bounds** declared on the network (`Network(max_delay=..., min_delay=...,
  edge_mask=...)`, by default those of the values the network was built with) when
  the values are traced. Then the loop checks at run time (`eqx.error_if`) that the
  traced values stay within them, with an error naming the bound and the fix.

The result is a hashable `DelayStructure`: two calls whose structures are equal run
the same compiled program.
"""

import dataclasses
import math

import jax
import numpy as np

from ..utils import SNAP, snap_steps


# History slots kept beyond the longest delay (reads of stages up to one step later,
# and the 4-point stencil of cubic interpolation).
_SLACK = 5


def concrete(x) -> np.ndarray | None:
    """`x` as a numpy array, or None when it is traced (inside jit/vmap/grad)."""
    if x is None:
        return None
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def history_length(max_steps: float) -> int:
    """History slots for delays of at most `max_steps` steps."""
    return int(math.ceil(max_steps + SNAP)) + _SLACK


class EdgeMask:
    """A hashable (by value) `(N, N)` boolean mask `[to, from]` of edges: the
    `edge_mask` bound of a `Network`, and the base of `EdgePattern`."""

    __slots__ = ("mask", "_hash")

    def __init__(self, mask):
        self.mask = np.asarray(mask, dtype=bool)
        self._hash = hash((self.mask.shape, np.packbits(self.mask).tobytes()))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self._hash == other._hash
            and self.mask.shape == other.mask.shape
            and bool(np.array_equal(self.mask, other.mask))
        )

    def __repr__(self):
        n, edges = self.mask.shape[0], int(self.mask.sum())
        return f"{type(self).__name__}(regions={n}, edges={edges})"


class EdgePattern(EdgeMask):
    """Which edges the loop reads, in padded per-region ("ELL") layout, edge-major:
    `idx[e, i]` is the source region of the e-th afferent edge of region i and
    `valid[e, i]` marks real edges (padding reads region i itself with weight zero).
    Hashable (by value), so it can key a compiled program."""

    __slots__ = ("idx", "valid")

    def __init__(self, mask):
        super().__init__(mask)
        mask = self.mask
        n = mask.shape[0]
        degree = mask.sum(axis=1)
        kmax = max(int(degree.max()) if n else 0, 1)
        idx = np.tile(np.arange(n, dtype=np.int32), (kmax, 1))
        valid = np.zeros((kmax, n), dtype=bool)
        for i in range(n):
            src = np.flatnonzero(mask[i])
            idx[: src.size, i] = src
            valid[: src.size, i] = True
        self.idx, self.valid = idx, valid

    @property
    def n_edges(self) -> int:
        return int(self.valid.sum())

    def gather(self, matrix):
        """The entries `matrix[i, j]` `[to, from]` of the afferent edges in the padded
        layout `(K, N)` (a numpy or a JAX array): entry `[e, i]` belongs to the e-th
        afferent edge of region i (padding slots read `matrix[i, i]`)."""
        rows = np.arange(self.mask.shape[0])[None, :]
        return matrix[rows, self.idx]


def allowed_edges(n: int, self_connection: bool) -> np.ndarray:
    """The `(N, N)` mask of edges a network may have (no diagonal unless
    `self_connection`)."""
    return np.ones((n, n), bool) if self_connection else ~np.eye(n, dtype=bool)


@dataclasses.dataclass(frozen=True)
class DelayStructure:
    """The static structure of a network's loop at a step `dt` (see the module
    docstring). Lags are in steps.

    - `pattern`: the edges read.
    - `has_delays`: whether any edge may have a non-zero delay.
    - `length`: history slots (steps) kept.
    - `min_lag`: a lower bound on the (rounded) lag of every edge; 0 when an edge may
      have a zero delay (instantaneous coupling).
    - `check_edges`: the weights are traced: check at run time that none outside
      `pattern` is non-zero.
    - `bounds`: `(max_delay, min_delay)` in ms when the delays are traced (checked at
      run time), None when they were concrete.
    """

    pattern: EdgePattern
    has_delays: bool
    length: int
    min_lag: int
    check_edges: bool = False
    bounds: tuple[float, float] | None = None
    # the longest delay (ms), for information (not part of the program's key)
    max_delay: float = dataclasses.field(default=0.0, compare=False)

    @property
    def has_zero(self) -> bool:
        return self.min_lag == 0


def edge_pattern(net) -> tuple[EdgePattern, bool]:
    """The edges of `net` to read: the non-zero weights when they are concrete (the
    diagonal excluded unless `self_connection`), else the network's `edge_mask`
    bound. Returns `(pattern, checked)`, `checked` when the weights are traced."""
    n = net.n_regions
    allowed = allowed_edges(n, net.self_connection)
    w = concrete(net.weights)
    if w is not None:
        return EdgePattern((w != 0) & allowed), False
    return EdgePattern(net.edge_mask.mask & allowed), True


def concrete_delays(net) -> np.ndarray | None:
    """The delays (ms) of `net` as numpy, when its `delays`, or `lengths` and `speed`,
    are concrete (also when closed over by a traced function: `lengths / speed`
    computed with `jnp` inside `jit` would be traced); None otherwise."""
    if net.explicit_delays is not None:
        return concrete(net.explicit_delays)
    lengths, speed = concrete(net.lengths), concrete(net.speed)
    if lengths is None or speed is None:
        return None
    return lengths / speed  # numpy: IEEE division, as XLA computes it


def derive(net, dt: float, whole_steps: bool) -> DelayStructure:
    """The `DelayStructure` of `net` at step `dt`; `whole_steps` when the
    interpolation rounds delays to whole steps (nearest).

    Raises `ValueError` (naming the field) for concrete delays that are negative, not
    finite, or strictly between 0 and `dt`."""
    pattern, check_edges = edge_pattern(net)
    if net.delays is None:
        return DelayStructure(pattern, False, 0, 0, check_edges)
    dc = concrete_delays(net)
    if dc is None:  # traced delays: the declared bounds, checked when the loop runs
        hi, lo = float(net.max_delay), float(net.min_delay)
        # a delay >= lo is >= lo / dt steps, and rounds to at least rint(lo / dt)
        # whole steps (rounding is monotonic)
        lag = int(np.rint(lo / dt) if whole_steps else math.floor(lo / dt + SNAP))
        lag = lag if lo > 0 else 0
        return DelayStructure(
            pattern,
            hi > 0,
            history_length(hi / dt) if hi > 0 else 0,
            lag,
            check_edges,
            (hi, lo),
            hi,
        )
    field = "delays" if net.explicit_delays is not None else "lengths / speed"
    if not np.all(np.isfinite(dc)) or np.any(dc < 0):
        raise ValueError(
            f"The conduction delays (`{field}`) must be finite and >= 0; got "
            f"min {np.nanmin(dc):g}, max {np.nanmax(dc):g} ms. Check `lengths` (mm) "
            "and `speed` (mm/ms, > 0), or `delays` (ms)."
        )
    steps = pattern.gather(dc)[pattern.valid] / np.asarray(dt, dc.dtype)
    steps = np.rint(steps) if whole_steps else snap_steps(steps, np)
    bad = (steps > 0) & (steps < 1)
    if np.any(bad):
        e = np.flatnonzero(bad)[0]
        tgt = np.nonzero(pattern.valid)[1][e]
        src = pattern.idx[pattern.valid][e]
        raise ValueError(
            f"The delay from region {int(src)} to region {int(tgt)} is "
            f"{float(steps[e]) * dt:g} ms, shorter than `dt`={dt:g} ms but not zero. "
            "Delays in (0, dt) are not supported: use a smaller `dt` (at most the "
            "shortest non-zero delay), or set such delays to 0 (instantaneous "
            "coupling)."
        )
    hi = float(steps.max()) if steps.size else 0.0
    if hi <= 0:
        return DelayStructure(pattern, False, 0, 0, check_edges)
    lo = 0 if np.any(steps == 0) else int(np.floor(steps.min() + SNAP))
    return DelayStructure(
        pattern, True, history_length(hi), lo, check_edges, None, hi * dt
    )
