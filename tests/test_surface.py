"""`nm.SurfaceNetwork` on small meshes: the rules against an independent NumPy
loop, every field changed with `eqx.tree_at` against a freshly built network,
sweeps under `vmap` and gradients (local coupling strength, kernel width, `k`, a
node parameter) against central finite differences, and the bad inputs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from surface_meshes import two_hemispheres

import neuromass as nm


R = 4  # regions: two per hemisphere
KW = dict(t1=6.0, dt=0.1, save_every=0.5, interpolation="nearest")


def _cortex(kernel_sigma=None, unmapped=False):
    v, t = two_hemispheres(1)  # 2 x 42 vertices
    n = v.shape[0]
    # regions by quadrant: hemisphere x (z >= 0)
    rmap = 2 * (np.arange(n) >= n // 2) + (v[:, 2] >= 0)
    if unmapped:
        rmap = np.where(rmap == 3, 2, rmap)  # region 3 mapped by no vertex
    cortex = nm.datasets.Cortex(v, t, region_mapping=rmap)
    if kernel_sigma is None:
        a = np.zeros((n, n))
        for tri in t:
            for i in tri:
                for j in tri:
                    if i != j:
                        a[i, j] = 1.0
        lc = nm.datasets.LocalConnectivity.from_matrix(a / a.sum(1, keepdims=True))
    else:
        lc = nm.datasets.LocalConnectivity.from_kernel(
            cortex, nm.equations.Gaussian(sigma=kernel_sigma), cutoff=30.0
        )
    return cortex.with_local_connectivity(lc)


def _connectome():
    rng = np.random.default_rng(4)
    w = rng.uniform(0.2, 1.0, (R, R))
    np.fill_diagonal(w, 0.0)
    lengths = rng.uniform(10.0, 30.0, (R, R))
    return w, lengths


def _net(cortex=None, **kw):
    w, lengths = _connectome()
    args = dict(lengths=lengths, speed=5.0, k=0.3, local_strength=0.5)
    args.update(kw)
    return nm.SurfaceNetwork(
        nm.models.Generic2dOscillator(a=jnp.linspace(-1.0, -2.0, R)),
        _cortex() if cortex is None else cortex,
        w,
        **args,
    )


def _y0(n):
    rng = np.random.default_rng(0)
    return {"V": rng.uniform(-1.0, 1.0, n), "W": rng.uniform(-1.0, 1.0, n)}


def _reference(net, y0, steps, dt):
    """An independent NumPy loop of TVB's surface rules: Heun, region means in the
    history, the long-range coupling per region held over the step and copied to
    its nodes, the local coupling `s L V` at both stages."""
    rmap = np.asarray(net.node_map().regions)
    n, r = rmap.size, net.n_regions
    counts = np.bincount(rmap, minlength=r)
    L = np.asarray(net.cortex.local_connectivity.todense())
    s = float(net.local_strength)
    w = np.asarray(net.weights)
    lag = np.rint(np.asarray(net.lengths) / float(net.speed) / dt).astype(int)
    p = {k: np.asarray(v) for k, v in net.node.parameters().items()}
    a = p["a"][rmap]

    def means(V):
        return np.bincount(rmap, V, minlength=r) / counts

    def f(V, W, c):
        lc = s * np.pad(L @ V[: L.shape[0]], (0, n - L.shape[0]))
        drive = p["gamma"] * (p["I"] + c) + lc
        dV = p["d"] * p["tau"] * (p["alpha"] * W - p["f"] * V**3 + p["e"] * V**2
                                  + p["g"] * V + drive)  # fmt: skip
        dW = p["d"] * (a + p["b"] * V + p["c"] * V**2 - p["beta"] * W) / p["tau"]
        return dV, dW

    V, W = y0["V"].copy(), y0["W"].copy()
    hist = [means(V)] * (lag.max() + 1)
    out = [V.copy()]
    k = float(net.k)
    for _ in range(steps):
        delayed = np.array(
            [sum(w[i, j] * hist[-1 - lag[i, j]][j] for j in range(r)) for i in range(r)]
        )
        c = (k * delayed)[rmap]  # linear coupling, held over the step
        dV1, dW1 = f(V, W, c)
        Vp, Wp = V + dt * dV1, W + dt * dW1
        dV2, dW2 = f(Vp, Wp, c)
        V, W = V + dt / 2 * (dV1 + dV2), W + dt / 2 * (dW1 + dW2)
        hist.append(means(V))
        out.append(V.copy())
    return np.array(out)


@pytest.mark.parametrize("unmapped", [False, True])
def test_surface_rules_against_numpy(x64, unmapped):
    net = _net(_cortex(unmapped=unmapped))
    n = net.n_nodes
    assert n == net.n_vertices + int(unmapped)
    y0 = _y0(n)
    sol = nm.simulate(
        net, t1=3.0, dt=0.1, y0=y0, interpolation="nearest", coupling_evaluation="step"
    )
    ref = _reference(net, y0, 30, 0.1)
    np.testing.assert_allclose(np.asarray(sol["V"]), ref, rtol=1e-10, atol=1e-12)


FIELDS = {
    "k": (lambda n: n.k, 0.5),
    "local_strength": (lambda n: n.local_strength, 0.2),
    "speed": (lambda n: n.speed, 4.0),
    "node.a": (lambda n: n.node.a, jnp.linspace(-1.5, -2.5, R)),
    "weights": (lambda n: n.weights, None),
}


@pytest.mark.slow
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_tree_at_equals_fresh(field):
    net = _net()
    path, value = FIELDS[field]
    if field == "weights":
        value = 0.5 * net.weights
    changed = eqx.tree_at(path, net, value)
    kw = {"node": net.node.replace(a=value)} if field == "node.a" else {field: value}
    fresh = net.replace(**kw)
    y0 = _y0(net.n_nodes)
    a = nm.simulate(changed, y0=y0, **KW)["V"]
    b = nm.simulate(fresh, y0=y0, **KW)["V"]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    base = nm.simulate(net, y0=y0, **KW)["V"]
    assert float(jnp.abs(a - base).max()) > 1e-6  # the field mattered


def test_vmap_sweep_equals_loop():
    net = _net()
    y0 = _y0(net.n_nodes)
    ks = jnp.asarray([0.1, 0.6])

    def run(k, s):
        n = eqx.tree_at(lambda m: (m.k, m.local_strength), net, (k, s))
        return nm.simulate(n, y0=y0, **KW)["V"]

    batched = jax.vmap(run)(ks, jnp.asarray([0.3, 0.8]))
    for i, (k, s) in enumerate([(0.1, 0.3), (0.6, 0.8)]):
        np.testing.assert_allclose(batched[i], run(k, s), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, path, x",
    [
        ("local_strength", lambda n: n.local_strength, 0.5),
        ("kernel sigma", lambda n: n.cortex.local_connectivity.kernel.sigma, 6.0),
        ("k", lambda n: n.k, 0.3),
        ("node.d", lambda n: n.node.d, 0.02),
    ],
)
def test_gradients_against_finite_differences(x64, name, path, x):
    net = _net(_cortex(kernel_sigma=6.0))
    y0 = _y0(net.n_nodes)

    def loss(v):
        n = eqx.tree_at(path, net, v)
        sol = nm.simulate(n, y0=y0, t1=4.0, dt=0.1, save_every=0.5)
        return jnp.mean(sol["V"] ** 2)

    g = jax.grad(loss)(jnp.asarray(x))
    h = 1e-5 * max(1.0, abs(x))
    fd = (loss(jnp.asarray(x + h)) - loss(jnp.asarray(x - h))) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-10)
    assert abs(float(g)) > 1e-8, name


def test_bad_inputs():
    cortex = _cortex()
    w, lengths = _connectome()
    node = nm.models.Generic2dOscillator()
    with pytest.raises(ValueError, match=r"region_mapping.*\[0, 3\)"):
        nm.SurfaceNetwork(node, cortex, w[:3, :3], lengths=lengths[:3, :3], speed=5.0)
    with pytest.raises(ValueError, match="local_strength"):
        nm.SurfaceNetwork(node, cortex, w, local_strength=np.ones(5))
    with pytest.raises(ValueError, match="MontbrioPazoRoxin takes no local coupling"):
        nm.SurfaceNetwork(nm.models.MontbrioPazoRoxin(), cortex, w)
    # without local coupling any model runs
    quiet = nm.SurfaceNetwork(
        nm.models.MontbrioPazoRoxin(), cortex, w, local_strength=0.0
    )
    assert quiet.n_nodes == cortex.n_vertices
    with pytest.raises(ValueError, match=r"Parameter `a` of Generic2dOscillator"):
        nm.SurfaceNetwork(nm.models.Generic2dOscillator(a=np.ones(7)), cortex, w)
    with pytest.raises(TypeError, match="`cortex` must be an `nm.datasets.Cortex`"):
        nm.SurfaceNetwork(node, "cortex", w)


def test_projection_bind_on_a_surface_network():
    """A projection onto a surface network has one gain column per vertex and
    projects the model's observable (here Generic2dOscillator's `V`)."""
    net = _net()
    n = net.n_nodes
    gain = np.random.default_rng(0).normal(size=(3, n))
    eeg = nm.monitors.EEG(gain, every=0.5).bind(net)
    assert eeg.variables == ("V",)
    with pytest.raises(ValueError, match=f"{n - 1} columns but the network has {n}"):
        nm.monitors.EEG(gain[:, 1:]).bind(net)
