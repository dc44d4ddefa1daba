"""`optimal_control()`: the stimulus that minimises a cost, by proximal gradient
descent with Optax through the simulation."""

import math
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import PRNGKeyArray

from ..stimuli import AbstractStimulus, TimeSeriesStimulus
from ._grid import ControlGrid
from ._problem import ControlProblem
from ._trace import ControlTrace
from ._transforms import project_box, soft_threshold


def _strong(x):
    """`x` without JAX's weak type (a weakly typed input would make the compiled
    step trace twice), as in `nm.fit`."""
    return jnp.asarray(x, dtype=x.dtype) if eqx.is_array(x) else x


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise ValueError(f"`steps` must be an integer >= 1; got {steps!r}.")
    if steps < 1:
        raise ValueError(f"`steps` must be an integer >= 1; got {steps}.")
    return int(steps)


def _transform(problem: ControlProblem, optimizer, prox_step):
    """The optimiser, then the proximal step of the sparsity (if any), then the
    projection onto the bounds and the mask (if they restrict anything)."""
    parts = [optimizer]
    sparsity = problem.cost.sparsity
    if sparsity is not None:
        if prox_step is None:
            raise ValueError(
                "The cost has a `Sparsity` term, whose proximal step needs a step "
                "size: pass `prox_step=` (the optimiser's learning rate, e.g. "
                "`prox_step=1e-2` with `optax.sgd(1e-2)` or `optax.adam(1e-2)`)."
            )
        prox_step = float(prox_step)
        if not math.isfinite(prox_step) or prox_step <= 0:
            raise ValueError(f"`prox_step` must be a positive number; got {prox_step}.")
        lam = sparsity.thresholds(problem.times, prox_step)
        parts.append(soft_threshold(lam[:, None, None]))
    elif prox_step is not None:
        raise ValueError(
            "`prox_step` is the step size of the sparsity's proximal step, but the "
            "cost has no `Sparsity` term; drop `prox_step`."
        )
    lay = problem.layout
    bounded = bool(jnp.any(jnp.isfinite(lay.lower)) or jnp.any(jnp.isfinite(lay.upper)))
    masked = not bool(jnp.all(lay.mask))
    if bounded or masked:
        parts.append(project_box(lay.lower, lay.upper, lay.mask))
    return parts[0] if len(parts) == 1 else optax.chain(*parts)


def optimal_control(
    model,
    cost,
    control: ControlGrid,
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
    prox_step: float | None = None,
    key: PRNGKeyArray | None = None,
    resample: bool = False,
    background: AbstractStimulus | None = None,
    callback: Callable[[int, TimeSeriesStimulus, float], Any] | None = None,
    progress: bool = True,
    **simulate_kwargs,
) -> tuple[TimeSeriesStimulus, ControlTrace]:
    r"""Find the stimulus $u(t)$ that drives a model to a target: optimal control by
    proximal gradient descent through the simulation.

    The control $u_{v,i}(t)$ is a time course per region $i$ and controlled variable
    $v$, piecewise linear between samples on the grid of `control` (a
    `neuromass.stimuli.TimeSeriesStimulus`), added to the derivatives:
    $\dot x_{v,i} = f_{v,i}(x) + u_{v,i}(t)$. It minimises

    $$J(u) = w_p\,P(x[u]) + \frac{w_2}{2}\int_{t_0}^{t_1}\!\sum_{v,i} u_{v,i}^2\,dt
      + w_1 \int_{t_0}^{t_1}\!\sum_{v,i} |u_{v,i}|\,dt$$

    subject to $\ell \le u \le h$ and $u = 0$ outside the mask, where the
    precision $P$ is a distance of the simulation $x[u]$ to a target (a trajectory,
    an FC, a synchrony, or any differentiable function of the
    `neuromass.Solution`; see `neuromass.control.AbstractPrecision`), $E$
    the energy (`neuromass.control.Energy`) and $S$ the sparsity
    (`neuromass.control.Sparsity`). The cost is written as its formula:
    `TargetTrajectory(target, variable="x") + w2 * Energy() + w1 * Sparsity()`.

    **The iteration.** Step $s$ takes the gradient of the smooth part
    $F = w_p P + w_2 E$ by reverse-mode AD through the simulation (delays, noise,
    any model and solver), then the Optax update $\Delta_s$, the proximal operator
    of the sparsity (soft-thresholding by $\eta\,w_1 c_k$, $c_k$ the trapezoid
    weights of the grid and $\eta$ = `prox_step`) and the projection $\Pi$ onto
    the bounds and the mask:

    $$u_{s+1} = \Pi\Big(\operatorname{soft}_{\eta w_1 c}\big(u_s + \Delta_s(\nabla
      F(u_s))\big)\Big),$$

    the chain `optax.chain(optimizer, soft_threshold(...), project_box(...))`
    (`neuromass.control.soft_threshold`, `neuromass.control.project_box`).
    With `optax.sgd(eta)` and `prox_step=eta` this is the proximal gradient method
    (ISTA, FISTA with Nesterov momentum); with an adaptive optimiser such as Adam
    the threshold uses the same nominal step. The whole step is one compiled
    program (compiled once for all steps).

    **Noise.** With a noisy model give `key`: one key fixes the noise realisation
    (a deterministic problem), a batch of keys (`jax.random.split(key, 8)`)
    averages the precision over those realisations, and `resample=True` draws new
    realisations at every step (`jax.random.fold_in(key, step)`: stochastic
    gradient descent on the expected cost).

    **Returns the best control, not the last**, as `neuromass.fit` does: the
    one with the lowest finite cost seen (`trace.best_step`). Steps whose cost or
    gradient is NaN/inf are skipped (no update) and reported by a
    `RuntimeWarning`.

    **Arguments:**

    - `model`: an `neuromass.Network` (delays, noise and monitors allowed) or a
      node model.
    - `cost`: a `neuromass.control.Cost` or a single term.
    - `control`: a `neuromass.control.ControlGrid`: the grid spacing, the
      controlled variables and regions (mask), the bounds and the initial control.
    - `optimizer`: an `optax.GradientTransformation`, e.g. `optax.adam(1e-2)`;
      optimisers that need the cost's value or a line search (`optax.lbfgs()`)
      get `value`, `grad` and `value_fn`.
    - `steps`: the number of iterations, `>= 1`.
    - `prox_step`: the step size $\eta$ of the sparsity's proximal step (required
      with a `neuromass.control.Sparsity` term): the optimiser's learning rate.
    - `key`: the noise key(s), see above (None without noise).
    - `resample`: draw new noise at every step (default False).
    - `background`: a fixed stimulus added to the control (default none).
    - `callback`: `callback(step, stimulus, cost)`, called on the host after every
      step with the control at which that step's cost was evaluated; returning
      `True` stops early.
    - `progress`: show a progress bar with the current and best cost.
    - `**simulate_kwargs`: the arguments of `neuromass.simulate`: `t1` and `dt`
      at least, and any other (`t0`, `y0`, `save_every`, `transient`, `solver`,
      `monitors`, `noise`, `interpolation`, `stimulus_evaluation`, ...).

    **Returns:**

    `(stimulus, trace)`: the best control, a
    `neuromass.stimuli.TimeSeriesStimulus` with samples `(K, N, V)` on the
    controlled `variables` (pass it to `nm.simulate(..., stimulus=stimulus)`, with
    `background +` it if there is one), and a `neuromass.control.ControlTrace`.

    !!! example "Switching a bistable Wilson-Cowan node up"

        ```python
        import jax.numpy as jnp
        import optax
        import neuromass as nm

        node = nm.models.WilsonCowan()           # bistable: E = 0 and E ~ 0.46
        sim = dict(t1=100.0, dt=0.1, save_every=1.0, y0={"E": 0.0, "I": 0.0})
        target = jnp.full((101, 1), jnp.nan).at[60:].set(0.46)   # up from 60 ms
        stim, trace = nm.control.optimal_control(
            node,
            nm.control.TargetTrajectory(target, variable="E")
            + 1e-3 * nm.control.Energy(),
            nm.control.ControlGrid(spacing=1.0, variables="E"),
            optimizer=optax.adam(2e-3), steps=100, **sim)
        print(trace.cost[0], trace.best_cost)   # the cost falls
        sol = nm.simulate(node, stimulus=stim, **sim)
        ```
    """
    steps = _check_steps(steps)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "`optimizer` must be an `optax.GradientTransformation`, e.g. "
            f"`optax.adam(1e-2)`; got {type(optimizer).__name__}."
        )
    if callback is not None and not callable(callback):
        raise TypeError(
            "`callback` must be callable as `callback(step, stimulus, cost)`; got "
            f"{type(callback).__name__}."
        )
    problem = ControlProblem(
        model, cost, control, key=key, background=background, **simulate_kwargs
    )
    if resample and problem.keys is None:
        raise ValueError(
            "`resample=True` draws new noise at every step, so it needs `key=`."
        )
    tx = _transform(problem, optimizer, prox_step)
    extra_args = isinstance(optimizer, optax.GradientTransformationExtraArgs)

    def step_fn(samples, opt_state, problem, step):
        keys = problem.keys
        if resample:
            if keys.ndim == 0:
                keys = jax.random.fold_in(keys, step)
            else:
                keys = jax.vmap(lambda k: jax.random.fold_in(k, step))(keys)

        def smooth(u):
            return problem.smooth(u, keys)

        (value, terms), grad = jax.value_and_grad(smooth, has_aux=True)(samples)
        total = value
        sparsity = problem.cost.sparsity
        if sparsity is not None:
            total = total + sparsity.weight * terms[sparsity.name]
        finite = jnp.isfinite(total) & jnp.all(jnp.isfinite(grad))
        extra = {}
        if extra_args:
            extra = dict(value=value, grad=grad, value_fn=lambda u: smooth(u)[0])
        updates, new_state = tx.update(grad, opt_state, samples, **extra)
        new = optax.apply_updates(samples, updates)

        def keep(new, old):
            if eqx.is_array(new):
                return _strong(jnp.where(finite, new, old).astype(old.dtype))
            return new

        new = keep(new, samples)
        new_state = jtu.tree_map(keep, new_state, opt_state)
        return new, new_state, total, terms, finite, jnp.sqrt(jnp.sum(grad**2))

    step_jit = eqx.filter_jit(step_fn)

    from tqdm.auto import tqdm

    samples = _strong(problem.initial)
    opt_state = jtu.tree_map(_strong, tx.init(samples))
    costs, skipped, grad_norms = [], [], []
    terms_seen: dict[str, list] = {name: [] for name in problem.cost.names}
    best_cost, best_step, best = math.inf, -1, samples
    bar = tqdm(
        total=steps,
        disable=not progress,
        desc="control",
        unit="step",
        dynamic_ncols=True,
    )
    try:
        for s in range(steps):
            current = samples
            samples, opt_state, total, terms, finite, gnorm = step_jit(
                current, opt_state, problem, np.asarray(s, dtype=np.int32)
            )
            total = float(total)
            ok = bool(finite)
            costs.append(total)
            skipped.append(not ok)
            grad_norms.append(float(gnorm))
            for name in terms_seen:
                terms_seen[name].append(float(terms[name]))
            if ok and total < best_cost:
                best_cost, best_step, best = total, s, current
            bar.set_postfix(cost=f"{total:.4g}", best=f"{best_cost:.4g}", refresh=False)
            bar.update(1)
            if callback is not None:
                if callback(s, problem.stimulus(current), total) is True:
                    break
    finally:
        bar.close()

    n_skipped = int(sum(skipped))
    if n_skipped:
        warnings.warn(
            f"`optimal_control`: {n_skipped} of {len(costs)} steps had a non-finite "
            "cost or gradient and were skipped (no update); see `trace.skipped`. "
            "Lower the learning rate, bound the control, or shorten the run.",
            RuntimeWarning,
            stacklevel=2,
        )
    trace = ControlTrace(
        cost=np.asarray(costs),
        terms={name: np.asarray(v) for name, v in terms_seen.items()},
        grad_norm=np.asarray(grad_norms),
        skipped=np.asarray(skipped, dtype=bool),
        n_skipped=n_skipped,
        best_step=best_step,
        best_cost=best_cost if best_step >= 0 else math.nan,
        last_stimulus=problem.stimulus(samples),
    )
    return problem.stimulus(best), trace
