"""The stepper contract."""

import abc

import equinox as eqx


class AbstractStepper(eqx.Module):
    """Base class of steppers: how the fixed-step loop advances the state by one
    step `dt` with a Diffrax solver.

    - `offsets(solver)`: the stage offsets `c` (in steps, sorted) at which the
      stepper evaluates the drift, when they are known at trace time (the loop then
      plans the delayed reads of each stage once, outside the loop), or None.
    - `for_solver(solver)`: the stepper that steps `solver` (a stepper that cannot
      step it hands over to one that can).
    - `init(...)` and `step(...)`: the solver state and one step.

    To add a stepper, subclass `AbstractStepper` in a new file of this folder.
    """

    @abc.abstractmethod
    def offsets(self, solver) -> tuple[float, ...] | None:
        """The stage offsets known at trace time, or None."""

    def for_solver(self, solver) -> "AbstractStepper":
        return self

    @abc.abstractmethod
    def init(self, solver, system, t0, dt, y0, stage, noise):
        """The solver state at the start (None if the stepper keeps none); `noise`:
        the first step's Brownian increment (or None)."""

    @abc.abstractmethod
    def step(self, solver, system, tn, y, dt, stage_of, solver_state, noise):
        """One step from `(tn, y)`: returns `(y1, solver_state)`. `stage_of(c)`
        gives the `Stage` of offset `c` (None: the time decides); `noise` is the
        step's Brownian increment `(W, H)` or None."""
