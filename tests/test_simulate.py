"""Core integration tests against independent references."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats
from helpers import Decay, delay_network

import neuromass as nm


def _random_net(n=6, seed=0, speed=2.0, k=0.2, node=None, **kw):
    rng = np.random.default_rng(seed)
    w = rng.random((n, n)) * (rng.random((n, n)) < 0.6)
    lengths = rng.uniform(2.0, 20.0, (n, n))
    return (
        nm.Network(
            node or nm.models.Hopf(),
            w,
            lengths=lengths,
            speed=speed,
            coupling="diffusive",
            k=k,
            **kw,
        ),
        w,
        lengths / speed,
    )


# ------------------------------------------------------------- non-delayed systems
@pytest.mark.slow
@pytest.mark.parametrize("controller", [None, "pid"])
def test_linear_network_matches_matrix_exponential(x64, controller):
    n = 5
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 1, (n, n))
    np.fill_diagonal(w, 0.0)
    gamma, k = 1.5, 0.3
    net = nm.Network(Decay(gamma=gamma), w, k=k, coupling="linear")
    v0 = rng.uniform(-1, 1, n)
    kw = {}
    if controller == "pid":
        kw = dict(stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-9))
    sol = nm.simulate(
        net, t1=2.0, dt=0.01, y0={"v": v0}, save_every=0.5, solver=diffrax.Tsit5(), **kw
    )
    a = -gamma * np.eye(n) + k * w
    for t, v in zip(np.asarray(sol.ts), np.asarray(sol["v"])):
        np.testing.assert_allclose(v, scipy.linalg.expm(a * t) @ v0, atol=1e-7)


def test_hopf_limit_cycle_radius_and_frequency(x64):
    a, omega = 0.3, 0.25
    sol = nm.simulate(
        nm.models.Hopf(a=a, omega=omega),
        t1=400.0,
        dt=0.05,
        save_every=0.5,
        transient=200.0,
    )
    x, y = np.asarray(sol["x"][:, 0]), np.asarray(sol["y"][:, 0])
    np.testing.assert_allclose(np.hypot(x, y), np.sqrt(a), rtol=1e-4)
    phase = np.unwrap(np.arctan2(y, x))
    slope = scipy.stats.linregress(np.asarray(sol.ts), phase).slope
    np.testing.assert_allclose(slope, omega, rtol=1e-4)


def test_hopf_decays_below_bifurcation(x64):
    sol = nm.simulate(nm.models.Hopf(a=-0.1), t1=200.0, dt=0.1)
    assert float(jnp.abs(sol["x"][-1, 0])) < 1e-6


# ------------------------------------------------------------ delay differential eq
def _eigen_dde(tau):
    lam = float(np.real(scipy.special.lambertw(-tau) / tau))
    assert abs(lam + np.exp(-lam * tau)) < 1e-12
    return lam


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver, interp, order",
    [(diffrax.Heun(), "linear", 2.0), (diffrax.Tsit5(), "cubic", 4.0)],
)
def test_delay_equation_convergence_order(x64, solver, interp, order):
    # v'(t) = -v(t - tau) with the eigen-solution exp(lam t) given as history; tau is
    # not a multiple of any dt used.
    tau, t1 = 0.3, 3.0
    lam = _eigen_dde(tau)
    net = delay_network(tau)
    errors, dts = [], [1 / 16, 1 / 32, 1 / 64, 1 / 128]
    for dt in dts:
        sol = nm.simulate(
            net,
            t1=t1,
            dt=dt,
            solver=solver,
            interpolation=interp,
            history=lambda t: {"v": jnp.exp(lam * t)[None]},
        )
        errors.append(abs(float(sol["v"][-1, 0]) - np.exp(lam * t1)))
    slope = scipy.stats.linregress(np.log(dts), np.log(errors)).slope
    assert order - 0.3 < slope < order + 0.6, (slope, errors)


def _method_of_steps(t, tau):
    """Exact solution of v' = -v(t - tau) with v = 1 on t <= 0, for t <= 4 tau."""
    t = np.asarray(t)
    out = np.ones_like(t)
    for j in range(1, 5):
        s = np.clip(t - (j - 1) * tau, 0.0, None)
        out = out + (-1) ** j * s**j / scipy.special.factorial(j)
    return out


def test_delay_equation_method_of_steps(x64):
    tau = 0.37
    errs = []
    for dt in (0.01, 0.005):
        sol = nm.simulate(delay_network(tau), t1=4 * tau - 0.02, dt=dt, y0={"v": 1.0})
        exact = _method_of_steps(sol.ts, tau)
        errs.append(np.max(np.abs(np.asarray(sol["v"][:, 0]) - exact)))
        # derivative jumps: v' is -1 just after 0, and v'' jumps from 0 to 1 at tau
        v = np.asarray(sol["v"][:, 0])
        ts = np.asarray(sol.ts)
        i = np.searchsorted(ts, tau)
        d2_before = np.diff(v[i - 8 : i - 3], 2).mean() / dt**2
        d2_after = np.diff(v[i + 3 : i + 8], 2).mean() / dt**2
        assert abs(d2_before) < 0.05 and abs(d2_after - 1.0) < 0.05
    assert errs[0] < 1e-4
    assert 1.8 < np.log2(errs[0] / errs[1]) < 2.6


def test_nearest_reproduces_integer_step_ring_buffer(x64):
    net, w, delays = _random_net(n=5, seed=3)
    dt = 0.1
    a, omega, k = 0.2, 0.3, 0.2
    steps = 300
    sol = nm.simulate(
        net, t1=steps * dt, dt=dt, interpolation="nearest", y0={"x": 0.3, "y": -0.2}
    )
    # independent plain ring-buffer Heun loop (TVB/brainmass integer delays)
    lag = np.round(delays / dt).astype(int)
    n = w.shape[0]
    np.fill_diagonal(w, 0.0)
    hx = np.full((steps + 2, n), 0.3)
    hy = np.full((steps + 2, n), -0.2)
    off = lag.max() + 1

    def read(h, step):
        idx = np.clip(step - lag + off, 0, None)
        return h[idx, np.arange(n)[None, :]]

    hx = np.full((steps + off + 2, n), 0.3)
    hy = np.full((steps + off + 2, n), -0.2)

    def f(x, y, xd, yd):
        r2 = x**2 + y**2
        cx = k * (w * (xd - x[:, None])).sum(1)
        cy = k * (w * (yd - y[:, None])).sum(1)
        return (a - r2) * x - omega * y + cx, (a - r2) * y + omega * x + cy

    x, y = hx[off].copy(), hy[off].copy()
    for step in range(steps):
        fx, fy = f(x, y, read(hx, step), read(hy, step))
        xp, yp = x + dt * fx, y + dt * fy
        hx[step + 1 + off], hy[step + 1 + off] = xp, yp  # corrector reads t_{n+1}
        gx, gy = f(xp, yp, read(hx, step + 1), read(hy, step + 1))
        x, y = x + dt / 2 * (fx + gx), y + dt / 2 * (fy + gy)
        hx[step + 1 + off], hy[step + 1 + off] = x, y
    np.testing.assert_allclose(np.asarray(sol["x"][-1]), x, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sol["y"][-1]), y, atol=1e-12)


@pytest.mark.slow
def test_zero_delays_are_instantaneous(x64):
    net, w, _ = _random_net(n=4, seed=2)
    inst = net.replace(delays=np.zeros_like(w))
    assert not inst.has_delays
    mixed_delays = np.where(np.eye(4, k=1) > 0, 0.0, 1.0)
    mixed = net.replace(weights=w + 0.1, delays=mixed_delays)
    nodelay = nm.Network(nm.models.Hopf(), w, coupling="diffusive", k=0.2)
    y0 = nodelay.node.initial_state(4, key=jax.random.key(3))  # differing regions
    s0 = nm.simulate(nodelay, t1=20.0, dt=0.05, y0=y0)
    s1 = nm.simulate(inst, t1=20.0, dt=0.05, y0=y0)
    np.testing.assert_allclose(s0["x"], s1["x"], atol=1e-12)
    # zero-delay edges among delayed ones run through the delayed loop
    assert mixed.has_delays and mixed.min_delay == 0.0  # zero-delay edges
    s2 = nm.simulate(mixed, t1=20.0, dt=0.05)
    assert np.all(np.isfinite(np.asarray(s2["x"])))


def test_zero_delay_edge_matches_instantaneous_reference(x64):
    # v0' = -v1(t) (zero delay), v1' = 0: v0 = 1 - t exactly.
    w = np.array([[0.0, -1.0], [1e-12, 0.0]])
    d = np.array([[0.0, 0.0], [0.5, 0.0]])
    net = nm.Network(Decay(), w, delays=d, coupling="linear")
    sol = nm.simulate(net, t1=2.0, dt=0.1, y0={"v": jnp.array([1.0, 1.0])})
    np.testing.assert_allclose(sol["v"][:, 0], 1.0 - sol.ts, atol=1e-9)


def test_delay_shorter_than_dt_refused():
    net = nm.Network(nm.models.Hopf(), np.ones((2, 2)), delays=np.full((2, 2), 0.05))
    with pytest.raises(ValueError, match="shorter than `dt`"):
        nm.simulate(net, t1=1.0, dt=0.1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver",
    [
        diffrax.Euler(),
        diffrax.Heun(),
        diffrax.Midpoint(),
        diffrax.Ralston(),
        diffrax.Bosh3(),
        diffrax.Tsit5(),
    ],
)
def test_every_explicit_rk_solver_on_delayed_network(x64, solver):
    tau = 0.3
    lam = _eigen_dde(tau)
    sol = nm.simulate(
        delay_network(tau),
        t1=2.0,
        dt=1 / 64,
        solver=solver,
        interpolation="cubic",
        history=lambda t: {"v": jnp.exp(lam * t)[None]},
    )
    tol = 5e-2 if isinstance(solver, diffrax.Euler) else 1e-4
    np.testing.assert_allclose(float(sol["v"][-1, 0]), np.exp(lam * 2.0), atol=tol)


def test_history_array_and_callable_agree(x64):
    tau, dt = 0.3, 0.01
    lam = _eigen_dde(tau)
    past_t = np.arange(-60, 1) * dt
    s1 = nm.simulate(
        delay_network(tau), t1=1.0, dt=dt, history={"v": np.exp(lam * past_t)[:, None]}
    )
    s2 = nm.simulate(
        delay_network(tau),
        t1=1.0,
        dt=dt,
        history=lambda t: {"v": jnp.exp(lam * t)[None]},
    )
    np.testing.assert_allclose(s1["v"], s2["v"], atol=1e-12)


# ----------------------------------------------------------------------- noise/SDE
def _ou_network(theta, sigma, delayed):
    if delayed:  # a delayed network whose coupling is negligible: OU per region
        w = np.full((3, 3), 1e-12)
        return nm.Network(
            Decay(gamma=theta),
            w,
            delays=np.full((3, 3), 1.0),
            noise=nm.noise.Additive(sigma),
        )
    return nm.Network(
        Decay(gamma=theta), np.zeros((3, 3)), noise=nm.noise.Additive(sigma)
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver, delayed",
    [
        (diffrax.Euler(), False),
        (diffrax.SRA1(), False),
        (diffrax.Euler(), True),
        (diffrax.EulerHeun(), True),
        (diffrax.Heun(), True),
        (diffrax.SRA1(), True),
    ],
)
def test_ornstein_uhlenbeck_stationary_moments(solver, delayed):
    theta, sigma, mu = 0.5, 0.4, 0.0
    net = _ou_network(theta, sigma, delayed)
    keys = jax.random.split(jax.random.key(7), 16)

    @eqx.filter_jit
    @eqx.filter_vmap(in_axes=(None, 0))
    def run(net, key):
        return nm.simulate(
            net,
            t1=220.0,
            dt=0.05,
            key=key,
            save_every=0.5,
            transient=20.0,
            solver=solver,
            y0={"v": 0.0},
        )["v"]

    v = np.asarray(run(net, keys))
    assert v.shape == (16, 401, 3)
    var = sigma**2 / (2 * theta)
    np.testing.assert_allclose(v.mean(), mu, atol=0.06)
    np.testing.assert_allclose(v.var(), var, rtol=0.12)


def test_noise_needs_key_and_key_is_deterministic():
    net = _random_net(n=3)[0].replace(noise=nm.noise.Additive(0.05))
    with pytest.raises(ValueError, match="random key"):
        nm.simulate(net, t1=5.0, dt=0.1)
    a = nm.simulate(net, t1=5.0, dt=0.1, key=jax.random.key(3))
    b = nm.simulate(net, t1=5.0, dt=0.1, key=jax.random.key(3))
    c = nm.simulate(net, t1=5.0, dt=0.1, key=jax.random.key(4))
    np.testing.assert_array_equal(a["x"], b["x"])
    assert not np.allclose(a["x"], c["x"])


# ------------------------------------------------------------- saving and batching
def test_save_every_and_transient_grid():
    net = _random_net(n=3)[0]
    sol = nm.simulate(net, t1=100.0, dt=0.1, save_every=2.0, transient=20.0)
    np.testing.assert_allclose(sol.ts, np.arange(20.0, 100.0 + 1e-9, 2.0), atol=1e-4)
    assert sol["x"].shape == (41, 3)
    full = nm.simulate(net, t1=100.0, dt=0.1)
    np.testing.assert_allclose(sol["x"], full["x"][200::20], atol=1e-6)
    assert sol.stats["saved_every"] == pytest.approx(2.0)
    assert int(sol.num_steps) == 1000


def test_ensemble_of_keys_and_initial_states():
    net = _random_net(n=4)[0].replace(noise=nm.noise.Additive(0.01))
    b = 3
    keys = jax.random.split(jax.random.key(0), b)
    y0 = {
        "x": jnp.linspace(-0.5, 0.5, b)[:, None] * jnp.ones((1, 4)),
        "y": jnp.zeros((b, 4)),
    }
    sols = eqx.filter_vmap(
        lambda key, y0: nm.simulate(net, t1=10.0, dt=0.1, key=key, y0=y0)
    )(keys, y0)
    assert sols["x"].shape == (b, 101, 4)
    np.testing.assert_allclose(sols["x"][:, 0], y0["x"], atol=1e-7)


def test_parameter_sweep_compiles_once():
    net = _random_net(n=4)[0]
    traces = []

    @eqx.filter_jit
    def mean_x(k):
        traces.append(1)
        s = nm.simulate(eqx.tree_at(lambda n: n.k, net, k), t1=10.0, dt=0.1)
        return s["x"].mean()

    sweep = eqx.filter_jit(eqx.filter_vmap(mean_x))
    out1 = sweep(jnp.linspace(0.0, 0.5, 8))
    out2 = sweep(jnp.linspace(0.5, 1.0, 8))
    assert out1.shape == out2.shape == (8,)
    assert len(traces) == 1
    # vmapped points equal single runs
    single = nm.simulate(
        eqx.tree_at(lambda n: n.k, net, jnp.asarray(0.5)), t1=10.0, dt=0.1
    )["x"].mean()
    np.testing.assert_allclose(out2[0], single, rtol=1e-5)


def test_jansen_rit_network_runs():
    n = 4
    rng = np.random.default_rng(0)
    net = nm.Network(
        nm.models.JansenRit(),
        rng.random((n, n)),
        lengths=rng.uniform(5, 50, (n, n)),
        speed=5.0,
        coupling=nm.coupling.SigmoidalJansenRit(),
        k=1.0,
    )
    sol = nm.simulate(net, t1=200.0, dt=0.1, save_every=1.0)
    v = np.asarray(sol["y1"] - sol["y2"])
    assert np.all(np.isfinite(v)) and v.std() > 0.1


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver, noisy",
    [
        (diffrax.Euler(), False),
        (diffrax.Midpoint(), False),
        (diffrax.Tsit5(), False),
        (nm.RK4(), False),
        (diffrax.Heun(), True),
        (diffrax.Ralston(), True),
    ],
)
def test_unrolled_tableau_equals_diffrax_step(x64, solver, noisy):
    net = _random_net(n=4, seed=5)[0]
    kw = dict(t1=5.0, dt=0.1, solver=solver)
    if noisy:
        kw.update(noise=nm.noise.Additive(0.05), key=jax.random.key(1))
    fast = nm.simulate(net, **kw)
    ref = nm.simulate(net, **kw, stepper=nm.SolverStepper())
    np.testing.assert_allclose(fast["x"], ref["x"], rtol=1e-12, atol=1e-12)


class _GenericDiffusive(nm.coupling.AbstractCoupling):
    """Diffusive coupling written without the linear-coupling marker, so the loop
    takes its general per-edge path."""

    def pre(self, x_j, x_i):
        return x_j - x_i

    def post(self, gx):
        return gx


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver, interp",
    [
        (diffrax.Heun(), "linear"),
        (diffrax.Heun(), "nearest"),
        (diffrax.Midpoint(), "linear"),
        (diffrax.Tsit5(), "linear"),
    ],
)
def test_linear_coupling_fast_path_matches_general_path(x64, solver, interp):
    net = _random_net(n=5, seed=4)[0]
    generic = net.replace(coupling=_GenericDiffusive())
    kw = dict(t1=30.0, dt=0.1, solver=solver, interpolation=interp)
    np.testing.assert_allclose(
        nm.simulate(net, **kw)["x"], nm.simulate(generic, **kw)["x"], atol=1e-12
    )


@pytest.mark.slow
def test_symmetric_start_warns():
    """A deterministic network whose regions all start in the default state and
    whose coupling cannot tell them apart warns (every region would follow the
    same trajectory); anything that breaks the symmetry silences it."""
    conn = nm.datasets.load_connectome()
    quiet = nm.Network(nm.models.Hopf(), conn.weights, k=0.0)
    with pytest.warns(nm.SymmetricStartWarning, match="same trajectory"):
        nm.simulate(quiet, t1=1.0, dt=0.1)
    diffusive = nm.Network(nm.models.Hopf(), conn.weights, k=0.3, coupling="diffusive")
    with pytest.warns(nm.SymmetricStartWarning):
        nm.simulate(diffusive, t1=1.0, dt=0.1)
    # symmetry broken: differing states, noise, delays, unequal in-strengths
    key = jax.random.key(0)
    y0 = quiet.node.initial_state(quiet.n_regions, key=key)
    nm.simulate(quiet, t1=1.0, dt=0.1, y0=y0)
    nm.simulate(quiet.replace(noise=nm.noise.Additive(0.01)), t1=1.0, dt=0.1, key=key)
    delayed = diffusive.replace(lengths=conn.lengths, speed=10.0)
    nm.simulate(delayed, t1=1.0, dt=0.1)
    nm.simulate(diffusive.replace(coupling="linear"), t1=1.0, dt=0.1)
