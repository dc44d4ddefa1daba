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


def _index(tree: PyTree, *idx) -> PyTree:
    return jtu.tree_map(lambda h: h[idx], tree)


class MultiStartTrace(eqx.Module):
    r"""The record of a multi-start `neuromass.fit` (`starts=...`), and of the
    gradient refinement of a hybrid fit (`strategy=...` with an `optimizer`).

    Every start ran the same optimisation as a single-start fit would from its
    starting point (same optimiser, steps, constraints and noise keys), all of
    them vectorised into one compiled program on the sweep engine. Host-side
    NumPy arrays; start $i$, step $s$ refer to the point where `loss[i, s]` was
    evaluated, as in `neuromass.FitTrace`.

    **Attributes:**

    - `loss`: `(starts, steps)` loss of every start at every step.
    - `params`: the trained parameters, a model-shaped pytree (`None` at frozen
        leaves) whose leaves have leading axes `(starts, steps)`, e.g.
        `trace.params.k` is `(starts, steps)`. Constrained values.
    - `starts`: the starting points, model-shaped with a leading `(starts,)` axis.
    - `last`: the parameters after each start's final update, `(starts, ...)`.
    - `skipped`: `(starts, steps)` bool, steps skipped for a non-finite loss or
        gradient.
    - `status`: `(starts,)` the sweep status of each start (`"ok"`, or
        `"nonfinite"` when a loss or parameter of its path is NaN/inf).
    - `best_start`, `best_step`, `best_loss`: where the lowest finite loss was
        (`-1`, `-1`, NaN if there is none); the fitted model has those parameters.
    - `global_phase`: for a hybrid fit, the `neuromass.GlobalTrace` of the
        global search whose best candidates were refined; else `None`.
    - `template`: the model with its frozen leaves, to rebuild models from.

    !!! example

        ```python
        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Bounded(0.0, 0.5)},
                               optimizer=optax.adam(0.05), steps=30, starts=8)
        trace.loss.shape, trace.params.k.shape       # (8, 30), (8, 30)
        trace.best_loss_per_start                    # (8,)
        trace.trace(trace.best_start).loss           # that start's FitTrace
        nm.viz.plot_fit(trace)
        ```
    """

    loss: np.ndarray
    params: PyTree
    starts: PyTree
    last: PyTree
    skipped: np.ndarray
    status: np.ndarray
    best_start: int
    best_step: int
    best_loss: float
    global_phase: "GlobalTrace | None"
    template: PyTree

    @property
    def n_starts(self) -> int:
        """Number of starts."""
        return int(self.loss.shape[0])

    @property
    def steps(self) -> int:
        """Number of steps of each start."""
        return int(self.loss.shape[1])

    @property
    def best_loss_per_start(self) -> np.ndarray:
        """`(starts,)` lowest finite loss of each start (NaN where none)."""
        finite = np.where(np.isfinite(self.loss), self.loss, np.inf)
        best = finite.min(axis=1)
        return np.where(np.isfinite(best), best, np.nan)

    def model_at(self, start: int, step: int) -> PyTree:
        """The model with the parameters of start `start` at step `step`
        (negative indices count from the end)."""
        _check_index("start", start, self.n_starts)
        _check_index("step", step, self.steps)
        values = jtu.tree_map(lambda h: jnp.asarray(h[start, step]), self.params)
        return eqx.combine(values, self.template)

    def trace(self, start: int) -> FitTrace:
        """The `neuromass.FitTrace` of one start, as a single-start fit from
        its starting point would have returned it."""
        _check_index("start", start, self.n_starts)
        loss = self.loss[start]
        finite = np.isfinite(loss) & ~self.skipped[start]
        best_step = (
            int(np.argmin(np.where(finite, loss, np.inf))) if finite.any() else -1
        )
        last = jtu.tree_map(lambda h: jnp.asarray(h[start]), self.last)
        return FitTrace(
            loss=loss,
            params=_index(self.params, start),
            skipped=self.skipped[start],
            n_skipped=int(self.skipped[start].sum()),
            best_step=best_step,
            best_loss=float(loss[best_step]) if best_step >= 0 else float("nan"),
            last_model=eqx.combine(last, self.template),
        )


class GlobalTrace(eqx.Module):
    r"""The record of a gradient-free global search of `neuromass.fit`
    (`strategy=nm.CMAES(...)`). Host-side NumPy arrays.

    Generation $g$ evaluated `population_size` candidates in one vectorised sweep
    call; candidate $j$ of generation $g$ had the parameters `params[g, j]` and the
    loss `loss[g, j]` (non-finite losses are kept as they came and rank last).

    **Attributes:**

    - `loss`: `(generations, population)` losses.
    - `params`: model-shaped pytree (`None` at frozen leaves) whose leaves have
        leading axes `(generations, population)`; constrained values.
    - `mean`: the search distribution's mean at the start of each generation,
        model-shaped with a leading `(generations,)` axis (constrained values).
    - `sigma`: `(generations,)` its spread: the root mean square of its standard
        deviations over the coordinates (unconstrained), e.g. CMA-ES's step size
        times the root mean square of its covariance's diagonal.
    - `best_generation`, `best_index`, `best_loss`: the best candidate.
    - `template`: the model with its frozen leaves.

    !!! example

        ```python
        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Bounded(0.0, 0.5)},
                               strategy=nm.CMAES(population_size=8, generations=6))
        trace.loss.shape, trace.evaluations          # (6, 8), 48
        trace.best_so_far                            # (6,)
        trace.model_at(trace.best_generation, trace.best_index)
        ```
    """

    loss: np.ndarray
    params: PyTree
    mean: PyTree
    sigma: np.ndarray
    best_generation: int
    best_index: int
    best_loss: float
    template: PyTree

    @property
    def generations(self) -> int:
        """Number of generations run."""
        return int(self.loss.shape[0])

    @property
    def population_size(self) -> int:
        """Candidates per generation."""
        return int(self.loss.shape[1])

    @property
    def evaluations(self) -> int:
        """Number of loss evaluations (generations x population)."""
        return int(self.loss.size)

    @property
    def best_so_far(self) -> np.ndarray:
        """`(generations,)` the lowest finite loss up to and including each
        generation."""
        finite = np.where(np.isfinite(self.loss), self.loss, np.inf).min(axis=1)
        best = np.minimum.accumulate(finite)
        return np.where(np.isfinite(best), best, np.nan)

    def model_at(self, generation: int, index: int) -> PyTree:
        """The model of candidate `index` of generation `generation`."""
        _check_index("generation", generation, self.generations)
        _check_index("index", index, self.population_size)
        values = jtu.tree_map(lambda h: jnp.asarray(h[generation, index]), self.params)
        return eqx.combine(values, self.template)


def _check_index(name: str, i: int, n: int) -> None:
    if not -n <= i < n:
        raise IndexError(f"`{name}` must be in [{-n}, {n}); got {i}.")
