"""Values traced inside jit/vmap/grad are checked at run time: a NaN, infinite or
out-of-range value is an error that names the field, never a silently wrong run
(issue: a NaN or negative traced delay ran as a one-step delay)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


N = 4
KW = dict(t1=4.0, dt=0.1, save_every=0.5, interpolation="nearest")


def _net(**kw):
    rng = np.random.default_rng(2)
    w = rng.uniform(0.2, 1.0, (N, N))
    lengths = rng.uniform(5.0, 20.0, (N, N))
    return nm.Network(
        nm.models.Hopf(), w, lengths=lengths, speed=5.0, coupling="diffusive", **kw
    )


def _run_traced(net, path, value, **kw):
    """`simulate` of `net` with the field at `path` set to `value` inside `jit`."""

    @eqx.filter_jit
    def run(v):
        n = eqx.tree_at(path, net, v)
        return nm.simulate(n, **{**KW, **kw})["x"]

    return run(jnp.asarray(value))


@pytest.mark.slow
@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "NaN or infinite"), (-5.0, "negative"), (0.5, "longer than")],
)
def test_traced_speed_out_of_domain_is_an_error(value, message):
    net = _net()
    with pytest.raises(Exception, match=message):
        _run_traced(net, lambda n: n.speed, value)
    # the same values under vmap (a sweep): the error, not a finite result
    with pytest.raises(Exception, match="delay"):
        jax.vmap(
            lambda v: nm.simulate(eqx.tree_at(lambda n: n.speed, net, v), **KW)["x"]
        )(jnp.asarray([5.0, value]))


def test_traced_explicit_delays_negative_with_zero_min_delay():
    d = np.full((N, N), 2.0)
    net = nm.Network(nm.models.Hopf(), np.ones((N, N)), delays=d, min_delay=0.0)
    with pytest.raises(Exception, match="negative"):
        _run_traced(net, lambda n: n.explicit_delays, -d)


def test_nan_speed_in_a_sweep_is_an_error_point():
    """`nm.sweep` marks the point with a NaN speed as an error, never `ok`."""
    net = _net(max_delay=10.0, min_delay=0.5)

    def fn(n):
        return {"x": nm.simulate(n, **KW)["x"][-1].mean()}

    space = nm.Space({"speed": nm.DataAxis(jnp.asarray([5.0, 6.0]))})
    ok = nm.sweep(fn, space, model=net, progress=False)
    assert list(ok.status) == ["ok", "ok"]
    bad = nm.Space({"speed": nm.DataAxis(jnp.asarray([5.0, jnp.nan]))})
    with pytest.raises((ValueError, nm.SweepError), match="speed"):
        nm.sweep(fn, bad, model=net, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path, value, message",
    [
        (lambda n: n.noise.sigma, np.nan, "Noise `sigma`"),
        (lambda n: n.noise.sigma, -0.01, "Noise `sigma`"),
        (lambda n: n.node.a, np.nan, "Parameter `a` of Hopf"),
        (lambda n: n.k, np.inf, "global coupling `k`"),
    ],
)
def test_traced_parameters_out_of_domain_are_errors(path, value, message):
    net = _net(noise=nm.noise.Additive(0.01))
    key = jax.random.key(0)
    with pytest.raises(Exception, match=message):
        _run_traced(net, path, value, key=key)
    # valid values run
    assert np.isfinite(np.asarray(_run_traced(net, path, 0.02, key=key))).all()


def test_coloured_noise_tau_checked():
    net = _net(noise=nm.noise.OrnsteinUhlenbeck(tau=5.0, sigma=0.05))
    with pytest.raises(Exception, match="Noise `tau`"):
        _run_traced(net, lambda n: n.noise.tau, 0.0, key=jax.random.key(0))


def _positive_parameters():
    from neuromass.models._params import positive_parameters

    return [(c, p) for c in _model_classes() for p in positive_parameters(c())]


def _model_classes():
    return [getattr(nm.models, name) for name in nm.models.list_models().names()]


def test_time_constants_are_declared_positive():
    """Every parameter named `tau...` of every model has the domain > 0, and the
    rates of Jansen-Rit (a, b) and Zetterberg-Jansen (ke, ki) too."""
    import dataclasses

    declared = set((c.__name__, p) for c, p in _positive_parameters())
    classes = _model_classes()
    assert len(classes) == 29
    for cls in classes:
        for f in dataclasses.fields(cls):
            if f.name.startswith("tau"):
                assert (cls.__name__, f.name) in declared, (cls, f.name)
    for p in ("a", "b"):
        assert ("JansenRit", p) in declared
    for p in ("ke", "ki"):
        assert ("ZetterbergJansen", p) in declared


@pytest.mark.parametrize("value", [-10.0, 0.0, np.nan])
def test_positive_parameter_out_of_domain_refused_when_built(value):
    pairs = _positive_parameters()
    assert len(pairs) >= 30
    for cls, p in pairs:
        with pytest.raises(
            ValueError, match=rf"`{cls.__name__}\({p}=\.\.\.\)` must be > 0"
        ):
            cls(**{p: value})
        with pytest.raises(
            ValueError, match=rf"`{cls.__name__}\({p}=\.\.\.\)` must be > 0"
        ):
            cls().replace(**{p: value})
    # per-region values: one bad region is enough
    with pytest.raises(ValueError, match="tau_e"):
        nm.models.WilsonCowan(tau_e=np.array([10.0, -1.0, 10.0]))


def test_positive_parameter_out_of_domain_traced_is_an_error():
    """A time constant set to a negative value with `tree_at` inside `jit` (which no
    constructor sees) stops the run naming it; a positive one runs."""
    net = nm.Network(
        nm.models.WilsonCowan(), np.ones((3, 3)) * 0.1, noise=nm.noise.Additive(0.01)
    )

    @eqx.filter_jit
    def run(tau):
        m = eqx.tree_at(lambda n: n.node.tau_e, net, tau)
        return nm.simulate(m, t1=2.0, dt=0.1, key=jax.random.key(0))["E"]

    with pytest.raises(Exception, match=r"Parameter `tau_e` of WilsonCowan is not a"):
        run(jnp.asarray(-10.0))
    assert np.isfinite(np.asarray(run(jnp.asarray(12.0)))).all()


def test_node_parameter_set_to_a_string_is_named():
    net = eqx.tree_at(lambda n: n.node.a, _net(), "abc")
    with pytest.raises(TypeError, match=r"Parameter `a` of Hopf"):
        nm.simulate(net, **KW)


@pytest.mark.slow
@pytest.mark.parametrize("save_every", [0.1, 0.5])
def test_weights_sweep_matches_fresh_networks(save_every):
    """A weights sweep (`DataAxis` of matrices) on a delayed network runs with any
    `save_every` and gives, point by point, what freshly built networks give."""
    net = _net()
    w = np.asarray(net.weights)
    stack = jnp.stack([w, 0.5 * w])
    kw = {**KW, "save_every": save_every}

    def fn(n):
        return {"x": nm.simulate(n, **kw)["x"]}

    res = nm.sweep(
        fn, nm.Space({"weights": nm.DataAxis(stack)}), model=net, progress=False
    )
    assert list(res.status) == ["ok", "ok"]
    for i, wi in enumerate(stack):
        fresh = nm.simulate(net.replace(weights=wi), **kw)["x"]
        np.testing.assert_allclose(res.outputs["x"][i], fresh, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    "stimulus, path, value, message",
    [
        (
            nm.stimuli.RegionStimulus(jnp.ones(N), nm.equations.PulseTrain(tau=1.0)),
            lambda s: s.temporal.tau,
            -1.0,
            r"`PulseTrain\(tau=...\)` must be >= 0",
        ),
        (
            nm.stimuli.RegionStimulus(
                jnp.ones(N), nm.equations.PulseTrain(T=5.0, tau=1.0)
            ),
            lambda s: s.temporal.T,
            -5.0,
            r"`PulseTrain\(T=...\)` must be > 0",
        ),
        (
            nm.stimuli.RegionStimulus(jnp.ones(N), nm.equations.Sinusoid()),
            lambda s: s.weights,
            jnp.array([1.0, jnp.nan, 1.0, 1.0]),
            r"RegionStimulus \(`weights`\) is NaN",
        ),
        (
            nm.stimuli.TimeSeriesStimulus(jnp.linspace(0.0, 4.0, 5), jnp.ones((5, N))),
            lambda s: s.times,
            jnp.linspace(0.0, 2.0, 5),
            "does not cover the simulated interval",
        ),
    ],
    ids=["pulse-width", "pulse-period", "weights", "coverage"],
)
def test_traced_stimulus_values_are_checked(stimulus, path, value, message):
    """A stimulus's values set inside `jit` are checked as its constructor checks
    them (the same values outside `jit` are refused when it is built)."""
    net = _net()
    run = eqx.filter_jit(lambda s: nm.simulate(net, stimulus=s, **KW)["x"])
    assert np.all(np.isfinite(run(stimulus)))
    with pytest.raises(Exception, match=message):
        run(eqx.tree_at(path, stimulus, jnp.asarray(value)))
