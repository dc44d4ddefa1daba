"""Loop strategies of the delayed loop, passed as `simulate(..., loop=...)`.

- [`neuromass.StepByStepLoop`][]: one step at a time; each stage reads the delay
  history interpolated at its time. Works for every case.
- [`neuromass.BlockedLoop`][]: when every delay is a whole number of steps of at least
  `S` (`interpolation="nearest"`), the coupling is linear in the delayed value and
  the solver's stages sit at `c = 0` or `1` (Euler, Heun), the delayed sums of `S`
  steps only read states already known at the start of the block: they are computed
  for the whole block at once (`_delay/_blocked.py`), and under `vmap` a batch runs as
  one loop with the sweep as the trailing axis of the delay ring.

By default (`loop=None`) the blocked loop is used wherever it applies. The results
are those of the step-by-step loop (tested), up to floating-point summation order.
"""

import abc

import equinox as eqx

from .._delay._blocked import block_steps


class AbstractLoop(eqx.Module):
    """Base class of loop strategies."""

    @abc.abstractmethod
    def block(self, min_lag: int, period: int, applies: str | None) -> int:
        """The steps read per block (0: step by step). `applies` is None when the
        blocked loop applies, else the reason why not."""


class StepByStepLoop(AbstractLoop):
    """Advance one step at a time (see the module docstring).

    !!! example

        ```python
        import neuromass as nm

        loop = nm.StepByStepLoop()
        ```
    """

    def block(self, min_lag, period, applies):
        return 0


class BlockedLoop(AbstractLoop):
    """Read the delays of `S` steps at once (see the module docstring).

    **Arguments:**

    - `max_block`: the largest `S` (default 16): `S` is the largest divisor of the
      loop's output period (and the transient) not above the shortest lag or this.
    - `required`: raise a `ValueError` saying why when blocked reads do not apply
      (default False: fall back to the step-by-step loop).

    !!! example

        ```python
        import neuromass as nm

        loop = nm.BlockedLoop(max_block=2)   # small blocks: quicker to compile
        ```
    """

    max_block: int = eqx.field(static=True, default=16)
    required: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not isinstance(self.max_block, int) or self.max_block < 2:
            raise ValueError(
                f"`BlockedLoop(max_block=...)` must be an integer >= 2; got "
                f"{self.max_block!r}."
            )

    def block(self, min_lag, period, applies):
        s = 0 if applies else block_steps(min_lag, period, self.max_block)
        if not s and self.required:
            why = applies or (
                f"no block of 2 to {self.max_block} steps divides the output period "
                f"({period} steps) within the shortest lag ({min_lag} steps)"
            )
            raise ValueError(f"`BlockedLoop` does not apply: {why}.")
        return s


def get_loop(loop) -> AbstractLoop:
    if loop is None:
        return BlockedLoop()
    if not isinstance(loop, AbstractLoop):
        raise ValueError(
            "`loop` must be None, `nm.BlockedLoop()` or `nm.StepByStepLoop()`; got "
            f"{loop!r}."
        )
    return loop
