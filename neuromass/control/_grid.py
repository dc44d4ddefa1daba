"""`ControlGrid`: where and when a control acts, its bounds and its start."""

import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

from ..stimuli import TimeSeriesStimulus


class ControlGrid(eqx.Module):
    r"""The control's time grid, the entries it may act on, its bounds and its
    initial value.

    The control $u_{v,i}(t)$ (variable $v$, region $i$) is piecewise linear in
    time between samples $u_{k,v,i} = u_{v,i}(t_0 + k h)$, $k = 0, \dots, K - 1$,
    with $h$ = `spacing` and $t_0 + (K - 1) h = t_1$: a
    `neuromass.stimuli.TimeSeriesStimulus` whose samples are what the
    optimisation changes. It is added to the derivatives of the controlled
    variables, $\dot x_{v,i} = f_{v,i}(x) + u_{v,i}(t)$.

    The samples obey the mask and the bounds at every iteration:
    $u_{k,v,i} = 0$ where `mask` is false, and
    $\ell_{v,i} \le u_{k,v,i} \le h_{v,i}$ (projection after each update).

    **Arguments:**

    - `spacing`: $h$, the time between control samples in ms: at least the
      simulation's `dt` (a multiple of it is simplest), and a divisor of
      `t1 - t0`.
    - `variables`: the controlled state variable(s), a name or a tuple of names;
      default None: the network's coupled variables.
    - `mask`: which entries may be non-zero: `(N,)` booleans (regions; every
      controlled variable) or `(N, V)` (regions x `variables`); default: all.
      E.g. `jnp.zeros(76, bool).at[jnp.array([10, 48])].set(True)`.
    - `lower`, `upper`: bounds on $u$, scalars or arrays that broadcast to `(N, V)`
      (default: none); `lower <= upper`.
    - `init`: the initial control, a scalar or an array that broadcasts to
      `(K, N, V)` (default 0), then masked and clipped to the bounds.

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        grid = nm.control.ControlGrid(
            spacing=1.0,                            # a sample every ms
            variables="x",
            mask=jnp.zeros(76, bool).at[jnp.array([10, 48])].set(True),
            lower=-1.0, upper=1.0,
        )
        ```
    """

    spacing: float = eqx.field(static=True)
    variables: tuple[str, ...] | None = eqx.field(static=True)
    mask: np.ndarray | None
    lower: ArrayLike | None
    upper: ArrayLike | None
    init: ArrayLike

    def __init__(
        self,
        spacing: float,
        variables: str | Sequence[str] | None = None,
        *,
        mask: ArrayLike | None = None,
        lower: ArrayLike | None = None,
        upper: ArrayLike | None = None,
        init: ArrayLike = 0.0,
    ):
        try:
            spacing = float(spacing)
        except (TypeError, ValueError):
            raise ValueError(
                "`ControlGrid(spacing=...)` must be a time in ms (a number); got "
                f"{spacing!r}."
            ) from None
        if not math.isfinite(spacing) or spacing <= 0:
            raise ValueError(
                f"`ControlGrid(spacing=...)` must be a positive time in ms; got "
                f"{spacing}."
            )
        if isinstance(variables, str):
            variables = (variables,)
        elif variables is not None:
            variables = tuple(variables)
            if not variables or not all(isinstance(v, str) for v in variables):
                raise ValueError(
                    "`ControlGrid(variables=...)` must be a variable name, a tuple "
                    f"of names, or None; got {variables!r}."
                )
            if len(set(variables)) != len(variables):
                raise ValueError(
                    f"`ControlGrid(variables=...)` names a variable twice: "
                    f"{variables!r}."
                )
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != bool:
                raise ValueError(
                    "`ControlGrid(mask=...)` must be booleans, True where the control "
                    f"may act; got dtype {mask.dtype}. E.g. "
                    "`jnp.zeros(N, bool).at[regions].set(True)`."
                )
        for name, bound in (("lower", lower), ("upper", upper)):
            if bound is not None and not np.all(~np.isnan(np.asarray(bound, float))):
                raise ValueError(f"`ControlGrid({name}=...)` contains NaN.")
        if lower is not None and upper is not None:
            lo, hi = np.asarray(lower, float), np.asarray(upper, float)
            try:
                bad = np.broadcast_to(lo > hi, np.broadcast_shapes(lo.shape, hi.shape))
            except ValueError:
                raise ValueError(
                    f"`ControlGrid(lower=..., upper=...)` have shapes {lo.shape} and "
                    f"{hi.shape}, which do not broadcast together."
                ) from None
            if np.any(bad):
                where = np.argwhere(bad)
                at = f" at index {tuple(where[0].tolist())}" if bad.ndim else ""
                raise ValueError(
                    "`ControlGrid(lower=..., upper=...)`: lower > upper"
                    f"{at} ({np.broadcast_to(lo, bad.shape)[tuple(where[0])]:g} > "
                    f"{np.broadcast_to(hi, bad.shape)[tuple(where[0])]:g}); every "
                    "lower bound must be at most its upper bound."
                )
        self.spacing = spacing
        self.variables = variables
        self.mask = mask
        self.lower = lower
        self.upper = upper
        self.init = init

    def layout(self, net, t0: float, t1: float, dt: float) -> "Layout":
        """The grid laid on a simulation of `net` over `[t0, t1]` ms with step `dt`
        (checks the arguments against it)."""
        node = net.node
        h = self.spacing
        if h < dt * (1.0 - 1e-9):
            raise ValueError(
                f"`ControlGrid(spacing={h:g})` is finer than the simulation's `dt` "
                f"({dt:g} ms): the control cannot change within a step. Use "
                f"`spacing >= dt`, e.g. `spacing={dt:g}` or a multiple of it."
            )
        span = t1 - t0
        n = round(span / h)
        if n < 1 or abs(n * h - span) > 1e-6 * max(span, h):
            hint = span / max(round(span / h), 1)
            raise ValueError(
                f"`ControlGrid(spacing={h:g})` does not divide the simulated interval "
                f"[{t0:g}, {t1:g}] ms ({span:g} ms): give a spacing that does, e.g. "
                f"{hint:g}."
            )
        variables = self.variables or tuple(net.coupled_vars)
        unknown = [v for v in variables if v not in node.state_names]
        if unknown:
            raise ValueError(
                f"`ControlGrid(variables=...)` names {', '.join(map(repr, unknown))}, "
                f"which {type(node).__name__} does not have; its state variables are "
                f"{', '.join(node.state_names)}."
            )
        nodes, nv = net.n_nodes, len(variables)
        shape = (nodes, nv)
        if self.mask is None:
            mask = np.ones(shape, bool)
        elif self.mask.shape == (nodes,):
            mask = np.broadcast_to(self.mask[:, None], shape).copy()
        elif self.mask.shape == shape:
            mask = self.mask
        else:
            raise ValueError(
                f"`ControlGrid(mask=...)` has shape {self.mask.shape}; expected "
                f"({nodes},) (one flag per region) or {shape} (regions x the "
                f"controlled variables {variables}). Build it as "
                f"`jnp.zeros({nodes}, bool).at[regions].set(True)`."
            )
        if not mask.any():
            raise ValueError(
                "`ControlGrid(mask=...)` is False everywhere: nothing to control."
            )
        dtype = jnp.result_type(float)
        bounds = []
        for name, bound, fill in (
            ("lower", self.lower, -np.inf),
            ("upper", self.upper, np.inf),
        ):
            b = np.full(shape, fill) if bound is None else np.asarray(bound, float)
            try:
                b = np.broadcast_to(b, shape)
            except ValueError:
                raise ValueError(
                    f"`ControlGrid({name}=...)` has shape {b.shape}, which does not "
                    f"broadcast to {shape} (regions x controlled variables); give a "
                    "scalar, one value per variable, or an (N, V) array."
                ) from None
            bounds.append(jnp.asarray(b, dtype))
        lower, upper = bounds
        times = t0 + h * np.arange(n + 1)
        times[-1] = t1
        k = n + 1
        try:
            init = jnp.broadcast_to(jnp.asarray(self.init, dtype), (k,) + shape)
        except ValueError:
            raise ValueError(
                f"`ControlGrid(init=...)` has shape {np.shape(self.init)}, which does "
                f"not broadcast to {(k,) + shape} (control samples x regions x "
                "controlled variables)."
            ) from None
        if not bool(jnp.all(jnp.isfinite(init))):
            raise ValueError("`ControlGrid(init=...)` must be finite.")
        mask_j = jnp.asarray(mask)
        init = jnp.where(mask_j[None], jnp.clip(init, lower[None], upper[None]), 0.0)
        stimulus = TimeSeriesStimulus(
            jnp.asarray(times, dtype), init, variables=variables
        )
        return Layout(stimulus=stimulus, mask=mask_j, lower=lower, upper=upper)


class Layout(eqx.Module):
    """A control grid laid on one simulation: the initial control (a
    `TimeSeriesStimulus` with samples `(K, N, V)`), the mask and the bounds as
    `(N, V)` arrays."""

    stimulus: TimeSeriesStimulus
    mask: ArrayLike
    lower: ArrayLike
    upper: ArrayLike

    @property
    def times(self):
        return self.stimulus.times

    def with_samples(self, samples) -> TimeSeriesStimulus:
        """The control stimulus with these samples (masked)."""
        masked = jnp.where(self.mask[None], samples, 0.0)
        return eqx.tree_at(lambda s: s.samples, self.stimulus, masked)
