"""The contract of `Network`: any field changed with `eqx.tree_at`, swept with `vmap`
or differentiated gives what a freshly built network gives (or a clear error), for the
blocked and step-by-step loops, nearest and linear reads, with and without noise; and
`simulate` compiles once per structure."""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


N = 4
RNG = np.random.default_rng(3)
W = RNG.uniform(0.2, 1.0, (N, N)) * (RNG.random((N, N)) < 0.6)
np.fill_diagonal(W, 0.0)
W[0, 1] = 0.0  # an absent edge, which some tests add
L = RNG.uniform(6.0, 30.0, (N, N))  # 1.2-6 ms at 5 mm/ms: 12-60 steps of 0.1 ms
SPEED = 5.0
# blocks of 2 steps where blocked (quick to compile)
RUN = dict(t1=8.0, dt=0.1, save_every=0.2)

CASES = {  # (interpolation, loop)
    "nearest-blocked": ("nearest", nm.BlockedLoop(max_block=2, required=True)),
    "nearest-stepwise": ("nearest", nm.StepByStepLoop()),
    "linear-stepwise": ("linear", nm.StepByStepLoop()),
}


def build(k=0.3, a=0.1, weights=W, lengths=L, speed=SPEED, sigma=None, c=1.0, **bounds):
    """A freshly built network: the reference for every transformation."""
    noise = None if sigma is None else nm.noise.Additive(sigma)
    return nm.Network(
        nm.models.Hopf(a=a, omega=0.5),
        weights,
        lengths=lengths,
        speed=speed,
        coupling=nm.coupling.Diffusive(a=c),
        k=k,
        noise=noise,
        **bounds,
    )


def run(net, case, key=None):
    interp, loop = CASES[case]
    sol = nm.simulate(
        net,
        interpolation=interp,
        loop=loop,
        key=key,
        y0={"x": jnp.linspace(0.1, 0.4, N), "y": 0.2},
        **RUN,
    )
    return sol["x"]


def changes():
    """(field getter, new value, the same network built fresh), made inside the test
    (so that arrays take its precision)."""
    return {
        "k (Python float)": (lambda n: n.k, 0.45, dict(k=0.45)),
        "node.a (per region)": (
            lambda n: n.node.a,
            jnp.linspace(-0.1, 0.2, N),
            dict(a=jnp.linspace(-0.1, 0.2, N)),
        ),
        "coupling.a": (lambda n: n.coupling.a, 0.7, dict(c=0.7)),
        "weights (new edge)": (
            lambda n: n.weights,
            jnp.asarray(W).at[0, 1].set(0.8),
            dict(weights=jnp.asarray(W).at[0, 1].set(0.8)),
        ),
        "speed (slower)": (lambda n: n.speed, 3.0, dict(speed=3.0)),
        "speed (faster)": (lambda n: n.speed, 9.0, dict(speed=9.0)),
        "lengths": (lambda n: n.lengths, jnp.asarray(L) * 1.3, dict(lengths=L * 1.3)),
    }


# Parameters that keep the structure run in every case (one compiled program); each
# change of structure (edges, history length) compiles anew, so they are spread over
# the cases.
_SAME = ("k (Python float)", "node.a (per region)", "coupling.a")
CHANGED_IN = {
    "nearest-blocked": _SAME + ("speed (slower)",),
    "nearest-stepwise": _SAME + ("weights (new edge)", "speed (faster)"),
    "linear-stepwise": _SAME + ("lengths", "weights (new edge)"),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, noisy",
    [("nearest-blocked", True), ("nearest-stepwise", False), ("linear-stepwise", True)],
)
def test_tree_at_equals_fresh(x64, case, noisy):
    """Every field changed with `eqx.tree_at` (concrete values) runs as a freshly
    built network, to float64 round-off."""
    sigma = 0.01 if noisy else None
    key = jax.random.key(0) if noisy else None
    base = build(sigma=sigma)
    for name, (where, value, fresh_kw) in changes().items():
        if name not in CHANGED_IN[case]:
            continue
        changed = run(eqx.tree_at(where, base, value), case, key)
        fresh = run(build(sigma=sigma, **fresh_kw), case, key)
        np.testing.assert_allclose(changed, fresh, rtol=0, atol=1e-12, err_msg=name)
    if noisy:
        noise = eqx.tree_at(lambda n: n.noise.sigma, base, 0.03)
        np.testing.assert_allclose(
            run(noise, case, key), run(build(sigma=0.03), case, key), atol=1e-12
        )


def test_tree_at_diagonal_and_bad_values(x64):
    """A diagonal weight set with `tree_at` is dropped as the constructor drops it;
    invalid values give the constructor's errors."""
    base = build()
    diag = eqx.tree_at(lambda n: n.weights, base, jnp.asarray(W) + jnp.eye(N))
    np.testing.assert_array_equal(
        run(diag, "linear-stepwise"), run(base, "linear-stepwise")
    )
    with pytest.raises(ValueError, match="speed"):
        run(eqx.tree_at(lambda n: n.speed, base, -1.0), "linear-stepwise")
    with pytest.raises(ValueError, match="`k`"):
        run(eqx.tree_at(lambda n: n.k, base, jnp.ones(N + 1)), "linear-stepwise")
    with pytest.raises(ValueError, match="shorter than `dt`"):
        run(eqx.tree_at(lambda n: n.speed, base, 500.0), "linear-stepwise")


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nearest-blocked", "linear-stepwise"])
def test_vmap_equals_fresh(x64, case):
    """k, a node parameter, the weights (with a new edge), the speed and the noise
    swept together with `eqx.filter_vmap` equal fresh networks point by point, given
    bounds that cover the swept values."""
    bounds = dict(
        max_delay=float(L.max()) / 2.5,
        min_delay=float(L.min()) / 6.0,
        edge_mask=np.ones((N, N), bool),
    )
    base = build(sigma=0.01, **bounds)
    ks = jnp.asarray([0.2, 0.5])
    a_s = jnp.asarray([0.05, -0.1])
    ws = jnp.stack([jnp.asarray(W), jnp.asarray(W).at[0, 1].set(0.8)])
    speeds = jnp.asarray([2.5, 6.0])
    sigmas = jnp.asarray([0.01, 0.02])
    keys = jax.random.split(jax.random.key(1), 2)

    def point(k, a, w, v, s, key):
        net = eqx.tree_at(
            lambda n: (n.k, n.node.a, n.weights, n.speed, n.noise.sigma),
            base,
            (k, a, w, v, s),
        )
        return run(net, case, key)

    swept = eqx.filter_jit(eqx.filter_vmap(point))(ks, a_s, ws, speeds, sigmas, keys)
    for i in range(2):
        fresh = build(
            k=float(ks[i]),
            a=float(a_s[i]),
            weights=ws[i],
            speed=float(speeds[i]),
            sigma=float(sigmas[i]),
        )
        np.testing.assert_allclose(
            swept[i], run(fresh, case, keys[i]), rtol=0, atol=1e-10
        )


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nearest-blocked", "linear-stepwise"])
def test_traced_values_beyond_bounds_are_errors(case):
    """Traced delays longer than `max_delay` or shorter than `min_delay`, or a traced
    weight outside `edge_mask`, are run-time errors naming the bound to widen."""
    base = build()
    slower = jax.jit(lambda v: run(eqx.tree_at(lambda n: n.speed, base, v), case))
    with pytest.raises(Exception, match="max_delay"):
        jax.block_until_ready(slower(jnp.asarray(2.0)))
    if case == "nearest-blocked":
        with pytest.raises(Exception, match="min_delay"):
            jax.block_until_ready(slower(jnp.asarray(9.0)))
    new_edge = jax.jit(lambda w: run(eqx.tree_at(lambda n: n.weights, base, w), case))
    with pytest.raises(Exception, match="edge_mask"):
        jax.block_until_ready(new_edge(jnp.asarray(W).at[0, 1].set(0.8)))
    # within the bounds: fine, and equal to the concrete run
    np.testing.assert_allclose(
        slower(jnp.asarray(SPEED)), run(base, case), rtol=0, atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nearest-blocked", "linear-stepwise"])
def test_grad_equals_finite_differences(x64, case):
    """Gradients with respect to k, a per-region parameter, the weights (with an
    absent edge, declared in `edge_mask`), the lengths (linear reads), the speed and
    the noise intensity, against central differences of freshly built networks."""
    key = jax.random.key(2)
    mask = np.ones((N, N), bool)
    bounds = dict(max_delay=float(L.max()) / 4.0, min_delay=float(L.min()) / 6.0)
    base = build(sigma=0.01, edge_mask=mask, **bounds)
    linear = case.startswith("linear")

    def loss_of(net):
        return jnp.mean(run(net, case, key) ** 2)

    def with_params(p):
        where = lambda n: (n.k, n.node.a, n.weights, n.noise.sigma)  # noqa: E731
        fields = (p["k"], p["a"], p["w"], p["s"])
        if linear:
            where = lambda n: (
                n.k,
                n.node.a,
                n.weights,
                n.noise.sigma,
                n.lengths,
                n.speed,
            )  # noqa: E731
            fields += (p["L"], p["v"])
        return eqx.tree_at(where, base, fields)

    p0 = dict(
        k=jnp.asarray(0.3),
        a=jnp.full(N, 0.1),
        w=jnp.asarray(W),
        s=jnp.asarray(0.01),
    )
    if linear:
        p0.update(L=jnp.asarray(L), v=jnp.asarray(SPEED))
    grads = jax.jit(jax.grad(lambda p: loss_of(with_params(p))))(p0)

    def fresh_loss(p):
        kw = dict(k=float(p["k"]), a=p["a"], weights=p["w"], sigma=float(p["s"]))
        if linear:
            kw.update(lengths=p["L"], speed=float(p["v"]))
        return float(loss_of(build(**kw)))

    rng = np.random.default_rng(0)
    for name, value in p0.items():
        direction = rng.standard_normal(np.shape(value))
        if name == "w":
            direction[0, 1] = 1.0  # the absent edge matters
            direction[np.eye(N, dtype=bool)] = 0.0
        h = 1e-5
        plus = {**p0, name: value + h * direction}
        minus = {**p0, name: value - h * direction}
        fd = (fresh_loss(plus) - fresh_loss(minus)) / (2 * h)
        got = float(jnp.sum(grads[name] * direction))
        assert got == pytest.approx(fd, rel=1e-5, abs=1e-10), name
        assert abs(fd) > 1e-8, name  # the direction matters


@pytest.mark.slow
def test_sweep_widens_bounds(x64):
    """`nm.sweep(..., model=net)` over speeds below the network's and weights with
    new edges runs every point as a fresh network (the bounds are widened from the
    axis values)."""
    base = build()
    w_new = np.stack([W, np.where(np.eye(N) > 0, 0.0, 0.5)])
    space = nm.Space(
        {"speed": nm.DataAxis(jnp.asarray([2.0, 5.0])), "weights": nm.DataAxis(w_new)},
        mode="zip",
    )
    res = nm.sweep(
        lambda net: {"x": run(net, "linear-stepwise")[-1]},
        space,
        model=base,
        batch_size=2,
        progress=False,
    )
    assert list(res.status) == ["ok", "ok"]
    for i, (v, w) in enumerate([(2.0, W), (5.0, w_new[1])]):
        fresh = run(build(speed=v, weights=w), "linear-stepwise")[-1]
        np.testing.assert_allclose(res.outputs["x"][i], fresh, rtol=0, atol=1e-10)


def test_compiled_once(caplog):
    """Ten plain calls with ten different `k` (Python floats), node parameters and
    initial states compile the loop once; a new `t1` compiles anew."""
    base = build()
    kw = dict(t1=5.0, dt=0.1, save_every=0.5, interpolation="linear")
    nm.simulate(base, y0={"x": 0.5, "y": 0.1}, **kw)  # warm
    with jax.log_compiles(True), caplog.at_level(logging.WARNING, logger="jax"):
        caplog.clear()
        for i in range(10):
            net = eqx.tree_at(lambda n: (n.k, n.node.a), base, (0.1 * i, 0.01 * i))
            nm.simulate(net, y0={"x": 0.1 * i, "y": 0.0}, **kw)
        loops = [r for r in caplog.records if "jit(_solve)" in r.getMessage()]
    assert loops == [], [r.getMessage() for r in loops]
    with jax.log_compiles(True), caplog.at_level(logging.WARNING, logger="jax"):
        caplog.clear()
        y0 = {"x": 0.5, "y": 0.1}
        nm.simulate(base, y0=y0, **{**kw, "t1": 5.04})  # the same grid: 50 steps
        same = [r for r in caplog.records if "Compiling jit(_solve)" in r.getMessage()]
        nm.simulate(base, **{**kw, "t1": 6.0})
        again = [r for r in caplog.records if "Compiling jit(_solve)" in r.getMessage()]
    assert same == []
    assert len(again) == 1


def _compiles(caplog, fn):
    with jax.log_compiles(True), caplog.at_level(logging.WARNING, logger="jax"):
        caplog.clear()
        fn()
        return [r for r in caplog.records if "Compiling jit(_solve)" in r.getMessage()]


def test_built_networks_share_one_program(caplog):
    """Networks *built* (constructor or `replace`) with new speeds of the same
    history length run one compiled program: the bounds derived from the values
    (`max_delay`, `min_delay`, `edge_mask`) do not enter its key when the values
    are concrete."""
    kw = dict(t1=3.0, dt=0.1, save_every=0.5, interpolation="linear")
    nm.simulate(build(speed=5.0), **kw)  # warm
    speeds = np.linspace(5.0, 5.01, 20)  # the same history length and shortest lag
    built = _compiles(
        caplog, lambda: [nm.simulate(build(speed=v), **kw) for v in speeds]
    )
    assert built == []
    base = build(speed=5.0)
    replaced = _compiles(
        caplog, lambda: [nm.simulate(base.replace(speed=v), **kw) for v in speeds]
    )
    assert replaced == []


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nearest-blocked", "linear-stepwise"])
def test_eager_equals_jitted_bit_for_bit(case):
    """A plain call and the same call inside the user's `jit` (the network traced as
    an argument, or closed over with a traced `k`) give the same bytes, with noise."""
    net = build(sigma=0.02)
    key = jax.random.key(5)
    eager = run(net, case, key)
    traced_net = eqx.filter_jit(lambda n: run(n, case, key))(net)
    traced_k = jax.jit(lambda k: run(eqx.tree_at(lambda n: n.k, net, k), case, key))(
        net.k
    )
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced_net))
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced_k))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::neuromass.SymmetricStartWarning")
def test_compiled_programs_are_bounded(monkeypatch):
    """Each new structure compiles a program of its own; only the latest
    `MAX_PROGRAMS` are kept (least recently used evicted), so a session that runs
    many structures does not grow without bound."""
    from neuromass._simulate import _solve

    monkeypatch.setattr(_solve, "MAX_PROGRAMS", 3)
    net = nm.Network(nm.models.Hopf(), np.ones((2, 2)), k=0.1)
    for i in range(6):  # six grids, six structures
        nm.simulate(net, t1=1.0 + 0.1 * i, dt=0.1)
        assert len(_solve._PROGRAMS) <= 3
    first = nm.simulate(net, t1=1.5, dt=0.1)["x"]  # the latest is kept, and reused
    assert len(_solve._PROGRAMS) <= 3
    again = nm.simulate(net, t1=1.5, dt=0.1)["x"]
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
