"""The loop-strategy contract."""

import abc

import equinox as eqx


class AbstractLoop(eqx.Module):
    """Base class of loop strategies, passed as `simulate(..., loop=...)`.

    A loop strategy runs the fixed-step loop of a `LoopProblem` (`run`), returning
    `(ys, y_final, monitor_outputs)`; `sizes(config)` says how many steps it reads
    at once for a single run and for a batch under `vmap` (0: step by step).

    To add one, subclass `AbstractLoop` in a new file of this folder: its `run`
    gives the driver (`_driver.Driver`) a body (`AbstractBody`) that advances the
    loop state.
    """

    @abc.abstractmethod
    def run(self, problem):
        """Run the loop; returns `(ys, y_final, monitor_outputs)`."""

    def sizes(self, config) -> tuple[int, int]:
        """`(block, batch_block)`: the steps read at once by a single run and by a
        batch under `vmap` (0: step by step)."""
        return 0, 0
