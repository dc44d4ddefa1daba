"""Tests of the search modes of `nm.fit` (multi-start, CMA-ES, the hybrid), the
rugged-loss diagnostic, `nm.landscape`, `nm.ensemble_loss` and their plots.

Toy losses with known minima keep them fast; one tiny delayed Hopf network checks
that networks go through the sweep engine like any pytree."""

import os
import warnings
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neuromass as nm
from neuromass.sweeps import SequentialExecution


B_STAR = np.array([-1.0, 4.0, 0.5])


def quadratic(m):
    return (m["a"] - 1.5) ** 2 + jnp.sum((m["b"] - B_STAR) ** 2)


def toy():
    return {"a": jnp.asarray(0.0), "b": jnp.full(3, 0.25), "c": jnp.arange(2.0)}


CONS = {
    lambda m: m["a"]: nm.Bounded(-3.0, 3.0),
    lambda m: m["b"]: nm.Bounded(-5.0, 5.0),
}


def rastrigin(m):
    x = m["x"]
    return 10.0 * x.size + jnp.sum(x**2 - 10.0 * jnp.cos(2 * jnp.pi * x))


def washboard(m):
    """A parabola with ripples: the gradient is dominated by the ripples."""
    x = m["x"]
    return (x - 2.0) ** 2 + 0.05 * jnp.sin(60.0 * x)


def _single_from(start_a, start_b, steps=40, **kw):
    model = {"a": jnp.asarray(start_a), "b": jnp.asarray(start_b), "c": toy()["c"]}
    return nm.fit(
        model,
        quadratic,
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.1),
        steps=steps,
        progress=False,
        **kw,
    )


# ----------------------------------------------------------------- multi-start
@pytest.mark.slow
def test_multistart_equals_single_start_fits():
    """Every start follows the path a single-start fit from its starting point
    takes: same losses and parameters at every step (to float32 round-off: the
    vectorised scan and the per-step jit are compiled differently)."""
    fitted, trace = nm.fit(
        toy(),
        quadratic,
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.1),
        steps=40,
        starts=5,
        progress=False,
    )
    assert isinstance(trace, nm.MultiStartTrace)
    assert trace.loss.shape == (5, 40) and trace.n_starts == 5 and trace.steps == 40
    assert trace.params["b"].shape == (5, 40, 3) and trace.params["c"] is None
    assert trace.starts["a"].shape == (5,) and trace.last["b"].shape == (5, 3)
    assert list(trace.status) == ["ok"] * 5 and not trace.skipped.any()
    for i in range(5):
        single_fit, single = _single_from(trace.starts["a"][i], trace.starts["b"][i])
        np.testing.assert_allclose(single.loss, trace.loss[i], rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(
            single.params["b"], trace.params["b"][i], rtol=1e-5, atol=1e-6
        )
        per_start = trace.trace(i)
        assert isinstance(per_start, nm.FitTrace)
        assert per_start.best_step == single.best_step
        np.testing.assert_allclose(
            per_start.last_model["b"], single.last_model["b"], rtol=1e-5, atol=1e-6
        )
    # the best model is the best (start, step) of all
    i, s = np.unravel_index(np.argmin(trace.loss), trace.loss.shape)
    assert (trace.best_start, trace.best_step) == (i, s)
    np.testing.assert_array_equal(fitted["b"], trace.params["b"][i, s])
    assert fitted["c"] is not None and np.array_equal(fitted["c"], toy()["c"])
    m = trace.model_at(i, s)
    np.testing.assert_allclose(float(quadratic(m)), trace.best_loss, rtol=1e-5)


@pytest.mark.slow
def test_multistart_equals_single_start_in_x64(x64):
    """In double precision the two agree to 1e-12."""
    model = {"a": jnp.asarray(0.0), "b": jnp.full(3, 0.25), "c": jnp.arange(2.0)}
    # (A NumPy constant in a loss compiled by `eqx.filter_jit` first in float32
    # keeps that dtype when the same process later runs in x64: an Equinox cache.
    # The test's loss therefore holds a JAX array made in x64.)
    b_star = jnp.asarray(B_STAR)

    def quadratic64(m):
        return (m["a"] - 1.5) ** 2 + jnp.sum((m["b"] - b_star) ** 2)

    _, trace = nm.fit(
        model,
        quadratic64,
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.1),
        steps=25,
        starts=3,
        progress=False,
    )
    assert trace.loss.dtype == np.float64
    for i in range(3):
        start = {
            "a": jnp.asarray(trace.starts["a"][i]),
            "b": jnp.asarray(trace.starts["b"][i]),
            "c": model["c"],
        }
        _, single = nm.fit(
            start,
            quadratic64,
            params=lambda m: (m["a"], m["b"]),
            constraints=CONS,
            optimizer=optax.adam(0.1),
            steps=25,
            progress=False,
        )
        np.testing.assert_allclose(single.loss, trace.loss[i], rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_drawn_starts_are_a_latin_hypercube_inside_the_bounds():
    kw = dict(
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.sgd(0.0),
        steps=1,
        starts=8,
        progress=False,
    )
    _, t1 = nm.fit(toy(), quadratic, **kw)
    _, t2 = nm.fit(toy(), quadratic, **kw)
    _, t3 = nm.fit(toy(), quadratic, search_key=jax.random.key(7), **kw)
    a = t1.starts["a"]
    # one start in each eighth of [-3, 3]
    strata = np.floor((a + 3.0) / 6.0 * 8).astype(int)
    assert sorted(strata.tolist()) == list(range(8))
    b = t1.starts["b"]
    assert b.shape == (8, 3) and np.all(np.abs(b) < 5.0)
    for j in range(3):  # every element of a vector is stratified on its own
        assert sorted(np.floor((b[:, j] + 5) / 10 * 8).astype(int)) == list(range(8))
    np.testing.assert_array_equal(a, t2.starts["a"])  # reproducible
    assert not np.allclose(a, t3.starts["a"])  # another search key, other starts


def test_starts_from_a_space():
    space = nm.Space({"a": nm.GridAxis(-2.0, 2.0, 3)})
    _, trace = nm.fit(
        toy(),
        quadratic,
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.05),
        steps=3,
        starts=space,
        progress=False,
    )
    np.testing.assert_allclose(trace.starts["a"], [-2.0, 0.0, 2.0])
    # `b` is not in the space: every start begins at the model's value
    np.testing.assert_allclose(trace.starts["b"], np.full((3, 3), 0.25))
    np.testing.assert_allclose(trace.params["a"][:, 0], [-2.0, 0.0, 2.0], atol=1e-6)
    # a scalar axis value broadcasts over a vector parameter
    _, trace = nm.fit(
        toy(),
        quadratic,
        params=lambda m: m["b"],
        optimizer=optax.adam(0.05),
        steps=2,
        starts=nm.Space({"b": nm.DataAxis([1.0, 2.0])}),
        progress=False,
    )
    np.testing.assert_allclose(trace.starts["b"], [[1.0] * 3, [2.0] * 3])


@pytest.mark.slow
def test_multistart_resumes_from_its_store(tmp_path):
    """A chunked multi-start writes each finished chunk of starts; a rerun loads
    them (nothing is recompiled), and recomputes only a missing chunk, with the
    same bytes."""
    traced = []

    def loss(m):
        traced.append(1)
        return quadratic(m)

    kw = dict(
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.1),
        steps=20,
        starts=6,
        executor=nm.ParallelExecution(batch_size=2),
        lanes=2,
        progress=False,
    )
    store = tmp_path / "fit"
    _, first = nm.fit(toy(), loss, store=store, **kw)
    chunks = sorted(store.glob("chunk-*.npz"))
    assert len(chunks) == 3 and traced
    traced.clear()
    _, again = nm.fit(toy(), loss, store=store, **kw)
    assert not traced  # every chunk came from the store
    np.testing.assert_array_equal(again.loss, first.loss)
    chunks[1].unlink()  # as if the run had been killed before chunk 1 finished
    _, resumed = nm.fit(toy(), loss, store=store, **kw)
    assert traced  # the missing starts were computed again
    np.testing.assert_array_equal(resumed.loss, first.loss)
    np.testing.assert_array_equal(resumed.params["b"], first.params["b"])
    assert len(list(store.glob("chunk-*.npz"))) == 3
    # a different fit is refused by the store
    with pytest.raises(ValueError, match="different sweep|does not match|refus"):
        nm.fit(toy(), loss, store=store, **{**kw, "steps": 21})
    # the same results without a store, or with another executor and chunking
    _, plain = nm.fit(toy(), loss, **{**kw, "executor": None})
    np.testing.assert_array_equal(plain.loss, first.loss)
    _, seq = nm.fit(
        toy(), loss, **{**kw, "executor": SequentialExecution(batch_size=4)}
    )
    np.testing.assert_array_equal(seq.loss, first.loss)


@pytest.mark.slow
def test_multistart_of_a_delayed_network():
    """A network (delays, noise key in the loss) goes through the sweep engine:
    each start equals a single-start fit from it."""
    conn = nm.datasets.load_connectome()
    key = jax.random.key(0)

    def build(k):
        return nm.Network(
            nm.models.Hopf(a=-0.05, omega=0.3),
            conn.weights[:3, :3],
            lengths=conn.lengths[:3, :3],
            speed=10.0,
            coupling="diffusive",
            k=k,
            noise=nm.noise.Additive(0.05),
        )

    def fc(net):
        sol = nm.simulate(
            net, t1=120.0, dt=0.5, save_every=1.0, transient=20.0, key=key,
            solver=diffrax.Euler(),
        )  # fmt: skip
        return nm.metrics.fc(sol["x"])

    target = eqx.filter_jit(fc)(build(0.3))

    def loss(net):
        return nm.metrics.fc_mse(fc(net), target)

    kw = dict(
        params=lambda n: n.k,
        constraints={lambda n: n.k: nm.Bounded(0.01, 1.0)},
        optimizer=optax.adam(0.1),
        steps=4,
        progress=False,
    )
    fitted, trace = nm.fit(build(0.05), loss, starts=2, **kw)
    assert isinstance(fitted, nm.Network) and fitted.weights is not None
    start = float(trace.starts.k[1])
    _, single = nm.fit(build(start), loss, **kw)
    np.testing.assert_allclose(single.loss, trace.loss[1], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(single.params.k, trace.params.k[1], rtol=1e-5)


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (dict(starts=0), ValueError, "`starts` must be >= 1"),
        (dict(starts="many"), TypeError, "`starts` must be a number"),
        (dict(starts=2, callback=lambda *a: None), ValueError, "`callback`"),
        (
            dict(
                starts=2,
                params=lambda m: m["b"],
                constraints={lambda m: m["b"]: nm.Positive()},
            ),
            ValueError,
            r"`model\['b'\]` has Positive\(\).*Bounded",
        ),
        (
            dict(starts=2, params=lambda m: (m["a"], m["b"])),
            ValueError,
            r"`model\['b'\]` has no constraint",
        ),
        (
            dict(starts=nm.Space({"c": nm.GridAxis(0.0, 1.0, 2)})),
            ValueError,
            "not trained",
        ),
        (
            dict(starts=nm.Space({"z": nm.GridAxis(0.0, 1.0, 2)})),
            ValueError,
            "`starts`: Parameter path `z`",
        ),
        (
            dict(starts=nm.Space({"a": nm.GridAxis(-3.0, 3.0, 3)})),
            ValueError,
            r"start 0 of `model\['a'\]` violates",
        ),
        (dict(search_key=jax.random.key(1)), ValueError, "`search_key` is for"),
        (dict(store="x"), ValueError, "`store` is for"),
        (dict(starts=2, lanes=0), ValueError, "`lanes` must be"),
        (dict(starts=2, executor="dask"), TypeError, "`executor` must be"),
    ],
)
def test_multistart_errors(kw, error, match):
    args = dict(
        params=lambda m: m["a"],
        constraints={lambda m: m["a"]: nm.Bounded(-3.0, 3.0)},
        optimizer=optax.adam(0.1),
        steps=2,
        progress=False,
    )
    args.update(kw)
    with pytest.raises(error, match=match):
        nm.fit(toy(), quadratic, **args)


def test_multistart_warns_about_skipped_steps():
    def loss(m):
        a = m["a"]
        return jnp.where(a > 1.0, jnp.nan, (a - 2.0) ** 2)

    with pytest.warns(RuntimeWarning, match=r"of 4 starts had steps"):
        _, trace = nm.fit(
            {"a": jnp.asarray(0.0)},
            loss,
            params=lambda m: m["a"],
            constraints={lambda m: m["a"]: nm.Bounded(-3.0, 3.0)},
            optimizer=optax.sgd(0.5),
            steps=6,
            starts=4,
            progress=False,
        )
    assert trace.skipped.any()
    assert np.all(trace.params["a"][np.isfinite(trace.loss)] <= 1.0)
    assert "nonfinite" in trace.status


# ---------------------------------------------------------------------- CMA-ES
@pytest.mark.slow
def test_cmaes_finds_the_global_minimum_of_rastrigin():
    """From a local minimum of the 2-D Rastrigin function (global minimum 0 at
    the origin, local minima near every integer point), within its usual box.
    (With these settings it succeeded for 8 of 8 search keys; gradient descent
    from the start stays in its local minimum.)"""
    start = {"x": jnp.array([3.0, -3.0])}
    kw = dict(
        params=lambda m: m["x"],
        constraints={lambda m: m["x"]: nm.Bounded(-5.12, 5.12)},
        progress=False,
    )
    fitted, trace = nm.fit(
        start,
        rastrigin,
        strategy=nm.CMAES(population_size=64, generations=30, sigma=0.8),
        **kw,
    )
    assert isinstance(trace, nm.GlobalTrace)
    assert trace.loss.shape == (30, 64) and trace.evaluations == 1920
    np.testing.assert_allclose(fitted["x"], [0.0, 0.0], atol=2e-2)
    assert trace.best_loss < 0.1
    descent, _ = nm.fit(start, rastrigin, optimizer=optax.adam(0.05), steps=200, **kw)
    np.testing.assert_allclose(descent["x"], [2.98, -2.98], atol=0.05)
    g, j = trace.best_generation, trace.best_index
    assert trace.loss[g, j] == trace.best_loss
    np.testing.assert_array_equal(fitted["x"], trace.params["x"][g, j])
    np.testing.assert_allclose(float(rastrigin(trace.model_at(g, j))), trace.best_loss)
    assert np.all(np.diff(trace.best_so_far) <= 0)
    # the search starts at the model's values
    np.testing.assert_allclose(trace.mean["x"][0], [3.0, -3.0], rtol=1e-5)
    np.testing.assert_allclose(trace.sigma[0], 0.8, rtol=1e-6)
    assert trace.sigma[-1] < 0.05


@pytest.mark.slow
def test_cmaes_honours_the_constraints():
    """The minimum of x + y is at the lower corner of the box: every candidate
    stays inside it (the search runs in the unconstrained coordinates), and the
    search goes to the corner."""

    def tilt(m):
        return jnp.sum(m["x"]) + (m["s"] - 0.5) ** 2

    fitted, trace = nm.fit(
        {"x": jnp.array([0.5, 0.2]), "s": jnp.asarray(1.0)},
        tilt,
        params=lambda m: (m["x"], m["s"]),
        constraints={
            lambda m: m["x"]: nm.Bounded(jnp.array([-1.0, 0.0]), jnp.array([1.0, 3.0])),
            lambda m: m["s"]: nm.Positive(),
        },
        strategy=nm.CMAES(population_size=8, generations=25, sigma=3.0),
        progress=False,
    )
    x = trace.params["x"]
    assert np.all(x[..., 0] >= -1.0) and np.all(x[..., 0] <= 1.0)
    assert np.all(x[..., 1] >= 0.0) and np.all(x[..., 1] <= 3.0)
    assert np.all(trace.params["s"] > 0.0)
    np.testing.assert_allclose(fitted["x"], [-1.0, 0.0], atol=0.05)
    np.testing.assert_allclose(fitted["s"], 0.5, atol=0.05)


@pytest.mark.slow
def test_hybrid_refines_the_best_candidates():
    fitted, trace = nm.fit(
        {"x": jnp.array([3.0, -3.0])},
        rastrigin,
        params=lambda m: m["x"],
        constraints={lambda m: m["x"]: nm.Bounded(-5.12, 5.12)},
        strategy=nm.CMAES(population_size=64, generations=10, sigma=0.8),
        optimizer=optax.adam(0.01),
        steps=60,
        starts=3,
        progress=False,
    )
    assert isinstance(trace, nm.MultiStartTrace)
    glob = trace.global_phase
    assert isinstance(glob, nm.GlobalTrace) and glob.loss.shape == (10, 64)
    assert trace.loss.shape == (3, 60)
    # the refinement starts at the 3 best candidates of the global phase
    best3 = np.sort(glob.loss.ravel())[:3]
    np.testing.assert_allclose(np.sort(trace.loss[:, 0]), best3, rtol=1e-4, atol=1e-4)
    # and improves on the best of them
    assert trace.best_loss <= glob.best_loss
    assert float(rastrigin(fitted)) == pytest.approx(trace.best_loss, abs=1e-4)
    assert trace.best_loss < 1e-3


@pytest.mark.slow
def test_global_search_resumes_from_its_store(tmp_path):
    traced = []

    def loss(m):
        traced.append(1)
        return rastrigin(m)

    kw = dict(
        params=lambda m: m["x"],
        constraints={lambda m: m["x"]: nm.Bounded(-5.12, 5.12)},
        strategy=nm.CMAES(population_size=8, generations=5, sigma=2.0),
        optimizer=optax.adam(0.01),
        steps=5,
        starts=2,
        store=tmp_path / "cma",
        progress=False,
    )
    _, first = nm.fit({"x": jnp.array([3.0, -3.0])}, loss, **kw)
    dirs = sorted(p.name for p in (tmp_path / "cma").iterdir())
    assert dirs == [f"global-{g:04d}" for g in range(5)] + ["refine"]
    traced.clear()
    _, again = nm.fit({"x": jnp.array([3.0, -3.0])}, loss, **kw)
    assert not traced  # every generation and the refinement came from the store
    np.testing.assert_array_equal(again.global_phase.loss, first.global_phase.loss)
    np.testing.assert_array_equal(again.loss, first.loss)


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (dict(strategy="cmaes"), TypeError, "`strategy` must be"),
        (
            dict(strategy=nm.CMAES(4, 2), starts=2),
            ValueError,
            "give `optimizer=` and `steps=` too",
        ),
        (
            dict(
                strategy=nm.CMAES(4, 2),
                optimizer=optax.adam(0.1),
                steps=2,
                starts=nm.Space({"a": nm.GridAxis(0.0, 1.0, 2)}),
            ),
            ValueError,
            "not a Space",
        ),
        (dict(strategy=nm.CMAES(4, 2), steps=3), ValueError, "needs `optimizer=`"),
        (dict(optimizer=optax.adam(0.1)), ValueError, "needs `steps=`"),
        (dict(), ValueError, "needs `optimizer=`"),
        (dict(strategy=nm.CMAES(4, 2), key=jax.random.key(0)), ValueError, "`key`"),
    ],
)
def test_strategy_errors(kw, error, match):
    args = dict(params=lambda m: m["a"], progress=False)
    args.update(kw)
    with pytest.raises(error, match=match):
        nm.fit(toy(), quadratic, **args)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(population_size=1), "population_size"),
        (dict(generations=0), "generations"),
        (dict(sigma=0.0), "sigma"),
        (dict(sigma=float("nan")), "sigma"),
        (dict(population_size=2.5), "population_size"),
    ],
)
def test_cmaes_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        nm.CMAES(**kw)


# ------------------------------------------------------------------ diagnostics
def _quiet_fit(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = nm.fit(*args, **kwargs)
    return out, [w for w in caught if issubclass(w.category, nm.RuggedLossWarning)]


def test_rugged_warning_on_a_washboard():
    kw = dict(
        params=lambda m: m["x"], optimizer=optax.adam(0.1), steps=40, progress=False
    )
    with pytest.warns(nm.RuggedLossWarning, match=r"steps the loss changed against"):
        nm.fit({"x": jnp.asarray(0.0)}, washboard, **kw)
    # the same descent on the smooth parabola: no warning, even with the
    # oscillations of a large learning rate around the minimum
    (_, trace), caught = _quiet_fit(
        {"x": jnp.asarray(0.0)},
        lambda m: (m["x"] - 2.0) ** 2,
        **{**kw, "optimizer": optax.adam(0.8)},
    )
    assert not caught
    assert np.any(np.diff(trace.loss) > 0)  # it did overshoot


def test_no_rugged_warning_on_smooth_losses():
    (_, trace), caught = _quiet_fit(
        toy(),
        quadratic,
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.5),
        steps=100,
        progress=False,
    )
    assert not caught
    # Rosenbrock's valley: smooth but not convex
    (_, trace), caught = _quiet_fit(
        {"x": jnp.asarray(-1.2), "y": jnp.asarray(1.0)},
        lambda m: (1 - m["x"]) ** 2 + 100 * (m["y"] - m["x"] ** 2) ** 2,
        params=lambda m: (m["x"], m["y"]),
        optimizer=optax.adam(0.02),
        steps=300,
        progress=False,
    )
    assert not caught


def test_rugged_warning_is_not_checked_for_stochastic_losses():
    def noisy(m, key):
        return washboard(m) + 0.0 * jax.random.normal(key)

    (_, _), caught = _quiet_fit(
        {"x": jnp.asarray(0.0)},
        noisy,
        params=lambda m: m["x"],
        optimizer=optax.adam(0.1),
        steps=40,
        key=jax.random.key(0),
        progress=False,
    )
    assert not caught


def test_rugged_warning_of_a_multistart():
    with pytest.warns(nm.RuggedLossWarning, match=r"starts the loss changed"):
        nm.fit(
            {"x": jnp.asarray(0.0)},
            washboard,
            params=lambda m: m["x"],
            constraints={lambda m: m["x"]: nm.Bounded(-1.0, 4.0)},
            optimizer=optax.adam(0.1),
            steps=40,
            starts=4,
            progress=False,
        )


# -------------------------------------------------------------------- landscape
def test_landscape_values_and_slopes_equal_direct_evaluations():
    def loss(m):
        return (m["k"] - 0.1) ** 2 + jnp.sum(m["a"] ** 2) + 1e-3 * jnp.sin(80 * m["k"])

    model = {"k": 0.0, "a": jnp.zeros(3), "fixed": jnp.ones(2)}
    axes = {"k": nm.GridAxis(0.0, 0.2, 9), "a": nm.GridAxis(-1.0, 1.0, 5, shape=(3,))}
    land = nm.landscape(loss, model, axes, gradient=True, progress=False)
    assert land.names == ("a", "k") and land.loss.shape == (5, 9)
    for i, a in enumerate(land.coords["a"]):
        for j, k in enumerate(land.coords["k"]):
            m = {**model, "k": jnp.asarray(k), "a": jnp.asarray(a)}
            direct = float(jax.jit(loss)(m))
            np.testing.assert_allclose(land.loss[i, j], direct, rtol=1e-6, atol=1e-7)
            g = jax.grad(loss)(m)
            np.testing.assert_allclose(land.slope["k"][i, j], g["k"], rtol=1e-5)
            np.testing.assert_allclose(
                land.slope["a"][i, j], jnp.sum(g["a"]), rtol=1e-5, atol=1e-6
            )
    best = land.argmin()
    i, j = np.unravel_index(np.argmin(land.loss), land.loss.shape)
    assert best["k"] == pytest.approx(float(land.coords["k"][j]))
    assert np.allclose(best["a"], 0.0) and i == 2
    fd = land.finite_difference("k")
    assert fd.shape == (5, 9) and np.sign(fd[0, 0]) == -1


@pytest.mark.slow
def test_landscape_of_a_network_matches_direct_simulations():
    conn = nm.datasets.load_connectome()
    key = jax.random.key(3)
    net = nm.Network(
        nm.models.Hopf(a=-0.05, omega=0.3),
        conn.weights[:3, :3],
        lengths=conn.lengths[:3, :3],
        speed=10.0,
        coupling="diffusive",
        k=0.2,
        noise=nm.noise.Additive(0.05),
    )

    def loss(n, key):
        sol = nm.simulate(
            n, t1=60.0, dt=0.5, save_every=1.0, key=key, solver=diffrax.Euler()
        )
        return jnp.mean(sol["x"] ** 2)

    land = nm.landscape(
        loss, net, {"k": nm.GridAxis(0.0, 0.4, 3)}, key=key, progress=False
    )
    for k, value in zip(land.coords["k"], land.loss):
        direct = eqx.filter_jit(loss)(eqx.tree_at(lambda n: n.k, net, k), key)
        np.testing.assert_allclose(value, float(direct), rtol=1e-5)


@pytest.mark.parametrize(
    "axes, kw, error, match",
    [
        ({"k": (0, 1)}, {}, TypeError, r"`axes\['k'\]` must be an axis"),
        ([nm.GridAxis(0.0, 1.0, 2)], {}, TypeError, "`axes` must be a dict"),
        ({"q": nm.GridAxis(0.0, 1.0, 2)}, {}, ValueError, "`axes`: Parameter path"),
        (
            {"k": nm.GridAxis(0.0, 1.0, 2)},
            {"key": jax.random.key(0)},
            ValueError,
            "key",
        ),
    ],
)
def test_landscape_errors(axes, kw, error, match):
    with pytest.raises(error, match=match):
        nm.landscape(lambda m: m["k"] ** 2, {"k": 0.0}, axes, progress=False, **kw)


# ------------------------------------------------------------------- ensembles
def test_ensemble_loss():
    def loss(m, key):
        return (m["x"] - jax.random.normal(key)) ** 2

    key = jax.random.key(5)
    fixed = nm.ensemble_loss(loss, 16, key=key)
    m = {"x": jnp.asarray(0.3)}
    manual = np.mean([float(loss(m, k)) for k in jax.random.split(key, 16)])
    np.testing.assert_allclose(float(fixed(m)), manual, rtol=1e-6)
    batched = nm.ensemble_loss(loss, 16, key=key, batch_size=5)
    np.testing.assert_allclose(float(batched(m)), manual, rtol=1e-6)
    # its gradient is the mean gradient; it fits like any deterministic loss
    fitted, trace = nm.fit(
        m, fixed, params=lambda m: m["x"], optimizer=optax.adam(0.1), steps=60,
        progress=False,
    )  # fmt: skip
    noise = jax.vmap(jax.random.normal)(jax.random.split(key, 16))
    np.testing.assert_allclose(float(fitted["x"]), float(noise.mean()), atol=5e-3)
    # without a key: a stochastic loss(model, key) for `fit(key=...)`
    fresh = nm.ensemble_loss(loss, 4)
    k2 = jax.random.key(9)
    manual = np.mean([float(loss(m, k)) for k in jax.random.split(k2, 4)])
    np.testing.assert_allclose(float(fresh(m, k2)), manual, rtol=1e-6)
    with pytest.raises(ValueError, match="must take one"):
        nm.ensemble_loss(lambda m: m["x"], 4)
    with pytest.raises(ValueError, match="`n` must be"):
        nm.ensemble_loss(loss, 0)
    with pytest.raises(ValueError, match="`batch_size` must be"):
        nm.ensemble_loss(loss, 4, batch_size=0)


# ------------------------------------------------------------------------ plots
@pytest.mark.slow
def test_plots(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    kw = dict(
        params=lambda m: m["x"],
        constraints={lambda m: m["x"]: nm.Bounded(-5.12, 5.12)},
        progress=False,
    )
    start = {"x": jnp.array([2.0, -2.0])}
    _, single = nm.fit(start, rastrigin, optimizer=optax.adam(0.05), steps=5, **kw)
    _, multi = nm.fit(
        start, rastrigin, optimizer=optax.adam(0.05), steps=5, starts=3, **kw
    )
    _, glob = nm.fit(start, rastrigin, strategy=nm.CMAES(6, 3), **kw)
    _, hybrid = nm.fit(
        start, rastrigin, strategy=nm.CMAES(6, 3), optimizer=optax.adam(0.05),
        steps=5, starts=2, **kw,
    )  # fmt: skip
    for trace in (single, multi, glob, hybrid):
        ax = nm.viz.plot_fit(trace, title="fit")
        assert ax.get_ylabel() == "loss" and ax.lines
        ax.figure.savefig(tmp_path / "fit.png")
        plt.close(ax.figure)
    with pytest.raises(TypeError, match="`plot_fit` draws"):
        nm.viz.plot_fit(np.zeros(3))
    land1 = nm.landscape(
        lambda m: (m["k"] - 0.1) ** 2, {"k": 0.0}, {"k": nm.GridAxis(0.0, 0.2, 5)},
        gradient=True, progress=False,
    )  # fmt: skip
    ax = nm.viz.plot_landscape(land1, mark={"k": 0.1})
    assert len(ax.lines) >= 5  # the curve, the tangents and the mark
    plt.close(ax.figure)
    land2 = nm.landscape(
        lambda m: m["k"] ** 2 + m["a"] ** 2, {"k": 0.0, "a": 0.0},
        {"k": nm.GridAxis(-1.0, 1.0, 4), "a": nm.GridAxis(-1.0, 1.0, 3)},
        progress=False,
    )  # fmt: skip
    ax = nm.viz.plot_landscape(land2, mark={"k": 0.0, "a": 0.0})
    ax.figure.savefig(tmp_path / "land.png")
    plt.close("all")
    with pytest.raises(ValueError, match="`mark` names"):
        nm.viz.plot_landscape(land1, mark={"q": 1.0})
    with pytest.raises(TypeError, match="nm.Landscape"):
        nm.viz.plot_landscape(single)
    assert Path(tmp_path / "land.png").exists() and os.path.getsize(
        tmp_path / "fit.png"
    )


@pytest.mark.slow
def test_multistart_on_a_dask_cluster_matches_the_local_fit():
    distributed = pytest.importorskip("distributed")
    kw = dict(
        params=lambda m: (m["a"], m["b"]),
        constraints=CONS,
        optimizer=optax.adam(0.1),
        steps=10,
        starts=4,
        lanes=2,
        progress=False,
    )
    _, local = nm.fit(toy(), quadratic, **kw)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        fitted, remote = nm.fit(
            toy(), quadratic, executor=nm.DaskExecution(client, batch_size=2), **kw
        )
    np.testing.assert_array_equal(remote.loss, local.loss)
    np.testing.assert_array_equal(remote.params["b"], local.params["b"])
    assert remote.best_start == local.best_start


def test_a_user_strategy():
    """The extension point: the random search of `AbstractGlobalStrategy`'s
    docstring finds the minimum of a quadratic."""

    class RandomSearch(nm.AbstractGlobalStrategy):
        population_size: int = eqx.field(default=16, static=True)
        generations: int = eqx.field(default=10, static=True)
        sigma: float = 1.0

        def init(self, mean, key):
            return mean, self.sigma

        def ask(self, state, key):
            mean, sigma = state
            noise = jax.random.normal(key, (self.population_size, mean.size))
            return mean[None] + sigma * noise, state

        def tell(self, state, population, losses):
            return population[jnp.argmin(losses)], 0.7 * state[1]

        def mean(self, state):
            return state[0]

        def stddev(self, state):
            return float(state[1])

    fitted, trace = nm.fit(
        {"x": jnp.array([2.0, -1.0])},
        lambda m: jnp.sum(m["x"] ** 2),
        params=lambda m: m["x"],
        strategy=RandomSearch(),
        progress=False,
    )
    assert trace.loss.shape == (10, 16)
    np.testing.assert_allclose(trace.sigma, 0.7 ** np.arange(10), rtol=1e-5)
    assert trace.best_loss < 1e-2 and np.all(np.abs(fitted["x"]) < 0.1)
