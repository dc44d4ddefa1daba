"""`FitTrace`: the record of a fit."""

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import PyTree


class FitTrace(eqx.Module):
    r"""The record of a `neuromass.fit` run (host-side NumPy arrays).

    Step $s$ evaluates the loss and its gradient at the parameters $\theta_s$ and
    then updates them to $\theta_{s+1}$ (unless the step is skipped). Everything
    indexed by step refers to $\theta_s$, the point where `loss[s]` was evaluated.

    **Attributes:**

    - `loss`: `(steps,)` loss value of every step (NaN/inf kept as they came).
    - `params`: the trained parameters per step, as a pytree shaped like the model
        (`None` at every frozen leaf) whose trained leaves have a leading step axis:
        `trace.params.k` is `(steps,)`, `trace.params.node.a` is `(steps, N)` for a
        per-region `a`. The values are the constrained ones the model saw.
    - `skipped`: `(steps,)` bool, True where the loss or a gradient was NaN/inf and
        the update was skipped.
    - `n_skipped`: number of skipped steps.
    - `best_step`: the step with the lowest finite loss (`-1` if there is none).
    - `best_loss`: that loss (NaN if there is none).
    - `last_model`: the model after the final update ($\theta_{\text{steps}}$,
        never evaluated by the loop).
    """

    loss: np.ndarray
    params: PyTree
    skipped: np.ndarray
    n_skipped: int
    best_step: int
    best_loss: float
    last_model: PyTree

    @property
    def steps(self) -> int:
        """Number of steps run."""
        return int(self.loss.shape[0])

    def model_at(self, step: int) -> PyTree:
        """The model with the trained parameters of step `step` (negative indices
        count from the end), e.g. `trace.model_at(trace.best_step)`."""
        if not -self.steps <= step < self.steps:
            raise IndexError(
                f"`step` must be in [{-self.steps}, {self.steps}); got {step}."
            )
        values = jtu.tree_map(lambda h: jnp.asarray(h[step]), self.params)
        return eqx.combine(values, self.last_model)
