"""Argument checks and small numerical helpers shared by `neuromass.metrics`."""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike


def as_real_array(x: ArrayLike, name: str, fn: str) -> Array:
    """Convert `x` to a floating JAX array; integers and booleans become floats."""
    try:
        out = jnp.asarray(x)
    except TypeError as e:
        raise ValueError(
            f"`{fn}` expects `{name}` to be an array; got {type(x).__name__}."
        ) from e
    if jnp.issubdtype(out.dtype, jnp.complexfloating):
        raise ValueError(
            f"`{fn}` expects a real-valued `{name}`; got dtype {out.dtype}. "
            "Pass the real part, or a phase from `analytic_phase`."
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        out = out.astype(jnp.result_type(float))
    return out


def check_series(x: Array, name: str, fn: str, min_time: int = 1) -> None:
    """Check that `x` has layout `(..., time, nodes)`."""
    if x.ndim < 2:
        raise ValueError(
            f"`{fn}` expects `{name}` with shape (..., time, nodes), i.e. ndim >= 2; "
            f"got shape {x.shape}. For a single region pass `{name}[:, None]`."
        )
    if x.shape[-2] < min_time:
        raise ValueError(
            f"`{fn}` needs at least {min_time} time samples along axis -2 of "
            f"`{name}`; got shape {x.shape}. Time is the second-to-last axis: "
            "(..., time, nodes)."
        )


def check_square(m: Array, name: str, fn: str, min_size: int = 1) -> None:
    """Check that `m` is a (batch of) square matrices of at least `min_size`."""
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(
            f"`{fn}` expects `{name}` to be a square matrix or a batch of them, "
            f"shape (..., n, n); got shape {m.shape}."
        )
    if m.shape[-1] < min_size:
        raise ValueError(
            f"`{fn}` needs `{name}` to be at least {min_size}x{min_size}; got shape "
            f"{m.shape}."
        )


def static_positive(value, name: str, fn: str) -> float:
    """Return `value` as a Python float, requiring a concrete finite number > 0."""
    try:
        out = float(value)
    except (TypeError, jax.errors.ConcretizationTypeError) as e:
        raise ValueError(
            f"`{fn}` needs `{name}` as a concrete number because it fixes array "
            f"shapes or frequency grids; got {type(value).__name__}. Do not pass it "
            "as a traced argument: close over it, or mark it static with "
            f"`jax.jit(..., static_argnames='{name}')`."
        ) from e
    if not (math.isfinite(out) and out > 0):
        raise ValueError(f"`{fn}` needs `{name}` > 0; got {value}.")
    return out


def static_int(value, name: str, fn: str, minimum: int) -> int:
    """Return `value` as a Python int >= `minimum`, refusing non-integers."""
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise ValueError(
            f"`{fn}` needs `{name}` as a Python integer (it fixes array shapes); "
            f"got {type(value).__name__}."
        )
    if not (math.isfinite(value) and float(value).is_integer()):
        raise ValueError(f"`{fn}` needs an integer `{name}`; got {value}.")
    out = int(value)
    if out < minimum:
        raise ValueError(f"`{fn}` needs `{name}` >= {minimum}; got {value}.")
    return out


def check_eps(eps, fn: str) -> None:
    """Refuse a negative `eps` when it is concrete."""
    if isinstance(eps, int | float | np.integer | np.floating) and not eps >= 0:
        raise ValueError(f"`{fn}` needs `eps` >= 0; got {eps}.")


def lead(v: np.ndarray | Array, ndim: int) -> Array:
    """Prepend unit axes so that `v` has rank `ndim` (explicit, no rank promotion)."""
    v = jnp.asarray(v)
    return v.reshape((1,) * (ndim - v.ndim) + v.shape)


def standardize(x: Array, axis: int, eps) -> Array:
    r"""Centre `x` along `axis` and divide by $\sqrt{\sigma^2 + \varepsilon}$."""
    centred = x - jnp.mean(x, axis=axis, keepdims=True)
    var = jnp.mean(centred * centred, axis=axis, keepdims=True)
    return centred / jnp.sqrt(var + eps)


def safe_sqrt(v: Array) -> Array:
    """`sqrt(v)` for `v >= 0` whose gradient at `v == 0` is 0 instead of NaN."""
    positive = v > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, v, 1.0)), 0.0)


def batch_shape(a: Array, b: Array, names: tuple[str, str], fn: str):
    """The broadcast of the leading (batch) axes of two batches of matrices."""
    try:
        return jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError as e:
        raise ValueError(
            f"`{fn}`: the leading (batch) axes of `{names[0]}` {a.shape[:-2]} and "
            f"`{names[1]}` {b.shape[:-2]} do not broadcast together."
        ) from e


def broadcast_batch(a: Array, b: Array) -> tuple[Array, Array]:
    """Broadcast the leading axes of two batches of matrices explicitly."""
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (
        jnp.broadcast_to(a, batch + a.shape[-2:]),
        jnp.broadcast_to(b, batch + b.shape[-2:]),
    )
