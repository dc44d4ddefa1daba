"""The pulled adjoint of the delay history (`delay_adjoint="pulled"`) against plain
reverse-mode AD through the same loop (`"autodiff"`) and central differences."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


N = 5


def _network():
    rng = np.random.default_rng(3)
    w = rng.random((N, N)) * (rng.random((N, N)) < 0.7)
    lengths = rng.uniform(0.5, 9.0, (N, N))  # delays 0.25-4.5 ms, not on the grid
    return nm.Network(
        nm.models.Hopf(a=jnp.full(N, 0.1), omega=0.3),
        w,
        lengths=lengths,
        speed=2.0,
        coupling="diffusive",
        k=0.4,
    )


def _grads(loss, params):
    """value_and_grad of `loss(params, adjoint)` with both adjoints."""
    out = {}
    for adjoint in ("pulled", "autodiff"):
        fn = jax.jit(jax.value_and_grad(lambda p, a=adjoint: loss(p, a)))
        out[adjoint] = fn(params)
    return out


def _close(a, b, rtol=1e-9):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        scale = float(jnp.max(jnp.abs(y))) + 1e-30
        assert float(jnp.max(jnp.abs(x - y))) <= rtol * scale


@pytest.mark.slow
@pytest.mark.parametrize(
    "interpolation, solver",
    [("linear", diffrax.Heun()), ("nearest", diffrax.Euler())],
)
def test_pulled_adjoint_equals_autodiff(x64, getkey, interpolation, solver):
    """Gradients with respect to k, a per region, the weights and the initial state,
    through noise, a transient and a monitor, agree to rounding (the step-by-step
    loop: the blocked nearest reads have their own test in `test_blocked.py`)."""
    net = _network()
    key = getkey()

    def loss(p, adjoint):
        k, a, w, x0 = p
        n2 = eqx.tree_at(lambda n: (n.k, n.node.a, n.weights), net, (k, a, w))
        sol = nm.simulate(
            n2,
            t1=12.0,
            dt=0.1,
            transient=1.0,
            save_every=1.0,
            solver=solver,
            y0={"x": x0, "y": 0.2},
            noise=nm.noise.Additive(0.01),
            key=key,
            interpolation=interpolation,
            monitors=[nm.monitors.TemporalAverage(2.0, name="avg")],
            delay_adjoint=adjoint,
            loop=nm.StepByStepLoop(),
        )
        t = jnp.arange(sol["x"].shape[0])[:, None]
        return jnp.sum(jnp.sin(sol["x"]) * t / 12.0) + jnp.sum(
            sol.monitors["avg"].data["y"] ** 2
        )

    p = (
        jnp.asarray(0.4),
        jnp.full(N, 0.1),
        jnp.asarray(net.weights),
        jnp.linspace(0.1, 0.5, N),
    )
    g = _grads(loss, p)
    assert float(g["pulled"][0]) == pytest.approx(float(g["autodiff"][0]), rel=1e-12)
    _close(g["pulled"][1], g["autodiff"][1])
    # and against a central difference in k (the loss is smooth here)
    h = 1e-5
    f = jax.jit(lambda k: loss((k,) + p[1:], "pulled"))
    fd = (f(p[0] + h) - f(p[0] - h)) / (2 * h)
    assert float(g["pulled"][1][0]) == pytest.approx(float(fd), rel=1e-6)


@pytest.mark.slow
def test_pulled_adjoint_history_horizon_checkpoint(x64):
    """An array history, truncated backpropagation and checkpointing: the history's
    gradient (the pulled reads before the first step) and the others agree."""
    net = _network()
    n_past = 60

    def loss(p, adjoint):
        k, past = p
        n2 = eqx.tree_at(lambda n: n.k, net, k)
        sol = nm.simulate(
            n2,
            t1=12.0,
            dt=0.1,
            save_every=0.5,
            history={"x": past, "y": jnp.zeros((n_past, N))},
            gradient_horizon=5.0,
            checkpoint=True,
            delay_adjoint=adjoint,
        )
        return jnp.sum(sol["x"] ** 2) + jnp.sum(sol["y"][-1])

    past = 0.3 * jnp.cos(jnp.linspace(0.0, 3.0, n_past))[:, None] * jnp.ones((1, N))
    g = _grads(loss, (jnp.asarray(0.5), past))
    _close(g["pulled"][1], g["autodiff"][1])
    assert float(jnp.max(jnp.abs(g["pulled"][1][1]))) > 0.0  # the history matters


@pytest.mark.slow
def test_forward_mode_needs_autodiff(x64):
    """`jax.jvp` works with `delay_adjoint="autodiff"`; the pulled adjoint defines
    reverse mode only."""
    net = _network()

    def run(k, adjoint):
        n2 = eqx.tree_at(lambda n: n.k, net, k)
        sol = nm.simulate(n2, t1=2.0, dt=0.1, delay_adjoint=adjoint)
        return sol["x"][-1]

    _, tangent = jax.jvp(lambda k: run(k, "autodiff"), (0.4,), (1.0,))
    # the tangent is the derivative: reverse mode and central differences agree
    reverse = jax.jacrev(lambda k: run(k, "pulled"))(0.4)
    np.testing.assert_allclose(tangent, reverse, rtol=1e-9, atol=1e-12)
    h = 1e-5
    central = (run(0.4 + h, "autodiff") - run(0.4 - h, "autodiff")) / (2 * h)
    np.testing.assert_allclose(tangent, central, rtol=1e-6, atol=1e-9)
    assert float(jnp.max(jnp.abs(tangent))) > 1e-3  # k matters
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(lambda k: run(k, "pulled"), (0.4,), (1.0,))
    with pytest.raises(ValueError, match="delay_adjoint"):
        nm.simulate(net, t1=1.0, dt=0.1, delay_adjoint="magic")


@pytest.mark.slow
def test_pulled_adjoint_under_vmap(x64):
    """Per-member gradients of a vmapped (ensemble) loss equal the single ones."""
    net = _network()

    def loss(k):
        n2 = eqx.tree_at(lambda n: n.k, net, k)
        return jnp.sum(nm.simulate(n2, t1=5.0, dt=0.1, save_every=0.5)["x"] ** 2)

    ks = jnp.array([0.2, 0.6])
    batched = jax.jit(jax.vmap(jax.grad(loss)))(ks)
    single = jnp.stack([jax.jit(jax.grad(loss))(k) for k in ks])
    np.testing.assert_allclose(batched, single, rtol=1e-10)
    assert float(jnp.abs(single[0] - single[1])) > 0.0
