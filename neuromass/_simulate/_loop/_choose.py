"""The loop a `simulate` call runs: the user's, or the default."""

from ._base import AbstractLoop
from ._blocked import BlockedLoop


def get_loop(loop, interpolation) -> AbstractLoop:
    """`loop`, or the default for `interpolation`: blocks of at least 4 steps for
    single runs with nearest reads; single runs step by step with linear reads
    (where blocks gained little and doubled the compile time); a batch under `vmap`
    in blocks wherever they apply."""
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
