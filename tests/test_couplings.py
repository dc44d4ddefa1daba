"""Couplings against formulas written independently with numpy."""

from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass.coupling._registry import _SHORTHANDS
from neuromass.models._params import param


class Integrator2(nm.models.AbstractNode):
    """du/dt = c_u, dv/dt = c_v: the vector field *is* the coupling input."""

    state_names: ClassVar = ("u", "v")
    coupled_vars: ClassVar = ("u", "v")
    default_state: ClassVar = {"u": 0.0, "v": 0.0}
    state_ranges: ClassVar = {"u": (-1.0, 1.0), "v": (-1.0, 1.0)}

    def vector_field(self, t, state, coupling, inputs=None):
        zero = jnp.zeros_like(state["u"])
        return {"u": zero + coupling.get("u", 0.0), "v": zero + coupling.get("v", 0.0)}


def _setup(n=6, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 1.0, (n, n)) * (rng.random((n, n)) < 0.6)
    np.fill_diagonal(w, 0.0)
    x = rng.normal(size=(2, n))
    return w, x


def _afferent(coupling, w, x, k=1.0):
    """The coupling input of each region through a non-delayed network."""
    net = nm.Network(Integrator2(), w, coupling=coupling, k=k)
    out = net.vector_field(0.0, {"u": jnp.asarray(x[0]), "v": jnp.asarray(x[1])})
    return np.stack([np.asarray(out["u"]), np.asarray(out["v"])])


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_linear_and_diffusive(x64):
    w, x = _setup()
    np.testing.assert_allclose(
        _afferent(nm.coupling.Linear(a=0.7, b=0.2), w, x, k=0.5),
        0.5 * (0.7 * x @ w.T + 0.2),
    )
    diff = (w[None] * (x[:, None, :] - x[:, :, None])).sum(-1)
    np.testing.assert_allclose(
        _afferent(nm.coupling.Diffusive(a=0.3), w, x), 0.3 * diff
    )


def test_sigmoidal_is_applied_after_the_sum(x64):
    w, x = _setup(seed=1)
    c = nm.coupling.Sigmoidal(cmin=-0.5, cmax=2.0, midpoint=0.3, a=1.5, sigma=0.7)
    g = x @ w.T
    expected = -0.5 + 2.5 * _sig(1.5 * (g - 0.3) / 0.7)
    np.testing.assert_allclose(_afferent(c, w, x), expected, rtol=1e-12)


def test_tanh_is_applied_before_the_sum(x64):
    w, x = _setup(seed=2)
    c = nm.coupling.Tanh(a=0.4, b=1.3, midpoint=0.2, sigma=0.5)
    pre = 0.4 * (1.0 + np.tanh((1.3 * x - 0.2) / 0.5))
    np.testing.assert_allclose(_afferent(c, w, x), pre @ w.T, rtol=1e-12)


def test_kuramoto_sine_of_delayed_minus_local_phase(x64):
    w, x = _setup(seed=3)
    x = 3.0 * x
    c = nm.coupling.Kuramoto(a=0.25)
    expected = 0.25 * (w[None] * np.sin(x[:, None, :] - x[:, :, None])).sum(-1)
    np.testing.assert_allclose(_afferent(c, w, x), expected, rtol=1e-12, atol=1e-14)


def test_sigmoidal_jansen_rit_combines_two_variables(x64):
    w, x = _setup(seed=4)
    x = 10.0 * x
    c = nm.coupling.SigmoidalJansenRit(cmin=0.001, cmax=0.005, midpoint=6.0, r=0.56)
    rate = 0.001 + 0.004 * _sig(0.56 * ((x[0] - x[1]) - 6.0))
    out = _afferent(c, w, x)
    np.testing.assert_allclose(out[0], w @ rate, rtol=1e-12)
    np.testing.assert_allclose(out[1], 0.0)  # a single output, on the first variable


def test_laplacian_normalised_by_in_strength(x64):
    w, x = _setup(seed=5)
    w[2, :] = 0.0  # a region without afferents
    strength = w.sum(1)
    lap = np.diag(strength) - w
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(strength > 0, -0.8 * (x @ lap.T) / strength, 0.0)
    out = _afferent(nm.coupling.Laplacian(a=0.8), w, x)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[:, 2], 0.0)
    # relaxation towards the weighted mean of the afferents
    mean_in = (x @ w.T) / np.where(strength > 0, strength, 1.0)
    keep = strength > 0
    np.testing.assert_allclose(out[:, keep], 0.8 * (mean_in - x)[:, keep], rtol=1e-12)
    # invariant to a common shift and to a common scaling of the weights
    np.testing.assert_allclose(_afferent(nm.coupling.Laplacian(a=0.8), w, x + 3.0), out)
    np.testing.assert_allclose(
        _afferent(nm.coupling.Laplacian(a=0.8), 5.0 * w, x), out, rtol=1e-12
    )
    # the unnormalised form is the plain Laplacian, i.e. the diffusive coupling
    np.testing.assert_allclose(
        _afferent(nm.coupling.Laplacian(a=0.8, normalize=False), w, x),
        -0.8 * (x @ lap.T),
        rtol=1e-12,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        _afferent(nm.coupling.Laplacian(a=0.8, normalize=False), w, x),
        _afferent(nm.coupling.Diffusive(a=0.8), w, x),
        rtol=1e-12,
        atol=1e-14,
    )


def test_laplacian_gradient_through_weights(x64):
    w, x = _setup(seed=6)
    state = {"u": jnp.asarray(x[0]), "v": jnp.asarray(x[1])}
    mask = jnp.asarray(w > 0)

    def loss(wv):
        net = nm.Network(Integrator2(), jnp.where(mask, wv, 0.0), coupling="laplacian")
        out = net.vector_field(0.0, state)
        return jnp.sum(out["u"] ** 2)

    g = jax.jit(jax.grad(loss))(jnp.asarray(w))
    assert np.all(np.isfinite(np.asarray(g)))
    eps, (i, j) = 1e-6, np.argwhere(w > 0)[0]
    e = np.zeros_like(w)
    e[i, j] = eps
    fd = (loss(jnp.asarray(w + e)) - loss(jnp.asarray(w - e))) / (2 * eps)
    np.testing.assert_allclose(g[i, j], fd, rtol=1e-6)


def test_registry_shorthands():
    for name, cls in _SHORTHANDS.items():
        assert type(nm.coupling.get_coupling(name)) is cls
        assert type(nm.coupling.get_coupling(name.upper())) is cls
    expected = {
        "sigmoidal": nm.coupling.Sigmoidal,
        "tanh": nm.coupling.Tanh,
        "hyperbolic_tangent": nm.coupling.Tanh,
        "kuramoto": nm.coupling.Kuramoto,
        "laplacian": nm.coupling.Laplacian,
        "sigmoidal_jansen_rit": nm.coupling.SigmoidalJansenRit,
        "difference": nm.coupling.Diffusive,
    }
    for name, cls in expected.items():
        assert type(nm.coupling.get_coupling(name)) is cls
    c = nm.coupling.Tanh(a=2.0)
    assert nm.coupling.get_coupling(c) is c
    with pytest.raises(ValueError, match="laplacian"):
        nm.coupling.get_coupling("laplace")
    with pytest.raises(TypeError):
        nm.coupling.get_coupling(3)


class Rectified(nm.coupling.AbstractCoupling):
    """A user-defined coupling, written as in the docs: thresholded linear."""

    a: jnp.ndarray = param(1.0)
    theta: jnp.ndarray = param(0.0)

    def pre(self, x_j, x_i):
        return jnp.maximum(x_j - self.theta, 0.0)

    def post(self, gx):
        return self.a * gx


def test_user_defined_coupling_in_a_delayed_network(x64):
    """A user coupling runs like a built-in one: delayed Hopf network with Euler,
    nearest delays and held coupling, against a plain numpy ring buffer."""
    n, dt, steps, speed = 4, 0.1, 150, 2.0
    rng = np.random.default_rng(11)
    w = rng.uniform(0.2, 1.0, (n, n))
    np.fill_diagonal(w, 0.0)
    lengths = rng.uniform(1.0, 8.0, (n, n))
    lag = np.rint(lengths / speed / dt).astype(int)
    a_h, omega, k = 0.2, 0.3, 0.4
    coupling = Rectified(a=0.9, theta=0.05)
    net = nm.Network(
        nm.models.Hopf(a=a_h, omega=omega),
        w,
        lengths=lengths,
        speed=speed,
        coupling=coupling,
        k=k,
        coupled_vars=("x",),
    )
    x0, y0 = rng.uniform(-0.5, 0.5, n), rng.uniform(-0.5, 0.5, n)
    sol = nm.simulate(
        net,
        t1=steps * dt,
        dt=dt,
        y0={"x": x0, "y": y0},
        solver=diffrax.Euler(),
        interpolation="nearest",
        coupling_evaluation="step",
    )
    off = lag.max()
    hx = np.zeros((steps + off + 1, n))
    hx[: off + 1] = x0  # constant history
    x, y = x0.copy(), y0.copy()
    for s in range(steps):
        xd = hx[s + off - lag, np.arange(n)[None, :]]  # [to, from]
        c = k * 0.9 * (w * np.maximum(xd - 0.05, 0.0)).sum(1)
        r2 = x**2 + y**2
        x, y = (
            x + dt * ((a_h - r2) * x - omega * y + c),
            y + dt * ((a_h - r2) * y + omega * x),
        )
        hx[s + off + 1] = x
    np.testing.assert_allclose(np.asarray(sol["x"][-1]), x, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sol["y"][-1]), y, atol=1e-12)
    # and its parameters are differentiable leaves like any coupling's
    grads = eqx.filter_grad(lambda c: jnp.sum(c.pre(jnp.ones(3), 0.0) * c.a))(coupling)
    assert float(grads.a) == pytest.approx(3 * 0.95)
