"""The local coupling of cortical surfaces in the node models.

1. Every model that takes the local coupling (`local_coupling = True`) applies the
   operator `local` where The Virtual Brain's `dfun` applies its `local_coupling`
   sparse matrix: its vector field equals TVB's `dfun(x, c, local_coupling=L)`
   (both the numba `dfun` and the numpy `_numpy_dfun` where TVB has both) at
   random states, couplings, parameters and a random sparse local connectivity
   with per-vertex strengths (float64).
2. Without it (`local=None`, region networks) the vector field is the one of
   `vector_field(t, state, coupling)`, bit for bit.
3. Nothing is forgotten: a model takes the local coupling exactly when TVB's
   `dfun` reads `local_coupling` (read from TVB's source), and the models that
   ignore it are listed below.
4. End to end: `nm.SurfaceNetwork` on a tetrahedron cortex, simulated with Heun,
   equals a Heun integration of TVB's `dfun` with the same local coupling matrix,
   and the local coupling changes the trajectories.
"""

import ast
import inspect
import textwrap
import warnings

import diffrax
import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass._inputs._local import LocalOperator


sp = pytest.importorskip("scipy.sparse")
tvb_models = pytest.importorskip("tvb.simulator.models")

from test_tvb_parity import (  # noqa: E402
    ALL_TVB_NAMES,
    DFUN_STATE_RANGES,
    NOT_IN_TVB,
    _random_params,
    _round_integer_params,
    _tvb_model,
)


# neuromass model -> TVB model, for every built-in model (FitzHughNagumo is TVB's
# Generic2dOscillator with fixed coefficients, see FITZHUGH_AS_G2D)
TVB_COUNTERPART = {**ALL_TVB_NAMES, "FitzHughNagumo": "Generic2dOscillator"}
# models whose TVB `dfun` ignores `local_coupling`: they keep `local_coupling = False`
TVB_IGNORES_LOCAL_COUPLING = {
    "CoombesByrne",
    "CoombesByrne2D",
    "DumontGutkin",
    "EpileptorCodim3",
    "EpileptorCodim3SlowMod",
    "GastSchmidtKnosche_SD",
    "GastSchmidtKnosche_SF",
    "Hopfield",
    "KIonEx",
    "MontbrioPazoRoxin",
}
LOCAL_MODELS = sorted(
    name for name in TVB_COUNTERPART if getattr(nm.models, name).local_coupling
)
# TVB's finite-difference derivatives of the transfer function (step 1e-7): agree
# to their error only (see test_tvb_parity.test_zerlaut_second_order_...)
LOOSE = {"ZerlautAdaptationSecondOrder": 1e-5}
# firing-rate models: positive local connectivity and rates where their transfer
# function is smooth (TVB's typical ranges reach negative inputs otherwise)
RATE_MODELS = {"ZerlautAdaptationFirstOrder", "ZerlautAdaptationSecondOrder"}


def _fitzhugh_as_g2d(p):
    """TVB Generic2dOscillator parameters of a FitzHughNagumo."""
    tau = p["tau"]
    return dict(
        tau=np.sqrt(tau), d=1 / np.sqrt(tau), I=p["I"], a=p["a"], b=1.0, c=0.0,
        e=0.0, f=1 / 3, g=1.0, alpha=-1.0, beta=p["b"], gamma=1.0,
    )  # fmt: skip


def _local_connectivity(n, rng, positive=False):
    """A random sparse `(n, n)` local connectivity and per-vertex strengths: our
    operator `x -> s * (L @ x)` and TVB's `diag(s) L` (`Cortex.
    prepare_local_coupling`, a scipy CSC matrix)."""
    lo = 0.05 if positive else -0.5
    L = sp.random(
        n, n, density=0.5, format="csr", random_state=rng,
        data_rvs=lambda k: rng.uniform(lo, 1.0, k),
    )  # fmt: skip
    L.setdiag(0.0)
    L.eliminate_zeros()
    s = rng.uniform(0.5, 1.5, n)
    lc = nm.datasets.LocalConnectivity.from_matrix(L)
    op = LocalOperator.of(lc, jnp.asarray(s), n)
    return op, sp.csc_matrix(sp.diags(s) @ L)


def _draw(name, node, ref, rng, n):
    """A state `(nvar, n, modes)` and a coupling `(ncvar, n, modes)` in TVB's
    layout, and the same as our dicts."""
    modes = ref.number_of_modes
    base = tuple(ref.state_variables)
    ranges = {v: ref.state_variable_range[v] for v in base}
    ranges.update(DFUN_STATE_RANGES.get(name, {}))
    if name in RATE_MODELS:
        ranges.update(E=(0.002, 0.03), I=(0.005, 0.05))
    x = np.stack([rng.uniform(*ranges[v], size=(n, modes)) for v in base])
    cpl = rng.normal(0.0, 0.5, size=(len(ref.cvar), n, modes))
    if name in RATE_MODELS:
        cpl = np.abs(cpl) * 0.004
    if modes == 1:
        state = {v: x[i, :, 0] for i, v in enumerate(node.state_names)}
        cvars = [ref.state_variables[i] for i in ref.cvar]
        coupling = dict(zip(cvars, cpl[..., 0]))
    else:  # reduced sets: `f"{variable}_{mode}"`, the coupling of `xi` per mode
        state = {
            f"{v}_{m}": x[i, :, m] for i, v in enumerate(base) for m in range(modes)
        }
        coupling = {f"xi_{m}": cpl[0, :, m] for m in range(modes)}
    return x, cpl, state, coupling


def _as_tvb(node, ours, modes):
    """Our derivatives in TVB's `(nvar, n, modes)` layout."""
    if modes == 1:
        return np.stack([np.asarray(ours[v]) for v in node.state_names])[..., None]
    base = dict.fromkeys(name.rsplit("_", 1)[0] for name in node.state_names)
    return np.stack(
        [np.stack([np.asarray(ours[f"{v}_{m}"]) for m in range(modes)], -1)
         for v in base]
    )  # fmt: skip


@eqx.filter_jit
def _vector_field(node, state, coupling, local):
    return node.vector_field(0.0, state, coupling, local=local)


def _tvb_dfuns(model):
    """TVB's numba `dfun` and its numpy reference `_numpy_dfun`, where it has one.
    (Some of TVB's dfuns return a buffer they reuse: copy the result.)"""
    out = {"dfun": model.dfun}
    if hasattr(model, "_numpy_dfun"):
        out["_numpy_dfun"] = model._numpy_dfun
    return {k: (lambda *a, f=f, **kw: np.array(f(*a, **kw))) for k, f in out.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", LOCAL_MODELS)
def test_local_coupling_matches_tvb_dfun(name, x64):
    rng = np.random.default_rng(sum(map(ord, name)) + 17)
    cls = getattr(nm.models, name)
    n = 7
    for trial in range(2):
        skip = NOT_IN_TVB.get(name, set())
        params = {}
        if trial == 1 and name not in LOOSE:
            params = _random_params(cls(), rng, skip=skip)
            if name in ALL_TVB_NAMES:
                params = _round_integer_params(name, params)
            if name in RATE_MODELS:  # no negative rates or synapse counts (NaN)
                for p in ("K_ext_i", "external_input_ex_ex", "external_input_ex_in",
                          "external_input_in_ex", "external_input_in_in"):  # fmt: skip
                    params[p] = abs(params[p])
        node = cls(**params)
        ours_p = {p: v for p, v in node.parameters().items() if p not in skip}
        if name == "FitzHughNagumo":
            ref = _tvb_model("Generic2dOscillator", _fitzhugh_as_g2d(ours_p))
        else:
            ref = _tvb_model(name, ours_p)
        x, cpl, state, coupling = _draw(name, node, ref, rng, n)
        op, L = _local_connectivity(n, rng, positive=name in RATE_MODELS)
        ours = _as_tvb(node, _vector_field(node, state, coupling, op), x.shape[-1])
        rtol = LOOSE.get(name, 1e-11)
        for kind, dfun in _tvb_dfuns(ref).items():
            theirs = dfun(x, cpl, local_coupling=L)
            without = dfun(x, cpl)
            assert theirs.shape == ours.shape
            assert np.all(np.isfinite(theirs)), kind
            # the local coupling changes TVB's derivatives far beyond the tolerance
            change = np.abs(theirs - without).max(axis=(1, 2))
            scale = np.abs(theirs).max(axis=(1, 2)) + 1e-300
            assert (change / scale).max() > 1e3 * rtol, kind
            for i in range(x.shape[0]):
                np.testing.assert_allclose(
                    ours[i], theirs[i], rtol=rtol,
                    atol=rtol * 0.1 * scale[i] + 1e-300,
                    err_msg=f"{kind}, variable {i}, trial {trial}",
                )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", LOCAL_MODELS)
def test_no_local_coupling_is_bit_identical(name, x64):
    """`local=None` (region networks) is the vector field without the keyword, bit
    for bit (compiled, as `simulate` runs it)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    node = getattr(nm.models, name)()
    n = 5
    state = {v: rng.uniform(*node.state_ranges[v], size=n) for v in node.state_names}
    coupling = {v: rng.normal(0.0, 0.01, n) for v in node.coupled_vars}
    plain = eqx.filter_jit(lambda m, s, c: m.vector_field(0.0, s, c))(
        node, state, coupling
    )
    explicit = _vector_field(node, state, coupling, None)
    for v in node.state_names:
        assert np.all(np.isfinite(np.asarray(plain[v]))), v
        np.testing.assert_array_equal(np.asarray(explicit[v]), np.asarray(plain[v]))


def _tvb_reads_local_coupling(tvb_cls):
    """Whether the body of TVB's `dfun` (or `_numpy_dfun`) reads the name
    `local_coupling` (the signature, docstrings and comments do not count)."""
    for method in ("dfun", "_numpy_dfun"):
        fn = getattr(tvb_cls, method, None)
        if fn is None:
            continue
        with warnings.catch_warnings():  # invalid escapes in TVB's docstrings
            warnings.simplefilter("ignore")
            tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        body = tree.body[0].body
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(node, ast.Name) and node.id == "local_coupling":
                return True
    return False


@pytest.mark.slow
def test_every_model_takes_the_local_coupling_where_tvb_does():
    names = nm.models.list_models().names()
    assert set(names) == set(TVB_COUNTERPART), set(names) ^ set(TVB_COUNTERPART)
    takes = {name for name in names if getattr(nm.models, name).local_coupling}
    assert takes.isdisjoint(TVB_IGNORES_LOCAL_COUPLING)
    assert takes | TVB_IGNORES_LOCAL_COUPLING == set(names)
    for name in names:
        tvb_cls = getattr(tvb_models, TVB_COUNTERPART[name])
        assert _tvb_reads_local_coupling(tvb_cls) == (name in takes), name
        signature = inspect.signature(getattr(nm.models, name).vector_field)
        assert ("local" in signature.parameters) == (name in takes), name


# ----------------------------------------------------------------------------------
# End to end: a surface network
# ----------------------------------------------------------------------------------
def _tetrahedron(L):
    v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10.0]])
    t = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    lc = nm.datasets.LocalConnectivity.from_matrix(L)
    return nm.datasets.Cortex(v, t, region_mapping=[0, 0, 1, 1], local_connectivity=lc)


SURFACE_CASES = {
    # model parameters, local strength, initial state per vertex
    "JansenRit": (
        {},
        0.02,
        {
            "y0": [0.05, 0.1, 0.0, -0.05],
            "y1": [12.0, 20.0, 15.0, 8.0],
            "y2": [8.0, 14.0, 11.0, 6.0],
            "y3": [0.0, 0.5, -0.5, 0.2],
            "y4": [1.0, -1.0, 0.0, 2.0],
            "y5": [0.0, 0.3, -0.3, 0.1],
        },
    ),  # fmt: skip
    "WilsonCowan": (
        dict(P=1.25, c_ee=16.0, c_ei=12.0, c_ie=15.0, c_ii=3.0),
        0.8,
        {"E": [0.1, 0.4, 0.2, 0.05], "I": [0.05, 0.2, 0.3, 0.1]},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SURFACE_CASES))
def test_surface_network_local_coupling_end_to_end(name, x64):
    """The local coupling of a surface network reaches the model as TVB's sparse
    matrix reaches its `dfun`: Heun on the tetrahedron (no long-range input, k=0)
    against Heun on TVB's `dfun` with `local_coupling = s L`."""
    params, strength, y0 = SURFACE_CASES[name]
    node = getattr(nm.models, name)(**params)  # float64 parameters (x64)
    L = (np.ones((4, 4)) - np.eye(4)) / 3.0
    L[0, 3] = 0.0  # not all rows alike
    net = nm.SurfaceNetwork(
        node, _tetrahedron(L), [[0.0, 1.0], [1.0, 0.0]], k=0.0,
        local_strength=strength,
    )  # fmt: skip
    dt, steps = 0.1, 300
    y0 = {v: np.asarray(y0[v]) for v in node.state_names}
    sol = nm.simulate(net, t1=steps * dt, dt=dt, y0=y0, solver=diffrax.Heun())

    ref = _tvb_model(name, node.parameters())
    lc = sp.csc_matrix(strength * L)
    x = np.stack([y0[v] for v in node.state_names])[..., None]
    c = np.zeros((len(ref.cvar), 4, 1))
    traj = [x]
    for _ in range(steps):  # TVB's HeunDeterministic
        d1 = np.array(ref.dfun(x, c, local_coupling=lc))
        d2 = np.array(ref.dfun(x + dt * d1, c, local_coupling=lc))
        x = x + 0.5 * dt * (d1 + d2)
        traj.append(x)
    traj = np.stack(traj)[..., 0]  # (steps + 1, nvar, 4)
    for i, v in enumerate(node.state_names):
        ours = np.asarray(sol[v])
        assert ours.shape == (steps + 1, 4)
        scale = np.abs(traj[:, i]).max()
        np.testing.assert_allclose(
            ours, traj[:, i], rtol=1e-9, atol=1e-11 * scale, err_msg=v
        )
    # the local coupling changes the result
    alone = nm.simulate(
        net.replace(local_strength=0.0), t1=steps * dt, dt=dt, y0=y0,
        solver=diffrax.Heun(),
    )  # fmt: skip
    v = node.state_names[0] if name == "WilsonCowan" else "y1"
    gap = np.abs(np.asarray(alone[v]) - np.asarray(sol[v])).max()
    assert gap > 1e-2 * np.abs(np.asarray(sol[v])).max(), gap
