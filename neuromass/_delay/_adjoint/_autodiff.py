"""Plain JAX autodiff through the delayed loop."""

import jax

from .._blocked import BlockRing
from .._ring import TimeRing
from ._base import AbstractDelayAdjoint


class AutodiffDelayAdjoint(AbstractDelayAdjoint):
    """Plain JAX autodiff through the loop; supports forward mode (`jax.jvp`,
    `jax.jacfwd`) as well as reverse mode.

    **Arguments:** `checkpoint` and `gradient_horizon`, see
    `neuromass.AbstractDelayAdjoint`.

    !!! example

        ```python
        import neuromass as nm

        adjoint = nm.AutodiffDelayAdjoint(gradient_horizon=100.0)
        ```
    """

    checkpoint: bool = False
    gradient_horizon: float | None = None

    def time_ring(self, plan, pattern, w_edges, grid_reads):
        return TimeRing(plan.length)

    def block_ring(self, plan, pattern, w_edges, steps):
        return BlockRing(-(-plan.length // steps) * steps, steps)

    def differentiate(self, batched, single, stepwise):
        """Derivatives (forward and reverse mode) of the step-by-step loop."""
        fn = jax.custom_jvp(batched)
        fn.defjvp(lambda primals, tangents: jax.jvp(stepwise, primals, tangents))
        return fn
