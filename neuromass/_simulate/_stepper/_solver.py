"""Steps by the Diffrax solver's own `step`."""

import diffrax

from .._noise import StepIncrement, diffusion_term, levy_area_for
from ._base import AbstractStepper


class SolverStepper(AbstractStepper):
    """Always step with the Diffrax solver's own `step` (the reference for
    `neuromass.TableauStepper`; slower on small networks). The solver evaluates
    the drift at the stage times it chooses, so the delayed reads are interpolated
    at each of them.

    !!! example

        ```python
        import neuromass as nm

        stepper = nm.SolverStepper()
        ```
    """

    def offsets(self, solver):
        return None

    def init(self, solver, system, t0, dt, y0, stage, noise):
        return solver.init(_terms(system, solver, dt, noise), t0, t0 + dt, y0, stage)

    def step(self, solver, system, tn, y, dt, stage_of, solver_state, noise):
        terms = _terms(system, solver, dt, noise)
        y1, _, _, solver_state, _ = solver.step(
            terms, tn, tn + dt, y, stage_of(None), solver_state, made_jump=False
        )
        return y1, solver_state


def _terms(system, solver, dt, noise):
    """The drift term (with the diffusion driven by this step's increment)."""
    drift = diffrax.ODETerm(lambda t, y, stage: system.drift(t, y, stage))
    if noise is None:
        return drift
    W, H = noise
    path = StepIncrement(W=W, H=H, dt=dt, levy_area=levy_area_for(solver))
    return diffrax.MultiTerm(drift, diffusion_term(system, path))
