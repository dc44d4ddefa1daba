"""Tests of `neuromass.utils`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal

from neuromass.utils import (
    bounded_input,
    delay_index,
    process_sequence,
    sigmoid,
    sys2nd,
)


def test_sigmoid_midpoint_and_limits():
    np.testing.assert_allclose(sigmoid(6.0, 0.005, 0.56, 6.0), 0.0025)
    np.testing.assert_allclose(sigmoid(1e3, 2.0, 1.0, 0.0), 2.0)
    np.testing.assert_allclose(sigmoid(-1e3, 2.0, 1.0, 0.0), 0.0)


def test_sys2nd_impulse_response_is_alpha_kernel(x64):
    """y'' = A a x - 2 a y' - a^2 y has impulse response A a t exp(-a t)."""
    A, a = 3.25, 0.1
    # state-space form of the block, compared with scipy's LTI impulse response
    t = np.linspace(0.0, 100.0, 501)
    sys = scipy.signal.lti(
        [[0.0, 1.0], [-(a**2), -2 * a]], [[0.0], [A * a]], [[1, 0]], 0
    )
    _, y = scipy.signal.impulse(sys, T=t)
    np.testing.assert_allclose(y, A * a * t * np.exp(-a * t), atol=1e-9)
    # and the function is exactly that system's acceleration
    rng = np.random.default_rng(0)
    yy, dy, x = rng.normal(size=(3, 10))
    expected = (np.array([[-(a**2), -2 * a]]) @ np.stack([yy, dy]))[0] + A * a * x
    np.testing.assert_allclose(sys2nd(yy, dy, x, A, a), expected, rtol=1e-12)


def test_sys2nd_integrates_to_kernel_peak(x64):
    A, a, dt = 3.25, 0.1, 0.01

    def step(carry, _):
        y, dy = carry
        return (y + dt * dy, dy + dt * sys2nd(y, dy, 0.0, A, a)), y

    # unit impulse of x: initial velocity A a
    _, ys = jax.lax.scan(step, (0.0, A * a), None, length=4000)
    ys = np.asarray(ys)
    assert abs(ys.argmax() * dt - 1.0 / a) < 0.1
    np.testing.assert_allclose(ys.max(), A / np.e, rtol=1e-3)


def test_bounded_input_hard_clamp():
    x = jnp.linspace(-2.0, 2.0, 41)
    np.testing.assert_allclose(bounded_input(x, -1.0, 0.5), np.clip(x, -1.0, 0.5))
    np.testing.assert_allclose(bounded_input(x, low=0.0), np.maximum(x, 0.0))
    np.testing.assert_allclose(bounded_input(x, high=0.0), np.minimum(x, 0.0))
    np.testing.assert_allclose(bounded_input(x), x)
    g = jax.grad(lambda v: bounded_input(v, 0.0, 1.0))
    assert g(0.5) == 1.0 and g(1.5) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("sharpness", [5.0, 50.0])
def test_bounded_input_smooth_clamp(sharpness, x64):
    x = jnp.linspace(-3.0, 3.0, 601)
    lo, hi = -1.0, 2.0
    y = np.asarray(bounded_input(x, lo, hi, sharpness=sharpness))
    assert np.all((y >= lo) & (y <= hi))
    assert np.all(np.diff(y) >= -1e-12)  # monotone (up to round-off)
    inside = (x > lo - 0.5) & (x < hi + 0.5)
    assert np.all((y[inside] > lo) & (y[inside] < hi))
    err = np.abs(y - np.clip(x, lo, hi)).max()
    assert err <= np.log(2.0) / sharpness + 1e-12
    # one-sided versions stay on their side and approach the identity
    y_lo = np.asarray(bounded_input(x, low=lo, sharpness=sharpness))
    assert np.all(y_lo >= lo) and abs(y_lo[-1] - 3.0) < 1e-3 + 1 / sharpness
    y_hi = np.asarray(bounded_input(x, high=hi, sharpness=sharpness))
    assert np.all(y_hi <= hi) and abs(y_hi[0] + 3.0) < 1e-3 + 1 / sharpness
    # gradients are positive everywhere (never exactly zero in the interval)
    g = jax.vmap(jax.grad(lambda v: bounded_input(v, lo, hi, sharpness=sharpness)))
    assert np.all(np.asarray(g(jnp.linspace(-1.5, 2.5, 9))) > 0)


def test_bounded_input_gradient_beyond_a_bound_float32():
    """The smooth clamp's gradient, sig(s(x-l)) - sig(s(x-h)), at x = 1.5, h = 1,
    s = 50: the naive float32 difference of sigmoids is exactly 0; ours is the
    value in exact arithmetic, 1.4e-11, to float32 precision."""
    g = jax.jit(jax.grad(lambda v: bounded_input(v, 0.0, 1.0, sharpness=50.0)))
    x = jnp.float32(1.5)
    assert x.dtype == jnp.float32
    naive = np.float32(1) / (1 + np.exp(np.float32(-75))) - np.float32(1) / (
        1 + np.exp(np.float32(-25))
    )
    assert naive == 0.0
    exact = 1.0 / (1.0 + np.exp(-75.0)) - 1.0 / (1.0 + np.exp(-25.0))  # float64
    exact = (
        np.exp(-25.0)
        / (1.0 + np.exp(-25.0))
        / (1.0 + np.exp(-75.0))
        * (1.0 - np.exp(-50.0))
    )  # the same without cancellation
    got = float(g(x))
    np.testing.assert_allclose(got, exact, rtol=1e-5)
    assert got > 0.0
    # documented: it underflows to 0 about 87/s beyond the bound in float32
    assert float(g(jnp.float32(1.0 + 110.0 / 50.0))) == 0.0
    # gradients with respect to the bounds: dy/dlow + dy/dhigh + dy/dx = 1
    gl, gh, gx = jax.jit(
        jax.grad(
            lambda lo, hi, v: bounded_input(v, lo, hi, sharpness=5.0),
            argnums=(0, 1, 2),
        )
    )(jnp.float32(0.0), jnp.float32(1.0), jnp.float32(0.8))
    np.testing.assert_allclose(float(gl + gh + gx), 1.0, rtol=1e-6)


def test_bounded_input_tanh_bound(x64):
    x = np.linspace(-2000.0, 2000.0, 101)
    y = jax.jit(lambda v: bounded_input(v, bound=500.0))(x)
    np.testing.assert_allclose(y, 500.0 * np.tanh(x / 500.0), rtol=1e-14)
    assert np.all(np.abs(np.asarray(y)) < 500.0)
    g = jax.grad(lambda v: bounded_input(v, bound=500.0))
    np.testing.assert_allclose(g(100.0), 1.0 - np.tanh(0.2) ** 2, rtol=1e-14)
    with pytest.raises(ValueError, match="not both"):
        bounded_input(1.0, 0.0, bound=2.0)
    with pytest.raises(ValueError, match="positive"):
        bounded_input(1.0, bound=-2.0)


def test_bounded_input_errors():
    with pytest.raises(ValueError, match="low <= high"):
        bounded_input(0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="sharpness"):
        bounded_input(0.0, 0.0, 1.0, sharpness=-1.0)
    # traced bounds are accepted (no concrete check possible)
    out = jax.jit(lambda lo: bounded_input(2.0, lo, 1.0))(0.0)
    assert out == 1.0


def test_process_sequence_modes():
    seq = [
        {"x": jnp.full(3, float(k)), "y": (jnp.array(k), jnp.ones(2))} for k in range(4)
    ]
    stacked = process_sequence(seq)
    assert stacked["x"].shape == (4, 3) and stacked["y"][1].shape == (4, 2)
    np.testing.assert_allclose(stacked["y"][0], [0, 1, 2, 3])
    assert process_sequence(seq, "first") is seq[0]
    assert process_sequence(seq, "last") is seq[-1]
    np.testing.assert_allclose(process_sequence(seq, "mean")["x"], [1.5] * 3)
    np.testing.assert_allclose(process_sequence(seq, "max")["x"], [3.0] * 3)
    np.testing.assert_allclose(process_sequence(seq, "min")["y"][0], 0.0)
    custom = process_sequence(seq, lambda a: a[1:].sum(axis=0))
    np.testing.assert_allclose(custom["x"], [6.0] * 3)
    # works on a tuple of plain arrays and inside jit
    out = jax.jit(lambda a, b: process_sequence((a, b), "mean"))(
        jnp.ones(2), jnp.zeros(2)
    )
    np.testing.assert_allclose(out, [0.5, 0.5])


def test_process_sequence_errors():
    with pytest.raises(ValueError, match="empty"):
        process_sequence([])
    with pytest.raises(ValueError, match="structure"):
        process_sequence([{"x": 1.0}, {"y": 1.0}])
    with pytest.raises(ValueError, match="shapes"):
        process_sequence([jnp.ones(2), jnp.ones(3)])
    with pytest.raises(ValueError, match="mode"):
        process_sequence([jnp.ones(2)], "median")
    with pytest.raises(ValueError, match="leading"):
        process_sequence({"a": jnp.ones(2), "b": jnp.ones(3)})
    with pytest.raises(ValueError, match="leading"):
        process_sequence({"a": jnp.array(1.0)})
    with pytest.raises(TypeError, match="string"):
        process_sequence("abc")


def test_process_sequence_stacked_pytree():
    """A stacked pytree (brainmass's convention) gives what the list of its items
    gives."""
    items = [{"x": jnp.full(3, float(k)), "y": jnp.array(k**2)} for k in range(5)]
    stacked = {"x": jnp.stack([i["x"] for i in items]), "y": jnp.arange(5) ** 2}
    assert process_sequence(stacked) is stacked
    for mode in ("first", "avg", "max"):
        got, ref = process_sequence(stacked, mode), process_sequence(items, mode)
        for k in ("x", "y"):
            np.testing.assert_allclose(got[k], ref[k], err_msg=mode)
    np.testing.assert_allclose(process_sequence(stacked, "avg")["y"], 6.0)
    std = process_sequence(stacked, lambda a: np.std(a, axis=0))
    np.testing.assert_allclose(std["x"], np.std(np.arange(5.0)) * np.ones(3))
    # a bare array is a stacked pytree too, also under jit
    out = jax.jit(lambda a: process_sequence(a, "mean"))(jnp.arange(6.0).reshape(3, 2))
    np.testing.assert_allclose(out, [2.0, 3.0])


def test_delay_index_rounding():
    d = np.array([0.0, 0.3, 0.25, 0.36, 1.04, 1.06])
    np.testing.assert_array_equal(delay_index(d, 0.1), [0, 3, 2, 4, 10, 11])
    np.testing.assert_array_equal(delay_index(d, 0.1), np.rint(d / 0.1))  # as TVB
    np.testing.assert_array_equal(
        delay_index(d, 0.1, rounding="floor"), [0, 3, 2, 3, 10, 10]
    )
    np.testing.assert_array_equal(
        delay_index(d, 0.1, rounding="ceil"), [0, 3, 3, 4, 11, 11]
    )
    out = delay_index(np.full((2, 2), 0.7), 0.1, "floor")
    assert out.shape == (2, 2) and out.dtype == jnp.int32 and int(out[0, 0]) == 7
    # traced delays work inside jit (no value checks there)
    traced = eqx.filter_jit(lambda x: delay_index(x, 0.5))(jnp.array([1.0, 2.2]))
    np.testing.assert_array_equal(traced, [2, 4])


def test_delay_index_errors():
    with pytest.raises(ValueError, match="negative"):
        delay_index([-0.1, 1.0], 0.1)
    with pytest.raises(ValueError, match="finite"):
        delay_index([np.nan], 0.1)
    with pytest.raises(ValueError, match="`dt`"):
        delay_index(1.0, 0.0)
    with pytest.raises(ValueError, match="rounding"):
        delay_index(1.0, 0.1, rounding="up")
