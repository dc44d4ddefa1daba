"""Tests of `nm.fit`: toy problems with known minima, constraints, the NaN policy,
compilation, errors, and parameter recovery on small Hopf networks."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
import pytest

import neuromass as nm
from neuromass._fit import AbstractConstraint, Bounded, FitTrace, Positive, fit


class Toy(eqx.Module):
    a: jax.Array
    b: jax.Array
    c: jax.Array
    n: jax.Array
    label: str = eqx.field(static=True, default="toy")


B_STAR = np.array([-1.0, 4.0, 0.5])


def quadratic(m):
    return (m.a - 1.5) ** 2 + jnp.sum((m.b - B_STAR) ** 2) + 0.0 * jnp.sum(m.c)


def make_toy():
    # `jnp.full` gives a weakly typed array: the step must still compile only once.
    return Toy(
        a=jnp.asarray(0.0),
        b=jnp.full(3, 0.25),
        c=jnp.arange(3.0),
        n=jnp.arange(3),
    )


# ------------------------------------------------------------------------- toys
def test_quadratic_known_minimum_and_trace():
    toy = make_toy()
    fitted, trace = fit(
        toy,
        quadratic,
        params=lambda m: (m.a, m.b),
        optimizer=optax.adam(0.1),
        steps=300,
        progress=False,
    )
    assert isinstance(trace, FitTrace)
    np.testing.assert_allclose(fitted.a, 1.5, atol=1e-3)
    np.testing.assert_allclose(fitted.b, B_STAR, atol=1e-3)
    # Frozen leaves are untouched (and the same objects).
    assert fitted.c is toy.c and fitted.n is toy.n and fitted.label == "toy"
    # Trace layout: model-shaped, None at frozen leaves, leading step axis.
    assert trace.loss.shape == (300,) and trace.steps == 300
    assert trace.params.a.shape == (300,) and trace.params.b.shape == (300, 3)
    assert trace.params.c is None and trace.params.n is None
    np.testing.assert_allclose(trace.params.a[0], 0.0)
    np.testing.assert_allclose(trace.loss[0], float(quadratic(toy)), rtol=1e-6)
    # loss[s] is the loss of the parameters recorded at step s.
    for s in (0, 17, 299):
        np.testing.assert_allclose(
            trace.loss[s], float(quadratic(trace.model_at(s))), rtol=1e-5
        )
    # The returned model is the best one, not the last.
    assert trace.best_step == int(np.argmin(trace.loss))
    assert trace.best_loss == trace.loss.min()
    np.testing.assert_array_equal(fitted.a, trace.params.a[trace.best_step])
    np.testing.assert_array_equal(fitted.b, trace.params.b[trace.best_step])
    assert trace.n_skipped == 0 and not trace.skipped.any()
    assert isinstance(trace.last_model, Toy)


def test_first_steps_are_plain_adam():
    """The first update equals one hand-written Adam step (lr * sign(grad))."""
    toy = make_toy()
    _, trace = fit(
        toy,
        quadratic,
        params=lambda m: m.a,
        optimizer=optax.adam(0.1),
        steps=2,
        progress=False,
    )
    # Adam's first step is -lr * g / (|g| + eps) = -lr * sign(g); g = 2 (0 - 1.5) < 0.
    np.testing.assert_allclose(trace.params.a, [0.0, 0.1], atol=1e-6)


def test_step_is_traced_once():
    count = []

    def loss(m):
        count.append(1)
        return quadratic(m)

    fit(
        make_toy(),
        loss,
        params=lambda m: (m.a, m.b),
        constraints={lambda m: m.a: Bounded(-2.0, 2.0)},
        optimizer=optax.adam(0.05),
        steps=12,
        progress=False,
    )
    assert len(count) == 1


def test_filter_spec_and_subtree_selection():
    toy = make_toy()
    spec = jtu.tree_map(lambda _: False, toy)
    spec = eqx.tree_at(lambda m: (m.a, m.b), spec, (True, True))
    fitted, trace = fit(
        toy,
        quadratic,
        params=spec,
        optimizer=optax.adam(0.1),
        steps=200,
        progress=False,
    )
    np.testing.assert_allclose(fitted.a, 1.5, atol=1e-2)
    assert fitted.c is toy.c
    # `True` for the whole model trains every float array (not the integer `n`).
    fitted, trace = fit(
        toy, quadratic, params=True, optimizer=optax.sgd(0.1), steps=3, progress=False
    )
    assert trace.params.c.shape == (3, 3) and trace.params.n is None
    assert fitted.n is toy.n
    # A selector returning a sub-module selects its float arrays.
    outer = (toy, jnp.asarray(2.0))
    _, trace = fit(
        outer,
        lambda t: quadratic(t[0]) + t[1] ** 2,
        params=lambda t: t[0],
        optimizer=optax.sgd(0.1),
        steps=2,
        progress=False,
    )
    assert trace.params[1] is None and trace.params[0].n is None
    assert trace.params[0].b.shape == (2, 3)


def test_python_float_leaf_is_trained():
    _, trace = fit(
        {"w": 3.0},
        lambda p: (p["w"] - 1.0) ** 2,
        params=lambda p: p["w"],
        optimizer=optax.sgd(0.25),
        steps=3,
        progress=False,
    )
    # Plain gradient descent: w <- w - 0.25 * 2 (w - 1) halves the distance to 1.
    np.testing.assert_allclose(trace.params["w"], [3.0, 2.0, 1.5])


def test_lbfgs_gets_value_fn():
    toy = make_toy()
    fitted, trace = fit(
        toy,
        quadratic,
        params=lambda m: (m.a, m.b),
        optimizer=optax.lbfgs(),
        steps=10,
        progress=False,
    )
    assert trace.best_loss < 1e-8
    np.testing.assert_allclose(fitted.b, B_STAR, atol=1e-4)


# ------------------------------------------------------------------ constraints
@pytest.mark.parametrize(
    "constraint, x",
    [
        (Positive(), np.array([1e-6, 0.3, 1.0, 40.0])),
        (Bounded(-0.5, 0.5), np.array([-0.49, -0.1, 0.0, 0.45])),
        (Bounded(np.array([0.0, 1.0]), np.array([1.0, 5.0])), np.array([0.1, 4.9])),
    ],
)
def test_constraint_round_trip(constraint, x):
    x = jnp.asarray(x, dtype=jnp.float32)
    np.testing.assert_allclose(constraint.forward(constraint.inverse(x)), x, rtol=2e-5)
    u = jnp.linspace(-60.0, 60.0, 101)
    if x.shape == (4,):  # a scalar constraint, applied to every entry
        v = np.asarray(constraint.forward(u))
    else:  # per-entry bounds, applied to each row of entries
        v = np.asarray(jax.vmap(constraint.forward)(jnp.repeat(u[:, None], 2, axis=1)))
    if isinstance(constraint, Positive):
        assert np.all(v >= 0) and np.all(np.diff(v) >= 0)
    else:
        assert np.all(v >= np.asarray(constraint.low))
        assert np.all(v <= np.asarray(constraint.high))


def test_bounded_reaches_bound_optimum_and_stays_in_range():
    toy = make_toy()
    # Optimum of `a` at 1.5 lies outside [-1, 1]; the b optimum is partly outside
    # per-component bounds [0, 1] x [0, 5] x [0, 1]: expected (0, 4, 0.5).
    low, high = jnp.zeros(3), jnp.array([1.0, 5.0, 1.0])
    fitted, trace = fit(
        toy,
        quadratic,
        params=lambda m: (m.a, m.b),
        constraints={
            lambda m: m.a: Bounded(-1.0, 1.0),
            lambda m: m.b: Bounded(low, high),
        },
        optimizer=optax.adam(0.3),
        steps=300,
        progress=False,
    )
    assert np.all(np.abs(trace.params.a) <= 1.0)
    assert np.all((trace.params.b >= 0) & (trace.params.b <= np.asarray(high)))
    np.testing.assert_allclose(fitted.a, 1.0, atol=1e-2)
    np.testing.assert_allclose(fitted.b, [0.0, 4.0, 0.5], atol=1e-2)


def test_constraints_hold_with_huge_steps():
    """Reparametrisation keeps every step valid even when plain SGD would jump far
    outside the allowed range."""
    toy = Toy(a=jnp.asarray(0.5), b=jnp.ones(3), c=jnp.zeros(3), n=jnp.arange(3))

    def loss(m):
        return 50.0 * m.a + jnp.sum((m.b + 3.0) ** 2)  # pushes a down, b negative

    _, trace = fit(
        toy,
        loss,
        params=lambda m: (m.a, m.b),
        constraints={lambda m: m.a: Positive(), lambda m: m.b: Bounded(0.5, 2.0)},
        optimizer=optax.sgd(10.0),
        steps=40,
        progress=False,
    )
    assert np.all(trace.params.a >= 0) and np.all(np.isfinite(trace.params.a))
    assert trace.params.a[-1] < 1e-3
    assert np.all((trace.params.b >= 0.5) & (trace.params.b <= 2.0))
    np.testing.assert_allclose(trace.params.b[-1], 0.5, atol=1e-3)


def test_custom_constraint():
    class Negative(AbstractConstraint):
        def forward(self, u):
            return -jnp.exp(u)

        def inverse(self, x):
            return jnp.log(-x)

        def violation(self, x):
            return None if np.all(x < 0) else "not negative"

    fitted, trace = fit(
        {"w": jnp.asarray(-2.0)},
        lambda p: (p["w"] - 1.0) ** 2,
        params=lambda p: p["w"],
        constraints={lambda p: p["w"]: Negative()},
        optimizer=optax.adam(0.2),
        steps=100,
        progress=False,
    )
    assert np.all(trace.params["w"] < 0)
    # The optimum w = 0 lies on the boundary: approached, never reached.
    assert -0.1 < float(fitted["w"]) < 0
    assert np.all(np.diff(trace.params["w"]) > 0)
    with pytest.raises(ValueError, match=r"model\['w'\].*not negative"):
        fit(
            {"w": jnp.asarray(2.0)},
            lambda p: p["w"] ** 2,
            params=lambda p: p["w"],
            constraints={lambda p: p["w"]: Negative()},
            optimizer=optax.adam(0.1),
            steps=1,
            progress=False,
        )


# --------------------------------------------------------------- NaN policy
def test_nonfinite_loss_or_gradient_steps_are_skipped():
    toy = make_toy()
    key = jax.random.key(3)
    p_bad = 0.2

    def loss(m, k):
        bad_value, bad_grad = jax.random.bernoulli(k, p_bad, (2,))
        value = jnp.where(bad_value, jnp.nan, quadratic(m))
        # Finite value but NaN gradient: the square root of a negative number is
        # masked out of the value, not out of the gradient (0 * NaN = NaN).
        x = jnp.where(bad_grad, -1.0 - m.a**2, 1.0)
        return value + jnp.where(bad_grad, 0.0, jnp.sqrt(x) - 1.0)

    # Independent prediction of which steps must be skipped.
    flags = np.array(
        [
            np.asarray(jax.random.bernoulli(jax.random.fold_in(key, s), p_bad, (2,)))
            for s in range(200)
        ]
    )
    expect = flags.any(axis=1)
    assert 30 < expect.sum() < 120 and (flags[:, 1] & ~flags[:, 0]).any()

    with pytest.warns(RuntimeWarning, match=rf"{expect.sum()} of 200 steps"):
        fitted, trace = fit(
            toy,
            loss,
            params=lambda m: (m.a, m.b),
            optimizer=optax.adam(0.1),
            steps=200,
            key=key,
            progress=False,
        )
    np.testing.assert_array_equal(trace.skipped, expect)
    assert trace.n_skipped == expect.sum()
    assert np.isnan(trace.loss[flags[:, 0]]).all()
    # No update on a skipped step; parameters never become NaN.
    skipped = np.flatnonzero(expect[:-1])
    np.testing.assert_array_equal(trace.params.a[skipped + 1], trace.params.a[skipped])
    assert np.isfinite(trace.params.b).all()
    assert not trace.skipped[trace.best_step]
    assert trace.best_loss < 1e-3 * float(quadratic(toy))
    np.testing.assert_allclose(fitted.a, 1.5, atol=2e-2)


def test_all_steps_nonfinite_returns_initial_model():
    toy = make_toy()
    with pytest.warns(RuntimeWarning, match="4 of 4 steps"):
        fitted, trace = fit(
            toy,
            lambda m: jnp.nan * m.a,
            params=lambda m: m.a,
            optimizer=optax.adam(0.1),
            steps=4,
            progress=False,
        )
    assert trace.best_step == -1 and np.isnan(trace.best_loss)
    np.testing.assert_array_equal(fitted.a, toy.a)
    np.testing.assert_array_equal(trace.last_model.a, toy.a)


# ------------------------------------------------------- keys, callback, progress
def test_stochastic_loss_gets_fold_in_keys():
    key = jax.random.key(11)

    def loss(m, k):
        return (m.a - jax.random.uniform(k)) ** 2

    _, trace = fit(
        make_toy(),
        loss,
        params=lambda m: m.a,
        optimizer=optax.sgd(0.1),
        steps=5,
        key=key,
        progress=False,
    )
    for s in range(5):
        target = float(jax.random.uniform(jax.random.fold_in(key, s)))
        np.testing.assert_allclose(
            trace.loss[s], (trace.params.a[s] - target) ** 2, rtol=1e-5
        )


def test_callback_and_early_stop():
    seen = []

    def callback(step, model, value):
        seen.append((step, float(quadratic(model)), value))
        return step == 6

    _, trace = fit(
        make_toy(),
        quadratic,
        params=lambda m: m.b,
        optimizer=optax.adam(0.1),
        steps=50,
        callback=callback,
        progress=False,
    )
    assert [s for s, _, _ in seen] == list(range(7))
    assert trace.steps == 7
    for s, recomputed, value in seen:
        np.testing.assert_allclose(recomputed, value, rtol=1e-6)
        assert value == trace.loss[s]


def test_progress_bar(capsys):
    fit(
        make_toy(),
        quadratic,
        params=lambda m: m.a,
        optimizer=optax.adam(0.1),
        steps=3,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "fit" in err and "best=" in err


# --------------------------------------------------------------------- errors
def _fit(**kw):
    args = dict(
        model=make_toy(),
        loss=quadratic,
        params=lambda m: m.a,
        optimizer=optax.adam(0.1),
        steps=2,
        progress=False,
    )
    args.update(kw)
    return fit(args.pop("model"), args.pop("loss"), **args)


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (dict(steps=0), ValueError, "`steps`"),
        (dict(steps=2.0), ValueError, "`steps`"),
        (dict(params=lambda m: ()), ValueError, "`params` selects no"),
        (dict(params=lambda m: m.n), ValueError, r"`params` selects `model.n`.*int"),
        (dict(params=lambda m: m.label), ValueError, "`params`"),
        (dict(params=lambda m: jnp.ones(2)), ValueError, "not part of the model"),
        (dict(params=eqx.is_inexact_array), ValueError, "`params`"),
        (dict(params=(True, False)), ValueError, "`params`.*structure"),
        (dict(optimizer=optax.adam), TypeError, "`optimizer`"),
        (dict(optimizer="adam"), TypeError, "`optimizer`"),
        (dict(loss=lambda m: m.b), ValueError, r"`loss`.*scalar.*\(3,\)"),
        (dict(loss=lambda m: jnp.sum(m.n)), ValueError, "`loss`.*floating"),
        (dict(loss=lambda m, k: quadratic(m)), ValueError, "`loss` takes a random"),
        (dict(key=jax.random.key(0)), ValueError, "`key` was given"),
        (dict(callback=3), TypeError, "`callback`"),
        (
            dict(constraints={lambda m: m.b: Positive()}),
            ValueError,
            "`model.b`, which is not trained",
        ),
        (
            dict(constraints={lambda m: m.a: Positive()}),
            ValueError,
            r"initial value of `model.a` violates.*Positive",
        ),
        (
            dict(
                params=lambda m: m.b,
                constraints={lambda m: m.b: Bounded(jnp.zeros(2), jnp.ones(2))},
            ),
            ValueError,
            r"cannot constrain `model.b` of shape \(3,\)",
        ),
        (
            dict(constraints={lambda m: m.a: Bounded(-jnp.ones(3), jnp.ones(3))}),
            ValueError,
            r"cannot constrain `model.a`.*gives shape \(3,\)",
        ),
        (
            dict(
                params=lambda m: (m.a, m.b),
                constraints={
                    lambda m: m.b: Positive(),
                    lambda m: (m.a, m.b): Bounded(-1, 1),
                },
            ),
            ValueError,
            "two constraints",
        ),
        (dict(constraints=[Positive()]), TypeError, "`constraints`"),
        (dict(constraints={lambda m: m.a: "positive"}), TypeError, "`constraints`"),
    ],
)
def test_errors(kw, error, match):
    with pytest.raises(error, match=match):
        _fit(**kw)


def test_bounded_arguments():
    with pytest.raises(ValueError, match="low` < `high"):
        Bounded(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        Bounded(0.0, np.inf)
    with pytest.raises(ValueError, match="broadcast"):
        Bounded(np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match=r"model.a.*strictly inside \[-1, 0\]"):
        _fit(constraints={lambda m: m.a: Bounded(-1.0, 0.0)})


# --------------------------------------------------------- parameter recovery
def _ring(n):
    rng = np.random.default_rng(0)
    w = rng.uniform(0.3, 1.0, (n, n))
    lengths = rng.uniform(5.0, 30.0, (n, n))
    return (w + w.T) / 2, (lengths + lengths.T) / 2


def _fit_coupling(start, fc_of, target, optimizer, steps):
    """Fit `k` of `start` (kept positive) so that `fc_of(model)` matches `target`;
    also checks that the loss was traced once."""
    count = []

    def loss(n):
        count.append(1)
        return nm.metrics.fc_mse(fc_of(n), target)

    fitted, trace = fit(
        start,
        loss,
        params=lambda n: n.k,
        constraints={lambda n: n.k: Positive()},
        optimizer=optimizer,
        steps=steps,
        progress=False,
    )
    assert len(count) == 1
    return fitted, trace


@pytest.mark.slow
def test_recover_global_coupling_of_delayed_hopf_from_fc():
    """FC of a noisy delayed Hopf network at k = 0.2 (fixed noise key): fitting k
    from 0.05 recovers 0.2, the only zero of the loss."""
    weights, lengths = _ring(5)
    k_true = 0.2
    net = nm.Network(
        nm.models.Hopf(a=-0.05, omega=0.3),
        weights,
        lengths=lengths,
        speed=10.0,
        coupling="diffusive",
        k=k_true,
        noise=nm.noise.Additive(0.05),
    )
    assert net.max_delay > 2.0
    key = jax.random.key(0)

    def fc_of(n):
        sol = nm.simulate(
            n,
            t1=300.0,
            dt=0.5,
            save_every=1.0,
            transient=50.0,
            key=key,
            solver=diffrax.Euler(),
        )
        return nm.metrics.fc(sol["x"])

    target = eqx.filter_jit(fc_of)(net)
    off_diagonal = np.asarray(nm.metrics.upper_triangle(target))
    assert 0.05 < off_diagonal.mean() < 0.9  # informative: neither 0 nor 1
    start = net.replace(k=0.05)
    fitted, trace = _fit_coupling(start, fc_of, target, optax.adam(0.1), 60)
    np.testing.assert_allclose(float(fitted.k), k_true, atol=0.01)
    assert trace.best_loss < 1e-3 * trace.loss[0]
    assert np.all(trace.params.k > 0)
    # Only k was trained: the connectome and the node are untouched.
    assert fitted.weights is start.weights and fitted.lengths is start.lengths
    assert fitted.node.a is start.node.a and fitted.edge_mask == start.edge_mask
    assert trace.params.weights is None and trace.params.node.a is None


@pytest.mark.slow
def test_recover_global_coupling_of_delayed_hopf_from_bold_fc():
    """FC of the BOLD signal (Balloon-Windkessel monitor, TR 0.5 s) of a noisy
    delayed Hopf network at k = 0.02 (fixed noise key): the gradient flows through
    the hemodynamics and the streamed FC, and fitting k from 0.01 recovers 0.02."""
    weights, lengths = _ring(5)
    k_true = 0.02
    # Slow nodes (4.8 Hz, 200 ms decay) so that dt = 5 ms resolves them: 20 s of
    # BOLD is 4000 steps. No transient (it would cost compilation time): the nodes
    # start at their fixed point and the hemodynamics at rest, their equilibrium.
    net = nm.Network(
        nm.models.Hopf(a=-0.005, omega=0.03),
        weights,
        lengths=4.0 * lengths,  # 20-120 mm
        speed=3.0,  # mm/ms: delays of 7-40 ms
        coupling="diffusive",
        k=k_true,
        noise=nm.noise.Additive(0.02),
    )
    assert net.max_delay > 20.0
    key = jax.random.key(0)
    bold = nm.monitors.Bold("x", tr=500.0)

    def run(n, monitors):
        return nm.simulate(
            n,
            t1=20000.0,
            dt=5.0,
            y0={"x": 0.0, "y": 0.0},
            save_every=500.0,
            variables="x",
            key=key,
            solver=diffrax.Euler(),
            monitors=monitors + [nm.monitors.OnlineFC(source=bold, name="bold_fc")],
        )

    def bold_fc(n):
        return run(n, [])["bold_fc"]["fc"]

    sol = eqx.filter_jit(run)(net, [bold])
    samples, target = np.asarray(sol["bold"]), sol["bold_fc"]["fc"]
    assert samples.shape == (40, 5)
    # The streamed FC is the FC of the BOLD samples (two-pass reference).
    np.testing.assert_allclose(target, np.corrcoef(samples.T), atol=1e-4)
    start = net.replace(k=0.01)
    fitted, trace = _fit_coupling(start, bold_fc, target, optax.adam(0.1, b1=0.5), 30)
    assert trace.loss[0] > 0.03  # the start is far: the BOLD FC depends on k
    np.testing.assert_allclose(float(fitted.k), k_true, rtol=0.01)
    assert trace.best_loss < 1e-4 * trace.loss[0]
    assert trace.n_skipped == 0 and np.all(trace.params.k > 0)


@pytest.mark.slow
def test_recover_per_region_frequencies_from_spectra():
    """Three weakly coupled Hopf oscillators at 0.2, 0.3, 0.4 rad/ms: their spectral
    centroids identify each region's omega; the fit starts all at 0.3."""
    w = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    omega_true = np.array([0.2, 0.3, 0.4])
    net = nm.Network(
        nm.models.Hopf(a=0.1, omega=omega_true), w, coupling="diffusive", k=0.02
    )

    def centroid(n):
        sol = nm.simulate(
            n,
            t1=250.0,
            dt=0.5,
            save_every=1.0,
            transient=50.0,
            solver=diffrax.Euler(),
        )
        freqs, power = nm.metrics.psd(sol["x"], dt=1.0, nperseg=200)
        power = power / power.sum(axis=0, keepdims=True)
        return (freqs[:, None] * power).sum(axis=0)  # Hz

    target = eqx.filter_jit(centroid)(net)
    # Independent fact: the centroids sit near 1000 omega / 2 pi Hz.
    np.testing.assert_allclose(target, 1000 * omega_true / (2 * np.pi), rtol=0.05)

    def loss(n):
        return jnp.mean((centroid(n) - target) ** 2)

    start = net.replace(node=nm.models.Hopf(a=0.1, omega=np.full(3, 0.3)))
    fitted, trace = fit(
        start,
        loss,
        params=lambda n: n.node.omega,
        optimizer=optax.adam(optax.cosine_decay_schedule(0.03, 50)),
        steps=50,
        progress=False,
    )
    np.testing.assert_allclose(fitted.node.omega, omega_true, atol=0.01)
    assert trace.params.node.omega.shape == (50, 3)
    assert fitted.node.a is start.node.a and fitted.k is start.k
