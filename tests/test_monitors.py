"""Monitors against independent references (numpy reductions, scipy ODE solves)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
from helpers import Decay

import neuromass as nm


def _net(n=5, seed=0, noise=None):
    rng = np.random.default_rng(seed)
    w = rng.random((n, n))
    lengths = rng.uniform(2.0, 20.0, (n, n))
    return nm.Network(
        nm.models.Hopf(a=0.1),
        w,
        lengths=lengths,
        speed=4.0,
        coupling="diffusive",
        k=0.2,
        noise=noise,
    )


def test_subsample_average_projection_match_numpy():
    net = _net()
    gain = np.random.default_rng(1).normal(size=(3, 5))
    mons = [
        nm.monitors.Subsample(2.0, variables="x"),
        nm.monitors.TemporalAverage(1.0, variables=("x", "y")),
        nm.monitors.Projection(gain, variable="x", every=0.5),
    ]
    sol = nm.simulate(net, t1=40.0, dt=0.1, transient=10.0, monitors=mons)
    raw = {v: np.asarray(sol[v]) for v in ("x", "y")}  # every step from t=10
    sub = sol.monitors["subsample"]
    np.testing.assert_allclose(sub.data["x"], raw["x"][20::20], atol=1e-6)
    np.testing.assert_allclose(sub.ts, np.asarray(sol.ts)[20::20], atol=1e-4)
    tavg = sol.monitors["tavg"]
    blocks = raw["y"][1:].reshape(-1, 10, 5).mean(axis=1)
    np.testing.assert_allclose(tavg.data["y"], blocks, atol=1e-6)
    np.testing.assert_allclose(tavg.ts, 10.0 + np.arange(1, 31), atol=1e-4)
    eeg = sol.monitors["eeg"]
    proj = raw["x"][1:].reshape(-1, 5, 5).mean(axis=1) @ gain.T
    np.testing.assert_allclose(eeg.data, proj, atol=1e-5)
    assert sol["eeg"].shape == (60, 3)


@pytest.mark.slow
def test_streaming_statistics_match_numpy(getkey):
    net = _net(noise=nm.noise.Additive(0.05))
    mons = [nm.monitors.OnlineFC("x", every=0.5), nm.monitors.RunningStats("y")]
    sol = nm.simulate(
        net, t1=60.0, dt=0.1, save_every=0.5, transient=5.0, key=getkey(), monitors=mons
    )
    x = np.asarray(sol["x"][1:])
    y_all = nm.simulate(net, t1=60.0, dt=0.1, transient=5.0, key=jax.random.key(0))
    fc = sol.monitors["fc"].data
    np.testing.assert_allclose(fc["fc"], np.corrcoef(x.T), atol=2e-5)
    np.testing.assert_allclose(fc["mean"], x.mean(0), atol=1e-6)
    assert sol.monitors["fc"].ts is None and float(fc["count"]) == x.shape[0]
    stats = sol.monitors["stats"].data
    yy = np.asarray(y_all["y"][1:])
    assert float(stats["count"]) == yy.shape[0]
    del stats, yy  # RunningStats checked on a deterministic run below


def test_running_stats_match_numpy():
    net = _net()
    sol = nm.simulate(
        net,
        t1=30.0,
        dt=0.1,
        transient=5.0,
        monitors=[nm.monitors.RunningStats("x", every=0.2)],
    )
    x = np.asarray(sol["x"][2::2])
    st = sol.monitors["stats"].data
    np.testing.assert_allclose(st["mean"], x.mean(0), atol=1e-6)
    np.testing.assert_allclose(st["var"], x.var(0), atol=1e-6)


def test_streaming_memory_does_not_grow_with_duration():
    net = _net()
    mon = [nm.monitors.OnlineFC("x")]
    short = jax.eval_shape(
        lambda: (
            nm.simulate(net, t1=10.0, dt=0.1, save_every=10.0, monitors=mon).monitors
        )
    )
    long = jax.eval_shape(
        lambda: (
            nm.simulate(
                net, t1=1000.0, dt=0.1, save_every=1000.0, monitors=mon
            ).monitors
        )
    )
    assert jax.tree.map(lambda s: s.shape, short) == jax.tree.map(
        lambda s: s.shape, long
    )


def _balloon_reference(z, t_end, bold):
    p = {k: float(getattr(bold, k)) for k in ("kappa", "gamma", "tau", "alpha", "E0")}

    def rhs(t, u):
        s, f, v, q = u
        vo = v ** (1 / p["alpha"])
        e = (1 - (1 - p["E0"]) ** (1 / f)) / p["E0"]
        return [
            z - p["kappa"] * s - p["gamma"] * (f - 1),
            s,
            (f - vo) / p["tau"],
            (f * e - vo * q / v) / p["tau"],
        ]

    return scipy.integrate.solve_ivp(
        rhs, (0, t_end), [0, 1, 1, 1], rtol=1e-10, atol=1e-12, dense_output=True
    )


def test_bold_balloon_against_scipy_and_steady_state(x64):
    z0 = 0.5
    node = Decay(gamma=0.0)  # v stays at its initial value: constant drive
    bold = nm.monitors.Bold("v", tr=500.0)
    sol = nm.simulate(
        node, t1=30000.0, dt=1.0, save_every=30000.0, y0={"v": z0}, monitors=[bold]
    )
    out = sol.monitors["bold"]
    ref = _balloon_reference(z0, 30.0, bold)
    k1 = 4.3 * 40.3 * 0.34 * 0.04
    k2 = 1.0 * 25.0 * 0.34 * 0.04
    for t, y in zip(np.asarray(out.ts)[:20], np.asarray(out.data)[:20, 0]):
        s, f, v, q = ref.sol(t / 1000.0)
        expect = 0.02 * (k1 * (1 - q) + k2 * (1 - q / v))
        np.testing.assert_allclose(y, expect, atol=2e-5)
    f = 1 + z0 / 0.41
    v = f**0.32
    q = v * (1 - (1 - 0.34) ** (1 / f)) / 0.34
    steady = 0.02 * (k1 * (1 - q) + k2 * (1 - q / v))
    np.testing.assert_allclose(out.data[-1, 0], steady, rtol=1e-3)


def test_online_fc_over_bold_source(getkey):
    net = _net(noise=nm.noise.Additive(0.1))
    bold = nm.monitors.Bold("x", tr=50.0)
    fc_b = nm.monitors.OnlineFC(source=nm.monitors.Bold("x", tr=50.0), name="bold_fc")
    sol = nm.simulate(
        net, t1=2000.0, dt=0.5, save_every=100.0, key=getkey(), monitors=[bold, fc_b]
    )
    b = np.asarray(sol["bold"])
    np.testing.assert_allclose(sol["bold_fc"]["fc"], np.corrcoef(b.T), atol=1e-4)


def test_online_fc_over_bold_source_after_a_transient(getkey):
    """The BOLD source inside `OnlineFC` evolves through the transient like the
    `Bold` monitor on its own (it does not restart at rest when the transient
    ends), so both see the same BOLD samples."""
    net = _net(noise=nm.noise.Additive(0.1))
    bold = nm.monitors.Bold("x", tr=50.0)
    fc_b = nm.monitors.OnlineFC(source=bold, name="bold_fc")
    sol = nm.simulate(
        net,
        t1=2000.0,
        dt=0.5,
        save_every=100.0,
        transient=1000.0,
        key=getkey(),
        monitors=[bold, fc_b],
    )
    b = np.asarray(sol["bold"])
    assert sol["bold_fc"]["count"] == b.shape[0] == 20
    np.testing.assert_allclose(sol["bold_fc"]["mean"], b.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(sol["bold_fc"]["fc"], np.corrcoef(b.T), atol=1e-4)


@pytest.mark.filterwarnings("ignore::neuromass.SymmetricStartWarning")
def test_monitors_on_network_without_delays_match_diffrax_path():
    w = np.random.default_rng(2).random((4, 4))
    net = nm.Network(nm.models.Hopf(), w, coupling="diffusive", k=0.1)
    plain = nm.simulate(net, t1=20.0, dt=0.1, save_every=1.0)
    looped = nm.simulate(
        net,
        t1=20.0,
        dt=0.1,
        save_every=1.0,
        monitors=[nm.monitors.TemporalAverage(1.0)],
    )
    np.testing.assert_allclose(plain["x"], looped["x"], atol=1e-5)


def test_monitor_validation():
    net = _net()
    with pytest.raises(ValueError, match="unknown variable"):
        nm.simulate(net, t1=5.0, dt=0.1, monitors=[nm.monitors.Bold("z")])
    with pytest.raises(ValueError, match="multiple of `dt`"):
        nm.simulate(net, t1=5.0, dt=0.1, monitors=[nm.monitors.TemporalAverage(0.25)])
    with pytest.raises(ValueError, match="distinct"):
        nm.simulate(
            net, t1=5.0, dt=0.1, monitors=[nm.monitors.Bold(), nm.monitors.Bold()]
        )
    with pytest.raises(ValueError, match="gain"):
        nm.monitors.Projection(jnp.ones(3))


def _loss_fn(net, **kw):
    def loss(k):
        sol = nm.simulate(
            eqx.tree_at(lambda n: n.k, net, k), t1=30.0, dt=0.1, save_every=1.0, **kw
        )
        return jnp.mean(sol["x"][-10:] ** 2)

    return loss


@pytest.mark.slow
def test_checkpoint_gives_the_same_gradient(x64):
    net = _net()
    k = jnp.asarray(0.3)
    g0 = jax.grad(_loss_fn(net))(k)
    g1 = jax.grad(_loss_fn(net, checkpoint=True))(k)
    np.testing.assert_allclose(g1, g0, rtol=1e-10)
    # a horizon longer than the run changes nothing; a short one truncates
    g2 = jax.grad(_loss_fn(net, gradient_horizon=50.0))(k)
    g3 = jax.grad(_loss_fn(net, gradient_horizon=5.0))(k)
    np.testing.assert_allclose(g2, g0, rtol=1e-10)
    assert np.isfinite(g3) and abs(float(g3) - float(g0)) > 1e-8
    # ... and a finite difference agrees with the full gradient
    h = 1e-6
    fd = (_loss_fn(net)(k + h) - _loss_fn(net)(k - h)) / (2 * h)
    np.testing.assert_allclose(g0, fd, rtol=1e-5)


def test_runs_too_short_for_a_second_sample(getkey):
    net = _net(noise=nm.noise.Additive(0.05))
    mons = [nm.monitors.TemporalAverage(0.5), nm.monitors.Bold(tr=2.0)]
    sol = nm.simulate(
        net,
        t1=10.0,
        dt=0.1,
        save_every=1.0,
        transient=10.0,
        key=getkey(),
        monitors=mons,
    )
    assert sol["x"].shape == (1, 5)
    assert sol["tavg"]["x"].shape == (0, 5) and sol["bold"].shape == (0, 5)
    assert sol.monitors["bold"].ts.shape == (0,)


@pytest.mark.slow
def test_result_does_not_depend_on_the_loop_blocking(getkey):
    # the noise of step n depends only on (key, n): saving more often changes the
    # blocking of the loop, not the trajectory
    net = _net(noise=nm.noise.Additive(0.05))
    key = getkey()
    a = nm.simulate(net, t1=150.0, dt=0.1, save_every=1.0, transient=3.0, key=key)
    b = nm.simulate(net, t1=150.0, dt=0.1, save_every=0.1, transient=3.0, key=key)
    np.testing.assert_allclose(a["x"], b["x"][::10], atol=1e-5)


# --------------------------------------------- EEG/MEG observables, spatial averages
_OBS_GAIN = np.random.default_rng(7).normal(size=(5, 4))
_ROI = np.array([2, 0, 2, 1])


@pytest.fixture(scope="module")
def observed():
    """One Jansen-Rit network observed by every new monitor at once."""
    w = np.random.default_rng(3).uniform(0.2, 1.0, (4, 4))
    net = nm.Network(nm.models.JansenRit(), w, coupling="sigmoidal_jansen_rit", k=1.0)
    key = jax.random.key(42)
    mons = [
        nm.monitors.Projection(_OBS_GAIN, "y1 - y2", every=1.0, reference="average"),
        nm.monitors.Projection(
            _OBS_GAIN, {"y1": 1.0, "y2": -1.0}, every=1.0, name="eeg_w", reference=2
        ),
        nm.monitors.Projection(
            _OBS_GAIN, lambda y: y["y1"] - y["y2"], every=1.0, name="eeg_f"
        ),
        nm.monitors.Projection(
            np.zeros((3, 4)), "y0", every=0.1, name="noise", noise=0.5, key=key
        ),
        nm.monitors.GlobalAverage(every=0.5, variables=("y1", "y2")),
        nm.monitors.SpatialAverage(_ROI, every=0.5, variables="y1"),
        nm.monitors.Bold("y1", tr=20.0, scale=0.01),
        nm.monitors.SpatialAverage(
            _ROI, source=nm.monitors.Bold("y1", tr=20.0, scale=0.01), name="roi_bold"
        ),
    ]
    sol = nm.simulate(net, t1=100.0, dt=0.1, monitors=mons)
    return sol, key


def test_eeg_projection_of_an_expression_matches_numpy(observed):
    sol, _ = observed
    v = np.asarray(sol["y1"]) - np.asarray(sol["y2"])  # every step, t = 0 ... 200
    mean = v[1:].reshape(100, 10, 4).mean(axis=1)  # the steps of each 1-ms window
    avg_ref = _OBS_GAIN - _OBS_GAIN.mean(axis=0)
    np.testing.assert_allclose(sol["eeg"], mean @ avg_ref.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        np.asarray(sol["eeg"]).sum(axis=1), 0.0, atol=1e-3
    )  # average reference: sensors sum to 0
    sensor_ref = _OBS_GAIN - _OBS_GAIN[2]
    np.testing.assert_allclose(sol["eeg_w"], mean @ sensor_ref.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(sol["eeg_f"], mean @ _OBS_GAIN.T, rtol=1e-4, atol=1e-4)


def test_observation_noise_variance_and_keying(observed):
    sol, key = observed
    xi = np.asarray(sol["noise"])  # zero gain: pure noise, 1000 samples x 3 sensors
    assert xi.shape == (1000, 3)
    n = xi.size
    # sample variance of n N(0, 0.25) values: relative sd sqrt(2/n) = 1.8 %
    assert abs(xi.var() / 0.25 - 1.0) < 5 * np.sqrt(2.0 / n)
    assert abs(xi.mean()) < 5 * 0.5 / np.sqrt(n)
    lag1 = np.corrcoef(xi[1:].ravel(), xi[:-1].ravel())[0, 1]
    assert abs(lag1) < 5 / np.sqrt(n)  # white in time
    assert abs(np.corrcoef(xi[:, 0], xi[:, 1])[0, 1]) < 5 / np.sqrt(1000)
    # keyed: sample m is normal(fold_in(key, m))
    ref = 0.5 * np.asarray(jax.random.normal(jax.random.fold_in(key, 7), (3,)))
    np.testing.assert_allclose(xi[7], ref, rtol=1e-6)
    with pytest.raises(ValueError, match="random key"):
        nm.monitors.Projection(np.ones((2, 4)), noise=0.1)


def test_global_and_spatial_averages_match_numpy(observed):
    sol, _ = observed
    y1, y2 = np.asarray(sol["y1"])[5::5], np.asarray(sol["y2"])[5::5]  # every 0.5 ms
    np.testing.assert_allclose(sol["global"]["y1"], y1.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(sol["global"]["y2"], y2.mean(axis=1), rtol=1e-5)
    roi = np.stack([y1[:, _ROI == g].mean(axis=1) for g in (0, 1, 2)], axis=1)
    np.testing.assert_allclose(sol["spatial"]["y1"], roi, rtol=1e-5)
    # ROI BOLD: the ROI means of the regional BOLD signals, at every TR
    bold = np.asarray(sol["bold"])
    roi_bold = np.stack([bold[:, _ROI == g].mean(axis=1) for g in (0, 1, 2)], axis=1)
    np.testing.assert_allclose(sol["roi_bold"], roi_bold, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sol.monitors["roi_bold"].ts, sol.monitors["bold"].ts)
    with pytest.raises(ValueError, match="1-D"):
        nm.monitors.SpatialAverage(np.zeros((2, 2)))


def test_expression_parser_refuses_code():
    with pytest.raises(ValueError, match="may only combine"):
        nm.monitors.Projection(np.ones((1, 2)), "__import__('os')")
    with pytest.raises(ValueError, match="reference"):
        nm.monitors.Projection(np.ones((2, 2)), "x", reference=5)


def test_tvb_data_lead_field_matches_numpy():
    """The region gain is the surface gain summed over each region's vertices,
    recomputed here from the raw tvb-data files."""
    pytest.importorskip("tvb_data")
    import importlib.resources

    lf = nm.datasets.load_lead_field("eeg", n_regions=76)
    files = importlib.resources.files
    with importlib.resources.as_file(
        files("tvb_data.projectionMatrix") / "projection_eeg_65_surface_16k.npy"
    ) as p:
        surface = np.load(p)
    rmap = np.loadtxt(files("tvb_data.regionMapping") / "regionMapping_16k_76.txt")
    usable = np.isfinite(surface).all(axis=1)
    expected = np.stack(
        [surface[usable][:, rmap == r].sum(axis=1) for r in range(76)], axis=1
    )
    np.testing.assert_allclose(lf.gain, expected, rtol=1e-12)
    sensors = (files("tvb_data.sensors") / "eeg_brainstorm_65.txt").read_text()
    names = [line.split()[0] for line in sensors.splitlines()]
    assert list(lf.labels) == [n for n, u in zip(names, usable) if u]
    assert lf.gain.shape == (63, 76) and lf.locations.shape == (63, 3)
    eeg = nm.monitors.EEG(lf, variable="y1 - y2")
    assert eeg.reference == "average" and eeg.gain.shape == (63, 76)


def test_projection_defaults_to_the_model_observable():
    """`EEG(gain)` projects the model's observable (Jansen-Rit's y1 - y2) once bound
    to the network; unbound, it says how to fix it."""
    rng = np.random.default_rng(3)
    gain = rng.normal(size=(3, 4))
    node = nm.models.JansenRit()
    net = nm.Network(node, rng.random((4, 4)), k=0.01, coupling="sigmoidal_jansen_rit")
    eeg = nm.monitors.EEG(gain, every=1.0)
    assert eeg.variables is None
    bound = eeg.bind(net)
    assert bound.variables == ("y1", "y2") and bound.reference == "average"
    assert bound.bind(net) is bound
    assert nm.monitors.MEG(gain).bind(node).variables == ("y1", "y2")
    assert nm.monitors.iEEG(gain, name="s").bind(nm.models.Hopf()).variables == ("x",)
    sol = nm.simulate(net, t1=20.0, dt=0.1, monitors=[bound])
    v = np.asarray(sol["y1"]) - np.asarray(sol["y2"])
    mean = v[1:].reshape(20, 10, 4).mean(axis=1)
    avg_ref = gain - gain.mean(axis=0)
    np.testing.assert_allclose(sol["eeg"], mean @ avg_ref.T, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match=r"bind\(network\)"):
        nm.simulate(net, t1=5.0, dt=0.1, monitors=[eeg.bind(net).__class__(gain)])
    with pytest.raises(TypeError, match="bind"):
        eeg.bind("network")


def test_lead_field_parcellation_is_checked_against_the_network():
    """A lead field knows its regions; projecting it onto a network of another
    parcellation is an error that names both."""
    rng = np.random.default_rng(0)
    w = rng.random((4, 4))
    regions = ("rA", "rB", "lA", "lB")
    lf = nm.datasets.LeadField(
        gain=rng.normal(size=(2, 4)), labels=("e1", "e2"), locations=np.zeros((2, 3)),
        orientations=None, kind="eeg", source="test", regions=regions,
        parcellation="toy4",
    )  # fmt: skip
    eeg = nm.monitors.EEG(lf)
    assert eeg.regions == regions and eeg.parcellation == "toy4"
    node = nm.models.Hopf()
    same = nm.Network(node, w, labels=regions)
    assert eeg.bind(same).variables == ("x",)
    assert eeg.bind(nm.Network(node, w)).variables == ("x",)  # no labels: unchecked
    other = nm.Network(node, w, labels=("L1", "L2", "L3", "L4"))
    with pytest.raises(ValueError, match=r"toy4 \(4 regions: 'rA'.*'L1', 'L2'"):
        eeg.bind(other)
    shuffled = nm.Network(node, w, labels=regions[::-1])
    with pytest.raises(ValueError, match="another order"):
        eeg.bind(shuffled)
    with pytest.raises(ValueError, match="3 regions"):
        eeg.bind(nm.Network(node, w[:3, :3]))
    with pytest.raises(ValueError, match="`regions` names 3 regions"):
        nm.monitors.Projection(np.ones((2, 4)), regions=regions[:3])
    with pytest.raises(ValueError, match="LeadField.regions"):
        nm.datasets.LeadField(
            gain=np.ones((2, 4)), labels=("a", "b"), locations=np.zeros((2, 3)),
            orientations=None, kind="eeg", source="", regions=("x",),
        )  # fmt: skip


def test_tvb_data_lead_fields_carry_their_parcellation():
    pytest.importorskip("tvb_data")
    tvb76 = nm.datasets.load_connectome("tvb76")
    for kind in ("eeg", "meg", "seeg"):
        lf = nm.datasets.load_lead_field(kind)
        assert lf.regions == tvb76.labels and lf.parcellation == "tvb76", kind
    node = nm.models.JansenRit()
    net = nm.Network.from_connectome(node, tvb76, coupling="sigmoidal_jansen_rit")
    assert net.labels == tvb76.labels
    eeg = nm.monitors.EEG(nm.datasets.load_lead_field("eeg")).bind(net)
    assert eeg.variables == ("y1", "y2")
    edr = nm.Network.from_connectome(node, nm.datasets.load_connectome())
    with pytest.raises(ValueError, match=r"tvb76 \(76 regions: 'rA1'.*'L01'"):
        nm.monitors.EEG(nm.datasets.load_lead_field("eeg")).bind(edr)


def test_seeg_point_dipole_gain_matches_tvb():
    """`LeadField.from_sensors` and `load_lead_field("seeg")` give the gain TVB's
    `iEEG` monitor computes without a projection matrix (`iEEG.analytic`: a point
    dipole in a homogeneous conductor), for tvb-data's 588 contacts and the centres
    and orientations of its 76-region connectivity."""
    pytest.importorskip("tvb_data")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.datatypes.connectivity import Connectivity
        from tvb.datatypes.sensors import SensorsInternal
        from tvb.simulator.monitors import iEEG

    sensors = SensorsInternal.from_file("seeg_588.txt")
    conn = Connectivity.from_file("connectivity_76.zip")
    reference = iEEG(sensors=sensors, sigma=2.0).analytic(
        conn.centres, conn.orientations
    )
    lf = nm.datasets.LeadField.from_sensors(
        sensors.locations, conn.centres, conn.orientations, sigma=2.0
    )
    np.testing.assert_allclose(lf.gain, reference, rtol=1e-10)
    reference = iEEG(sensors=sensors).analytic(conn.centres, conn.orientations)
    seeg = nm.datasets.load_lead_field("seeg")
    np.testing.assert_allclose(seeg.gain, reference, rtol=1e-10)
    assert seeg.labels == tuple(sensors.labels) and seeg.kind == "seeg"
    # radial default orientations: unit vectors from the centroid of the sources
    radial = nm.datasets.LeadField.from_sensors(sensors.locations[:2], conn.centres)
    q = conn.centres - conn.centres.mean(axis=0)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    expected = iEEG(sensors=sensors).analytic(conn.centres, q)[:2]
    np.testing.assert_allclose(radial.gain, expected, rtol=1e-10)
    with pytest.raises(ValueError, match="sits exactly on source"):
        nm.datasets.LeadField.from_sensors(conn.centres[:1], conn.centres)
    with pytest.raises(ValueError, match="orientations"):
        nm.datasets.LeadField.from_sensors(
            sensors.locations, conn.centres, np.ones((3, 3))
        )
