"""Loop strategies of the delayed loop, passed as `simulate(..., loop=...)`.

- [`neuromass.StepByStepLoop`][]: one step at a time; each stage reads the delay
  history interpolated at its time. Works for every case.
- [`neuromass.BlockedLoop`][]: when every delay spans at least `S` whole steps
  (`interpolation="nearest"` or `"linear"`), the coupling is linear in the delayed
  value and the solver's stages sit at `c = 0` or `1` (Euler, Heun), the delayed sums
  of `S` steps only read states already known at the start of the block: they are
  computed for the whole block at once (`_delay/_blocked.py`), and under `vmap` a
  batch runs as one loop with the sweep as the trailing axis of the delay ring.

By default (`loop=None`) a batch under `vmap` (a sweep, an ensemble) runs as one
blocked loop wherever it applies (blocks of 2 to 8 steps), and a single run uses
blocks of at least 4 steps with nearest delays (`BlockedLoop(min_block=4)`) and the
step-by-step loop with linear ones (`BlockedLoop(single=False)`), where blocks
gained little and doubled the compile time. The results are those of the
step-by-step loop (tested), up to floating-point summation order.
"""

import abc

import equinox as eqx

from .._delay._blocked import block_steps


class AbstractLoop(eqx.Module):
    """Base class of loop strategies."""

    @abc.abstractmethod
    def block(self, min_lag: int, period: int, applies: str | None) -> int:
        """The steps read per block of a single run (0: step by step). `applies` is
        None when the blocked loop applies, else the reason why not."""

    def batch_block(self, min_lag: int, period: int, applies: str | None) -> int:
        """The steps read per block of a batch run under `vmap` as one loop (0: each
        point runs the single-run loop, vmapped)."""
        return self.block(min_lag, period, applies)


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

    - `max_block`: the largest `S` (default 8): `S` is the largest divisor of the
      loop's output period (and the transient) not above the shortest lag or this.
      The steps of a block are unrolled, so longer blocks compile longer (on TVB's
      connectome at 10 mm/ms, blocks of 10 compiled in 3.0-3.6 s against 2.3-2.7 s
      for blocks of 5, and ran no faster).
    - `min_block`: the shortest `S` a single run uses (default 2); with shorter
      blocks it runs step by step, while a batch under `vmap` still runs as one
      blocked loop (with blocks of 2 or 3 steps a single run was slower than step by
      step: W1 linear, blocks of 2, took 2x the step-by-step loop; a batch of 256
      points was 1.7x faster).
    - `single`: whether a single run reads blocks too (default True); False: only a
      batch under `vmap` does.
    - `required`: raise a `ValueError` saying why when blocked reads do not apply
      (default False: fall back to the step-by-step loop).

    !!! example

        ```python
        import neuromass as nm

        loop = nm.BlockedLoop(max_block=2)   # small blocks: quicker to compile
        ```
    """

    max_block: int = eqx.field(static=True, default=8)
    required: bool = eqx.field(static=True, default=False)
    min_block: int = eqx.field(static=True, default=2)
    single: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        for name in ("max_block", "min_block"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(
                    f"`BlockedLoop({name}=...)` must be an integer >= 2; got {value!r}."
                )
        if self.min_block > self.max_block:
            raise ValueError(
                f"`BlockedLoop(min_block={self.min_block}, max_block="
                f"{self.max_block})`: `min_block` must not exceed `max_block`."
            )

    def batch_block(self, min_lag, period, applies):
        s = 0 if applies else block_steps(min_lag, period, self.max_block)
        if not s and self.required:
            why = applies or (
                f"no block of 2 to {self.max_block} steps divides the output period "
                f"({period} steps) within the shortest lag ({min_lag} steps)"
            )
            raise ValueError(f"`BlockedLoop` does not apply: {why}.")
        return s

    def block(self, min_lag, period, applies):
        s = self.batch_block(min_lag, period, applies)
        if not self.single:
            return 0
        if s and s < self.min_block:
            if self.required:
                raise ValueError(
                    f"`BlockedLoop` does not apply: the longest block that divides "
                    f"the output period ({period} steps) within the shortest lag "
                    f"({min_lag} steps) is {s} steps, below `min_block` "
                    f"({self.min_block})."
                )
            return 0
        return s


def get_loop(loop, interpolation) -> AbstractLoop:
    """`loop`, or the default for `interpolation` (see the module docstring)."""
    if loop is None:
        if interpolation.grid_taps == 1:
            return BlockedLoop(min_block=4)
        return BlockedLoop(single=False)
    if not isinstance(loop, AbstractLoop):
        raise ValueError(
            "`loop` must be None, `nm.BlockedLoop()` or `nm.StepByStepLoop()`; got "
            f"{loop!r}."
        )
    return loop
