"""Optimal control (`neuromass.control`): checked against the finite-horizon LQR
solution (Riccati ODE, SciPy), central finite differences, the KKT conditions of
the L1 problem, and the switching of a bistable Wilson-Cowan node."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.integrate import solve_ivp

import neuromass as nm


C = nm.control


# ------------------------------------------------------------------ (a) the LQR
def _riccati(A, B, Q, R, F, T, x0):
    """The continuous finite-horizon LQR solution: P(t) from the Riccati ODE
    -P' = A'P + PA - P B R^-1 B' P + Q, P(T) = F (backwards), the closed loop
    x' = (A - B R^-1 B' P) x, and u*(t) = -R^-1 B' P(t) x(t)."""
    n = A.shape[0]
    Ri = np.linalg.inv(R)

    def ric(t, p):
        P = p.reshape(n, n)
        return -(A.T @ P + P @ A - P @ B @ Ri @ B.T @ P + Q).ravel()

    tol = dict(method="DOP853", rtol=1e-12, atol=1e-12, dense_output=True)
    back = solve_ivp(ric, (T, 0.0), F.ravel(), **tol)

    def P(t):
        return back.sol(t).reshape(n, n)

    loop = solve_ivp(lambda t, x: (A - B @ Ri @ B.T @ P(t)) @ x, (0, T), x0, **tol)

    def u(t):
        return -Ri @ B.T @ P(t) @ loop.sol(t)

    return P, loop.sol, u


@pytest.mark.slow
@pytest.mark.usefixtures("x64")
def test_linear_network_matches_the_riccati_solution():
    # dx = (gamma I + k W) x + u on two coupled linear nodes; J = 1/2 int |x|^2 +
    # r |u|^2 dt + F/2 |x(T)|^2
    W = np.array([[0.0, 0.5], [0.3, 0.0]])
    gamma, k, r, F, T, dt = -1.0, 1.0, 0.5, 1.0, 2.0, 0.005
    x0 = np.array([1.0, -0.5])
    A = gamma * np.eye(2) + k * W
    P, x_star, u_star = _riccati(
        A, np.eye(2), np.eye(2), r * np.eye(2), F * np.eye(2), T, x0
    )
    net = nm.Network(
        nm.models.Linear(gamma=gamma), jnp.asarray(W), coupling="linear", k=k
    )
    n = round(T / dt) + 1
    cost = (
        C.TargetTrajectory(jnp.zeros((n, 2)), variable="x")
        + C.Precision(lambda s: 0.5 * F * jnp.sum(s["x"][-1] ** 2), name="final")
        + r * C.Energy()
    )
    sim = dict(
        t1=T, dt=dt, save_every=dt, y0={"x": jnp.asarray(x0)}, solver=diffrax.Heun()
    )
    stim, trace = C.optimal_control(
        net,
        cost,
        C.ControlGrid(spacing=dt),
        optimizer=optax.lbfgs(),
        steps=35,
        progress=False,
        **sim,
    )
    assert trace.grad_norm[-1] < 1e-9 * trace.grad_norm[0]  # converged
    ts = np.asarray(stim.times)
    u = np.asarray(stim.samples[:, :, 0])
    u_ref = np.stack([u_star(t) for t in ts])
    scale = np.abs(u_ref).max()
    # The end samples act on half a step only: they are O(dt) off (the first one
    # approximates u*(dt); measured 7.5e-3 and 1.3e-4); every other sample is
    # O(dt^2) off (measured 2.7e-5).
    assert np.abs(u - u_ref)[[0, -1]].max() / scale < 2 * dt
    assert np.abs(u - u_ref)[1:-1].max() / scale < 1e-4
    c = np.full(n, dt)
    c[[0, -1]] = dt / 2
    l2 = np.sqrt(np.sum(c[:, None] * (u - u_ref) ** 2) / np.sum(c[:, None] * u_ref**2))
    assert l2 < 1e-3
    x = np.asarray(nm.simulate(net, stimulus=stim, **sim)["x"])
    assert np.abs(x - x_star(ts).T).max() / np.abs(x0).max() < 1e-4
    j_star = 0.5 * x0 @ P(0.0) @ x0
    assert abs(trace.best_cost / j_star - 1) < 1e-4


# ---------------------------------------------------------- (b) finite differences
def _delayed_hopf(noise=None):
    w = jnp.array([[0.0, 1.0, 0.5], [0.8, 0.0, 0.0], [0.3, 0.6, 0.0]])
    lengths = jnp.array([[0.0, 12.0, 20.0], [12.0, 0.0, 7.0], [20.0, 7.0, 0.0]])
    return nm.Network(
        nm.models.Hopf(a=-0.05, omega=0.3),
        w,
        lengths=lengths,
        speed=5.0,
        coupling="diffusive",
        k=0.3,
        noise=noise,
    )


@pytest.mark.slow
@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("case", ["delayed, noisy", "no delays"])
def test_gradient_matches_central_differences(case):
    if case == "no delays":
        net = nm.Network(
            nm.models.Hopf(a=-0.05, omega=0.3),
            jnp.ones((3, 3)) / 3,
            coupling="diffusive",
            k=0.3,
        )
        key = None
    else:
        net = _delayed_hopf(nm.noise.Additive(0.02))
        key = jax.random.key(3)
    t1, dt = 60.0, 0.1
    target = {"x": 0.2 * jnp.sin(0.2 * jnp.arange(61.0))[:, None] * jnp.ones((1, 3))}
    cost = (
        C.TargetTrajectory(target)
        + C.TargetFC(jnp.eye(3), variable="y", weight=0.5)
        + 0.01 * C.Energy()
    )
    grid = C.ControlGrid(
        spacing=2.0,
        variables=("x", "y"),
        mask=np.array([[True, False], [True, True], [False, True]]),
    )
    problem = C.ControlProblem(
        net, cost, grid, key=key, t1=t1, dt=dt, save_every=1.0, y0={"x": 0.1, "y": 0.0}
    )
    rng = np.random.default_rng(0)
    u = jnp.asarray(0.1 * rng.normal(size=problem.initial.shape))
    value = jax.jit(lambda v: problem.value(v))
    grad = jax.jit(jax.grad(lambda v: problem.value(v)))(u)
    mask = np.asarray(problem.layout.mask)
    assert np.all(np.asarray(grad)[:, ~mask] == 0)  # no gradient off the mask
    eps = 1e-5
    for _ in range(3):
        d = jnp.asarray(rng.normal(size=u.shape) * mask)
        fd = (value(u + eps * d) - value(u - eps * d)) / (2 * eps)
        ad = jnp.vdot(grad, d)
        assert abs(float(ad) - float(fd)) <= 1e-6 * abs(float(fd)) + 1e-10


# ----------------------------------------------------- (c) a bistable WC node
@pytest.mark.slow
def test_switches_a_bistable_wilson_cowan_node_up():
    node = nm.models.WilsonCowan()  # TVB's defaults: rest E = 0, and E ~ 0.46
    up = nm.simulate(node, t1=300.0, dt=0.1, save_every=1.0, y0={"E": 0.6, "I": 0.2})
    e_up = float(up["E"][-1, 0])
    assert 0.4 < e_up < 0.5
    sim = dict(t1=100.0, dt=0.1, save_every=1.0, y0={"E": 0.0, "I": 0.0})
    target = jnp.full((101, 1), jnp.nan).at[60:].set(e_up)  # up from 60 ms on
    stim, trace = C.optimal_control(
        node,
        C.TargetTrajectory(target, variable="E") + 1e-3 * C.Energy(),
        C.ControlGrid(spacing=1.0, variables="E"),
        optimizer=optax.adam(1e-2),
        steps=40,
        progress=False,
        **sim,
    )
    assert trace.reduction > 100
    controlled = nm.simulate(node, stimulus=stim, **sim)
    free = nm.simulate(node, **sim)
    assert float(jnp.max(free["E"])) == 0.0  # no control: it stays down
    # after the control ends the node stays up by itself
    after = nm.simulate(node, t1=200.0, dt=0.1, save_every=1.0, y0=controlled.y_final)
    assert abs(float(after["E"][-1, 0]) - e_up) < 1e-3


# ---------------------------------------------------- sparsity, bounds and mask
def test_soft_threshold_and_projection_transforms():
    p = jnp.array([1.0, 0.02, -0.5, -0.01])
    tx = optax.chain(optax.sgd(0.1), C.soft_threshold(0.05))
    updates, _ = tx.update(jnp.array([0.0, 0.0, 1.0, 0.0]), tx.init(p), p)
    np.testing.assert_allclose(optax.apply_updates(p, updates), [0.95, 0.0, -0.55, 0])
    tx = optax.chain(
        optax.sgd(1.0), C.project_box(-1.0, 0.4, jnp.array([1, 1, 1, 0]) > 0)
    )
    updates, _ = tx.update(jnp.array([2.5, -0.3, -1.0, 1.0]), tx.init(p), p)
    np.testing.assert_allclose(optax.apply_updates(p, updates), [-1.0, 0.32, 0.4, 0.0])
    with pytest.raises(ValueError, match="params"):
        C.soft_threshold(0.1).update(p, optax.EmptyState())


@pytest.mark.slow
@pytest.mark.usefixtures("x64")
def test_sparse_control_satisfies_the_l1_optimality_conditions():
    # A convex problem (linear node, quadratic precision and energy, L1 sparsity):
    # at the minimum, g_k + w1 c_k sign(u_k) = 0 where u_k != 0 and |g_k| <= w1 c_k
    # where u_k = 0 (g: gradient of the smooth part, c: trapezoid weights).
    net = nm.Network(
        nm.models.Linear(gamma=-0.5),
        jnp.array([[0.0, 0.4], [0.4, 0.0]]),
        coupling="linear",
        k=1.0,
    )
    t1, dt, h = 10.0, 0.1, 0.5
    target = jnp.stack([jnp.sin(jnp.linspace(0, 3, 101)), jnp.zeros(101)], 1)
    w1 = 0.05
    cost = (
        C.TargetTrajectory(target, variable="x") + 0.1 * C.Energy() + w1 * C.Sparsity()
    )
    eta = 0.2  # below 2 / L (0.25 diverges): ISTA, converging linearly
    stim, trace = C.optimal_control(
        net,
        cost,
        C.ControlGrid(spacing=h),
        optimizer=optax.sgd(eta),
        prox_step=eta,
        steps=800,
        progress=False,
        t1=t1,
        dt=dt,
        save_every=dt,
        y0={"x": 0.0},
    )
    u = np.asarray(stim.samples)
    assert 0.1 < np.mean(u == 0.0) < 0.9  # exact zeros, and not all of them
    problem = C.ControlProblem(
        net, cost, C.ControlGrid(spacing=h), t1=t1, dt=dt, save_every=dt, y0={"x": 0.0}
    )
    g = np.asarray(jax.grad(lambda v: problem.smooth(v)[0])(jnp.asarray(u)))
    c = np.full(u.shape[0], h)
    c[[0, -1]] = h / 2
    lam = (w1 * c)[:, None, None] * np.ones_like(u)
    on = u != 0
    np.testing.assert_allclose(g[on], -lam[on] * np.sign(u[on]), atol=1e-4)  # 7e-6
    assert np.all(np.abs(g[~on]) <= lam[~on] - 1e-3)  # strictly inside (by 3.5e-3)
    # the whole cost (with the L1 term) fell, and a larger weight silences it
    assert trace.best_cost < trace.cost[0]
    loud = C.TargetTrajectory(target, variable="x") + 1e3 * C.Sparsity()
    stim, _ = C.optimal_control(
        net,
        loud,
        C.ControlGrid(spacing=h),
        optimizer=optax.sgd(eta),
        prox_step=eta,
        steps=5,
        progress=False,
        t1=t1,
        dt=dt,
        save_every=dt,
        y0={"x": 0.0},
    )
    assert np.all(np.asarray(stim.samples) == 0.0)


@pytest.mark.slow
def test_bounds_and_mask_hold_at_every_step():
    net = _delayed_hopf()
    mask = np.array([True, False, True])
    seen = []
    stim, trace = C.optimal_control(
        net,
        C.TargetTrajectory({"x": jnp.full((41, 3), 0.5)}),
        C.ControlGrid(spacing=1.0, variables="x", mask=mask, lower=-0.05, upper=0.05),
        optimizer=optax.adam(0.05),
        steps=6,
        progress=False,
        callback=lambda s, st, c: seen.append(np.asarray(st.samples)),
        t1=40.0,
        dt=0.1,
        save_every=1.0,
    )
    assert len(seen) == 6 and trace.steps == 6
    for u in seen + [np.asarray(trace.last_stimulus.samples)]:
        assert np.all(u[:, ~mask] == 0.0)
        assert np.all(np.abs(u) <= 0.05 + 1e-7)
    assert np.isclose(np.asarray(stim.samples)[:, mask].max(), 0.05)  # saturates
    assert stim.variables == ("x",) and stim.samples.shape == (41, 3, 1)


@pytest.mark.slow
def test_noise_averaged_over_keys_and_resampled():
    net = _delayed_hopf(nm.noise.Additive(0.05))
    keys = jax.random.split(jax.random.key(0), 3)
    cost = C.TargetTrajectory({"x": jnp.zeros((31, 3))})
    sim = dict(t1=30.0, dt=0.1, save_every=1.0)
    grid = C.ControlGrid(spacing=1.0, variables="x")
    averaged = C.ControlProblem(net, cost, grid, key=keys, **sim)
    u = 0.1 * jnp.ones(averaged.initial.shape)
    singles = [C.ControlProblem(net, cost, grid, key=k, **sim).value(u) for k in keys]
    np.testing.assert_allclose(averaged.value(u), np.mean(singles), rtol=1e-6)
    assert np.std(singles) > 0  # the realisations differ
    _, trace = C.optimal_control(
        net,
        cost,
        grid,
        optimizer=optax.adam(1e-2),
        steps=3,
        key=keys,
        resample=True,
        progress=False,
        **sim,
    )
    assert np.all(np.isfinite(trace.cost)) and not trace.skipped.any()


@pytest.mark.slow
def test_background_stimulus_is_added():
    net = _delayed_hopf()
    sim = dict(t1=20.0, dt=0.1, save_every=1.0)
    push = nm.stimuli.RegionStimulus(
        jnp.array([1.0, 0.0, 0.0]), nm.equations.Linear(a=0.0, b=0.3), variables="x"
    )
    cost = C.TargetTrajectory({"x": jnp.zeros((21, 3))})
    grid = C.ControlGrid(spacing=1.0, variables="x")
    bare = C.ControlProblem(net, cost, grid, **sim)
    pushed = C.ControlProblem(net, cost, grid, background=push, **sim)
    x = pushed.simulate(pushed.initial)["x"]
    np.testing.assert_allclose(x, nm.simulate(net, stimulus=push, **sim)["x"])
    assert pushed.value(pushed.initial) > bare.value(bare.initial)


def test_cost_algebra():
    cost = C.TargetFC(jnp.eye(3), "x") + 0.5 * C.Energy(2.0) + C.Sparsity() * 3
    assert cost.names == ("fc", "energy", "sparsity")
    assert float(cost.energy.weight) == 1.0 and float(cost.sparsity.weight) == 3.0
    assert sum([C.Energy(), C.TargetFC(jnp.eye(3), "x")]).names == ("energy", "fc")
    with pytest.raises(ValueError, match="named 'energy'"):
        C.Energy() + C.Precision(lambda s: 0.0, name="energy")
    with pytest.raises(ValueError, match="two `Sparsity`"):
        C.Sparsity() + C.Sparsity(name="s2")
    with pytest.raises(ValueError, match="finite number >= 0"):
        C.Energy(-1.0)


# ------------------------------------------------------------------ bad input
def _problem(**changes):
    args = dict(
        model=_delayed_hopf(),
        cost=C.TargetTrajectory({"x": jnp.zeros((21, 3))}),
        control=C.ControlGrid(spacing=1.0, variables="x"),
        t1=20.0,
        dt=0.1,
        save_every=1.0,
    )
    args.update(changes)
    return C.ControlProblem(
        args.pop("model"), args.pop("cost"), args.pop("control"), **args
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: _problem(control=C.ControlGrid(spacing=0.05)),
            r"spacing=0.05\)` is finer than the simulation's `dt` \(0.1 ms\).*"
            r"spacing >= dt",
        ),
        (
            lambda: _problem(control=C.ControlGrid(spacing=3.0)),
            r"spacing=3\)` does not divide the simulated interval",
        ),
        (lambda: C.ControlGrid(spacing=1.0, lower=1.0, upper=0.5), r"lower > upper"),
        (
            lambda: C.ControlGrid(spacing=1.0, lower=jnp.array([0.0, 2.0]), upper=1.0),
            r"lower > upper at index \(1,\)",
        ),
        (
            lambda: _problem(control=C.ControlGrid(spacing=1.0, mask=np.ones(4, bool))),
            r"`ControlGrid\(mask=...\)` has shape \(4,\); expected \(3,\).*\(3, 2\) "
            r"\(regions x the controlled variables \('x', 'y'\)\)",
        ),
        (
            lambda: C.ControlGrid(spacing=1.0, mask=np.ones(3)),
            r"mask=...\)` must be booleans",
        ),
        (
            lambda: _problem(cost=C.TargetTrajectory({"x": jnp.zeros((20, 3))})),
            r"target of 'x' has shape \(20, 3\), but the simulation saves 'x' with "
            r"shape \(21, 3\)",
        ),
        (
            lambda: _problem(cost=C.TargetFC(jnp.eye(4), "x")),
            r"`TargetFC\(target=...\)` has shape \(4, 4\), but the network has 3",
        ),
        (
            lambda: _problem(cost=C.TargetTrajectory({"z": jnp.zeros((21, 3))})),
            r"names 'z', which the simulation does not save",
        ),
        (
            lambda: _problem(control=C.ControlGrid(spacing=1.0, variables="v")),
            r"names 'v', which Hopf does not have",
        ),
        (
            lambda: _problem(stimulus=None),
            r"`stimulus=` is not a simulation.*"
            r"background=",
        ),
        (
            lambda: C.ControlProblem(
                _delayed_hopf(), C.Energy(), C.ControlGrid(spacing=1.0), dt=0.1
            ),
            r"Give the simulation's `t1=`",
        ),
        (
            lambda: _problem(control=C.ControlGrid(spacing=1.0, upper=np.ones(4))),
            r"`ControlGrid\(upper=...\)` has shape \(4,\), which does not broadcast",
        ),
        (
            lambda: C.optimal_control(
                _delayed_hopf(),
                C.Energy() + C.Sparsity(),
                C.ControlGrid(spacing=1.0),
                optimizer=optax.adam(0.1),
                steps=1,
                t1=20.0,
                dt=0.1,
            ),
            r"pass `prox_step=`",
        ),
        (
            lambda: C.optimal_control(
                _delayed_hopf(),
                C.Energy(),
                C.ControlGrid(spacing=1.0),
                optimizer=optax.adam(0.1),
                steps=1,
                resample=True,
                t1=20.0,
                dt=0.1,
            ),
            r"`resample=True`.*needs `key=`",
        ),
        (
            lambda: C.TargetTrajectory(jnp.zeros((21, 3))),
            r"give the variable it targets",
        ),
    ],
)
def test_bad_input_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_noise_without_a_key_is_a_clear_error():
    with pytest.raises(ValueError, match="needs a random key"):
        _problem(model=_delayed_hopf(nm.noise.Additive(0.01)))
