"""Small numerical building blocks shared by node models, couplings and user code."""

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PyTree


def sigmoid(
    v: Float[ArrayLike, "..."],
    max_rate: Float[ArrayLike, "..."] = 1.0,
    r: Float[ArrayLike, "..."] = 1.0,
    v0: Float[ArrayLike, "..."] = 0.0,
) -> Float[Array, "..."]:
    r"""Logistic conversion of a membrane potential into a firing rate.

    $$S(v) = \frac{m}{1 + e^{r (v_0 - v)}}$$

    **Arguments:**

    - `v`: potential (mV).
    - `max_rate`: maximal rate $m$ (1/ms).
    - `r`: steepness (1/mV).
    - `v0`: midpoint (mV), where $S = m/2$.

    **Returns:** the rate, same shape as the broadcast inputs.

    !!! example

        ```python
        from neuromass.utils import sigmoid

        sigmoid(6.0, 0.005, 0.56, 6.0)  # 0.0025, half the maximal rate
        ```
    """
    return max_rate * jnp.reciprocal(1.0 + jnp.exp(r * (v0 - v)))


def sys2nd(
    y: Float[ArrayLike, "..."],
    dy: Float[ArrayLike, "..."],
    x: Float[ArrayLike, "..."],
    A: Float[ArrayLike, "..."],
    a: Float[ArrayLike, "..."],
) -> Float[Array, "..."]:
    r"""Second-order linear synaptic kinetics: the acceleration of a post-synaptic
    potential driven by an input rate.

    The potential $y$ obeys

    $$\ddot y = A\,a\,x - 2a\,\dot y - a^2 y,$$

    i.e. $y$ is the input $x$ convolved with the kernel $h(t) = A\,a\,t\,e^{-a t}$
    (the PSP of Jansen-Rit and Lopes da Silva type models: peak $A/e$ at $t = 1/a$).
    Written as a first-order system, $\dot y = \dot y$ and $\dot{(\dot y)}$ =
    `sys2nd(y, dy, x, A, a)`.

    **Arguments:**

    - `y`: the potential (mV).
    - `dy`: its time derivative (mV/ms).
    - `x`: the input rate (1/ms).
    - `A`: maximal amplitude (mV).
    - `a`: reciprocal time constant (1/ms).

    **Returns:** $\ddot y$ (mV/ms²), same shape as the broadcast inputs.

    !!! example

        ```python
        from neuromass.utils import sys2nd

        # one Jansen-Rit excitatory PSP block: state (y, dy), input rate s
        def block(y, dy, s, A=3.25, a=0.1):
            return dy, sys2nd(y, dy, s, A, a)
        ```
    """
    return A * a * x - 2.0 * a * dy - a * a * y


def _concrete(x) -> np.ndarray | None:
    """`x` as a float numpy array, or None when it is traced (inside jit/vmap)."""
    try:
        return np.asarray(x, dtype=float)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _softplus(z, sharpness):
    return jnp.logaddexp(0.0, sharpness * z) / sharpness


@jax.custom_jvp
def _smooth_clamp(x, low, high, sharpness):
    y = low + _softplus(x - low, sharpness) - _softplus(x - high, sharpness)
    # guard against round-off stepping past a bound far outside the interval
    return jnp.clip(y, low, high)


@_smooth_clamp.defjvp
def _smooth_clamp_jvp(primals, tangents):
    x, low, high, s = primals
    dx, dlow, dhigh, _ = tangents
    y = _smooth_clamp(x, low, high, s)
    # dy/dx = sig(a) - sig(b) with a = s(x - low) > b = s(x - high), written as
    # sig(a) sig(-b) (1 - exp(b - a)): no cancellation, so the gradient stays positive
    # far beyond the bounds (until sig(-b) or sig(a) underflows)
    a, b = s * (x - low), s * (x - high)
    sa, smb = jax.nn.sigmoid(a), jax.nn.sigmoid(-b)
    gx = sa * smb * -jnp.expm1(b - a)
    glow = 1.0 - sa  # dy/dlow
    ghigh = 1.0 - smb  # dy/dhigh
    return y, gx * dx + glow * dlow + ghigh * dhigh


def bounded_input(
    x: Float[ArrayLike, "..."],
    low: float | Float[ArrayLike, "..."] | None = None,
    high: float | Float[ArrayLike, "..."] | None = None,
    sharpness: float | None = None,
    *,
    bound: float | Float[ArrayLike, "..."] | None = None,
) -> Float[Array, "..."]:
    r"""Keep an input (or any quantity) within bounds.

    - **Hard** (default): `clip(x, low, high)`. Exact inside the interval; outside
      it the value sticks to the bound and the gradient with respect to `x` is zero.
    - **Smooth clamp** (`sharpness=s > 0`): a differentiable clamp built from the
      softplus $\sigma_s(z) = \log(1 + e^{s z}) / s$,

      $$\tilde x = \ell + \sigma_s(x - \ell) - \sigma_s(x - h),$$

      which tends to $\ell$ for $x \ll \ell$, to $h$ for $x \gg h$ and to $x$ in
      between. It never leaves $[\ell, h]$ and departs from the hard clamp by at
      most $\log 2 / s$ (at the bounds). Its derivative
      $\mathrm{sig}(s(x - \ell)) - \mathrm{sig}(s(x - h))$ is positive in exact
      arithmetic; it is computed without cancellation, so that in floating point
      it stays positive while $x$ is within about $87/s$ (float32) or $700/s$
      (float64) of the interval, and underflows to exactly 0 beyond (e.g. at
      $x = 1.5$, $h = 1$, $s = 50$ it is $1.4 \cdot 10^{-11}$ in float32, where
      the naive difference of sigmoids gives 0).
    - **Smooth tanh bound** (`bound=b`, brainmass's `bounded_input`): the symmetric
      saturation $\tilde x = b \tanh(x / b)$, in $(-b, b)$, $\approx x$ for
      $|x| \ll b$. Its derivative $1 - \tanh^2(x/b)$ underflows to 0 in float32 for
      $|x| \gtrsim 9 b$ (float64: $|x| \gtrsim 19 b$).

    Either bound of the clamps may be `None` (one-sided). Bounds broadcast against
    `x`.

    **Arguments:**

    - `x`: the value to bound.
    - `low`, `high`: the bounds of the clamps, `low <= high`.
    - `sharpness`: `None` for the hard clamp, or $s > 0$ (in units of $1/x$) for the
      smooth one; larger is closer to the hard clamp.
    - `bound`: $b > 0$ for the tanh bound (then `low`, `high`, `sharpness` must be
      left out).

    **Returns:** the bounded value, the broadcast shape of the inputs.

    !!! example

        ```python
        from neuromass.utils import bounded_input

        bounded_input(1.7, 0.0, 1.0)                 # 1.0
        bounded_input(0.999, 0.0, 1.0, sharpness=50)  # 0.986: smooth near a bound
        bounded_input(-3.0, low=0.0)                 # 0.0 (one-sided)
        bounded_input(600.0, bound=500.0)            # 500 tanh(1.2) = 416.9
        ```
    """
    if bound is not None:
        if low is not None or high is not None or sharpness is not None:
            raise ValueError(
                "`bounded_input`: give either `bound` (the tanh bound) or `low`/"
                "`high`/`sharpness` (the clamps), not both."
            )
        b = _concrete(bound)
        if b is not None and not np.all(np.isfinite(b) & (b > 0)):
            raise ValueError(f"`bound` must be positive and finite; got {bound!r}.")
        x = jnp.asarray(x, dtype=jnp.result_type(x, float))
        return bound * jnp.tanh(x / bound)
    if sharpness is not None:
        s = np.asarray(sharpness)
        if s.ndim != 0 or not (np.isfinite(s) and s > 0):
            raise ValueError(
                f"`sharpness` must be None (hard clamp) or a positive finite scalar; "
                f"got {sharpness!r}."
            )
    if low is not None and high is not None:
        lo, hi = _concrete(low), _concrete(high)
        if lo is not None and hi is not None and np.any(lo > hi):
            raise ValueError(
                f"`bounded_input` needs `low <= high`; got low={low!r}, high={high!r}."
            )
    x = jnp.asarray(x, dtype=jnp.result_type(x, float))
    if sharpness is None:
        return jnp.clip(x, low, high)
    if low is not None and high is not None:
        low, high = jnp.asarray(low, x.dtype), jnp.asarray(high, x.dtype)
        x, low, high = jnp.broadcast_arrays(x, low, high)
        return _smooth_clamp(x, low, high, jnp.asarray(sharpness, x.dtype))
    if low is not None:
        return jnp.maximum(low + _softplus(x - low, sharpness), low)
    if high is not None:
        return jnp.minimum(high - _softplus(high - x, sharpness), high)
    return x


_REDUCTIONS = {
    "mean": jnp.mean,
    "max": jnp.max,
    "min": jnp.min,
}


def _is_sequence(data) -> bool:
    """A plain list or tuple of items (not a namedtuple, which is one pytree)."""
    return type(data) in (list, tuple)


def process_sequence(
    seq: Sequence[PyTree] | PyTree,
    mode: str | Callable[[Array], Any] = "stack",
) -> PyTree:
    """Combine a sequence of pytrees with the same structure (e.g. the outputs of
    several runs, one dict of arrays per run), or reduce an already-stacked pytree
    along its leading axis (as brainmass's `process_sequence` does).

    **Arguments:**

    - `seq`: either
        - a non-empty list or tuple of pytrees with identical structure (and, for
          every mode but `"first"`/`"last"`, identical leaf shapes), or
        - an already-stacked pytree (an array, a dict, a namedtuple, ...): the items
          are enumerated along the leading axis of every leaf (all leaves must have
          the same leading size).
    - `mode`:
        - `"stack"` (default): the items stacked along a new leading axis, shape
          `(len(seq), ...)` (a stacked pytree is returned unchanged);
        - `"first"`, `"last"`: the first or last item;
        - `"mean"` (also `"avg"`), `"max"`, `"min"`: each leaf reduced across the
          items (elementwise over the remaining axes);
        - a callable `f`: each stacked leaf is replaced by `f(stacked)`, e.g.
          `lambda x: x.std(axis=0)`.

    **Returns:** one pytree with the structure of the items.

    **Raises:** `ValueError` for an empty sequence, items of different structure,
    leaves of different shapes (or leading sizes), or an unknown `mode`.

    !!! example

        ```python
        import jax.numpy as jnp
        from neuromass.utils import process_sequence

        runs = [{"x": jnp.ones(3) * k} for k in range(4)]
        process_sequence(runs)["x"].shape        # (4, 3)
        process_sequence(runs, "mean")["x"]      # [1.5, 1.5, 1.5]
        process_sequence(runs, lambda x: x[1:].sum(0))["x"]  # [6., 6., 6.]
        stacked = {"x": jnp.arange(8.0).reshape(4, 2)}
        process_sequence(stacked, "avg")["x"]    # [3., 4.]: mean over the items
        process_sequence(stacked, "last")["x"]   # [6., 7.]
        ```
    """
    if isinstance(seq, str):
        raise TypeError(
            "`process_sequence` needs a list or tuple of pytrees or a stacked pytree; "
            "got a string."
        )
    valid = ("stack", "first", "last", "avg", *_REDUCTIONS)
    if not callable(mode) and mode not in valid:
        raise ValueError(f"`mode` must be one of {valid} or a callable; got {mode!r}.")
    mode = "mean" if mode == "avg" else mode
    if _is_sequence(seq):
        return _process_items(seq, mode)
    leaves = jax.tree_util.tree_leaves(seq)
    if not leaves:
        raise ValueError("`process_sequence` got an empty pytree.")
    sizes = {jnp.shape(x)[0] if jnp.ndim(x) else None for x in leaves}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            "A stacked pytree needs the items on the leading axis of every leaf, "
            f"with one common size; got leading sizes {sorted(sizes, key=str)}."
        )
    if mode == "stack":
        return seq
    if mode == "first":
        return jax.tree_util.tree_map(lambda x: x[0], seq)
    if mode == "last":
        return jax.tree_util.tree_map(lambda x: x[-1], seq)
    if isinstance(mode, str):
        fn = _REDUCTIONS[mode]
        return jax.tree_util.tree_map(lambda x: fn(jnp.asarray(x), axis=0), seq)
    return jax.tree_util.tree_map(mode, seq)


def _process_items(seq, mode):
    if len(seq) == 0:
        raise ValueError("`process_sequence` got an empty sequence.")
    structure = jax.tree_util.tree_structure(seq[0])
    for i, item in enumerate(seq[1:], start=1):
        other = jax.tree_util.tree_structure(item)
        if other != structure:
            raise ValueError(
                f"Element {i} of the sequence has structure {other}, which differs "
                f"from element 0: {structure}."
            )
    if mode == "first":
        return seq[0]
    if mode == "last":
        return seq[-1]

    def stack(*leaves):
        shapes = {jnp.shape(x) for x in leaves}
        if len(shapes) > 1:
            raise ValueError(
                f"Cannot combine leaves of different shapes {sorted(shapes)} with "
                f"mode={mode!r}."
            )
        return jnp.stack([jnp.asarray(x) for x in leaves], axis=0)

    stacked = jax.tree_util.tree_map(stack, *seq)
    if mode == "stack":
        return stacked
    if isinstance(mode, str):
        fn = _REDUCTIONS[mode]
        return jax.tree_util.tree_map(lambda x: fn(x, axis=0), stacked)
    return jax.tree_util.tree_map(mode, stacked)


_ROUNDINGS = ("nearest", "floor", "ceil")
# Delays within this fraction of a step of a whole number of steps are snapped to it,
# so that e.g. a 0.3 ms delay at dt = 0.1 ms is exactly 3 steps in float32: the one
# snapping rule of the library (`delay_index` and `simulate`'s delay plan use it).
SNAP = 1e-4


def snap_steps(steps, xp=jnp):
    """Delays in steps, snapped to the nearest whole number of steps when within
    `SNAP` (1e-4) of it; `xp` is `jax.numpy` or `numpy`."""
    r = xp.round(steps)
    return xp.where(xp.abs(steps - r) < SNAP, r, steps)


def delay_index(
    delay: Float[ArrayLike, "..."],
    dt: float,
    rounding: str = "nearest",
) -> Int[Array, "..."]:
    r"""Conduction delays (ms) as integer numbers of integration steps, the index
    into a ring buffer of past states (`0` = the current state).

    $$m = \mathrm{round}(\tau / \Delta t)$$

    with `rounding`:

    - `"nearest"` (default): to the nearest integer, halves to even, as The Virtual
      Brain's `Connectivity.idelays` (`numpy.rint`);
    - `"floor"`: the largest $m$ with $m\,\Delta t \le \tau$ (never reads later than
      the delay says);
    - `"ceil"`: the smallest $m$ with $m\,\Delta t \ge \tau$ (never reads earlier).

    Ratios within $10^{-4}$ of an integer are snapped to it first, so that floating
    point noise (e.g. `0.3 / 0.1 = 2.9999999999999996`) does not change the index.

    **Arguments:**

    - `delay`: delays in ms (scalar or array), finite and `>= 0`.
    - `dt`: the integration step in ms, `> 0`.
    - `rounding`: `"nearest"`, `"floor"` or `"ceil"`.

    **Returns:** an `int32` array of the shape of `delay`.

    **Raises:** `ValueError` for a non-positive `dt`, an unknown `rounding`, or
    (when the delays are concrete, i.e. outside `jit`) negative or non-finite delays.

    !!! example

        ```python
        from neuromass.utils import delay_index

        delay_index([0.0, 0.3, 0.25, 1.04], dt=0.1)            # [0, 3, 2, 10]
        delay_index([0.0, 0.3, 0.25, 1.04], dt=0.1, rounding="ceil")  # [0, 3, 3, 11]
        ```
    """
    if rounding not in _ROUNDINGS:
        raise ValueError(f"`rounding` must be one of {_ROUNDINGS}; got {rounding!r}.")
    dt_ = np.asarray(dt)
    if dt_.ndim != 0 or not (np.isfinite(dt_) and dt_ > 0):
        raise ValueError(f"`dt` must be a positive finite scalar (ms); got {dt!r}.")
    d = _concrete(delay)
    if d is not None:
        if not np.all(np.isfinite(d)):
            raise ValueError("`delay` contains NaN or inf; delays must be finite.")
        if np.any(d < 0):
            raise ValueError(
                f"`delay` contains negative values (min {d.min():g} ms); delays must "
                "be >= 0."
            )
    # concrete delays: in float64 with numpy, exactly as TVB; traced: in jax
    xp = np if d is not None else jnp
    steps = d / float(dt) if d is not None else jnp.asarray(delay) / dt
    nearest = xp.round(steps)  # halves to even, like numpy.rint
    snapped = snap_steps(steps, xp)  # the rule `simulate` uses
    if rounding == "nearest":
        out = nearest
    elif rounding == "floor":
        out = xp.floor(snapped)
    else:
        out = xp.ceil(snapped)
    return jnp.asarray(out.astype(np.int32))
