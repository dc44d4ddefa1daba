"""What every fitting mode shares: the trainable leaves, their constraints, the
unconstrained coordinates, and one optimisation step."""

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import PyTree

from ._constraints import AbstractConstraint, Bounded


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


def strong(x):
    """`x` without JAX's weak type (a weakly typed input would make the compiled
    step trace twice, and a scan's carry change type)."""
    return jnp.asarray(x, dtype=x.dtype) if eqx.is_array(x) else x


def loss_takes_key(loss: Callable) -> tuple[bool, bool]:
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


def check_loss_key(loss: Callable, key: Any, where: str = "fit") -> bool:
    """Check `key` against the loss's signature; whether the loss gets a key."""
    if not callable(loss):
        raise TypeError(f"`loss` must be callable; got {type(loss).__name__}.")
    accepts_key, requires_key = loss_takes_key(loss)
    if key is None and requires_key:
        raise ValueError(
            f"`loss` takes a random key as its second argument, so `{where}` needs "
            "one: pass `key=jax.random.key(0)` (step s gets "
            "`jax.random.fold_in(key, s)`)."
        )
    if key is not None and not accepts_key:
        raise ValueError(
            "`key` was given but `loss` takes only the model; define "
            "`loss(model, key)` to use it, or drop `key`."
        )
    return key is not None


def check_scalar_loss(value) -> jax.Array:
    """The loss's value as a real floating-point scalar array, or a clear error."""
    if not eqx.is_array_like(value):
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


# ------------------------------------------------------------------------ problem
class Problem:
    """A model split into trained leaves (in unconstrained coordinates) and frozen
    ones. Host-side bookkeeping; its methods are traceable."""

    def __init__(
        self,
        model: PyTree,
        params: Callable[[PyTree], Any] | PyTree,
        constraints: Mapping[Callable[[PyTree], Any], AbstractConstraint] | None,
    ):
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
                "`params` selects no floating-point array of the model: nothing to "
                "fit. Select parameters like `params=lambda m: (m.k, m.node.a)`."
            )
        for i in train:
            if isinstance(leaves[i], float):
                leaves[i] = jnp.asarray(leaves[i], dtype=jnp.result_type(float))
        self.treedef = treedef
        self.paths = paths
        self.leaves = leaves
        self.labels = labels
        self.train = train
        self.cons = self._constraints(constraints)
        self.constraint_list = tuple(self.cons.get(i) for i in train)
        self.frozen = [None if i in train else x for i, x in enumerate(leaves)]
        theta0 = self.to_unconstrained(tuple(jnp.asarray(leaves[i]) for i in train))
        bad = [
            paths[i] for i, u in zip(train, theta0) if not bool(jnp.isfinite(u).all())
        ]
        if bad:
            raise ValueError(
                f"The initial value of `{bad[0]}` is not finite (or too close to a "
                "constraint's bound to be represented); start further inside."
            )
        self.theta0 = theta0

    def _constraints(self, constraints) -> dict[int, AbstractConstraint]:
        cons: dict[int, AbstractConstraint] = {}
        if constraints is None:
            return cons
        if not isinstance(constraints, Mapping):
            raise TypeError(
                "`constraints` must be a dict mapping selectors to constraints, e.g. "
                "`{lambda m: m.k: nm.Positive()}`; got "
                f"{type(constraints).__name__}."
            )
        leaves, paths = self.leaves, self.paths
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
                _apply_selector(where, self.labels, "constraints"),
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
                if i not in self.train:
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
        return cons

    # ------------------------------------------------------------------ mappings
    @property
    def train_paths(self) -> list[str]:
        return [self.paths[i] for i in self.train]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [tuple(jnp.shape(self.leaves[i])) for i in self.train]

    @property
    def dtypes(self) -> list[Any]:
        return [jnp.asarray(self.leaves[i]).dtype for i in self.train]

    def to_unconstrained(self, values):
        return tuple(
            v if c is None else c.inverse(v)
            for c, v in zip(self.constraint_list, values)
        )

    def to_constrained(self, theta):
        return tuple(
            u if c is None else c.forward(u)
            for c, u in zip(self.constraint_list, theta)
        )

    def build(self, frozen_leaves, values) -> PyTree:
        full = list(frozen_leaves)
        for i, v in zip(self.train, values):
            full[i] = v
        return jtu.tree_unflatten(self.treedef, full)

    def record(self, stacked: list) -> PyTree:
        """A model-shaped tree with `stacked[j]` at the j-th trained leaf and None
        at the frozen ones (the layout of a trace's `params`)."""
        return self.build([None] * len(self.leaves), stacked)

    def bounds(self, arg: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """The `(low, high)` box of every trained leaf, broadcast to its shape;
        every trained leaf needs a `Bounded` constraint."""
        out = []
        for i, c in zip(self.train, self.constraint_list):
            if not isinstance(c, Bounded):
                raise ValueError(
                    f"`{arg}` draws points inside the bounds of every trained "
                    f"parameter, but `{self.paths[i]}` has "
                    f"{'no constraint' if c is None else repr(c)}: give it one, e.g. "
                    "`constraints={lambda m: m.k: nm.Bounded(0.0, 1.0)}`, or pass "
                    "the starting points as an `nm.Space`."
                )
            shape = jnp.shape(self.leaves[i])
            lo = np.broadcast_to(np.asarray(c.low, dtype=float), shape)
            hi = np.broadcast_to(np.asarray(c.high, dtype=float), shape)
            out.append((lo, hi))
        return out


# --------------------------------------------------------------------------- step
def make_step(
    problem: Problem,
    loss: Callable,
    optimizer: optax.GradientTransformation,
    use_key: bool,
):
    """One optimisation step `step(theta, opt_state, frozen, step, key) ->
    (theta_next, state_next, value, finite, values, grads)`: the loss and its
    gradient at `theta` (unconstrained), an optimiser update (skipped when the
    loss or a gradient is not finite), the constrained values the model saw and
    the gradient with respect to `theta`."""

    def step_fn(theta, opt_state, frozen_leaves, step, key):
        step_key = jax.random.fold_in(key, step) if use_key else None

        def objective(th):
            m = problem.build(frozen_leaves, problem.to_constrained(th))
            value = loss(m, step_key) if use_key else loss(m)
            return check_scalar_loss(value)

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
                return strong(jnp.where(finite, new, old).astype(old.dtype))
            return new

        theta_next = jtu.tree_map(keep, new_theta, theta)
        state_next = jtu.tree_map(keep, new_state, opt_state)
        values = problem.to_constrained(theta)
        return theta_next, state_next, value, finite, values, grads

    return step_fn


def check_optimizer(optimizer, steps, where: str = "fit") -> int:
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
    return steps
