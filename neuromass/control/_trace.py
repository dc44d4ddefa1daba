"""`ControlTrace`: the record of an optimal-control run."""

import equinox as eqx
import numpy as np

from ..stimuli import TimeSeriesStimulus


class ControlTrace(eqx.Module):
    r"""The record of a `neuromass.control.optimal_control` run (host-side
    NumPy arrays), as `neuromass.FitTrace` is of a fit.

    Step $s$ evaluates the cost and its gradient at the control $u_s$, then
    updates it to $u_{s+1}$ (unless the step is skipped). Everything indexed by
    step refers to $u_s$.

    **Attributes:**

    - `cost`: `(steps,)` the whole cost $J(u_s)$, weights applied (NaN/inf kept).
    - `terms`: `{name: (steps,)}` the unweighted value of every term of the cost
      (e.g. `terms["trajectory"]`, `terms["energy"]`).
    - `grad_norm`: `(steps,)` the Euclidean norm of the gradient of the smooth
      part of the cost.
    - `skipped`: `(steps,)` bool, True where the cost or its gradient was NaN/inf
      and the update was skipped.
    - `n_skipped`: the number of skipped steps.
    - `best_step`: the step with the lowest finite cost (`-1` if none).
    - `best_cost`: that cost (NaN if none).
    - `last_stimulus`: the control after the final update ($u_\text{steps}$, never
      evaluated by the loop).
    """

    cost: np.ndarray
    terms: dict
    grad_norm: np.ndarray
    skipped: np.ndarray
    n_skipped: int
    best_step: int
    best_cost: float
    last_stimulus: TimeSeriesStimulus

    @property
    def steps(self) -> int:
        """Number of steps run."""
        return int(self.cost.shape[0])

    @property
    def reduction(self) -> float:
        """The factor by which the cost fell: `cost[0] / best_cost`."""
        return float(self.cost[0] / self.best_cost)
