"""Blocked reads of nearest delays (`neuromass._delay._blocked`) against the
step-by-step loop, single runs and sweeps run as one loop (sweep as the trailing axis
of the ring), with their gradients."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass._delay import _blocked as blk


N = 6
# blocks of 2 steps (quick to compile) and of 5 (at most 8 by default)
SHORT = dict(t1=15.0, dt=0.1, interpolation="nearest", transient=0.2, save_every=0.2)
KW = dict(t1=30.0, dt=0.1, interpolation="nearest", transient=1.0, save_every=1.0)


def _network(noise=None):
    rng = np.random.default_rng(7)
    w = rng.random((N, N)) * (rng.random((N, N)) < 0.7)
    lengths = rng.uniform(6.0, 30.0, (N, N))  # 1.3-5.7 ms at 5 mm/ms: 13-57 steps
    return nm.Network(
        nm.models.Hopf(a=jnp.linspace(-0.1, 0.2, N), omega=0.4),
        w,
        lengths=lengths,
        speed=5.0,
        coupling="diffusive",
        k=0.3,
        noise=noise,
    )


@pytest.fixture
def count_blocks(monkeypatch):
    """Counts the blocked reads traced (to check which loop a run used)."""
    calls = []
    exchange = blk.exchange

    def counted(*args, **kwargs):
        calls.append(1)
        return exchange(*args, **kwargs)

    monkeypatch.setattr(blk, "exchange", counted)
    return calls


STEP = nm.StepByStepLoop()


def _both(fn):
    """`fn(loop)` with blocked reads, then with the step-by-step loop."""
    return fn(nm.BlockedLoop(required=True)), fn(STEP)


def _assert_close(a, b, atol=2e-5):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)


@pytest.mark.slow
def test_blocked_equals_stepwise(count_blocks, getkey):
    """Euler with noise, a transient and two monitors (one streaming, one periodic),
    in blocks of 5 steps. (Heun's forward pass: `test_blocked_adjoint`.)"""
    net = _network(nm.noise.Additive(0.01))
    key = getkey()
    monitors = [
        nm.monitors.TemporalAverage(2.0),
        nm.monitors.RunningStats("x", every=1.0),
    ]

    def run(loop):
        kw = dict(KW, save_every=0.5, transient=0.5, loop=loop)
        sol = nm.simulate(net, solver=diffrax.Euler(), key=key, monitors=monitors, **kw)
        return sol.ys, sol.y_final, sol.monitors

    blocked, stepwise = _both(run)
    assert count_blocks, "the blocked loop was not used"
    _assert_close(blocked, stepwise)


@pytest.mark.slow
def test_block_size():
    """S divides the output period and the transient and is at most the shortest
    lag (13 steps here); without a whole number of shared steps, no blocking."""
    net = _network()
    lag = nm._delay._structure.derive(net, 0.1, whole_steps=True).min_lag
    lengths = np.asarray(net.lengths)[np.asarray(net.weights) != 0]
    assert lag == round(lengths.min() / 5.0 / 0.1) == 13
    assert blk.block_steps(lag, 10, 16) == 10
    assert blk.block_steps(lag, 30, 16) == 10
    assert blk.block_steps(lag, 7, 16) == 7
    assert blk.block_steps(lag, 13, 16) == 13
    assert blk.block_steps(lag, 13, 4) == 0  # no divisor of 13 in 2..4
    assert blk.block_steps(lag, 17, 16) == 0  # 17 > 13, prime
    assert blk.block_steps(lag, 1, 16) == 0  # saving every step
    assert nm.simulate(net, **KW).stats["block"] == 5  # at most 8 by default
    assert nm.simulate(net, **KW, loop=nm.BlockedLoop(max_block=4)).stats["block"] == 2

    def stats(**kw):  # traced, not run
        return jax.eval_shape(lambda: nm.simulate(net, **kw)).stats

    # by default a single run reads blocks of at least 4 steps, a batch of 2
    stats_short = stats(**SHORT)
    assert (stats_short["block"], stats_short["batch_block"], stats_short["loop"]) == (
        0,
        2,
        "step-by-step",
    )
    with pytest.raises(ValueError, match="below `min_block`"):
        nm.simulate(net, **SHORT, loop=nm.BlockedLoop(min_block=3, required=True))
    with pytest.raises(ValueError, match="must not exceed"):
        nm.BlockedLoop(min_block=5, max_block=4)
    # linear reads have two grid taps; by default only a batch reads them in blocks
    linear = {**KW, "interpolation": "linear"}
    assert (stats(**linear)["block"], stats(**linear)["batch_block"]) == (0, 5)
    loop = nm.BlockedLoop(max_block=16, required=True)
    assert stats(**linear, loop=loop)["block"] == 10
    with pytest.raises(ValueError, match="no fixed grid taps"):
        nm.simulate(
            net, **{**KW, "interpolation": "cubic"}, loop=nm.BlockedLoop(required=True)
        )


def test_degree_bands_minimise_padding():
    """Against every split of 8 sorted degrees into at most 3 contiguous bands."""
    deg = np.array([9, 1, 4, 4, 2, 8, 1, 3])
    bands = blk.degree_bands(deg, 3)
    assert sorted(np.concatenate(bands).tolist()) == list(range(8))
    cost = sum(len(b) * deg[b].max() for b in bands)
    d = np.sort(deg)
    best = min(
        i * d[i - 1] + (j - i) * d[j - 1] + (8 - j) * d[7]
        for i in range(1, 8)
        for j in range(i, 8)
    )
    assert cost == best


@pytest.mark.slow
def test_sweep_as_one_loop(count_blocks, getkey):
    """vmap over k, the weights, a node parameter, the initial state and the noise
    keys (one loop with the sweep trailing the ring) equals the points one by one."""
    net = _network(nm.noise.Additive(0.01))
    B = 3
    ks = jnp.linspace(0.1, 0.5, B)
    ws = net.weights[None] * jnp.linspace(0.8, 1.2, B)[:, None, None]
    a_s = jnp.linspace(0.05, 0.2, B)
    x0 = jnp.linspace(0.1, 0.4, B)
    keys = jax.random.split(getkey(), B)
    monitors = [nm.monitors.TemporalAverage(2.0)]

    def run(k, w, a, x, key):
        n2 = eqx.tree_at(lambda n: (n.k, n.weights, n.node.a), net, (k, w, a))
        sol = nm.simulate(
            n2, y0={"x": x, "y": 0.2}, key=key, monitors=monitors, **SHORT
        )
        return sol["x"], sol.monitors["tavg"].data["y"]

    swept = jax.jit(jax.vmap(run))(ks, ws, a_s, x0, keys)
    assert count_blocks
    each = [jax.jit(run)(ks[i], ws[i], a_s[i], x0[i], keys[i]) for i in range(B)]
    _assert_close(swept, jax.tree.map(lambda *x: jnp.stack(x), *each))

    # a nested vmap (initial states outside, k inside), with shared inputs
    def x_only(k, x):
        n2 = eqx.tree_at(lambda n: n.k, net, k)
        return nm.simulate(n2, y0={"x": x, "y": 0.2}, key=keys[0], **SHORT)["x"]

    nested = jax.jit(jax.vmap(jax.vmap(x_only, (0, None)), (None, 0)))(ks, x0)
    one = jax.jit(x_only)
    for j, i in [(0, 0), (2, 1)]:
        _assert_close(nested[j, i], one(ks[i], x0[j]))


@pytest.mark.slow
def test_swept_speed(count_blocks):
    """Delays swept with `eqx.tree_at`: per-point blocked loops, sized by the
    network's `min_delay`; a faster speed than it allows is a clear error."""
    base = _network()
    net = base.replace(speed=5.0, min_delay=0.5, max_delay=12.0)
    speeds = jnp.asarray([2.5, 5.0, 10.0])

    def run(net, v, loop=None):
        return nm.simulate(eqx.tree_at(lambda n: n.speed, net, v), **KW, loop=loop)["x"]

    swept = jax.jit(jax.vmap(run, (None, 0)))(net, speeds)
    assert count_blocks
    stepwise = jax.jit(jax.vmap(lambda n, v: run(n, v, STEP), (None, 0)))(net, speeds)
    _assert_close(swept, stepwise)
    with pytest.raises(Exception, match="min_delay"):
        jax.block_until_ready(jax.jit(run)(base, jnp.asarray(10.0)))


@pytest.mark.slow
@pytest.mark.parametrize("adjoint", ["pulled", "autodiff"])
def test_gradients(adjoint):
    """Gradients under vmap, either way round, are those of single runs; forward
    mode works with plain AD (`test_blocked_adjoint` checks the values)."""
    net = _network()

    def loss(k):
        n2 = eqx.tree_at(lambda n: n.k, net, k)
        loop = nm.BlockedLoop()  # blocks of 2 for single runs too
        x = nm.simulate(n2, delay_adjoint=adjoint, loop=loop, **SHORT)["x"]
        return jnp.mean(x[10:] ** 2)

    ks = jnp.asarray([0.2, 0.4])
    one = jax.jit(jax.grad(loss))(ks[0])
    vg = jax.jit(jax.vmap(jax.grad(loss)))(ks)
    gv = jax.jit(jax.grad(lambda k: jax.vmap(loss)(k).sum()))(ks)
    _assert_close(vg, gv, atol=1e-7)
    _assert_close(vg[0], one, atol=1e-7)
    if adjoint == "autodiff":
        _, t = jax.jvp(loss, (ks[0],), (jnp.ones(()),))
        np.testing.assert_allclose(t, one, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        dict(solver=diffrax.Euler(), gradient_horizon=5.0, save_every=0.2),
        dict(solver=diffrax.Heun(), checkpoint=True),
    ],
    ids=["euler-horizon", "heun-checkpoint"],
)
def test_blocked_adjoint(count_blocks, getkey, options):
    """The blocked pulled adjoint against plain AD through the step-by-step loop,
    with respect to the coupling, the weights, a per-region parameter, the initial
    state and the history array, with noise, a transient and two monitors; and the
    forward pass (trajectory, final state, monitors) against the step-by-step loop's
    (blocks of 2 and of 5 steps). Under a gradient horizon the blocked loop carries
    the read of the first step after a cut from the block before it, where Euler's
    step-by-step loop reads it in the step: both give the weights its gradient
    (`rejoin` in `_delayed_loop`)."""
    net = _network(nm.noise.Additive(0.01))
    key = getkey()
    monitors = [
        nm.monitors.TemporalAverage(2.0),
        nm.monitors.RunningStats("x", every=1.0),
    ]
    wave = 0.1 * jnp.cos(jnp.arange(40.0)[:, None] / 7 + jnp.arange(N)[None, :])
    past = {"x": wave, "y": -wave}

    def loss(params, adjoint, loop=None):
        k, w, a, x0, hist = params
        n2 = eqx.tree_at(lambda n: (n.k, n.weights, n.node.a), net, (k, w, a))
        sol = nm.simulate(
            n2,
            y0={"x": x0, "y": 0.1},
            history=hist,
            key=key,
            monitors=monitors,
            delay_adjoint=adjoint,
            loop=loop,
            **{**KW, "t1": 20.0, "save_every": 0.5, **options},
        )
        tavg = sol.monitors["tavg"].data["y"]
        var = sol.monitors["stats"].data["var"]
        value = jnp.mean(sol["x"][5:] ** 2) + jnp.mean(tavg**2) + jnp.mean(var)
        return value, (sol.ys, sol.y_final, sol.monitors)

    params = (jnp.asarray(0.3), net.weights, net.node.a, jnp.full(N, 0.2), past)
    blocked, outputs = jax.jit(
        jax.grad(lambda p: loss(p, "pulled", nm.BlockedLoop()), has_aux=True)
    )(params)
    assert count_blocks, "the blocked loop was not used"
    reference, expected = jax.jit(
        jax.grad(lambda p: loss(p, "autodiff", STEP), has_aux=True)
    )(params)
    _assert_close(outputs, expected)
    if "gradient_horizon" not in options:  # (which cuts the initial state off)
        for g in jax.tree.leaves(reference):
            assert np.abs(np.asarray(g)).max() > 0  # every input matters here
    _assert_close(blocked, reference, atol=1e-6)


@pytest.mark.slow
def test_eager_gradient_keeps_only_needed_residuals():
    """A plain (eager) `jax.vjp` runs the blocked loop's forward rule as a program of
    its own, so what it keeps is what it writes out: with respect to `k` alone it
    keeps less than with respect to `k` and the weights (before, it kept every
    block's delay windows for the weights' gradient in both cases: W3 nearest 2.4x
    the jitted gradient), and the eager gradient is the jitted one."""
    net = _network()

    def loss(k, w):
        n2 = eqx.tree_at(lambda n: (n.k, n.weights), net, (k, w))
        return jnp.mean(nm.simulate(n2, **SHORT)["x"][10:] ** 2)

    k = jnp.asarray(0.3)

    def kept(pull):
        return sum(x.size for x in jax.tree.leaves(pull) if eqx.is_inexact_array(x))

    _, pull_k = jax.vjp(lambda k: loss(k, net.weights), k)
    _, pull_kw = jax.vjp(loss, k, net.weights)
    assert kept(pull_k) < kept(pull_kw)
    eager = pull_k(jnp.ones(()))[0]
    jitted = jax.jit(jax.grad(loss))(k, net.weights)
    np.testing.assert_allclose(eager, jitted, rtol=1e-5)


@pytest.mark.slow
def test_linear_interpolation_blocked(count_blocks):
    """Linear reads in blocks (two grid taps per edge, `tap_weights`): the forward
    pass and the gradients of the blocked pulled adjoint with respect to
    `k`, the weights and the tract lengths (through the interpolation weights of
    fractional delays) against plain AD through the step-by-step loop, and a sweep
    run as one loop against single runs."""
    net = _network()
    kw = {**SHORT, "t1": 8.0, "interpolation": "linear"}

    def loss(p, loop, adjoint):
        k, w, lengths = p
        n2 = eqx.tree_at(lambda n: (n.k, n.weights, n.lengths), net, (k, w, lengths))
        x = nm.simulate(n2, loop=loop, delay_adjoint=adjoint, **kw)["x"]
        return jnp.mean(x[5:] ** 2), x

    params = (jnp.asarray(0.3), net.weights, net.lengths)
    blocked = jax.jit(
        jax.grad(
            lambda p: loss(p, nm.BlockedLoop(required=True), "pulled"), has_aux=True
        )
    )
    g, x = blocked(params)
    assert count_blocks, "the blocked loop was not used"
    reference, expected = jax.jit(
        jax.grad(lambda p: loss(p, STEP, "autodiff"), has_aux=True)
    )(params)
    _assert_close(x, expected)
    for r in jax.tree.leaves(reference):
        assert np.abs(np.asarray(r)).max() > 0
    _assert_close(g, reference, atol=1e-7)

    ks = jnp.asarray([0.3, 0.4])
    swept = jax.jit(jax.vmap(lambda k: loss((k,) + params[1:], None, "pulled")[1]))(ks)
    _assert_close(swept[0], x)
    _assert_close(swept[1], blocked((ks[1],) + params[1:])[1])
