"""Stimuli (`neuromass.stimuli`) as data: values against closed forms and
`numpy.interp`, sums, coverage, the checks against a model, pytree behaviour
(`tree_at`, `vmap`, gradients against finite differences) and bad inputs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


E, S = nm.equations, nm.stimuli


def _fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


# -------------------------------------------------------------- RegionStimulus


def test_region_values_closed_form(x64):
    w = jnp.array([0.0, 1.0, -0.5, 2.0])
    stim = S.RegionStimulus(w, E.Sinusoid(amp=0.7, frequency=0.02), variables="x")
    for t in [0.0, 12.5, 33.3]:
        expected = np.asarray(w) * 0.7 * np.sin(2 * np.pi * 0.02 * t)
        np.testing.assert_allclose(stim.values(t), expected, rtol=1e-14, atol=1e-15)
    ts = jnp.linspace(0.0, 100.0, 11)
    table = stim.values(ts)
    assert table.shape == (11, 4)
    np.testing.assert_allclose(
        table, np.sin(2 * np.pi * 0.02 * np.asarray(ts))[:, None] * 0.7 * np.asarray(w)
    )
    assert stim.values(ts.reshape(1, 11)).shape == (1, 11, 4)
    assert stim.n_nodes == 4 and not stim.per_variable and stim.variables == ("x",)


def test_region_pulse_train_as_tvb_stimuli_region(x64):
    # TVB's StimuliRegion: weight[:, None] * temporal.evaluate(time)[None, :].
    w = np.array([0.0, 0.3, 1.0])
    t = np.arange(0.0, 200.0, 0.5)
    stim = S.RegionStimulus(w, E.PulseTrain(onset=20.0, T=40.0, tau=10.0, amp=2.0))
    exact = np.where((t > 20.0) & (np.remainder(t - 20.0, 40.0) < 10.0), 2.0, 0.0)
    np.testing.assert_array_equal(stim.values(t), exact[:, None] * w[None, :])


def test_region_with_per_region_temporal_parameters(x64):
    onsets = jnp.array([10.0, 50.0, 90.0])
    stim = S.RegionStimulus(jnp.ones(3), E.PulseTrain(onset=onsets, T=100.0, tau=5.0))
    np.testing.assert_array_equal(stim.values(52.0), [0.0, 1.0, 0.0])
    assert stim.values(jnp.arange(5.0)).shape == (5, 3)


def test_region_accepts_a_plain_callable(x64):
    stim = S.RegionStimulus(jnp.array([1.0, 2.0]), lambda t: jnp.exp(-t / 10.0))
    np.testing.assert_allclose(stim.values(10.0), np.exp(-1.0) * np.array([1, 2]))


def test_by_variable_resolves_the_default(x64):
    stim = S.RegionStimulus(jnp.array([1.0, 2.0]), E.Linear(a=0.0, b=3.0))
    out = stim.by_variable(5.0, ("x", "y"))
    assert set(out) == {"x", "y"}
    np.testing.assert_array_equal(out["x"], [3.0, 6.0])
    np.testing.assert_array_equal(out["y"], [3.0, 6.0])
    named = S.RegionStimulus(jnp.array([1.0, 2.0]), E.Linear(a=0.0, b=3.0), "y")
    assert set(named.by_variable(5.0, ("x", "y"))) == {"y"}
    assert named.variables_for(("x",)) == ("y",)
    assert stim.variables_for(["x"]) == ("x",)


def test_values_inside_jit(x64):
    stim = S.RegionStimulus(jnp.array([1.0, -1.0]), E.PulseTrain(sharpness=2.0))
    f = jax.jit(lambda s, t: s.values(t))
    for t in [0.0, 31.0, 45.0]:
        np.testing.assert_allclose(f(stim, t), stim.values(t), rtol=1e-14)
    g = jax.jit(lambda s, t: s.by_variable(t, ("x",))["x"])
    np.testing.assert_allclose(g(stim, 31.0), stim.values(31.0), rtol=1e-14)


# ---------------------------------------------------------- TimeSeriesStimulus


def _series(rng, n_times=9, n_nodes=3, extra=()):
    times = np.cumsum(rng.uniform(0.5, 3.0, n_times)) - 2.0  # uneven, from < 0
    values = rng.normal(size=(n_times, n_nodes, *extra))
    return times, values


def test_time_series_matches_numpy_interp(x64):
    rng = np.random.default_rng(0)
    times, values = _series(rng)
    stim = S.TimeSeriesStimulus(times, values)
    # inside, on every sample, and outside on both sides (the end samples held)
    t = np.concatenate([np.linspace(times[0] - 5, times[-1] + 5, 301), times])
    expected = np.stack([np.interp(t, times, values[:, i]) for i in range(3)], -1)
    np.testing.assert_allclose(stim.values(t), expected, rtol=1e-13, atol=1e-14)
    for ti in [times[0] - 1.0, times[3], 0.5 * (times[4] + times[5]), times[-1] + 7]:
        np.testing.assert_allclose(
            stim.values(ti), [np.interp(ti, times, values[:, i]) for i in range(3)]
        )
    np.testing.assert_array_equal(stim.values(times[-1]), values[-1])
    np.testing.assert_array_equal(stim.values(times[0]), values[0])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_evenly_spaced_time_series_matches_numpy_interp(dtype):
    # evenly spaced samples are found by arithmetic (with a correction of one
    # sample each way for round-off): the same values as a binary search, also
    # at the sample times themselves, between them and outside
    with jax.enable_x64(dtype == np.float64):
        times = np.linspace(0.0, 1000.0, 1001).astype(dtype)
        values = np.random.default_rng(3).normal(size=(1001, 2)).astype(dtype)
        stim = S.TimeSeriesStimulus(times, values)
        assert stim.evenly_spaced
        assert not S.TimeSeriesStimulus(times[[0, 1, 3]], values[:3]).evenly_spaced
        t = np.concatenate([times, times[:-1] + 0.5, [-5.0, 1e4],
                            np.arange(0.0, 1000.0, 0.1, dtype=dtype)])  # fmt: skip
        expected = np.stack([np.interp(t, times, values[:, i]) for i in range(2)], -1)
        atol = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(stim.values(jnp.asarray(t, dtype)), expected,
                                   atol=atol)  # fmt: skip
        np.testing.assert_array_equal(stim.values(times[7]), values[7])
        uneven = eqx.tree_at(lambda s: s.times, stim, times.copy() ** 1.01)
        with pytest.raises(ValueError, match="replaced by unevenly spaced times"):
            uneven.check_covers(0.0, 100.0)


def test_time_series_per_variable(x64):
    rng = np.random.default_rng(1)
    times, values = _series(rng, extra=(2,))
    stim = S.TimeSeriesStimulus(times, values, variables=("x", "y"))
    assert stim.per_variable and stim.n_nodes == 3
    t = 0.3 * times[2] + 0.7 * times[3]
    got = stim.by_variable(t, ("ignored",))
    for j, name in enumerate(("x", "y")):
        expected = [np.interp(t, times, values[:, i, j]) for i in range(3)]
        np.testing.assert_allclose(got[name], expected, rtol=1e-13)
    assert stim.values(jnp.asarray(times[:4])).shape == (4, 3, 2)


@pytest.mark.slow
def test_time_series_gradients(x64):
    times = jnp.array([0.0, 10.0, 25.0, 40.0])
    samples = jnp.asarray(np.random.default_rng(2).normal(size=(4, 2)))
    t = 17.5  # 0.5 of the way from 10 to 25

    def f(u):
        return S.TimeSeriesStimulus(times, u).values(t)

    jac = jax.jacrev(f)(samples)  # (2, 4, 2): d value[i] / d samples[k, j]
    expected = np.zeros((2, 4, 2))
    for i in range(2):
        expected[i, 1, i] = expected[i, 2, i] = 0.5
    np.testing.assert_allclose(jac, expected, rtol=1e-14, atol=1e-15)
    # d/dt is the slope of the segment
    slope = jax.jacfwd(lambda tt: S.TimeSeriesStimulus(times, samples).values(tt))(t)
    np.testing.assert_allclose(slope, (samples[2] - samples[1]) / 15.0, rtol=1e-12)


def test_time_series_covers():
    stim = S.TimeSeriesStimulus(jnp.array([0.0, 500.0, 1000.0]), jnp.zeros((3, 2)))
    assert stim.covers(0.0, 1000.0) is True
    assert stim.covers(100.0, 200.0) is True
    assert stim.covers(0.0, 1000.0 + 1e-10) is True  # round-off
    assert stim.covers(0.0, 1000.1) is False
    assert stim.covers(-0.1, 10.0) is False
    stim.check_covers(0.0, 1000.0)
    with pytest.raises(ValueError, match=r"covers \[0, 1000\] ms.*\[0, 2000\] ms"):
        stim.check_covers(0.0, 2000.0)
    region = S.RegionStimulus(jnp.ones(2), E.Sinusoid())
    assert region.covers(-1e9, 1e9) is True
    region.check_covers(-1e9, 1e9)
    assert (stim + region).covers(0.0, 900.0) is True
    with pytest.raises(ValueError, match="TimeSeriesStimulus"):
        (region + stim).check_covers(0.0, 2000.0)


def test_time_series_covers_when_traced():
    @jax.jit
    def covered(times, t1):
        stim = S.TimeSeriesStimulus(times, jnp.zeros((times.shape[0], 1)))
        stim.check_covers(0.0, t1)  # unknown values: nothing raised here
        return stim.covers(0.0, t1)

    assert bool(covered(jnp.array([0.0, 10.0]), 5.0))
    assert not bool(covered(jnp.array([0.0, 10.0]), 15.0))


# ------------------------------------------------------------------------ sums


def test_sum_adds_values_and_variables(x64):
    a = S.RegionStimulus(jnp.array([1.0, 0.0, 0.0]), E.PulseTrain(onset=20.0))
    b = S.RegionStimulus(jnp.array([0.0, 0.5, 0.5]), E.Sinusoid())
    c = S.TimeSeriesStimulus(jnp.array([0.0, 100.0]), jnp.ones((2, 3)))
    total = a + b + c
    assert isinstance(total, S.SumStimulus) and len(total.stimuli) == 3  # flat
    t = jnp.array([10.0, 25.0, 61.0])
    np.testing.assert_allclose(
        total.values(t), a.values(t) + b.values(t) + c.values(t), rtol=1e-14
    )
    assert isinstance(sum([a, b, c]), S.SumStimulus)
    np.testing.assert_allclose(sum([a, b, c]).values(t), total.values(t), rtol=1e-14)
    assert sum([a]) is a
    out = total.by_variable(25.0, ("x", "y"))
    np.testing.assert_allclose(out["y"], total.values(25.0), rtol=1e-14)


def test_sum_on_different_variables(x64):
    a = S.RegionStimulus(jnp.array([1.0, 2.0]), E.Linear(a=0.0, b=1.0), "x")
    b = S.RegionStimulus(jnp.array([3.0, 4.0]), E.Linear(a=0.0, b=1.0), "y")
    c = S.RegionStimulus(jnp.array([5.0, 6.0]), E.Linear(a=0.0, b=1.0))  # default
    out = (a + b + c).by_variable(0.0, ("x",))
    np.testing.assert_array_equal(out["x"], [6.0, 8.0])
    np.testing.assert_array_equal(out["y"], [3.0, 4.0])
    with pytest.raises(ValueError, match="stimulate different variables"):
        (a + b).values(0.0)


def test_sum_with_per_variable_terms(x64):
    series = S.TimeSeriesStimulus(
        jnp.array([0.0, 1.0]), jnp.ones((2, 2, 2)), variables=("x", "y")
    )
    region = S.RegionStimulus(jnp.array([1.0, 2.0]), E.Linear(a=0.0, b=1.0), ("x", "y"))
    total = series + region
    np.testing.assert_array_equal(total.values(0.5), [[2.0, 2.0], [3.0, 3.0]])
    np.testing.assert_array_equal(total.by_variable(0.5, ())["y"], [2.0, 3.0])


def test_sum_errors():
    a = S.RegionStimulus(jnp.ones(3), E.Sinusoid())
    with pytest.raises(ValueError, match="different numbers of nodes"):
        a + S.RegionStimulus(jnp.ones(4), E.Sinusoid())
    with pytest.raises(TypeError):
        a + 1.0
    with pytest.raises(TypeError, match="adds stimuli"):
        S.SumStimulus([a, E.Sinusoid()])
    with pytest.raises(ValueError, match="at least one"):
        S.SumStimulus([])


# ------------------------------------------------------------- check(model, N)


def test_check_against_a_model():
    hopf = nm.models.Hopf()
    S.RegionStimulus(jnp.ones(3), E.Sinusoid()).check(hopf, 3)
    S.RegionStimulus(jnp.ones(3), E.Sinusoid(), "y").check(hopf, 3)
    with pytest.raises(ValueError, match=r"names 'z', which Hopf does not have.*x, y"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid(), ("x", "z")).check(hopf, 3)
    with pytest.raises(ValueError, match=r"has values for 3 nodes.*network has 76"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid()).check(hopf, 76)
    with pytest.raises(ValueError, match=r"TimeSeriesStimulus\(values=...\)"):
        S.TimeSeriesStimulus(jnp.arange(2.0), jnp.ones((2, 5))).check(hopf, 3)
    # the default variables are the model's (or the network's) coupled variables
    with pytest.raises(ValueError, match="by default the coupled variables 'q'"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid()).check(hopf, 3, ("q",))
    # one column per variable
    series = S.TimeSeriesStimulus(jnp.arange(2.0), jnp.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="has 3 columns.*stimulates 2 variables"):
        series.check(hopf, 3)
    with pytest.raises(ValueError, match="has 3 columns"):
        series.by_variable(0.0, ("x", "y"))
    sum_ = S.RegionStimulus(jnp.ones(3), E.Sinusoid()) + S.RegionStimulus(
        jnp.ones(3), E.Sinusoid(), "w"
    )
    with pytest.raises(ValueError, match="'w'"):
        sum_.check(hopf, 3)


# --------------------------------------------------------------------- pytrees


def test_tree_at_equals_fresh_objects(x64):
    w = jnp.array([1.0, 0.5, 0.0])
    stim = S.RegionStimulus(w, E.PulseTrain(sharpness=1.0), "x")
    t = jnp.linspace(0.0, 200.0, 101)
    w2 = jnp.array([0.0, 2.0, -1.0])
    cases = [
        (lambda s: s.weights, w2, S.RegionStimulus(w2, E.PulseTrain(sharpness=1.0))),
        (
            lambda s: s.temporal.onset,
            jnp.asarray(55.0),
            S.RegionStimulus(w, E.PulseTrain(onset=55.0, sharpness=1.0)),
        ),
        (
            lambda s: s.temporal.amp,
            jnp.asarray(-3.0),
            S.RegionStimulus(w, E.PulseTrain(amp=-3.0, sharpness=1.0)),
        ),
    ]
    for where, value, fresh in cases:
        np.testing.assert_array_equal(
            eqx.tree_at(where, stim, value).values(t), fresh.values(t)
        )
    series = S.TimeSeriesStimulus(jnp.array([0.0, 100.0, 200.0]), jnp.zeros((3, 3)))
    u = jnp.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(
        eqx.tree_at(lambda s: s.samples, series, u).values(t),
        S.TimeSeriesStimulus(series.times, u).values(t),
    )


@pytest.mark.slow
def test_vmap_over_weights_and_onsets(x64):
    t = jnp.linspace(0.0, 150.0, 61)
    weights = jnp.asarray(np.random.default_rng(3).normal(size=(5, 4)))
    temporal = E.PulseTrain(T=30.0, tau=5.0, sharpness=2.0)
    swept = jax.vmap(lambda w: S.RegionStimulus(w, temporal).values(t))(weights)
    loop = np.stack([S.RegionStimulus(w, temporal).values(t) for w in weights])
    np.testing.assert_allclose(swept, loop, rtol=1e-14, atol=1e-15)

    onsets = jnp.array([5.0, 20.0, 35.0])

    def make(onset):
        return S.RegionStimulus(
            weights[0], eqx.tree_at(lambda e: e.onset, temporal, onset)
        )

    batch = eqx.filter_vmap(make)(onsets)
    out = eqx.filter_vmap(lambda s: s.values(t))(batch)
    loop = np.stack(
        [
            S.RegionStimulus(
                weights[0], E.PulseTrain(onset=o, T=30.0, tau=5.0, sharpness=2.0)
            ).values(t)
            for o in onsets
        ]
    )
    np.testing.assert_allclose(out, loop, rtol=1e-14, atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["weights", "onset", "amp", "samples"])
def test_gradients_match_finite_differences(x64, name):
    t = jnp.linspace(0.0, 120.0, 49)
    probe = jnp.cos(t / 9.0)[:, None] * jnp.array([[1.0, -2.0, 0.5]])
    w0 = jnp.array([1.0, 0.5, 2.0])

    def stimulus(x):
        if name == "weights":
            return S.RegionStimulus(x, E.PulseTrain(sharpness=0.5))
        if name == "samples":
            return S.TimeSeriesStimulus(jnp.linspace(0.0, 120.0, 7), x)
        temporal = E.PulseTrain(**{name: x, "sharpness": 0.5})
        return S.RegionStimulus(w0, temporal)

    def loss(x):
        return jnp.sum(probe * stimulus(x).values(t))

    x0 = {
        "weights": w0,
        "onset": jnp.asarray(30.0),
        "amp": jnp.asarray(1.5),
        "samples": jnp.asarray(np.random.default_rng(4).normal(size=(7, 3))),
    }[name]
    grad = jax.grad(loss)(x0)
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    flat = np.asarray(x0, dtype=float).ravel()
    fd = np.empty_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = 1.0

        def along(h, e=e):
            return loss(jnp.asarray((flat + h * e).reshape(np.shape(x0))))

        fd[i] = _fd(along, 0.0)
    np.testing.assert_allclose(np.ravel(grad), fd, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ bad inputs


def test_bad_region_stimulus():
    with pytest.raises(ValueError, match=r"`RegionStimulus\(weights=...\)`.*1-D"):
        S.RegionStimulus(jnp.ones((3, 2)), E.Sinusoid())
    with pytest.raises(ValueError, match=r"weights=...\)` must be finite.*\[1\]"):
        S.RegionStimulus(jnp.array([0.0, jnp.nan]), E.Sinusoid())
    with pytest.raises(TypeError, match=r"`RegionStimulus\(temporal=...\)`"):
        S.RegionStimulus(jnp.ones(3), 5.0)
    with pytest.raises(ValueError, match=r"temporal=...\)` must return a scalar"):
        S.RegionStimulus(jnp.ones(3), E.PulseTrain(onset=jnp.ones(4)))
    with pytest.raises(TypeError, match="could not be evaluated"):
        S.RegionStimulus(jnp.ones(3), lambda t: float(t))
    with pytest.raises(ValueError, match=r"variables=...\)` must be"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid(), ())
    with pytest.raises(ValueError, match=r"variables=...\)` must be"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid(), (1, 2))
    with pytest.raises(ValueError, match="names a variable twice"):
        S.RegionStimulus(jnp.ones(3), E.Sinusoid(), ("x", "x"))


def test_bad_time_series():
    ok_times = jnp.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"times=...\)` must be a 1-D array of at"):
        S.TimeSeriesStimulus(jnp.array([0.0]), jnp.ones((1, 2)))
    with pytest.raises(ValueError, match=r"strictly increasing; times\[1\] = 1.0"):
        S.TimeSeriesStimulus(jnp.array([0.0, 1.0, 1.0]), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"times=...\)` must be finite"):
        S.TimeSeriesStimulus(jnp.array([0.0, 1.0, jnp.inf]), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(T, N\).*T = len\(times\) = 3"):
        S.TimeSeriesStimulus(ok_times, jnp.ones((4, 2)))
    with pytest.raises(ValueError, match=r"values\[:, None\]"):
        S.TimeSeriesStimulus(ok_times, jnp.ones(3))
    with pytest.raises(ValueError, match=r"must be finite; got NaN or inf at index"):
        S.TimeSeriesStimulus(ok_times, jnp.ones((3, 2)).at[1, 1].set(jnp.nan))
    with pytest.raises(ValueError, match="has 2 slices"):
        S.TimeSeriesStimulus(ok_times, jnp.ones((3, 2, 2)), variables=("x",))


@pytest.mark.parametrize("evaluation", ["stage", "step"])
def test_tabulated_table_equals_evaluation_in_the_vector_field(
    x64, monkeypatch, evaluation
):
    """A `TimeSeriesStimulus` is tabulated for a stretch of steps ahead of the loop
    (`AbstractInput.tabulate`); the trajectory and the gradient with respect to its
    samples equal those of the same table evaluated at each stage inside the
    vector field, to round-off."""
    rng = np.random.default_rng(3)
    net = nm.Network(
        nm.models.Hopf(a=-0.05),
        rng.random((4, 4)),
        lengths=rng.uniform(5.0, 20.0, (4, 4)),
        speed=5.0,
        coupling="diffusive",
        k=0.2,
    )
    y0 = net.node.initial_state(4, key=jax.random.key(1))
    stim = nm.stimuli.TimeSeriesStimulus(
        jnp.linspace(0.0, 12.0, 25), jnp.asarray(rng.normal(size=(25, 4)))
    )

    def run(samples):
        s = eqx.tree_at(lambda s: s.samples, stim, samples)
        sol = nm.simulate(
            net, t1=12.0, dt=0.1, y0=y0, stimulus=s, stimulus_evaluation=evaluation
        )
        return sol["x"]

    def both(samples):
        x = run(samples)
        g = jax.grad(lambda v: jnp.sum(run(v) ** 2))(samples)
        return np.asarray(x), np.asarray(g)

    x_tab, g_tab = both(stim.samples)
    monkeypatch.setattr(nm.stimuli.TimeSeriesStimulus, "tabulated", False)
    x_inner, g_inner = both(stim.samples)
    np.testing.assert_allclose(x_tab, x_inner, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_tab, g_inner, rtol=1e-12, atol=1e-14)
    assert np.abs(g_tab).max() > 1e-3
