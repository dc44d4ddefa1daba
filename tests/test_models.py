"""Node models: the contract, the catalogue, published equations, and each model's
known dynamical regime (checked numerically, short runs)."""

import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


ALL_MODELS = [m.cls for m in nm.models.list_models()]


# KIonEx: TVB's typical ranges of `DKi` and `Kg` include negative extracellular
# potassium concentrations (whose logarithm is NaN, in TVB too); stay physical
PHYSICAL_RANGES = {"KIonEx": {"Kg": (-4.0, -1.0)}}


def _random_state(node, n, rng):
    ranges = {**node.state_ranges, **PHYSICAL_RANGES.get(type(node).__name__, {})}
    return {v: rng.uniform(*ranges[v], size=n) for v in node.state_names}


# ----------------------------------------------------------------------- contract
@pytest.mark.slow
@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_node_contract(cls, x64):
    node = cls()
    names = node.state_names
    assert len(set(names)) == len(names) > 0
    assert set(node.default_state) == set(names) == set(node.state_ranges)
    assert set(node.coupled_vars) <= set(names) and node.coupled_vars
    assert set(node.state_bounds) <= set(names)
    for v, (lo, hi) in node.state_ranges.items():
        assert lo <= hi, v  # TVB gives some variables a single value, e.g. [0, 0]
    # initial states: defaults, and random ones within the ranges
    n = 5
    y = node.initial_state(n)
    assert all(y[v].shape == (n,) for v in names)
    y = node.initial_state(n, key=jax.random.key(0))
    for v in names:
        lo, hi = node.state_ranges[v]
        assert np.all((np.asarray(y[v]) >= lo) & (np.asarray(y[v]) <= hi)), v
    # the vector field maps a state dict to a derivative dict of (N,) arrays
    rng = np.random.default_rng(0)
    state = _random_state(node, n, rng)
    cpl = {v: jnp.asarray(rng.normal(size=n)) for v in node.coupled_vars}
    d = node.vector_field(0.0, state, cpl)
    assert set(d) == set(names)
    for v in names:
        assert d[v].shape == (n,) and np.all(np.isfinite(np.asarray(d[v]))), v
    # no coupling at all is valid too (an isolated node)
    d0 = node.vector_field(0.0, node.initial_state(n), {})
    assert all(d0[v].shape == (n,) for v in names)
    # external inputs named after state variables add to that variable's derivative
    for v in node.input_names:
        if v not in names:
            continue
        u = jnp.asarray(rng.normal(size=n))
        du = node.vector_field(0.0, state, cpl, {v: u})
        for other in names:
            expected = np.asarray(d[other]) + (np.asarray(u) if other == v else 0.0)
            np.testing.assert_allclose(np.asarray(du[other]), expected, rtol=1e-12)
    # hard bounds are applied by `apply_bounds`
    for v, (lo, hi) in node.state_bounds.items():
        far = node.apply_bounds({**state, v: jnp.array([-1e3, 1e3, 0.5, 0.5, 0.5])})
        assert lo is None or float(far[v][0]) == lo
        assert hi is None or float(far[v][1]) == hi
    # documented: parameter table, state variables, example, reference
    doc = inspect.getdoc(cls)
    for part in ("| parameter |", "**State variables:**", "!!! example", "??? cite"):
        assert part in doc, part


@pytest.mark.slow
@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_per_region_parameters_broadcast(cls, x64):
    """An (N,) parameter gives region i the dynamics of the scalar value p[i]."""
    node = cls()
    n = 3
    rng = np.random.default_rng(1)
    params = {
        p: (
            np.array([True, False, True])  # switches may differ per region too
            if np.asarray(v).dtype == bool
            else np.asarray(v) * rng.uniform(0.8, 1.2, n) + rng.uniform(-0.05, 0.05, n)
        )
        for p, v in node.parameters().items()
        # static integers and vector parameters (e.g. fitted coefficients) are shared
        if np.ndim(v) == 0 and np.asarray(v).dtype.kind in "fb"
    }
    state = _random_state(node, n, rng)
    cpl = {v: rng.normal(size=n) for v in node.coupled_vars}
    het = cls(**params).vector_field(0.0, state, cpl)
    for i in range(n):
        single = cls(**{p: v[i] for p, v in params.items()}).vector_field(
            0.0,
            {v: x[i : i + 1] for v, x in state.items()},
            {v: c[i : i + 1] for v, c in cpl.items()},
        )
        for v in node.state_names:
            np.testing.assert_allclose(
                np.asarray(het[v])[i], np.asarray(single[v])[0], rtol=1e-12
            )
    # and a network checks the shapes at construction
    w = np.ones((n, n))
    with pytest.raises(ValueError, match="does not broadcast"):
        nm.Network(cls(**{next(iter(params)): np.ones(n + 1)}), w)


# ---------------------------------------------------------------------- catalogue
def test_catalogue_records_and_table():
    cat = nm.models.list_models()
    exported = {
        name
        for name, obj in vars(nm.models).items()
        if inspect.isclass(obj)
        and issubclass(obj, nm.models.AbstractNode)
        and obj is not nm.models.AbstractNode
        and obj.__name__ == name  # aliases (KIonExchange = KIonEx) listed once
    }
    assert set(cat.names()) == exported
    assert len(cat) == 29
    for info in cat:
        assert isinstance(info, nm.models.ModelInfo)
        assert info.cls is getattr(nm.models, info.name)
        assert info.category in ("phenomenological", "physiological")
        assert info.n_states == len(info.state_names) == len(info.cls.state_names)
        assert info.coupled_vars == info.cls.coupled_vars
        assert info.typical_use and info.reference
    physio = nm.models.list_models("physiological")
    assert {m.category for m in physio} == {"physiological"}
    assert "JansenRit" in physio.names() and "Hopf" not in physio.names()
    with pytest.raises(ValueError, match="category"):
        nm.models.list_models("empirical")
    table = cat.to_table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["model", "category", "states"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    # fixed width: every column starts at the same offset on every line
    col = lines[0].index("category")
    assert all(line[col - 2 : col] == "  " for line in lines[2:])
    rows = [line for line in lines[2:] if not line.startswith(" ")]  # first lines
    assert len(rows) == len(cat)
    for info, line in zip(cat, rows):
        assert line.startswith(info.name) and str(info.n_states) in line
    assert str(cat) == table
    # long texts are wrapped onto more lines of their row, never cut
    assert "..." not in table
    narrow = cat.to_table(max_width=20)
    cells = [c.strip() for line in narrow.splitlines() for c in line.split("  ")]
    assert all(len(c) <= 20 or " " not in c for c in cells) and "..." not in narrow
    words = " ".join(narrow.split())
    for info in cat:
        assert all(word in words for word in info.typical_use.split())


# ------------------------------------------------- published equations (no TVB)
def test_fitzhugh_nagumo_published_equations(x64):
    """FitzHugh (1961): V' = V - V^3/3 - W + I, W' = (V + a - b W) / tau."""
    rng = np.random.default_rng(2)
    for _ in range(5):
        a, b, tau, current = rng.uniform([0.5, 0.5, 5, -0.5], [1.0, 1.0, 20, 1.0])
        node = nm.models.FitzHughNagumo(a=a, b=b, tau=tau, I=current)
        V, W, c = rng.uniform(-2.5, 2.5, (3, 6))
        d = node.vector_field(0.0, {"V": V, "W": W}, {"V": c})
        np.testing.assert_allclose(d["V"], V - V**3 / 3 - W + current + c, rtol=1e-12)
        np.testing.assert_allclose(d["W"], (V + a - b * W) / tau, rtol=1e-12)


# ------------------------------------------------------------------------ regimes
def _finals(node, y0s, t1, dt, save_every):
    """Simulate one node from several initial states in one compiled, vmapped run."""
    y0 = {v: jnp.asarray([y[v] for y in y0s]) for v in y0s[0]}

    def run(y):
        return nm.simulate(node, t1=t1, dt=dt, y0=y, save_every=save_every).ys

    ys = eqx.filter_vmap(run)(y0)
    return {v: np.asarray(x)[:, :, 0] for v, x in ys.items()}  # (batch, T)


def _dominant_frequency(x, dt_ms):
    x = x - x.mean()
    f = np.fft.rfftfreq(x.size, dt_ms * 1e-3)
    return f[np.argmax(np.abs(np.fft.rfft(x)) ** 2)]


@pytest.mark.slow
def test_jansen_rit_alpha_rhythm(x64):
    # Jansen & Rit (1995): firing threshold v0 = 6 mV (TVB's default is 5.52 mV)
    sol = nm.simulate(
        nm.models.JansenRit(v0=6.0), t1=2500.0, dt=0.1, save_every=1.0, transient=500.0
    )
    v = np.asarray(sol["y1"] - sol["y2"])[:, 0]
    assert v.std() > 0.3  # a sustained oscillation, not a fixed point
    assert 9.0 <= _dominant_frequency(v, 1.0) <= 12.5


@pytest.mark.slow
def test_wong_wang_bistability(x64):
    """Strong recurrence: low and high activity states from different initial
    conditions; default recurrence: a single (low) state."""
    bistable = nm.models.ReducedWongWang(w=0.9, J_N=0.35, I_o=0.3)
    nodes = [bistable, bistable, nm.models.ReducedWongWang()]
    nodes += [nodes[-1]]
    stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *nodes)
    y0 = jnp.array([0.01, 0.9, 0.01, 0.9])

    def final(node, s0):
        return nm.simulate(node, t1=2000.0, dt=0.5, y0={"S": s0}).ys["S"][-1, 0]

    s = np.asarray(eqx.filter_vmap(final)(stacked, y0))
    assert s[0] < 0.06 and s[1] > 0.55  # two stable states
    np.testing.assert_allclose(s[0], 0.039, atol=0.005)
    np.testing.assert_allclose(s[1], 0.643, atol=0.01)
    np.testing.assert_allclose(s[2], s[3], atol=1e-4)  # monostable
    # each state is an attractor: the vector field vanishes there
    d = bistable.vector_field(0.0, {"S": jnp.asarray(s[:2])}, {})["S"]
    np.testing.assert_allclose(d, 0.0, atol=1e-6)


def test_montbrio_up_and_down_states(x64):
    ys = _finals(
        nm.models.MontbrioPazoRoxin(),
        [{"r": 0.1, "V": -2.0}, {"r": 1.0, "V": -0.2}],
        t1=40.0,
        dt=0.01,
        save_every=0.1,
    )
    r, V = ys["r"][:, -1], ys["V"][:, -1]
    np.testing.assert_allclose([r[0], V[0]], [0.0811, -1.9616], atol=2e-3)  # down
    np.testing.assert_allclose([r[1], V[1]], [1.0306, -0.1544], atol=2e-3)  # up
    assert np.all(ys["r"] >= 0.0)


@pytest.mark.slow
def test_kuramoto_synchronises_above_critical_coupling(x64):
    n, gamma, omega0 = 16, 0.01, 0.06
    omega = omega0 + gamma * np.linspace(-1.0, 1.0, n)  # uniform, half-width gamma
    k_c = 4.0 * gamma / np.pi  # 2 / (pi g(0)) with g(0) = 1 / (2 gamma)
    net = nm.Network(
        nm.models.Kuramoto(omega=omega),
        np.ones((n, n)),
        coupling=nm.coupling.Kuramoto(a=1.0 / n),
        k=1.0,
    )
    theta0 = {"theta": jnp.asarray(np.random.default_rng(3).uniform(0, 2 * np.pi, n))}

    def order(k):
        sol = nm.simulate(
            eqx.tree_at(lambda m: m.k, net, k),
            t1=3000.0,
            dt=1.0,
            y0=theta0,
            save_every=5.0,
            transient=1500.0,
        )
        return jnp.abs(jnp.exp(1j * sol["theta"]).mean(axis=1)).mean()

    r_below, r_above = np.asarray(jax.vmap(order)(jnp.array([0.3 * k_c, 3.0 * k_c])))
    assert r_below < 0.5
    assert r_above > 0.9


@pytest.mark.slow
def test_epileptor_switches_between_interictal_and_seizure(x64):
    sol = nm.simulate(nm.models.Epileptor(), t1=5000.0, dt=0.1, save_every=1.0)
    x1, z = np.asarray(sol["x1"])[:, 0], np.asarray(sol["z"])[:, 0]
    ictal = np.convolve((x1 > -1.0).astype(float), np.ones(100) / 100, "same") > 0.2
    onsets = np.flatnonzero(np.diff(ictal.astype(int)) == 1)
    offsets = np.flatnonzero(np.diff(ictal.astype(int)) == -1)
    assert len(onsets) >= 2 and len(offsets) >= 2  # recurrent seizures
    period = np.diff(onsets).mean()
    assert 1500 < period < 2500  # ms
    # the slow variable drives the switching: seizures start at low z, end at high z
    assert z[onsets].max() < 3.2 and z[offsets].min() > 3.8
    # fast discharges during the seizure, quiescence between
    seizure = slice(onsets[0] + 50, offsets[0] - 50)
    assert np.ptp(x1[seizure]) > 1.0
    assert np.ptp(x1[offsets[0] + 200 : onsets[1] - 50]) < 0.5


def test_wilson_cowan_limit_cycle(x64):
    wc = nm.models.WilsonCowan(
        c_ee=16.0, c_ei=12.0, c_ie=15.0, c_ii=3.0, a_e=1.3, b_e=4.0, a_i=2.0, b_i=3.7,
        P=1.25,
    )  # fmt: skip
    sol = nm.simulate(wc, t1=600.0, dt=0.1, save_every=0.5, transient=200.0)
    E = np.asarray(sol["E"])[:, 0]
    assert np.ptp(E) > 0.1
    x = E - E.mean()
    ups = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    periods = np.diff(ups) * 0.5
    assert len(periods) >= 5 and np.ptp(periods) < 1.0  # regular
    assert 40.0 < periods.mean() < 60.0
    # the same parameters without drive rest at E = I = 0 (shifted sigmoid)
    rest = wc.replace(P=0.0).vector_field(
        0.0, {"E": jnp.zeros(1), "I": jnp.zeros(1)}, {}
    )
    np.testing.assert_allclose(rest["E"], 0.0, atol=1e-15)


def test_fitzhugh_nagumo_excitability(x64):
    rest = {"V": -1.1994, "W": -0.6243}
    ys = _finals(
        nm.models.FitzHughNagumo(),
        [{**rest, "V": rest["V"] + 0.1}, {**rest, "V": rest["V"] + 1.0}],
        t1=300.0,
        dt=0.05,
        save_every=0.5,
    )
    V = ys["V"]
    assert V[0].max() < -1.0  # sub-threshold: decays back
    assert V[1].max() > 1.5  # supra-threshold: a full spike
    np.testing.assert_allclose(V[:, -1], rest["V"], atol=2e-3)  # both return to rest


# ---------------------------------------------------------- a user-defined model
def _load_example_model():
    """The model of examples/custom_model.py (also shown in docs/custom_model.md)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "custom_model.py"
    spec = importlib.util.spec_from_file_location("custom_model_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RateNode


RateNode = _load_example_model()


@pytest.mark.slow
def test_user_defined_model_simulates_sweeps_and_differentiates(x64):
    rng = np.random.default_rng(5)
    n = 4
    net = nm.Network(
        RateNode(I=jnp.linspace(-1.5, -0.5, n)),
        rng.uniform(0.0, 1.0, (n, n)),
        lengths=rng.uniform(2.0, 10.0, (n, n)),
        speed=2.0,
        k=0.3,
    )
    y0 = {"r": jnp.asarray(rng.uniform(0.0, 0.5, n))}

    @eqx.filter_jit
    def rates(net):
        return nm.simulate(net, t1=40.0, dt=0.1, y0=y0, save_every=1.0)["r"]

    def mean_rate(net):
        return rates(net)[-10:].mean()

    def at(wv):
        return eqx.tree_at(lambda m: m.node.w, net, wv)

    # 1. simulate: a delayed network of the user's node, like a built-in one
    r = np.asarray(rates(net))
    assert r.shape == (41, n) and np.all((r > 0) & (r < 1))  # within the sigmoid
    # the derivative it integrates is the user's equation (coupling off)
    d = net.node.vector_field(0.0, {"r": jnp.asarray(r[-1])}, {})["r"]
    expected = -r[-1] + 1 / (1 + np.exp(-(1.5 * r[-1] + np.linspace(-1.5, -0.5, n))))
    np.testing.assert_allclose(d, expected / 10.0, rtol=1e-12)

    # 2. sweep a parameter with filter_vmap: equals the individual runs
    ws = jnp.array([0.5, 1.5, 2.5])
    swept = np.asarray(eqx.filter_vmap(lambda wv: mean_rate(at(wv)))(ws))
    singles = np.array([float(mean_rate(at(wv))) for wv in ws])
    np.testing.assert_allclose(swept, singles, rtol=1e-10)
    assert np.all(np.diff(swept) > 0)  # more recurrence, more activity

    # 3. gradient w.r.t. a parameter, against a central finite difference
    g = float(eqx.filter_grad(mean_rate)(net).node.w)
    eps = 1e-5
    fd = (float(mean_rate(at(1.5 + eps))) - float(mean_rate(at(1.5 - eps)))) / (2 * eps)
    assert np.isfinite(g) and g > 0
    np.testing.assert_allclose(g, fd, rtol=1e-5)


def test_feedback_inhibition_control_fixed_point(x64):
    """FIC's J_i puts every region at the target excitatory rate: at S_e* (from the
    target, in closed form) and S_i* (root of dS_i/dt, found by scipy on the
    equations of Deco et al. 2014/2021 written here in numpy), dS_e/dt vanishes."""
    brentq = pytest.importorskip("scipy.optimize").brentq
    w = np.array([[0.0, 0.6, 0.2], [0.4, 0.0, 0.9], [0.1, 0.3, 0.0]])
    k, target = 0.7, 3.0
    gain = np.array([1.0, 1.1, 1.25])
    node = nm.models.DecoBalancedExcInh(M_i=gain, G=2.5)
    fic = nm.models.feedback_inhibition_control(node, w, k=k, target_rate=target)
    j_i = np.asarray(fic.J_i)
    assert j_i.shape == (3,) and np.all(j_i > 0)
    p = {name: float(v) for name, v in node.parameters().items() if np.ndim(v) == 0}

    def rate(x, d):
        return x / (1.0 - np.exp(-d * x))

    s_e = np.full(3, p["gamma_e"] * target * p["tau_e"])
    s_e = s_e / (1.0 + p["gamma_e"] * target * p["tau_e"])
    c = p["G"] * p["J_N"] * k * (w @ s_e)
    for r in range(3):

        def ds_i(x, r=r):
            i_i = p["W_i"] * p["I_o"] + p["J_N"] * s_e[r] - x + p["lamda"] * c[r]
            h_i = rate(gain[r] * (p["a_i"] * i_i - p["b_i"]), p["d_i"])
            return -x / p["tau_i"] + p["gamma_i"] * h_i

        s_i = brentq(ds_i, 0.0, 1.0, xtol=1e-15)
        i_e = (
            p["W_e"] * p["I_o"] + p["w_p"] * p["J_N"] * s_e[r] + c[r]
            - j_i[r] * s_i + p["I_ext"]
        )  # fmt: skip
        h_e = rate(gain[r] * (p["a_e"] * i_e - p["b_e"]), p["d_e"])
        np.testing.assert_allclose(h_e, target, rtol=1e-9)
        d_se = -s_e[r] / p["tau_e"] + (1.0 - s_e[r]) * p["gamma_e"] * h_e
        np.testing.assert_allclose(d_se, 0.0, atol=1e-12)
    with pytest.raises(TypeError, match="ReducedWongWangExcInh"):
        nm.models.feedback_inhibition_control(nm.models.Hopf(), w)
