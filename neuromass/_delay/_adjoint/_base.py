"""How reverse-mode differentiation goes back through a delayed simulation: delay
adjoints, passed as `simulate(..., delay_adjoint=...)`.

- `neuromass.PulledDelayAdjoint` (default): for a coupling linear in the delayed
  value (`Linear`, `Diffusive`, ...), Euler or Heun and nearest or linear reads, a
  hand-written adjoint of the delay history that *pulls* each state's cotangent from
  the later reads that used it, through its out-edges (`_pulled`, `_blocked`): no
  scatter-add into the history, several times faster than plain AD. Reverse mode
  only. Other couplings and solvers fall back to plain AD.
- `neuromass.AutodiffDelayAdjoint`: plain JAX AD through the loop, which also
  supports forward mode (`jax.jvp`, `jax.jacfwd`).

The forward solution is the same either way. Both take the options of long
gradients: `checkpoint` and `gradient_horizon`.
"""

import abc

import equinox as eqx


class AbstractDelayAdjoint(eqx.Module):
    """Base class of delay adjoints.

    **Arguments (fields):**

    - `checkpoint`: store the loop state only once per block of steps (the saving
      interval, or the greatest common period of the monitors) and recompute inside
      each block during the backward pass, so memory grows with the number of blocks
      instead of steps. The stored state includes the delay history, so with the
      pulled adjoint, whose steps keep no history at all, checkpointing costs memory
      rather than saving it.
    - `gradient_horizon`: truncated backpropagation through time (ms): gradients flow
      back at most this far (a multiple of the block) before being cut, which keeps
      gradients of long chaotic runs bounded. The forward solution is unchanged.
    """

    checkpoint: eqx.AbstractVar[bool]
    gradient_horizon: eqx.AbstractVar[float | None]

    @abc.abstractmethod
    def time_ring(self, plan, pattern, w_edges, grid_reads: bool):
        """The operations (`init`, `write`, `route`, `source`) on the time-major
        ring of the step-by-step loop of a coupling linear in the delayed value;
        `grid_reads`: every read is at a grid time (stages at c = 0 or 1)."""

    @abc.abstractmethod
    def block_ring(self, plan, pattern, w_edges, steps: int):
        """The operations on the node-major ring of the blocked loop (`steps` per
        block)."""

    @abc.abstractmethod
    def differentiate(self, batched, single, stepwise):
        """The blocked loop `batched` (a `custom_vmap` function of the loop's array
        inputs) made differentiable: `single` is the loop of one network it runs
        unbatched, `stepwise` the step-by-step loop of plain AD."""
