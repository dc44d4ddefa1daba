"""Parity with The Virtual Brain (tvb-library), the reference implementation.

1. Every node model's vector field equals TVB's `Model.dfun` at random states,
   coupling inputs and parameters.
2. TVB-parity mode: a small delayed network of every model, simulated by TVB's
   `Simulator` (deterministic Heun, `Raw` monitor, history given explicitly) and by
   `nm.simulate(..., interpolation="nearest", coupling_evaluation="step")`, gives the
   same trajectory.

TVB stores its delay history (and the edge weights) in float32; a fixture switches
those buffers to float64 for the duration of a test, so that the comparison is exact
up to round-off (with TVB's float32 history the two agree to about 1e-6 relative).
"""

import warnings

import diffrax
import equinox as eqx
import numpy as np
import pytest

import neuromass as nm


with warnings.catch_warnings():
    # tvb-library warns at import about optional surface modules we do not use.
    warnings.simplefilter("ignore")
    tvb_models = pytest.importorskip("tvb.simulator.models")
    tvb_coupling = pytest.importorskip("tvb.simulator.coupling")
    from tvb.basic.neotraits.api import NArray
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import descriptors, history, integrators, monitors
    from tvb.simulator.simulator import Simulator


# neuromass model name -> TVB model name (same parameter and state names)
TVB_NAMES = {
    "Hopf": "SupHopf",
    "Generic2dOscillator": "Generic2dOscillator",
    "WilsonCowan": "WilsonCowan",
    "ReducedWongWang": "ReducedWongWang",
    "ReducedWongWangExcInh": "ReducedWongWangExcInh",
    "MontbrioPazoRoxin": "MontbrioPazoRoxin",
    "Kuramoto": "Kuramoto",
    "LarterBreakspear": "LarterBreakspear",
    "Epileptor": "Epileptor",
    "Epileptor2D": "Epileptor2D",
    "Linear": "Linear",
    "CoombesByrne": "CoombesByrne",
    "JansenRit": "JansenRit",
    "ZetterbergJansen": "ZetterbergJansen",
    "DecoBalancedExcInh": "DecoBalancedExcInh",
    "CoombesByrne2D": "CoombesByrne2D",
    "GastSchmidtKnosche_SD": "GastSchmidtKnosche_SD",
    "GastSchmidtKnosche_SF": "GastSchmidtKnosche_SF",
    "DumontGutkin": "DumontGutkin",
    "EpileptorCodim3": "EpileptorCodim3",
    "EpileptorCodim3SlowMod": "EpileptorCodim3SlowMod",
    "EpileptorRestingState": "EpileptorRestingState",
    "KIonEx": "KIonEx",
    "ZerlautAdaptationFirstOrder": "ZerlautAdaptationFirstOrder",
}
# checked by their own tests below: modes (reduced sets), a switch that changes the
# coupling variables (Hopfield), finite differences in TVB (Zerlaut second order)
OTHER_PARITY_TESTS = (
    "ReducedSetFitzHughNagumo",
    "ReducedSetHindmarshRose",
    "Hopfield",
    "ZerlautAdaptationSecondOrder",
)
ALL_TVB_NAMES = {**TVB_NAMES, **{name: name for name in OTHER_PARITY_TESTS}}
# states drawn within physical sub-ranges where TVB's typical range would give
# negative concentrations (log of a negative number in both implementations)
DFUN_STATE_RANGES = {"KIonEx": {"Kg": (-4.0, -1.0)}}
# neuromass parameters that TVB's equations do not read (kept at their default)
NOT_IN_TVB = {"Epileptor": {"s"}}
# neuromass defaults that intentionally differ from TVB's (TVB: a=-0.5, omega=1.0)
OTHER_DEFAULTS = {"Hopf": {"a", "omega"}}


def _tvb_model(name, params):
    cls = getattr(tvb_models, ALL_TVB_NAMES[name])
    model = cls(
        **{
            p: np.atleast_1d(np.asarray(v)).astype(getattr(cls, p).dtype)
            for p, v in params.items()
        }
    )
    model.configure()
    return model


def _round_integer_params(name, params):
    """TVB declares some counts as integers (e.g. Zerlaut's `N_tot`): round them."""
    cls = getattr(tvb_models, ALL_TVB_NAMES[name])
    return {
        p: float(round(v)) if np.dtype(getattr(cls, p).dtype).kind in "iu" and
        np.ndim(v) == 0 and not isinstance(v, bool | int) else v
        for p, v in params.items()
    }  # fmt: skip


def _import_without_numba_kernels(module):
    """Import a TVB model module whose numba kernels are compiled eagerly at import
    (`epileptorcodim3`: 4 s of CPU) without compiling them: its numpy reference
    `_numpy_dfun`, in the same module, is what the parity test calls."""
    import importlib
    import sys
    from unittest import mock

    import numba

    if module not in sys.modules:
        with mock.patch.object(numba, "guvectorize", lambda *a, **k: lambda f: f):
            importlib.import_module(module)


_import_without_numba_kernels("tvb.simulator.models.epileptorcodim3")


# TVB models whose `dfun` is a numba kernel compiled at first call (seconds each):
# their numpy reference `_numpy_dfun` (same equations, same module) is used instead
NUMPY_DFUN = {
    "DecoBalancedExcInh",
    "EpileptorCodim3",
    "EpileptorCodim3SlowMod",
    "EpileptorRestingState",
}


def _random_params(node, rng, skip=()):
    """Each parameter of `node` perturbed around its default (booleans flipped at
    random), as Python scalars."""
    out = {}
    for name, value in node.parameters().items():
        if name in skip:
            continue
        value = np.asarray(value)
        if value.dtype == bool:
            out[name] = bool(rng.random() < 0.5)
        elif value.dtype.kind in "iu":
            out[name] = int(value)  # a static switch (e.g. a branch number)
        elif value.ndim:  # a vector parameter (e.g. fitted coefficients)
            out[name] = value * rng.uniform(0.8, 1.2, value.shape)
        else:
            out[name] = float(value * rng.uniform(0.8, 1.2) + rng.uniform(-0.05, 0.05))
    return out


@eqx.filter_jit
def _vector_field(node, state, coupling):
    """The node's vector field, compiled once per model (faster than op by op)."""
    return node.vector_field(0.0, state, coupling)


@pytest.mark.parametrize("name", sorted(TVB_NAMES))
def test_vector_field_matches_tvb_dfun(name, x64):
    rng = np.random.default_rng(sum(map(ord, name)))
    cls = getattr(nm.models, name)
    n = 7
    for trial in range(3):
        skip = NOT_IN_TVB.get(name, set())
        params = _round_integer_params(name, _random_params(cls(), rng, skip=skip))
        if trial == 0:
            params = {}  # the defaults, which are TVB's
        node = cls(**params)
        ref = _tvb_model(
            name, {p: v for p, v in node.parameters().items() if p not in skip}
        )
        if trial == 0:
            tvb_cls = getattr(tvb_models, ALL_TVB_NAMES[name])
            # every TVB parameter is accepted (even those its equations do not read)
            declared = {
                k
                for k in tvb_cls.declarative_attrs
                if isinstance(getattr(tvb_cls, k), NArray)
            }
            assert declared <= set(node.parameters()), declared - set(node.parameters())
            for p, v in node.parameters().items():
                if p not in skip | OTHER_DEFAULTS.get(name, set()):
                    np.testing.assert_allclose(
                        v, getattr(tvb_cls, p).default, err_msg=p
                    )
        assert tuple(ref.state_variables) == node.state_names
        for v in node.state_names:
            if name != "Hopf":  # TVB's SupHopf draws initial states from [-5, 5]
                np.testing.assert_allclose(
                    node.state_ranges[v], ref.state_variable_range[v], err_msg=v
                )
        ranges = {**node.state_ranges, **DFUN_STATE_RANGES.get(name, {})}
        state = {v: rng.uniform(*ranges[v], size=n) for v in node.state_names}
        cvars = [ref.state_variables[i] for i in ref.cvar]
        cpl = rng.normal(0.0, 0.5, size=(len(cvars), n))
        ours = _vector_field(node, state, dict(zip(cvars, cpl)))
        x = np.stack([state[v] for v in node.state_names])[..., None]
        dfun = ref._numpy_dfun if name in NUMPY_DFUN else ref.dfun
        theirs = np.asarray(dfun(x, cpl[..., None]))[..., 0]
        for i, v in enumerate(node.state_names):
            np.testing.assert_allclose(
                np.asarray(ours[v]), theirs[i], rtol=1e-11, atol=1e-13, err_msg=v
            )


def test_fitzhugh_nagumo_is_tvb_generic2d_oscillator(x64):
    """TVB has no FitzHugh-Nagumo class; its Generic2dOscillator contains it."""
    rng = np.random.default_rng(7)
    for _ in range(3):
        a, b, tau = rng.uniform(0.5, 1.0, 3) * [1.0, 1.0, 20.0]
        current = rng.uniform(-0.5, 1.0)
        node = nm.models.FitzHughNagumo(a=a, b=b, tau=tau, I=current)
        g2d = dict(
            tau=np.sqrt(tau), d=1 / np.sqrt(tau), I=current, a=a, b=1.0, c=0.0,
            e=0.0, f=1 / 3, g=1.0, alpha=-1.0, beta=b, gamma=1.0,
        )  # fmt: skip
        ref = _tvb_model("Generic2dOscillator", g2d)
        state = {"V": rng.uniform(-2, 2, 5), "W": rng.uniform(-1, 2, 5)}
        cpl = rng.normal(size=5)
        ours = node.vector_field(0.0, state, {"V": cpl})
        theirs = ref.dfun(
            np.stack([state["V"], state["W"]])[..., None], cpl[None, :, None]
        )[..., 0]
        np.testing.assert_allclose(np.asarray(ours["V"]), theirs[0], rtol=1e-12)
        np.testing.assert_allclose(np.asarray(ours["W"]), theirs[1], rtol=1e-12)


# ----------------------------------------------------------------------------------
# TVB-parity mode: whole delayed networks
# ----------------------------------------------------------------------------------
@pytest.fixture
def tvb_float64_history(monkeypatch):
    """Make TVB's history buffers and edge weights float64 (they are float32)."""
    patched = 0
    for cls in (history.BaseHistory, history.DenseHistory, history.SparseHistory):
        for attr in vars(cls).values():
            if isinstance(attr, descriptors.NDArray) and attr.dtype == "f":
                monkeypatch.setattr(attr, "dtype", "d")
                patched += 1
    assert patched >= 4, "TVB's history layout changed; update this fixture."


def _network(n, rng, dt, speed, zero_delay=True):
    """Random weights [to, from] (some absent, self-connections present) and tract
    lengths whose delays are never within 1e-3 steps of a rounding tie."""
    w = rng.uniform(0.2, 1.0, (n, n)) * (rng.random((n, n)) < 0.7)
    lengths = rng.uniform(1.0, 30.0, (n, n))
    steps = lengths / speed / dt
    frac = steps - np.floor(steps)
    lengths = np.where(np.abs(frac - 0.5) < 1e-3, lengths + 0.01 * speed * dt, lengths)
    if zero_delay:
        w[0, 1], lengths[0, 1] = 0.8, 0.0  # one instantaneous edge
    return w, lengths


def _run_tvb(
    name, params, coupling, w, lengths, speed, dt, hist, n_steps, integrator=None
):
    n = w.shape[0]
    cls = getattr(tvb_models, ALL_TVB_NAMES[name])
    model = cls(
        **{
            p: np.asarray(v).astype(getattr(cls, p).dtype).reshape(-1)
            for p, v in params.items()
        },
        variables_of_interest=tuple(cls.state_variables),
    )
    conn = Connectivity(
        weights=w,
        tract_lengths=lengths,
        speed=np.array([speed]),
        centres=np.zeros((n, 3)),
        region_labels=np.array([f"r{i}" for i in range(n)]),
    )
    sim = Simulator(
        model=model,
        connectivity=conn,
        coupling=coupling,
        integrator=(integrator or integrators.HeunDeterministic)(dt=dt),
        monitors=[monitors.Raw()],
        initial_conditions=hist[..., None],
        simulation_length=n_steps * dt,
    )
    sim.configure()
    ((ts, ys),) = sim.run()
    assert ys.shape[0] == n_steps
    return ys[..., 0]  # (steps, nvar, n)


def _couplings(kind, **kw):
    """(neuromass coupling, TVB coupling) with the same parameters."""
    ours, theirs = {
        "linear": (nm.coupling.Linear, tvb_coupling.Linear),
        "difference": (nm.coupling.Diffusive, tvb_coupling.Difference),
        "sigmoidal": (nm.coupling.Sigmoidal, tvb_coupling.Sigmoidal),
        "tanh": (nm.coupling.Tanh, tvb_coupling.HyperbolicTangent),
        "kuramoto": (nm.coupling.Kuramoto, tvb_coupling.Kuramoto),
        "sigmoidal_jansen_rit": (
            nm.coupling.SigmoidalJansenRit,
            tvb_coupling.SigmoidalJansenRit,
        ),
        "scaling": (nm.coupling.Scaling, tvb_coupling.Scaling),
        "pre_sigmoidal": (nm.coupling.PreSigmoidal, tvb_coupling.PreSigmoidal),
    }[kind]
    return ours(**kw), theirs(
        **{k: v if isinstance(v, bool) else np.array([v]) for k, v in kw.items()}
    )


# model, coupling kind and parameters, dt (ms), speed (mm/ms), heterogeneous param
NETWORK_CASES = {
    "Hopf": ("difference", dict(a=0.3), 0.1, 4.0, ("omega", 0.3)),
    "Generic2dOscillator": (
        "sigmoidal",
        dict(cmin=-0.5, cmax=1.0, sigma=2.0),
        0.1,
        4.0,
        ("a", -0.5),
    ),  # noqa: E501
    "WilsonCowan": ("linear", dict(a=0.5, b=0.1), 0.1, 4.0, ("P", 0.5)),
    "ReducedWongWang": ("linear", dict(a=0.5), 0.1, 4.0, ("I_o", 0.33)),
    "ReducedWongWangExcInh": ("linear", dict(a=1.0), 0.1, 4.0, ("I_o", 0.382)),
    "MontbrioPazoRoxin": ("linear", dict(a=0.3), 0.01, 8.0, ("eta", -5.0)),
    "Kuramoto": ("kuramoto", dict(a=0.05), 0.1, 4.0, ("omega", 0.06)),
    "LarterBreakspear": ("tanh", dict(a=0.5, sigma=0.65), 0.1, 4.0, ("d_V", 0.6)),
    "Epileptor": ("difference", dict(a=0.5), 0.05, 4.0, ("x0", -1.8)),
    "Epileptor2D": ("difference", dict(a=0.5), 0.05, 4.0, ("x0", -1.8)),
    "Linear": ("linear", dict(a=0.8), 0.1, 4.0, ("gamma", -2.0)),
    "CoombesByrne": ("linear", dict(a=0.3), 0.01, 8.0, ("eta", 5.0)),
    "JansenRit": ("sigmoidal_jansen_rit", dict(a=1.0), 0.1, 4.0, ("mu", 0.22)),
}


# give TVB neuromass's defaults where they differ
SAME_DEFAULTS = {"Hopf": {"a": 0.2}}
# TVB's Jansen-Rit ranges (y1 up to 500 mV) overflow the sigmoid; stay physiological
HISTORY_RANGES = {
    "JansenRit": {
        "y0": (-0.1, 0.1),
        "y1": (5.0, 25.0),
        "y2": (5.0, 20.0),
        "y3": (-1.0, 1.0),
        "y4": (-5.0, 5.0),
        "y5": (-5.0, 5.0),
    }
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NETWORK_CASES))
def test_delayed_network_matches_tvb_simulator(name, x64, tvb_float64_history):
    kind, cparams, dt, speed, (hparam, hvalue) = NETWORK_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    n, n_steps = 5, 200
    w, lengths = _network(n, rng, dt, speed)
    params = {hparam: hvalue * (1.0 + 0.1 * rng.uniform(-1, 1, n))}
    params.update(SAME_DEFAULTS.get(name, {}))
    node = getattr(nm.models, name)(**params)
    horizon = int(np.rint(lengths / speed / dt).max()) + 1
    # an arbitrary (non-constant) history within the typical ranges, oldest first
    ranges = {**node.state_ranges, **HISTORY_RANGES.get(name, {})}
    hist = np.stack(
        [rng.uniform(*ranges[v], size=(horizon, n)) for v in node.state_names], axis=1
    )
    ours_c, tvb_c = _couplings(kind, **cparams)
    theirs = _run_tvb(name, params, tvb_c, w, lengths, speed, dt, hist, n_steps)

    net = nm.Network(
        node, w, lengths=lengths, speed=speed, coupling=ours_c, self_connection=True
    )
    sol = nm.simulate(
        net,
        t1=n_steps * dt,
        dt=dt,
        history={v: hist[:, i] for i, v in enumerate(node.state_names)},
        solver=diffrax.Heun(),
        interpolation="nearest",
        coupling_evaluation="step",
    )
    for i, v in enumerate(node.state_names):
        ours = np.asarray(sol[v])
        assert ours.shape == (n_steps + 1, n)
        np.testing.assert_allclose(ours[0], hist[-1, i])
        scale = np.abs(theirs[:, i]).max() + 1e-12
        np.testing.assert_allclose(
            ours[1:], theirs[:, i], rtol=1e-9, atol=1e-10 * scale, err_msg=v
        )


def test_scaling_coupling_matches_tvb():
    """TVB's `Scaling` is a sparse pre/post coupling: compare both stages and the
    whole weighted sum."""
    rng = np.random.default_rng(2)
    ours, theirs = _couplings("scaling", a=0.37)
    x_j = rng.normal(size=(4, 3, 2))  # (edges, nodes, cvars)
    x_i = rng.normal(size=(1, 3, 2))
    w = rng.uniform(size=(4, 3))
    np.testing.assert_allclose(ours.pre(x_j, x_i), theirs.pre(x_i, x_j))
    gx = (w[..., None] * x_j).sum(0)
    np.testing.assert_allclose(ours(x_j, x_i, w), theirs.post(gx), rtol=1e-6)
    assert float(nm.coupling.Scaling().a) == float(tvb_coupling.Scaling().a[0])


class _ZeroDelayHistory:
    """The two arrays TVB's `PreSigmoidal.__call__` reads from its history, for
    instantaneous coupling: `es_weights[to, 0, from, 0]` and the delayed state
    `x_j[to, cvar, from, mode] = x[cvar, from]`."""

    def __init__(self, w, x):
        n = w.shape[0]
        self.es_weights = w[:, None, :, None]
        self._x_j = np.broadcast_to(x[None, :, :, None], (n,) + x.shape + (1,))
        self._x_i = x[..., None]

    def query(self, step):
        return self._x_i, self._x_j.copy()


def test_pre_sigmoidal_coupling():
    r"""Static and dynamic thresholds against the equation, computed edge by edge;
    the dynamic threshold output and the defaults against TVB's `PreSigmoidal`.

    (TVB 2.10's `PreSigmoidal.__call__` sums over the *target* axis of its delayed
    state, so its weighted sum is $\sum_j w_{ij} f(x_i)$ rather than the
    documented $\sum_j w_{ij} f(x_j)$; that sum is not compared.)"""
    rng = np.random.default_rng(4)
    n = 4
    w = rng.uniform(size=(n, n)) * (rng.random((n, n)) < 0.8)
    x = rng.normal(size=(2, n))  # (cvars: x, theta), current values
    H, Q, G, P, theta = 0.7, 0.9, 3.0, 1.2, 0.3
    edges_j = np.broadcast_to(x.T[None], (n, n, 2))  # zero delays: x_j = x[j]
    x_j = np.transpose(edges_j, (1, 0, 2))  # (edges = from, to, cvars)
    w_e = w.T  # weights of edge j of region i: w[i, j]

    def f(v, th):
        return H * (Q + np.tanh(G * (P * v - th)))

    static = nm.coupling.PreSigmoidal(H=H, Q=Q, G=G, P=P, theta=theta, dynamic=False)
    got = np.asarray(static(x_j, x.T[None], w_e))
    expected = np.array(
        [[sum(w[i, j] * f(x[c, j], theta) for j in range(n)) for c in range(2)]
         for i in range(n)]
    )  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    dyn = nm.coupling.PreSigmoidal(H=H, Q=Q, G=G, P=P)
    got = np.asarray(dyn(x_j, x.T[None], w_e))
    c0 = [sum(w[i, j] * f(x[0, j], x[1, j]) for j in range(n)) for i in range(n)]
    np.testing.assert_allclose(got[:, 0], c0, rtol=1e-5, atol=1e-6)
    ref = tvb_coupling.PreSigmoidal(
        H=np.array([H]), Q=np.array([Q]), G=np.array([G]), P=np.array([P])
    )
    ref.configure()
    theirs = ref(0, _ZeroDelayHistory(w, x))
    np.testing.assert_allclose(got[:, 1], theirs[1, :, 0], rtol=1e-5, atol=1e-6)
    glob = nm.coupling.PreSigmoidal(H=H, Q=Q, G=G, P=P, globalT=True)
    np.testing.assert_allclose(
        np.asarray(glob(x_j, x.T[None], w_e))[:, 1], np.full(n, got[:, 1].mean()),
        rtol=1e-5,
    )  # fmt: skip
    default, tvb_default = nm.coupling.PreSigmoidal(), tvb_coupling.PreSigmoidal()
    for p in ("H", "Q", "G", "P", "theta"):
        assert float(getattr(default, p)) == float(getattr(tvb_default, p)[0])
    assert default.dynamic == tvb_default.dynamic
    with pytest.raises(ValueError, match="two coupled variables"):
        dyn(x_j[..., :1], x.T[None, :, :1], w_e)


def test_hopfield_vector_field_both_modes(x64):
    rng = np.random.default_rng(5)
    for dynamic in (0, 1):
        params = {"taux": 1.3, "tauT": 4.2, "dynamic": dynamic}
        node = nm.models.Hopfield(**params)
        ref = _tvb_model("Hopfield", params)
        state = {v: rng.uniform(*node.state_ranges[v], size=6) for v in ("x", "theta")}
        cpl = rng.normal(size=(len(ref.cvar), 6))
        cvars = [ref.state_variables[i] for i in ref.cvar]
        ours = node.vector_field(0.0, state, dict(zip(cvars, cpl)))
        x = np.stack([state["x"], state["theta"]])[..., None]
        theirs = ref.dfun(x, cpl[..., None])[..., 0]
        for i, v in enumerate(("x", "theta")):
            np.testing.assert_allclose(np.asarray(ours[v]), theirs[i], rtol=1e-12)


@pytest.mark.parametrize(
    "name", ["ReducedSetFitzHughNagumo", "ReducedSetHindmarshRose"]
)
def test_reduced_set_vector_field_matches_tvb_dfun(name, x64):
    """TVB's (variable, region, mode) arrays are our `f"{variable}_{mode}"` states;
    TVB sums the coupling of `xi` over modes."""
    rng = np.random.default_rng(sum(map(ord, name)))
    cls = getattr(nm.models, name)
    tvb_cls = getattr(tvb_models, name)
    base = tuple(tvb_cls.state_variables)
    n, modes = 5, 3
    assert cls.state_names == tuple(f"{v}_{m}" for v in base for m in range(modes))
    for trial in range(2):
        params = {} if trial == 0 else _random_params(cls(), rng)
        node = cls(**params)
        ref = _tvb_model(name, node.parameters())
        if trial == 0:
            for p, v in node.parameters().items():
                np.testing.assert_allclose(v, getattr(tvb_cls, p).default, err_msg=p)
            for v in base:
                np.testing.assert_allclose(
                    node.state_ranges[f"{v}_0"], ref.state_variable_range[v]
                )
        x = np.stack(
            [rng.uniform(*ref.state_variable_range[v], size=(n, modes)) for v in base]
        )
        cpl = rng.normal(0.0, 0.5, size=(len(ref.cvar), n, modes))
        state = {
            f"{v}_{m}": x[i, :, m] for i, v in enumerate(base) for m in range(modes)
        }
        coupling = {f"xi_{m}": cpl[0, :, m] for m in range(modes)}
        ours = _vector_field(node, state, coupling)
        theirs = ref.dfun(x, cpl)
        for i, v in enumerate(base):
            for m in range(modes):
                np.testing.assert_allclose(
                    np.asarray(ours[f"{v}_{m}"]), theirs[i, :, m], rtol=1e-9,
                    atol=1e-11 * np.abs(theirs[i]).max(), err_msg=f"{v}_{m}",
                )  # fmt: skip


def test_zerlaut_second_order_matches_tvb_dfun(x64):
    """TVB differentiates the transfer functions by finite differences (step 1e-7);
    ours are exact. The rates, adaptation and OU variables agree to round-off; the
    (co)variance equations to the finite differences' error."""
    name = "ZerlautAdaptationSecondOrder"
    rng = np.random.default_rng(3)
    node = nm.models.ZerlautAdaptationSecondOrder()
    tvb_cls = getattr(tvb_models, name)
    for p, v in node.parameters().items():
        np.testing.assert_allclose(v, getattr(tvb_cls, p).default, err_msg=p)
    ref = _tvb_model(name, node.parameters())
    n = 6
    state = {v: rng.uniform(*node.state_ranges[v], size=n) for v in node.state_names}
    state["E"] = rng.uniform(0.002, 0.03, n)  # where the transfer function is smooth
    state["I"] = rng.uniform(0.005, 0.05, n)
    cpl = np.abs(rng.normal(0.0, 0.002, size=(1, n)))
    ours = _vector_field(node, state, {"E": cpl[0]})
    x = np.stack([state[v] for v in node.state_names])[..., None]
    theirs = ref.dfun(x, cpl[..., None])[..., 0]
    for i, v in enumerate(node.state_names):
        np.testing.assert_allclose(
            np.asarray(ours[v]), theirs[i], rtol=1e-5,
            atol=1e-6 * np.abs(theirs[i]).max() + 1e-15, err_msg=v,
        )  # fmt: skip


def test_afferent_coupling_monitor_matches_tvb(x64, tvb_float64_history):
    """`nm.monitors.AfferentCoupling` records what TVB's `AfferentCoupling` monitor
    records: after each step, the coupling the next step uses (TVB-parity mode)."""
    rng = np.random.default_rng(5)
    n, n_steps, dt, speed = 5, 120, 0.1, 4.0
    w, lengths = _network(n, rng, dt, speed, zero_delay=False)
    node = nm.models.Hopf(a=0.2)
    horizon = int(np.rint(lengths / speed / dt).max()) + 1
    hist = np.stack(
        [rng.uniform(-1.0, 1.0, size=(horizon, n)) for _ in node.state_names], axis=1
    )
    ours_c, tvb_c = _couplings("difference", a=0.3)
    cls = tvb_models.SupHopf
    model = cls(
        a=np.array([0.2]), omega=np.array([0.3]), variables_of_interest=("x", "y")
    )
    conn = Connectivity(
        weights=w,
        tract_lengths=lengths,
        speed=np.array([speed]),
        centres=np.zeros((n, 3)),
        region_labels=np.array([f"r{i}" for i in range(n)]),
    )
    sim = Simulator(
        model=model,
        connectivity=conn,
        coupling=tvb_c,
        integrator=integrators.HeunDeterministic(dt=dt),
        monitors=[monitors.AfferentCoupling()],
        initial_conditions=hist[..., None],
        simulation_length=n_steps * dt,
    )
    sim.configure()
    ((_, theirs),) = sim.run()
    theirs = theirs[..., 0]  # (steps, coupled variables, n)
    net = nm.Network(
        node, w, lengths=lengths, speed=speed, coupling=ours_c, self_connection=True
    )
    sol = nm.simulate(
        net,
        t1=n_steps * dt,
        dt=dt,
        history={v: hist[:, i] for i, v in enumerate(node.state_names)},
        interpolation="nearest",
        coupling_evaluation="step",
        monitors=[nm.monitors.AfferentCoupling()],
    )
    out = sol.monitors["afferent"].data
    for i, v in enumerate(net.coupled_vars):
        ours = np.asarray(out[v])
        assert ours.shape == theirs[:, i].shape
        scale = np.abs(theirs[:, i]).max()
        assert scale > 1e-3
        np.testing.assert_allclose(ours, theirs[:, i], rtol=1e-9, atol=1e-11 * scale)


# neuromass's observable differs from TVB's first variable of interest on purpose:
# TVB's Jansen-Rit lists y0..y3 as its variables of interest, while the EEG signal of
# the model (Jansen & Rit 1995; TVB's JansenRit docstring and demos) is the
# pyramidal membrane potential y1 - y2.
OBSERVABLE_EXCEPTIONS = {"JansenRit": "y1 - y2"}


@pytest.mark.parametrize("name", sorted(ALL_TVB_NAMES))
def test_observable_is_tvb_variable_of_interest(name, x64):
    """A model's `observable` (what EEG/MEG/sEEG monitors project by default) is
    TVB's first default variable of interest, summed over modes as TVB's projection
    monitors do (`state[voi].sum(axis=-1)`): computed by TVB's own observer."""
    cls = getattr(nm.models, name)
    if name in OBSERVABLE_EXCEPTIONS:
        assert cls.observable == OBSERVABLE_EXCEPTIONS[name]
        return
    rng = np.random.default_rng(sum(map(ord, name)))
    node = cls()
    ref = getattr(tvb_models, ALL_TVB_NAMES[name])()
    ref.configure()
    base = tuple(ref.state_variables)
    modes = ref.number_of_modes
    n = 4
    x = np.stack(
        [rng.uniform(*ref.state_variable_range[v], size=(n, modes)) for v in base]
    )
    if modes == 1:
        state = {v: x[i, :, 0] for i, v in enumerate(base)}
    else:
        state = {
            f"{v}_{m}": x[i, :, m] for i, v in enumerate(base) for m in range(modes)
        }
    assert set(state) == set(cls.state_names)
    theirs = ref.observe(x)[0].sum(axis=-1)
    np.testing.assert_allclose(np.asarray(node.observe(state)), theirs, rtol=1e-12)


# model, coupling kind and parameters, dt (ms), speed (mm/ms), heterogeneous param
RK4_CASES = {
    "Hopf": NETWORK_CASES["Hopf"],
    "JansenRit": NETWORK_CASES["JansenRit"],
    "Epileptor": NETWORK_CASES["Epileptor"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RK4_CASES))
def test_rk4_delayed_network_matches_tvb(name, x64, tvb_float64_history):
    """`nm.RK4` is TVB's `RungeKutta4thOrderDeterministic`: a small delayed network
    (nearest delays, the coupling evaluated once per step and held across the four
    stages, as TVB does) gives TVB's trajectory to round-off; so does a single
    node with no coupling."""
    kind, cparams, dt, speed, (hparam, hvalue) = RK4_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)) + 4)
    n, n_steps = 4, 150
    w, lengths = _network(n, rng, dt, speed)
    params = {hparam: hvalue * (1.0 + 0.1 * rng.uniform(-1, 1, n))}
    params.update(SAME_DEFAULTS.get(name, {}))
    node = getattr(nm.models, name)(**params)
    horizon = int(np.rint(lengths / speed / dt).max()) + 1
    ranges = {**node.state_ranges, **HISTORY_RANGES.get(name, {})}
    hist = np.stack(
        [rng.uniform(*ranges[v], size=(horizon, n)) for v in node.state_names], axis=1
    )
    rk4 = integrators.RungeKutta4thOrderDeterministic
    # a network, then uncoupled nodes (coupling strength a = 0)
    for a in (cparams["a"], 0.0):
        ours_c, tvb_c = _couplings(kind, **{**cparams, "a": a})
        theirs = _run_tvb(
            name, params, tvb_c, w, lengths, speed, dt, hist, n_steps, rk4
        )
        net = nm.Network(
            node, w, lengths=lengths, speed=speed, coupling=ours_c,
            self_connection=True,
        )  # fmt: skip
        sol = nm.simulate(
            net,
            t1=n_steps * dt,
            dt=dt,
            history={v: hist[:, i] for i, v in enumerate(node.state_names)},
            solver=nm.RK4(),
            interpolation="nearest",
            coupling_evaluation="step",
        )
        for i, v in enumerate(node.state_names):
            ours = np.asarray(sol[v])
            scale = np.abs(theirs[:, i]).max() + 1e-12
            np.testing.assert_allclose(
                ours[1:], theirs[:, i], rtol=1e-9, atol=1e-10 * scale, err_msg=v
            )
    # Heun's trajectory is another one: the comparison tells the methods apart
    heun = nm.simulate(
        net, t1=n_steps * dt, dt=dt, solver=diffrax.Heun(),
        history={v: hist[:, i] for i, v in enumerate(node.state_names)},
    )  # fmt: skip
    v = node.state_names[0]
    assert np.abs(np.asarray(heun[v])[1:] - theirs[:, 0]).max() > 1e-8 * scale
