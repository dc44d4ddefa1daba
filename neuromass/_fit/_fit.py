"""`fit()`: gradient-based fitting of model parameters with Optax."""

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import ArrayLike, Float, PRNGKeyArray, PyTree

from ._constraints import AbstractConstraint
from ._trace import FitTrace


# --------------------------------------------------------------------- selection
class _Label:
    """Stands in for the i-th leaf of a model while a selector is applied to it."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self):
        return f"<leaf {self.index}>"


def _is_label(x) -> bool:
    return isinstance(x, _Label)


def _is_float_leaf(x) -> bool:
    if isinstance(x, float):
        return True
    return eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.inexact)


def _describe(x) -> str:
    if eqx.is_array(x) or isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _apply_selector(
    where: Callable, labels: PyTree, arg: str
) -> list[tuple[int, bool]]:
    """Apply a `tree_at`-style selector to the label tree. Returns `(leaf index,
    selected directly)` pairs; `direct` is False for leaves inside a selected
    subtree."""
    try:
        chosen = where(labels)
    except Exception as e:
        raise ValueError(
            f"`{arg}`: the selector raised {type(e).__name__}: {e}. A selector picks "
            "parts of the model by attribute access only, like `lambda m: (m.k, "
            "m.node.a)`."
        ) from e
    items = list(chosen) if isinstance(chosen, tuple | list) else [chosen]
    out = []
    for item in items:
        if _is_label(item):
            out.append((item.index, True))
            continue
        sub = jtu.tree_leaves(item, is_leaf=_is_label)
        foreign = [x for x in sub if not _is_label(x)]
        if foreign:
            raise ValueError(
                f"`{arg}`: the selector returned {foreign[0]!r}, which is not part of "
                "the model. It must return attributes of its argument, like "
                "`lambda m: (m.k, m.node.a)`; to train every float array pass a "
                "filter spec such as `params=True`."
            )
        out.extend((x.index, False) for x in sub)
    return out


def _apply_spec(spec: PyTree, labels: PyTree, leaves: list) -> list[tuple[int, bool]]:
    """Resolve an Equinox-style filter spec (bools or callables, a prefix of the
    model) to `(leaf index, selected directly)` pairs."""
    out: list[tuple[int, bool]] = []

    def resolve(s, sub):
        sub_labels = jtu.tree_leaves(sub, is_leaf=_is_label)
        direct = _is_label(sub)
        for lab in sub_labels:
            if isinstance(s, bool | np.bool_):
                if s:
                    out.append((lab.index, direct))
            elif callable(s):
                if s(leaves[lab.index]):
                    out.append((lab.index, True))
            else:
                raise ValueError(
                    "`params`: a filter spec must hold bools (or filter functions "
                    f"such as `eqx.is_inexact_array`); found {s!r}."
                )

    try:
        jtu.tree_map(resolve, spec, labels, is_leaf=lambda x: x is None)
    except ValueError as e:
        if str(e).startswith("`params`"):
            raise
        raise ValueError(
            "`params`: the filter spec does not match the model's structure (it must "
            f"be a prefix of the model's pytree): {e}"
        ) from e
    return out


def _resolve(
    selected: list[tuple[int, bool]], leaves: list, paths: list[str], arg: str
) -> list[int]:
    """Keep the float leaves (in leaf order, without duplicates); refuse a directly
    selected leaf that is not a float array."""
    keep = set()
    for i, direct in selected:
        if _is_float_leaf(leaves[i]):
            keep.add(i)
        elif direct:
            raise ValueError(
                f"`{arg}` selects `{paths[i]}`, which is {_describe(leaves[i])}; only "
                "floating-point arrays can be trained."
            )
    return sorted(keep)


def _check_constraint_shape(constraint: AbstractConstraint, leaf, path: str):
    """The constraint must map an array of the leaf's shape to that same shape."""
    leaf = jnp.asarray(leaf)
    spec = jax.ShapeDtypeStruct(leaf.shape, leaf.dtype)
    try:
        out = jax.eval_shape(constraint.forward, spec)
        problem = None if out.shape == leaf.shape else f"gives shape {out.shape}"
    except (TypeError, ValueError) as e:
        problem = f"fails: {e}"
    if problem is not None:
        raise ValueError(
            f"`constraints`: {constraint!r} cannot constrain `{path}` of shape "
            f"{leaf.shape}: applied to it, it {problem}. Its bounds must broadcast "
            "to the parameter's shape."
        )


def _strong(x):
    """`x` without JAX's weak type (a weakly typed input would make the compiled
    step trace twice)."""
    return jnp.asarray(x, dtype=x.dtype) if eqx.is_array(x) else x


def _loss_takes_key(loss: Callable) -> tuple[bool, bool]:
    """(accepts a second positional argument, requires it)."""
    try:
        sig = inspect.signature(loss)
    except (TypeError, ValueError):
        return False, False
    positional = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())
    accepts = len(positional) >= 2 or varargs
    requires = len(positional) >= 2 and positional[1].default is inspect.Parameter.empty
    return accepts, requires


# ------------------------------------------------------------------------------ fit
def fit(
    model: PyTree,
    loss: Callable[..., Float[ArrayLike, ""]],
    *,
    params: Callable[[PyTree], Any] | PyTree,
    optimizer: optax.GradientTransformation,
    steps: int,
    key: PRNGKeyArray | None = None,
    constraints: Mapping[Callable[[PyTree], Any], AbstractConstraint] | None = None,
    callback: Callable[[int, PyTree, float], Any] | None = None,
    progress: bool = True,
) -> tuple[PyTree, FitTrace]:
    r"""Fit some parameters of a model by gradient descent on a loss.

    Each step evaluates `loss(model)` and its gradient with respect to the
    trainable leaves chosen by `params` (reverse-mode AD through the simulation),
    then applies one `optimizer` update. Every other leaf is frozen: the connectome
    weights and lengths, the other parameters, integers and static fields never
    change and get no gradient. The whole step (value, gradient and update) is one
    `eqx.filter_jit`-compiled function, compiled once for all steps.

    **Returns the best model, not the last.** The model returned is the one with the
    lowest finite loss seen (`trace.best_step`); the model after the final update is
    `trace.last_model`.

    **Constraints** are reparametrisations: a constrained parameter $x$ is stored as
    an unconstrained $u$ with $x = \mathrm{forward}(u)$ (softplus for
    `neuromass.Positive`, scaled sigmoid for `neuromass.Bounded`), so every
    step yields a valid value whatever the learning rate. The optimiser (and its
    learning rate) acts on $u$. An initial value that violates its constraint is an
    error.

    **Non-finite steps are skipped.** If the loss or any gradient is NaN or inf, the
    parameters and the optimiser state are left unchanged for that step (so one
    diverging simulation does not poison the parameters). Skipped steps are marked
    in `trace.skipped`, counted in `trace.n_skipped`, and reported by a
    `RuntimeWarning` at the end.

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
    - `steps`: number of optimisation steps, `>= 1`.
    - `key`: a `jax.random` key, required when `loss` takes one.
    - `constraints`: a mapping from selectors (same style as `params`) to
        constraints, e.g. `{lambda m: m.k: nm.Positive(), lambda m: m.node.a:
        nm.Bounded(-0.5, 0.5)}`. Every constrained leaf must be trained; each leaf
        gets at most one constraint. Unconstrained leaves are updated directly.
    - `callback`: `callback(step, model, loss)`, called on the host after every
        step with the model at which that step's loss was evaluated; returning
        `True` stops the fit early.
    - `progress`: show a tqdm progress bar with the current and best loss.

    **Returns:**

    `(fitted_model, trace)`: the best model (same structure as `model`), and a
    `neuromass.FitTrace` with the loss and the trained parameters of every step.

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
        ```
    """
    # ---- argument checks
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise ValueError(f"`steps` must be an integer >= 1; got {steps!r}.")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"`steps` must be an integer >= 1; got {steps}.")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "`optimizer` must be an `optax.GradientTransformation`, e.g. "
            f"`optax.adam(1e-2)`; got {type(optimizer).__name__}."
        )
    if not callable(loss):
        raise TypeError(f"`loss` must be callable; got {type(loss).__name__}.")
    if callback is not None and not callable(callback):
        raise TypeError(
            "`callback` must be callable as `callback(step, model, loss)`; got "
            f"{type(callback).__name__}."
        )
    accepts_key, requires_key = _loss_takes_key(loss)
    if key is None and requires_key:
        raise ValueError(
            "`loss` takes a random key as its second argument, so `fit` needs one: "
            "pass `key=jax.random.key(0)` (step s gets `jax.random.fold_in(key, s)`)."
        )
    if key is not None and not accepts_key:
        raise ValueError(
            "`key` was given but `loss` takes only the model; define "
            "`loss(model, key)` to use it, or drop `key`."
        )
    use_key = key is not None

    # ---- trainable leaves
    path_leaves, treedef = jtu.tree_flatten_with_path(model)
    paths = ["model" + jtu.keystr(p) for p, _ in path_leaves]
    leaves = [x for _, x in path_leaves]
    labels = jtu.tree_unflatten(treedef, [_Label(i) for i in range(len(leaves))])
    if callable(params) and not isinstance(params, eqx.Module):
        selected = _apply_selector(params, labels, "params")
    else:
        selected = _apply_spec(params, labels, leaves)
    train = _resolve(selected, leaves, paths, "params")
    if not train:
        raise ValueError(
            "`params` selects no floating-point array of the model: nothing to fit. "
            "Select parameters like `params=lambda m: (m.k, m.node.a)`."
        )
    for i in train:
        if isinstance(leaves[i], float):
            leaves[i] = jnp.asarray(leaves[i], dtype=jnp.result_type(float))

    # ---- constraints
    cons: dict[int, AbstractConstraint] = {}
    if constraints is not None:
        if not isinstance(constraints, Mapping):
            raise TypeError(
                "`constraints` must be a dict mapping selectors to constraints, e.g. "
                "`{lambda m: m.k: nm.Positive()}`; got "
                f"{type(constraints).__name__}."
            )
        for where, constraint in constraints.items():
            if not isinstance(constraint, AbstractConstraint):
                raise TypeError(
                    "`constraints` values must be constraints such as "
                    f"`nm.Positive()` or `nm.Bounded(low, high)`; got {constraint!r}."
                )
            if not callable(where):
                raise TypeError(
                    "`constraints` keys must be selectors like `lambda m: m.k`; got "
                    f"{where!r}."
                )
            chosen = _resolve(
                _apply_selector(where, labels, "constraints"),
                leaves,
                paths,
                "constraints",
            )
            if not chosen:
                raise ValueError(
                    f"`constraints`: the selector for {constraint!r} selects no "
                    "floating-point array."
                )
            for i in chosen:
                if i not in train:
                    raise ValueError(
                        f"`constraints` constrains `{paths[i]}`, which is not "
                        "trained: add it to `params` or drop the constraint."
                    )
                if i in cons:
                    raise ValueError(
                        f"`constraints` gives `{paths[i]}` two constraints "
                        f"({cons[i]!r} and {constraint!r}); give one."
                    )
                _check_constraint_shape(constraint, leaves[i], paths[i])
                why = constraint.violation(np.asarray(leaves[i]))
                if why is not None:
                    raise ValueError(
                        f"The initial value of `{paths[i]}` violates its constraint "
                        f"{constraint!r}: {why}."
                    )
                cons[i] = constraint

    constraint_list = tuple(cons.get(i) for i in train)
    frozen = [None if i in train else x for i, x in enumerate(leaves)]

    def to_unconstrained(values):
        return tuple(
            v if c is None else c.inverse(v) for c, v in zip(constraint_list, values)
        )

    def to_constrained(theta):
        return tuple(
            u if c is None else c.forward(u) for c, u in zip(constraint_list, theta)
        )

    def build(frozen_leaves, values):
        full = list(frozen_leaves)
        for i, v in zip(train, values):
            full[i] = v
        return jtu.tree_unflatten(treedef, full)

    theta0 = tuple(jnp.asarray(leaves[i]) for i in train)
    theta0 = to_unconstrained(theta0)
    bad = [paths[i] for i, u in zip(train, theta0) if not bool(jnp.isfinite(u).all())]
    if bad:
        raise ValueError(
            f"The initial value of `{bad[0]}` is not finite (or too close to a "
            "constraint's bound to be represented); start further inside."
        )

    # ---- the compiled step
    def step_fn(theta, opt_state, frozen_leaves, step, key):
        step_key = jax.random.fold_in(key, step) if use_key else None

        def objective(th):
            m = build(frozen_leaves, to_constrained(th))
            value = loss(m, step_key) if use_key else loss(m)
            if not (eqx.is_array_like(value)):
                raise ValueError(
                    f"`loss` must return a scalar array; got {type(value).__name__}."
                )
            value = jnp.asarray(value)
            if value.shape != () or not jnp.issubdtype(value.dtype, jnp.floating):
                raise ValueError(
                    "`loss` must return a real floating-point scalar; got an array "
                    f"of shape {value.shape} and dtype {value.dtype}."
                )
            return value

        value, grads = eqx.filter_value_and_grad(objective)(theta)
        finite = jnp.isfinite(value)
        for g in grads:
            finite = finite & jnp.all(jnp.isfinite(g))
        if isinstance(optimizer, optax.GradientTransformationExtraArgs):
            extra = dict(value=value, grad=grads, value_fn=objective)
        else:
            extra = {}
        updates, new_state = optimizer.update(grads, opt_state, theta, **extra)
        new_theta = optax.apply_updates(theta, updates)

        def keep(new, old):
            if eqx.is_array(new):
                return _strong(jnp.where(finite, new, old).astype(old.dtype))
            return new

        theta_next = jtu.tree_map(keep, new_theta, theta)
        state_next = jtu.tree_map(keep, new_state, opt_state)
        return theta_next, state_next, value, finite, to_constrained(theta)

    step_jit = eqx.filter_jit(step_fn)

    # ---- the loop
    from tqdm.auto import tqdm

    # Inputs and outputs of the step must have identical types (no weak types), or
    # the second call would compile again.
    theta = jtu.tree_map(_strong, theta0)
    opt_state = jtu.tree_map(_strong, optimizer.init(theta))
    key_arg = key if use_key else None
    losses, skipped, history = [], [], []
    best_loss, best_step, best_theta = math.inf, -1, theta
    bar = tqdm(
        total=steps, disable=not progress, desc="fit", unit="step", dynamic_ncols=True
    )
    try:
        for s in range(steps):
            current = theta
            theta, opt_state, value, finite, values = step_jit(
                current, opt_state, frozen, np.asarray(s, dtype=np.int32), key_arg
            )
            value = float(value)
            ok = bool(finite)
            losses.append(value)
            skipped.append(not ok)
            history.append(tuple(np.asarray(v) for v in values))
            if ok and value < best_loss:
                best_loss, best_step, best_theta = value, s, current
            bar.set_postfix(loss=f"{value:.4g}", best=f"{best_loss:.4g}", refresh=False)
            bar.update(1)
            if callback is not None:
                stop = callback(s, build(frozen, values), value)
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
            stacklevel=2,
        )
    stacked = [np.stack([h[j] for h in history]) for j in range(len(train))]
    trace = FitTrace(
        loss=np.asarray(losses),
        params=build([None] * len(leaves), stacked),
        skipped=np.asarray(skipped, dtype=bool),
        n_skipped=n_skipped,
        best_step=best_step,
        best_loss=best_loss if best_step >= 0 else math.nan,
        last_model=build(frozen, to_constrained(theta)),
    )
    return build(frozen, to_constrained(best_theta)), trace
