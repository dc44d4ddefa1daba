"""Construction-time validation of `Network` and argument checks of `simulate`:
every bad input gets an error that names the argument."""

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import Decay

import neuromass as nm


W = np.ones((3, 3))
L = np.full((3, 3), 10.0)
HOPF = nm.models.Hopf()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(weights=np.ones((3, 2))), "`weights` must be a square"),
        (dict(weights=np.array([[0, np.nan], [1, 0]])), "`weights` contains NaN"),
        (dict(lengths=np.ones((2, 2)), speed=1.0), "`lengths` has shape"),
        (dict(lengths=-L, speed=1.0), "`lengths` contains negative"),
        (dict(delays=-L), "`delays` contains negative"),
        (dict(delays=np.ones((4, 4))), "`delays` has shape"),
        (dict(lengths=L, speed=0.0), "`speed` must be a finite positive"),
        (dict(lengths=L, speed=-2.0), "`speed` must be a finite positive"),
        (dict(lengths=L), "must be given together"),
        (dict(speed=3.0), "must be given together"),
        (dict(lengths=L, speed=1.0, delays=L), "either `delays`"),
        (dict(coupled_vars=("z",)), "`coupled_vars` names unknown variable"),
        (dict(node=nm.models.Hopf(a=jnp.ones(4))), "does not broadcast to 3"),
        (dict(node=nm.models.Hopf(a=jnp.array([0.1, jnp.nan, 0.2]))), "NaN or inf"),
        (dict(k=jnp.ones(2)), "`k` must be a scalar"),
        (dict(noise=nm.noise.Additive(0.1, variables=("q",))), "unknown variable"),
        (dict(coupling="telepathic"), "Unknown coupling"),
        (dict(node="hopf"), "`node` must be a node model"),
        (dict(labels=("a", "b")), "`labels` names 2 regions"),
        (dict(labels="abc"), "single string"),
    ],
)
def test_network_validation(kwargs, match):
    args = dict(node=HOPF, weights=W)
    args.update(kwargs)
    node, weights = args.pop("node"), args.pop("weights")
    with pytest.raises((ValueError, TypeError), match=match):
        nm.Network(node, weights, **args)


def test_self_connection_and_pattern():
    w = np.arange(9.0).reshape(3, 3)
    net = nm.Network(HOPF, w)
    np.testing.assert_array_equal(np.diag(net.weights), 0.0)
    assert net.n_edges == 6  # the six off-diagonal entries are non-zero
    kept = nm.Network(HOPF, w, self_connection=True)
    np.testing.assert_array_equal(np.diag(kept.weights), np.diag(w))
    # edge layout: weights of the in-edges of region i sum to the row sum
    np.testing.assert_allclose(
        np.asarray(net.edge_weights()).sum(0), np.asarray(net.weights).sum(1)
    )


def test_delays_from_lengths_and_speed():
    net = nm.Network(HOPF, W, lengths=L, speed=4.0)
    np.testing.assert_allclose(net.delays, L / 4.0)
    assert net.max_delay == pytest.approx(2.5)
    faster = net.replace(speed=10.0)
    assert faster.max_delay == pytest.approx(1.0)
    assert nm.Network(HOPF, W).delays is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(t1=-1.0), "later than `t0`"),
        (dict(dt=0.0), "`dt` must be positive"),
        (dict(dt=2.0, t1=1.0), "longer than the simulated span"),
        (dict(save_every=0.25), "multiple of `dt`"),
        (dict(transient=-1.0), "`transient` must be in"),
        (dict(interpolation="spline"), "`interpolation` must be one of"),
        (dict(coupling_evaluation="sometimes"), "`coupling_evaluation`"),
        (dict(y0={"x": 0.0}), "lacks"),
        (dict(y0={"x": 0.0, "y": 0.0, "z": 1.0}), "unknown variable"),
        (dict(y0={"x": jnp.ones(5), "y": 0.0}), "has shape"),
        (dict(y0={"x": jnp.nan, "y": 0.0}), "NaN or inf"),
        (dict(variables=("q",)), "Cannot save unknown variable"),
        (dict(solver=diffrax.ImplicitEuler()), "is implicit"),
        (dict(stepsize_controller=diffrax.PIDController(1e-3, 1e-3)), "fixed step"),
        (dict(solver="heun"), "must be a Diffrax solver"),
        (dict(monitors=["bold"]), "`monitors` must be a list"),
        (dict(gradient_horizon=0.25), "multiple of `dt`"),
    ],
)
def test_simulate_argument_errors(kwargs, match):
    net = nm.Network(HOPF, W, lengths=L, speed=10.0)
    args = dict(t1=5.0, dt=0.1)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        nm.simulate(net, **args)


def test_history_without_delays_refused():
    with pytest.raises(ValueError, match="no delays"):
        nm.simulate(
            nm.Network(HOPF, W),
            t1=1.0,
            dt=0.1,
            history=lambda t: {"x": jnp.zeros(3), "y": jnp.zeros(3)},
        )


def test_external_inputs_enter_the_named_variable(x64):
    # v' = u(t) = 2 t  ->  v(t) = v0 + t^2
    net = nm.Network(
        Decay(), np.zeros((2, 2)), inputs=lambda t: {"v": 2.0 * t * jnp.ones(2)}
    )
    sol = nm.simulate(
        net, t1=3.0, dt=0.01, y0={"v": 1.0}, save_every=0.5, solver=diffrax.Tsit5()
    )
    np.testing.assert_allclose(
        sol["v"][:, 0], 1.0 + np.asarray(sol.ts) ** 2, atol=1e-10
    )
    bad = nm.Network(Decay(), np.zeros((2, 2)), inputs=lambda t: {"w": jnp.ones(2)})
    with pytest.raises(ValueError, match="unknown key"):
        nm.simulate(bad, t1=1.0, dt=0.1)


@pytest.mark.slow
def test_single_node_and_heterogeneous_parameters(x64):
    a = jnp.array([0.04, 0.09, 0.16])
    net = nm.Network(nm.models.Hopf(a=a, omega=0.3), np.zeros((3, 3)))
    sol = nm.simulate(net, t1=300.0, dt=0.05, transient=250.0)
    r = np.hypot(sol["x"], sol["y"]).mean(0)
    np.testing.assert_allclose(r, np.sqrt(a), rtol=1e-3)
    one = nm.simulate(nm.models.Hopf(a=0.04), t1=300.0, dt=0.05, transient=250.0)
    assert one["x"].shape[1] == 1


def test_labels_from_a_connectome_and_replace():
    conn = nm.datasets.load_connectome()
    net = nm.Network.from_connectome(HOPF, conn, speed=10.0, k=0.3)
    assert net.labels == conn.labels and net.k == 0.3
    np.testing.assert_allclose(net.delays, np.asarray(conn.lengths) / 10.0, rtol=1e-6)
    assert nm.Network.from_connectome(HOPF, conn).delays is None  # no speed
    assert net.replace(k=0.1).labels == conn.labels
    assert nm.Network(HOPF, W).labels is None
    assert nm.Network(HOPF, W, labels=["a", "b", "c"]).labels == ("a", "b", "c")
    with pytest.raises(TypeError, match="takes `weights` from the connectome"):
        nm.Network.from_connectome(HOPF, conn, weights=W)
    with pytest.raises(TypeError, match="must be a `nm.datasets.Connectome`"):
        nm.Network.from_connectome(HOPF, W)


def test_summary_and_repr_show_values():
    """`summary()` is a table of parameters with values, units and meanings (as
    TVB's `summary_info`); `repr` shows scalar values, not `f32[]`."""
    node = nm.models.JansenRit(v0=6.0, mu=np.linspace(0.1, 0.2, 3))
    net = nm.Network(
        node, W, lengths=L, speed=5.0, k=0.5, labels=("a", "b", "c"),
        coupling="sigmoidal_jansen_rit", noise=nm.noise.Additive(0.01),
    )  # fmt: skip
    text = net.summary()
    lines = text.splitlines()
    assert lines[0] == "Network of 3 regions, 6 edges"
    assert "regions: a, b, c" in text and "observable y1 - y2" in text
    row = next(line.split() for line in lines if line.split()[:1] == ["v0"])
    assert row[:3] == ["v0", "6", "mV"]  # value, unit (from the docstring table)
    assert "mu         (3,) in [0.1, 0.2]  1/ms" in text
    assert "k: 0.5" in text and "speed 5 mm/ms" in text
    assert "noise: Additive(" in text and "f32[" not in text
    assert repr(nm.models.Hopf(a=0.25)) == "Hopf(a=0.25, omega=0.3)"
    r = repr(net)
    assert "k=0.5" in r and "v0=6" in r and "speed=5" in r and "f32[3,3]" in r
    assert "summary()" in nm.Network.__doc__
