"""`fit()`: fitting model parameters by gradient descent (Optax), from one or many
starts, with an optional gradient-free global phase."""

import math
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import ArrayLike, Float, PRNGKeyArray, PyTree

from ..sweeps._executors import AbstractExecution
from ..sweeps._space import Space
from ._constraints import AbstractConstraint
from ._diagnostics import RuggedLossWarning, rugged_message
from ._global import AbstractGlobalStrategy, best_candidates, best_model, run_global
from ._multistart import run_multistart, starts_of
from ._problem import Problem, check_loss_key, check_optimizer, make_step, strong
from ._trace import FitTrace, GlobalTrace, MultiStartTrace


def fit(
    model: PyTree,
    loss: Callable[..., Float[ArrayLike, ""]],
    *,
    params: Callable[[PyTree], Any] | PyTree,
    optimizer: optax.GradientTransformation | None = None,
    steps: int | None = None,
    key: PRNGKeyArray | None = None,
    constraints: Mapping[Callable[[PyTree], Any], AbstractConstraint] | None = None,
    callback: Callable[[int, PyTree, float], Any] | None = None,
    progress: bool = True,
    starts: int | Space | None = None,
    strategy: AbstractGlobalStrategy | None = None,
    search_key: PRNGKeyArray | None = None,
    executor: AbstractExecution | None = None,
    store: str | os.PathLike | None = None,
    lanes: int | None = None,
) -> tuple[PyTree, FitTrace | MultiStartTrace | GlobalTrace]:
    r"""Fit some parameters of a model to a loss: by gradient descent from one or
    many starts, by a gradient-free global search, or by both.

    What runs depends on the arguments given:

    - `optimizer=` and `steps=`: gradient descent from the model's values; the
        trace is a `neuromass.FitTrace`.
    - the same and `starts=n` or `starts=nm.Space(...)`: gradient descent from
        every start, vectorised; a `neuromass.MultiStartTrace`.
    - `strategy=nm.CMAES(...)` alone: a global gradient-free search; a
        `neuromass.GlobalTrace`.
    - `strategy=`, `optimizer=` and `steps=` (the hybrid): the search, then
        gradient descent from its `starts` best candidates (default 1); a
        `MultiStartTrace` whose `global_phase` is the search's `GlobalTrace`.

    **Gradient descent.** Each step evaluates `loss(model)` and its gradient with
    respect to the trainable leaves chosen by `params` (reverse-mode AD through the
    simulation), then applies one `optimizer` update. Every other leaf is frozen:
    the connectome weights and lengths, the other parameters, integers and static
    fields never change and get no gradient. The whole step (value, gradient and
    update) is one `eqx.filter_jit`-compiled function, compiled once for all steps.

    **Returns the best model, not the last.** The model returned is the one with the
    lowest finite loss seen (`trace.best_step`; over all starts and candidates when
    there are several); the model after a single-start fit's final update is
    `trace.last_model`.

    **Constraints** are reparametrisations: a constrained parameter $x$ is stored as
    an unconstrained $u$ with $x = \mathrm{forward}(u)$ (softplus for
    `neuromass.Positive`, scaled sigmoid for `neuromass.Bounded`), so every
    step yields a valid value whatever the learning rate. The optimiser (and its
    learning rate) acts on $u$, and so does a global strategy. An initial value that
    violates its constraint is an error.

    **Non-finite steps are skipped.** If the loss or any gradient is NaN or inf, the
    parameters and the optimiser state are left unchanged for that step (so one
    diverging simulation does not poison the parameters). Skipped steps are marked
    in `trace.skipped`, counted in `trace.n_skipped`, and reported by a
    `RuntimeWarning` at the end.

    **Rugged losses.** After a deterministic gradient descent, `fit` checks whether
    the loss changed against its gradient along the path (it rose where the
    gradients at both ends of a step said it would fall, or the reverse), which a
    smooth convex loss never does; if it did at several steps it warns with a
    `neuromass.RuggedLossWarning` that points to the options below.

    **Many starts.** With `starts=`, every start runs the same optimisation as a
    single-start fit (same steps, optimiser, constraints and noise keys: step $s$
    of every start gets `jax.random.fold_in(key, s)`), all of them as one
    `filter_vmap`-ed compiled program (the whole loop of steps in a `lax.scan`)
    on the sweep engine (`neuromass.sweep`): `lanes` starts per compiled
    call and device, sharded over the devices, or sent to a Dask cluster with
    `executor=nm.DaskExecution(...)`, in chunks of the executor's `batch_size`.
    With `store=DIR` every finished chunk of starts is written to `DIR`, and a
    rerun of the same fit after an interruption computes only the missing ones.
    An integer draws that many starts inside the `Bounded` constraints of the
    trained parameters (Latin hypercube sampling, from `search_key`); an
    `nm.Space` gives them explicitly, with paths naming trained leaves
    (`nm.Space({"k": nm.GridAxis(0.01, 0.3, 8)})`; leaves it does not name start
    at the model's value). Peak memory grows with `lanes` (each lane holds one
    start's gradient); lower `lanes` for large models.

    **Global search.** With `strategy=` (e.g. `neuromass.CMAES`) `fit` runs a
    gradient-free search from the model's values, in the unconstrained
    coordinates; each generation's population is one vectorised sweep call. With
    a loss key, generation $g$ evaluates every candidate with
    `jax.random.fold_in(key, g)`. Given `optimizer` and `steps` as well, the
    search is followed by a multi-start gradient descent from its `starts` best
    distinct candidates (the hybrid). With `store=DIR`, the generations are stored
    in `DIR/global-0000`, ... and the refinement in `DIR/refine`; a rerun replays
    the stored generations and continues.

    **Arguments:**

    - `model`: the model to fit: an `neuromass.Network`, a node model, or any
        pytree (e.g. an `eqx.Module`).
    - `loss`: `loss(model) -> scalar`, or `loss(model, key) -> scalar` for a
        stochastic loss; then step $s$ gets `jax.random.fold_in(key, s)`. It must be
        traceable with JAX (it is compiled).
    - `params`: which leaves to train. Either a selector in the style of
        `eqx.tree_at`'s `where`, such as `lambda m: (m.k, m.node.a)` (selecting a
        sub-module, e.g. `lambda m: m.node`, trains all its floating-point arrays),
        or an Equinox filter spec: a pytree of bools with the model's structure
        (or a prefix of it), e.g. `True` for every float array. Selected leaves must
        be floating-point arrays (Python floats are converted to arrays).
    - `optimizer`: an `optax.GradientTransformation`, e.g. `optax.adam(1e-2)`.
        Optimisers that need the loss value or a line search (e.g. `optax.lbfgs()`,
        `optax.contrib.reduce_on_plateau`) receive `value`, `grad` and `value_fn`.
        Required unless a `strategy` runs alone.
    - `steps`: number of optimisation steps, `>= 1` (with `optimizer`).
    - `key`: a `jax.random` key, required when `loss` takes one.
    - `constraints`: a mapping from selectors (same style as `params`) to
        constraints, e.g. `{lambda m: m.k: nm.Positive(), lambda m: m.node.a:
        nm.Bounded(-0.5, 0.5)}`. Every constrained leaf must be trained; each leaf
        gets at most one constraint. Unconstrained leaves are updated directly.
    - `callback`: `callback(step, model, loss)`, called on the host after every
        step with the model at which that step's loss was evaluated; returning
        `True` stops the fit early. Single-start fits only.
    - `progress`: show a progress bar (steps with the current and best loss;
        starts; generations).
    - `starts`: a number of starts, or an `neuromass.sweeps.Space` of starting
        points; with a `strategy`, the number of its best candidates to refine.
    - `strategy`: a global, gradient-free search strategy such as
        `neuromass.CMAES`.
    - `search_key`: the key of the search's own randomness (drawn starts, CMA-ES
        samples); default `jax.random.key(0)`, so a fit is reproducible.
    - `executor`: how the sweep engine runs many starts or candidates:
        `neuromass.sweeps.ParallelExecution` (default),
        `neuromass.sweeps.SequentialExecution` or
        `neuromass.sweeps.DaskExecution`; its `batch_size` is the chunk of the
        store.
    - `store`: a directory that makes a multi-start or global fit resumable.
    - `lanes`: starts or candidates per compiled call and device; default the
        sweep's (16 on a CPU), at most their number.

    **Returns:**

    `(fitted_model, trace)`: the best model (same structure as `model`) and the
    trace of the mode that ran (table above), which records the loss and the
    trained parameters of every step or candidate.

    !!! example

        ```python
        import jax.numpy as jnp
        import optax
        import neuromass as nm

        net = ...  # an nm.Network; target_fc: the FC to match
        def loss(n):
            sol = nm.simulate(n, t1=500.0, dt=0.5, save_every=1.0, transient=100.0)
            return nm.metrics.fc_mse(nm.metrics.fc(sol["x"]), target_fc)

        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Positive()},
                               optimizer=optax.adam(2e-2), steps=100)
        print(fitted.k, trace.best_loss)

        # rugged loss: a global search, then Adam from its 2 best candidates
        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Bounded(0.0, 1.0)},
                               strategy=nm.CMAES(population_size=8, generations=6),
                               optimizer=optax.adam(2e-2), steps=10, starts=2)
        ```
    """
    # ---- argument checks
    if strategy is not None and not isinstance(strategy, AbstractGlobalStrategy):
        raise TypeError(
            "`strategy` must be a global search strategy such as "
            f"`nm.CMAES(population_size=16, generations=20)`; got {strategy!r}."
        )
    descent = optimizer is not None or steps is not None
    if descent or strategy is None:
        if optimizer is None or steps is None:
            missing = "optimizer" if optimizer is None else "steps"
            raise ValueError(
                f"`fit` needs `{missing}=`: gradient descent takes both `optimizer=` "
                "(e.g. `optax.adam(1e-2)`) and `steps=`; for a gradient-free search "
                "alone pass `strategy=nm.CMAES(...)` and neither."
            )
        steps = check_optimizer(optimizer, steps)
    if not callable(loss):
        raise TypeError(f"`loss` must be callable; got {type(loss).__name__}.")
    if callback is not None and not callable(callback):
        raise TypeError(
            "`callback` must be callable as `callback(step, model, loss)`; got "
            f"{type(callback).__name__}."
        )
    many = starts is not None or strategy is not None
    if not many:
        for name, value in (
            ("search_key", search_key),
            ("executor", executor),
            ("store", store),
            ("lanes", lanes),
        ):
            if value is not None:
                raise ValueError(
                    f"`{name}` is for fits of many starts or candidates; give "
                    "`starts=` or `strategy=` too, or drop it."
                )
    if many and callback is not None:
        raise ValueError(
            "`callback` runs on the host after each step of a single-start fit; a "
            "multi-start or global fit runs its steps inside one compiled program. "
            "Drop `callback`, or fit from one start."
        )
    if strategy is not None and isinstance(starts, Space):
        raise ValueError(
            "With a `strategy`, `starts` is the number of its best candidates to "
            "refine by gradient descent (an int), not a Space of starting points."
        )
    if strategy is not None and starts is not None and not descent:
        raise ValueError(
            "`starts` with a `strategy` is the number of candidates to refine by "
            "gradient descent: give `optimizer=` and `steps=` too, or drop `starts`."
        )
    if search_key is None:
        search_key = jax.random.key(0)
    use_key = check_loss_key(loss, key)

    problem = Problem(model, params, constraints)

    if strategy is not None:
        trace, flat_u = run_global(
            problem,
            loss,
            strategy,
            key=key,
            search_key=search_key,
            executor=executor,
            store=store,
            lanes=lanes,
            progress=progress,
        )
        if not descent:
            return best_model(trace, problem), trace
        n = 1 if starts is None else _count(starts)
        n = min(n, trace.evaluations)
        return run_multistart(
            problem,
            loss,
            optimizer=optimizer,
            steps=steps,
            key=key,
            start_values=best_candidates(trace, flat_u, n, problem),
            executor=executor,
            store=None if store is None else os.path.join(store, "refine"),
            lanes=lanes,
            progress=progress,
            global_phase=trace,
        )
    if starts is not None:
        return run_multistart(
            problem,
            loss,
            optimizer=optimizer,
            steps=steps,
            key=key,
            start_values=starts_of(problem, starts, search_key),
            executor=executor,
            store=store,
            lanes=lanes,
            progress=progress,
        )
    return _single(problem, loss, optimizer, steps, key, use_key, callback, progress)


def _count(starts: Any) -> int:
    if isinstance(starts, bool) or not isinstance(starts, int | np.integer):
        raise TypeError(
            "With a `strategy`, `starts` must be the number of best candidates to "
            f"refine (an int >= 1); got {type(starts).__name__}."
        )
    if starts < 1:
        raise ValueError(f"`starts` must be >= 1; got {starts}.")
    return int(starts)


def _single(problem, loss, optimizer, steps, key, use_key, callback, progress):
    """One start: a Python loop over one compiled step (host callbacks, progress)."""
    step_jit = eqx.filter_jit(make_step(problem, loss, optimizer, use_key))
    frozen = problem.frozen

    from tqdm.auto import tqdm

    # Inputs and outputs of the step must have identical types (no weak types), or
    # the second call would compile again.
    theta = jtu.tree_map(strong, problem.theta0)
    opt_state = jtu.tree_map(strong, optimizer.init(theta))
    key_arg = key if use_key else None
    losses, skipped, history, thetas, grads = [], [], [], [], []
    best_loss, best_step, best_theta = math.inf, -1, theta
    bar = tqdm(
        total=steps, disable=not progress, desc="fit", unit="step", dynamic_ncols=True
    )
    try:
        for s in range(steps):
            current = theta
            theta, opt_state, value, finite, values, grad = step_jit(
                current, opt_state, frozen, np.asarray(s, dtype=np.int32), key_arg
            )
            value = float(value)
            ok = bool(finite)
            losses.append(value)
            skipped.append(not ok)
            history.append(tuple(np.asarray(v) for v in values))
            thetas.append(current)
            grads.append(grad)
            if ok and value < best_loss:
                best_loss, best_step, best_theta = value, s, current
            bar.set_postfix(loss=f"{value:.4g}", best=f"{best_loss:.4g}", refresh=False)
            bar.update(1)
            if callback is not None:
                stop = callback(s, problem.build(frozen, values), value)
                if stop is True:
                    break
    finally:
        bar.close()

    n_done = len(losses)
    n_skipped = int(sum(skipped))
    if n_skipped:
        warnings.warn(
            f"`fit`: {n_skipped} of {n_done} steps had a non-finite loss or gradient "
            "and were skipped (no update); see `trace.skipped`. Lower the learning "
            "rate, constrain the parameters, or make the loss robust.",
            RuntimeWarning,
            stacklevel=3,
        )
    k = len(problem.train)
    if not use_key:
        message = rugged_message(
            np.asarray(losses),
            [np.stack([np.asarray(t[j]) for t in thetas]) for j in range(k)],
            [np.stack([np.asarray(g[j]) for g in grads]) for j in range(k)],
            np.asarray(skipped),
        )
        if message is not None:
            warnings.warn(message, RuggedLossWarning, stacklevel=3)
    stacked = [np.stack([h[j] for h in history]) for j in range(k)]
    trace = FitTrace(
        loss=np.asarray(losses),
        params=problem.record(stacked),
        skipped=np.asarray(skipped, dtype=bool),
        n_skipped=n_skipped,
        best_step=best_step,
        best_loss=best_loss if best_step >= 0 else math.nan,
        last_model=problem.build(frozen, problem.to_constrained(theta)),
    )
    return problem.build(frozen, problem.to_constrained(best_theta)), trace
