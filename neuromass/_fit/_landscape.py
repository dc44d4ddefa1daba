"""`landscape`: a loss scanned over one or two parameters on the sweep engine."""

import os
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float, PRNGKeyArray, PyTree

from ..sweeps._axes import AbstractAxis
from ..sweeps._executors import AbstractExecution
from ..sweeps._result import SweepResult
from ..sweeps._space import Space, _getter
from ._engine import describe, fn_name, key_data, wrap_key
from ._problem import check_loss_key, check_scalar_loss


class Landscape(eqx.Module):
    r"""A loss evaluated on a grid of parameter values, from
    `neuromass.landscape`. Host-side NumPy arrays.

    **Attributes:**

    - `loss`: the loss on the grid, shape `(n_0, n_1, ...)` (one dimension per
        axis, in the order of `names`; `(n,)` for a zip space or one axis).
    - `names`: the parameter paths of the axes, e.g. `("k", "node.a")`.
    - `coords`: the values of each axis by path.
    - `slope`: with `gradient=True`, by path: the derivative of the loss along
        each axis at every grid point ($\partial L / \partial p$, summed over the
        elements of a parameter set by a broadcast axis), shaped like `loss`; else
        an empty dict.
    - `result`: the underlying `neuromass.sweeps.SweepResult` (outputs `"loss"`
        and `"slope.<path>"`).

    !!! example

        ```python
        land = nm.landscape(loss, net, {"k": nm.GridAxis(0.0, 0.3, 31)},
                            gradient=True)
        land.argmin()                                  # {"k": ...}
        disagree = np.sign(land.slope["k"]) != np.sign(land.finite_difference("k"))
        land.coords["k"][disagree]                     # where the gradient misleads
        ```
    """

    loss: np.ndarray
    names: tuple[str, ...]
    coords: dict[str, np.ndarray]
    slope: dict[str, np.ndarray]
    result: SweepResult

    def argmin(self) -> dict[str, Any]:
        """The grid point with the lowest finite loss, `{path: value}`."""
        flat = np.where(np.isfinite(self.loss), self.loss, np.inf).ravel()
        if not np.isfinite(flat).any():
            raise ValueError("`Landscape.argmin`: no grid point has a finite loss.")
        i = int(np.argmin(flat))
        out = {}
        for n in self.names:
            v = np.asarray(self.result.params[n][i])
            out[n] = v.item() if v.ndim == 0 else v
        return out

    def finite_difference(self, name: str) -> np.ndarray:
        """The slope of the loss along axis `name` by centred differences of
        neighbouring grid values (one-sided at the ends), shaped like `loss`: compare
        with `slope[name]` to see whether the gradient follows the landscape."""
        if name not in self.names:
            raise ValueError(
                f"`Landscape.finite_difference`: no axis `{name}`; the axes are "
                f"{list(self.names)}."
            )
        if self.loss.ndim != len(self.names):
            raise ValueError(
                "`Landscape.finite_difference` needs a product grid (one dimension "
                "per axis)."
            )
        axis = self.names.index(name)
        c = np.asarray(self.coords[name], dtype=float)
        if c.ndim != 1 or len(c) < 2:
            raise ValueError(
                f"`Landscape.finite_difference`: axis `{name}` needs at least 2 "
                "scalar values."
            )
        return np.gradient(self.loss, c, axis=axis)


def _axes_space(axes: Any) -> Space:
    if isinstance(axes, Space):
        return axes
    if isinstance(axes, Mapping) and axes:
        for path, axis in axes.items():
            if not isinstance(path, str):
                raise TypeError(
                    "`axes` maps parameter paths (strings such as `'k'` or "
                    f"`'node.a'`) to axes; got the key {path!r}."
                )
            if not isinstance(axis, AbstractAxis):
                raise TypeError(
                    f"`axes[{path!r}]` must be an axis such as `nm.GridAxis(0.0, 0.3, "
                    f"31)`; got {type(axis).__name__}."
                )
        return Space(dict(axes), mode="product")
    raise TypeError(
        "`axes` must be a dict of parameter paths to axes, e.g. `{'k': "
        "nm.GridAxis(0.0, 0.3, 31)}`, or an `nm.Space`; got "
        f"{type(axes).__name__}."
    )


def landscape(
    loss: Callable[..., Float[ArrayLike, ""]],
    model: PyTree,
    axes: Mapping[str, AbstractAxis] | Space,
    *,
    key: PRNGKeyArray | None = None,
    gradient: bool = False,
    executor: AbstractExecution | None = None,
    store: str | os.PathLike | None = None,
    lanes: int | None = None,
    progress: bool = True,
) -> Landscape:
    r"""Evaluate a loss over a grid of parameter values: look at a landscape
    before descending it.

    Every point sets the parameters named by the axes' paths on `model`
    (`neuromass.sweeps.apply_point`) and evaluates `loss` there, through one
    vectorised `neuromass.sweep` call (chunked, on every device,
    resumable with `store=`). A stochastic `loss(model, key)` gets the same `key`
    at every point (common random numbers), so the scan shows the landscape that
    a fit with that fixed key descends, not noise between points.

    With `gradient=True` each point also returns the derivative of the loss along
    every axis (reverse-mode AD, as `neuromass.fit` uses it), in
    `Landscape.slope`. Where it disagrees with the slope of the scanned values
    (`Landscape.finite_difference`) at the grid's resolution, the loss is rugged
    below that resolution: a gradient-based fit is misled there. Plot with
    `neuromass.viz.plot_landscape`.

    **Arguments:**

    - `loss`: `loss(model) -> scalar` or `loss(model, key) -> scalar`, as for
        `neuromass.fit`.
    - `model`: the model (e.g. an `neuromass.Network`).
    - `axes`: `{path: axis}` for one or two (or more) parameters, e.g.
        `{"k": nm.GridAxis(0.0, 0.3, 61)}`, scanned as a product grid; or an
        `neuromass.sweeps.Space` of points.
    - `key`: the key of a stochastic loss (the same at every point).
    - `gradient`: also compute the loss's derivative along each axis.
    - `executor`, `store`, `lanes`, `progress`: as for `neuromass.sweep`.

    **Returns:**

    A `neuromass.Landscape`.

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        def loss(m):
            return (m["k"] - 0.1) ** 2 + 1e-4 * jnp.sin(400.0 * m["k"])

        land = nm.landscape(loss, {"k": 0.0}, {"k": nm.GridAxis(0.0, 0.2, 41)},
                            gradient=True, progress=False)
        land.argmin()                       # {'k': 0.1}
        nm.viz.plot_landscape(land)
        ```
    """
    space = _axes_space(axes)
    use_key = check_loss_key(loss, key, "landscape")
    if len(space) == 0:
        raise ValueError("`axes`: the space holds no point.")
    names = space.axis_names
    if not names:
        raise ValueError("`axes` holds no axis: give at least one, e.g. GridAxis.")
    getters = []
    for name in names:
        try:
            _getter(name)(model)
        except ValueError as e:
            raise ValueError(f"`axes`: {e}") from None
        getters.append(_getter(name))
    kd = key_data(key)

    def evaluate(m):
        k = wrap_key(kd) if use_key else None

        def of(values):
            mm = eqx.tree_at(lambda x: [g(x) for g in getters], m, list(values))
            return check_scalar_loss(loss(mm, k) if use_key else loss(mm))

        values = [jnp.asarray(g(m)) for g in getters]
        if not gradient:
            return {"loss": of(values)}
        value, grads = jax.value_and_grad(of)(values)
        out = {"loss": value}
        for name, g in zip(names, grads):
            out[f"slope.{name}"] = jnp.sum(g)
        return out

    from ..sweeps._sweep import sweep

    result = sweep(
        evaluate,
        space,
        model=model,
        executor=executor,
        store=store,
        lanes=lanes,
        progress=progress,
        fingerprint=(
            f"neuromass.landscape loss={fn_name(loss)}#{describe(loss)}; "
            f"gradient={bool(gradient)}; key={describe(kd)}"
        ),
    )
    shape = space.shape
    grid = np.asarray(result.outputs["loss"]).reshape(shape)
    slope = {
        name: np.asarray(result.outputs[f"slope.{name}"]).reshape(shape)
        for name in names
        if gradient
    }
    return Landscape(
        loss=grid,
        names=tuple(names),
        coords=space.coords,
        slope=slope,
        result=result,
    )
