"""`nm.datasets.LocalConnectivity` and `SparseMatrix`: TVB's precomputed matrix,
kernel connectivities from geodesic distances against independent references and
against tvb-library itself, gradients, caching, and bad input."""

import importlib.util
import sys
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse
from surface_meshes import flat_grid, two_hemispheres

import neuromass as nm
from neuromass.datasets import (
    Cortex,
    LocalConnectivity,
    SparseMatrix,
    _local_connectivity as lc_module,
    load_cortex,
)


Gaussian = nm.equations.Gaussian
DoubleGaussian = nm.equations.DoubleGaussian


def _grid_cortex(n=12, spacing=2.0):
    v, t = flat_grid(n, spacing)
    return Cortex(v, t, np.zeros(len(v), int))


def _dense_reference(vertices, cutoff, kernel_np, homogenise):
    """Independent NumPy reference on a flat convex mesh: geodesic = Euclidean."""
    d = np.linalg.norm(vertices[:, None] - vertices[None], axis=-1)
    stored = (d <= cutoff) & ~np.eye(len(d), dtype=bool)
    w = np.where(stored, kernel_np(d), 0.0)
    if homogenise:
        pos, neg = np.clip(w, 0, None), np.clip(w, None, 0)
        out = np.zeros_like(w)
        for part in (pos, neg):
            s = part.sum(axis=1)
            f = np.divide(s.mean(), s, out=np.zeros_like(s), where=s != 0)
            out += f[:, None] * part
        w = out
    return w, stored


# --- TVB's precomputed matrix ------------------------------------------------------
@pytest.fixture(scope="module")
def tvb_lc():
    pytest.importorskip("tvb_data")
    return load_cortex().local_connectivity


def test_tvb_matrix_rows_sum_to_one_zero_diagonal(tvb_lc):
    m = tvb_lc.to_scipy()
    np.testing.assert_allclose(np.asarray(tvb_lc.row_sums()), 1.0, rtol=1e-6)
    assert np.all(m.diagonal() == 0)
    assert tvb_lc.pattern.row_nnz.min() == 3 and tvb_lc.pattern.row_nnz.max() == 11
    assert tvb_lc.values is not None and tvb_lc.kernel is None


@pytest.mark.parametrize("batch", [(), (3,)])
def test_matvec_matches_scipy(tvb_lc, batch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16384, *batch))
    expected = tvb_lc.to_scipy() @ x
    np.testing.assert_allclose(tvb_lc.matvec(x), expected, rtol=1e-5, atol=1e-6)
    L = tvb_lc.matrix()
    got = jax.jit(lambda L, x: L @ x)(L, jnp.asarray(x))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(L.data, tvb_lc.data)
    assert abs(L.to_scipy() - tvb_lc.to_scipy()).max() == 0


def test_matvec_vmap_and_gradient_wrt_x(tvb_lc):
    L = tvb_lc.matrix()
    rng = np.random.default_rng(2)
    xs = jnp.asarray(rng.normal(size=(4, 16384)))
    np.testing.assert_allclose(
        jax.vmap(L.matvec)(xs),
        (tvb_lc.to_scipy() @ np.asarray(xs).T).T,
        rtol=1e-5,
        atol=1e-6,
    )
    g = rng.normal(size=16384)
    grad = jax.grad(lambda x: jnp.dot(jnp.asarray(g), L @ x))(xs[0])
    np.testing.assert_allclose(grad, tvb_lc.to_scipy().T @ g, rtol=1e-5, atol=1e-6)


def test_wide_rows_use_the_blocked_product():
    """Rows longer than the unrolled width (geodesic kernels with a large cutoff)."""
    rng = np.random.default_rng(3)
    m = scipy.sparse.random(300, 300, density=0.12, random_state=4, format="csr")
    lc = LocalConnectivity.from_matrix(m)
    assert lc.pattern.row_nnz.max() > 16
    x = rng.normal(size=(300, 2))
    np.testing.assert_allclose(lc.matvec(x), m @ x, rtol=1e-5, atol=1e-6)
    got = eqx.filter_jit(lambda lc, x: lc.matvec(x))(lc, x[:, 0])
    np.testing.assert_allclose(got, m @ x[:, 0], rtol=1e-5, atol=1e-6)


def test_from_matrix_dense_and_errors():
    m = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    lc = LocalConnectivity.from_matrix(m)
    assert lc.nnz == 2 and lc.shape == (3, 3)
    np.testing.assert_allclose(lc.todense(), m)
    np.testing.assert_allclose(lc @ np.array([1.0, 10.0, 100.0]), [20.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"square \(V, V\).*\(2, 3\)"):
        LocalConnectivity.from_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        LocalConnectivity.from_matrix(np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"`x` must have shape \(V,\)"):
        lc.matvec(np.ones(4))
    with pytest.raises(ValueError, match="scipy.sparse matrix"):
        LocalConnectivity.from_distances(np.ones((3, 3)), Gaussian())
    with pytest.raises(ValueError, match="one entry per stored entry"):
        LocalConnectivity(lc.pattern, values=np.ones(5))
    with pytest.raises(ValueError, match="either explicit `values` or"):
        LocalConnectivity(lc.pattern)
    with pytest.raises(ValueError, match="kernel` is required"):
        LocalConnectivity(lc.pattern, distances=np.ones(2))
    bad_kernel = LocalConnectivity(lc.pattern, distances=np.ones(2), kernel=jnp.sum)
    with pytest.raises(ValueError, match="elementwise"):
        _ = bad_kernel.data


# --- kernels of geodesic distance ---------------------------------------------------
needs_gdist = pytest.mark.skipif(
    importlib.util.find_spec("gdist") is None, reason="needs tvb-gdist"
)


@needs_gdist
@pytest.mark.parametrize("homogenise", [False, True])
def test_kernel_on_a_flat_grid_matches_a_dense_reference(homogenise, x64):
    cortex = _grid_cortex(12, 2.0)
    kernel = Gaussian(amp=1.0, sigma=3.0, offset=-0.05)  # negative tails too
    cutoff = 7.0
    lc = LocalConnectivity.from_kernel(
        cortex, kernel, cutoff=cutoff, homogenise=homogenise
    )
    d = np.asarray(lc.distances)
    assert d.max() <= cutoff and d.min() > 0

    def kernel_np(x):
        return np.exp(-(x**2) / (2 * 3.0**2)) - 0.05

    expected, stored = _dense_reference(
        np.asarray(cortex.vertices), cutoff, kernel_np, homogenise
    )
    dense = np.asarray(lc.todense())
    assert np.array_equal(
        np.asarray(lc.to_scipy().todense()) != 0, stored & (expected != 0)
    )
    np.testing.assert_allclose(dense, expected, rtol=1e-9, atol=1e-12)
    if homogenise:  # equal positive and negative row sums
        pos = np.clip(dense, 0, None).sum(axis=1)
        np.testing.assert_allclose(pos, pos.mean(), rtol=1e-12)


@needs_gdist
@pytest.mark.parametrize("kernel_name", ["gaussian", "double_gaussian"])
def test_homogenisation_matches_tvb_local_connectivity(kernel_name, x64):
    """tvb-library's own `LocalConnectivity.compute_sparse_matrix` on a patch of
    cortex_16384 (the vertices within 30 mm of vertex 5000)."""
    pytest.importorskip("tvb_data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.datatypes import equations, local_connectivity, surfaces
    full = load_cortex(local_connectivity=False)
    v, t = np.asarray(full.vertices, float), np.asarray(full.triangles)
    inside = np.linalg.norm(v - v[5000], axis=1) < 30.0
    tri = t[inside[t].all(axis=1)]
    keep = np.unique(tri)
    v, tri = v[keep], np.searchsorted(keep, tri)
    cortex = Cortex(v, tri, np.zeros(len(v), int))
    if kernel_name == "gaussian":
        ours = Gaussian(amp=1.0, sigma=4.0)
        theirs = equations.Gaussian(
            parameters=dict(amp=1.0, sigma=4.0, midpoint=0.0, offset=0.0)
        )
    else:
        ours = DoubleGaussian(amp_1=1.0, sigma_1=3.0, amp_2=0.4, sigma_2=6.0)
        theirs = equations.DoubleGaussian(
            parameters=dict(
                amp_1=1.0,
                sigma_1=3.0,
                midpoint_1=0.0,
                amp_2=0.4,
                sigma_2=6.0,
                midpoint_2=0.0,
            )
        )
    surf = surfaces.CorticalSurface(vertices=v, triangles=tri)
    surf.configure()
    tvb_lc = local_connectivity.LocalConnectivity(
        surface=surf, cutoff=12.0, equation=theirs
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tvb_lc.compute_sparse_matrix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # patch edges: some rows lack neighbours
        lc = LocalConnectivity.from_kernel(cortex, ours, cutoff=12.0)
    a, b = tvb_lc.matrix.tocsr(), lc.to_scipy()
    assert a.shape == b.shape and a.nnz == b.nnz
    assert abs(a - b).max() < 1e-14 * abs(a).max()
    if kernel_name == "double_gaussian":
        assert b.data.min() < 0 < b.data.max()


@pytest.mark.slow
@needs_gdist
def test_gradient_wrt_kernel_width_matches_finite_differences(x64):
    cortex = _grid_cortex(10, 2.0)
    lc = LocalConnectivity.from_kernel(cortex, Gaussian(sigma=2.5), cutoff=6.0)
    plain = LocalConnectivity(
        lc.pattern, distances=lc.distances, kernel=lc.kernel, homogenise=False
    )
    x = jnp.asarray(np.random.default_rng(5).normal(size=cortex.n_vertices))

    for module in (lc, plain):

        @jax.jit
        def f(sigma, module=module):
            m = eqx.tree_at(lambda c: c.kernel.sigma, module, sigma)
            return jnp.sum(jnp.tanh(m.matrix().matvec(x)) * x)

        g = jax.grad(f)(jnp.asarray(2.5))
        eps = 1e-6
        fd = (f(2.5 + eps) - f(2.5 - eps)) / (2 * eps)
        assert abs(float(g)) > 1e-3
        np.testing.assert_allclose(g, fd, rtol=1e-6)
    # through jit, with eqx filtering on the whole module
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(m.matvec(x) ** 2)))(lc)
    assert grads.kernel.sigma.shape == () and float(grads.kernel.sigma) != 0
    assert grads.distances.shape == lc.distances.shape


@needs_gdist
def test_tree_at_of_the_width_equals_a_fresh_object():
    cortex = _grid_cortex(8, 2.0)
    lc = LocalConnectivity.from_kernel(cortex, Gaussian(sigma=1.5), cutoff=5.0)
    changed = eqx.tree_at(lambda c: c.kernel.sigma, lc, Gaussian(sigma=4.0).sigma)
    fresh = LocalConnectivity.from_kernel(cortex, Gaussian(sigma=4.0), cutoff=5.0)
    np.testing.assert_allclose(changed.data, fresh.data)
    assert changed.pattern == fresh.pattern and hash(changed.pattern) == hash(
        fresh.pattern
    )
    assert not np.allclose(changed.data, lc.data)
    # same static structure: one compiled program for both
    f = eqx.filter_jit(lambda m, x: m.matvec(x))
    x = jnp.ones(cortex.n_vertices)
    f(changed, x), f(fresh, x)
    assert f._cached._cache_size() == 1


def test_cutoff_below_mean_edge_length_is_refused():
    cortex = _grid_cortex(6, 2.0)
    with pytest.raises(
        ValueError, match=r"(?s)Mesh too coarse.*Raise `cutoff` above 2.24 mm"
    ):
        LocalConnectivity.from_kernel(cortex, Gaussian(), cutoff=1.5)
    with pytest.raises(ValueError, match="`cutoff` must be a positive"):
        LocalConnectivity.from_kernel(cortex, Gaussian(), cutoff=-1.0)


@needs_gdist
def test_vertices_without_neighbours_warn():
    v, t = flat_grid(6, 2.0)
    v[0] = [-5.0, -5.0, 0.0]  # pull a corner away from its two neighbours
    cortex = Cortex(v, t, np.zeros(36, int))
    with pytest.warns(UserWarning, match="no neighbour within `cutoff`"):
        lc = LocalConnectivity.from_kernel(cortex, Gaussian(), cutoff=2.5)
    assert np.any(np.asarray(lc.row_sums()) == 0)


@needs_gdist
def test_distance_cache(tmp_path, monkeypatch):
    cortex = _grid_cortex(8, 2.0)
    path = tmp_path / "dist.npz"
    first = LocalConnectivity.from_kernel(
        cortex, Gaussian(sigma=2.0), cutoff=5.0, cache=path
    )
    assert path.exists()

    def no_recompute(*args, **kwargs):
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(lc_module, "geodesic_distance_matrix", no_recompute)
    again = LocalConnectivity.from_kernel(
        cortex, Gaussian(sigma=2.0), cutoff=5.0, cache=path
    )
    np.testing.assert_array_equal(again.distances, first.distances)
    assert again.pattern == first.pattern
    # stale: another cutoff, another mesh
    with pytest.raises(ValueError, match=r"(?s)another mesh or cutoff.*Delete"):
        LocalConnectivity.from_kernel(cortex, Gaussian(), cutoff=6.0, cache=path)
    moved = _grid_cortex(8, 2.1)
    with pytest.raises(ValueError, match="another mesh or cutoff"):
        LocalConnectivity.from_kernel(moved, Gaussian(), cutoff=5.0, cache=path)
    # damaged: tampered content, truncated file
    with np.load(path) as f:
        contents = dict(f)
    contents["data"] = contents["data"] * 1.01
    np.savez(tmp_path / "tampered.npz", **contents)
    with pytest.raises(ValueError, match="is damaged"):
        LocalConnectivity.from_kernel(
            cortex, Gaussian(), cutoff=5.0, cache=tmp_path / "tampered.npz"
        )
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="cannot be read"):
        LocalConnectivity.from_kernel(
            cortex, Gaussian(), cutoff=5.0, cache=tmp_path / "cut.npz"
        )


@needs_gdist
@pytest.mark.slow
def test_parallel_workers_give_the_same_distances():
    v, t = two_hemispheres(2, radius=20.0)
    cortex = Cortex(v, t, np.zeros(len(v), int))
    one = LocalConnectivity.from_kernel(cortex, Gaussian(sigma=3.0), cutoff=8.0)
    two = LocalConnectivity.from_kernel(
        cortex, Gaussian(sigma=3.0), cutoff=8.0, workers=2
    )
    assert one.pattern == two.pattern
    np.testing.assert_allclose(two.distances, one.distances, rtol=1e-12)


def test_missing_gdist_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gdist", None)
    with pytest.raises(ImportError, match=r'pip install "neuromass\[surface\]"'):
        LocalConnectivity.from_kernel(_grid_cortex(4), Gaussian(), cutoff=5.0)


def test_sparse_matrix_is_a_pytree_with_static_pattern():
    lc = LocalConnectivity.from_matrix(np.eye(4)[[1, 2, 3, 0]])
    L = lc.matrix()
    assert isinstance(L, SparseMatrix)
    leaves = jax.tree_util.tree_leaves(L)
    assert len(leaves) == 1 and leaves[0].shape == (1, 4)
    np.testing.assert_allclose(L @ np.arange(4.0), [1.0, 2.0, 3.0, 0.0])


@pytest.mark.slow
@pytest.mark.parametrize("n, density", [(60, 0.1), (300, 0.12)])  # unrolled, blocked
@pytest.mark.parametrize("batch", [(), (3,)])
def test_custom_reverse_rule_matches_the_transpose(n, density, batch, x64):
    """The product's reverse-mode rule (a gather over the transposed pattern, and a
    gather for the values) against the analytic cotangents, with vmap."""
    m = scipy.sparse.random(n, n, density=density, random_state=n, format="csr")
    lc = LocalConnectivity.from_matrix(m)
    rng = np.random.default_rng(7)
    x = jnp.asarray(rng.normal(size=(n, *batch)))
    g = jnp.asarray(rng.normal(size=(n, *batch)))

    def loss(values, x):
        return jnp.sum(g * LocalConnectivity(lc.pattern, values=values).matvec(x))

    d_values, d_x = jax.grad(loss, argnums=(0, 1))(lc.values, x)
    np.testing.assert_allclose(d_x, m.T @ np.asarray(g), atol=1e-12)
    r, c = lc.pattern.rows, lc.pattern.indices
    gg, xx = np.asarray(g).reshape(n, -1), np.asarray(x).reshape(n, -1)
    np.testing.assert_allclose(d_values, (gg[r] * xx[c]).sum(axis=1), atol=1e-12)
    L = lc.matrix()
    xs = jnp.asarray(rng.normal(size=(4, n, *batch)))
    per_x = jax.vmap(jax.grad(lambda x: jnp.sum(jnp.sin(L @ x))))(xs)
    expected = np.stack([m.T @ np.cos(m @ np.asarray(v)) for v in xs])
    np.testing.assert_allclose(per_x, expected, atol=1e-12)
    batched = jax.grad(lambda v: jnp.sum(jax.vmap(lambda x: loss(v, x))(xs)))(lc.values)
    summed = sum(jax.grad(loss)(lc.values, v) for v in xs)
    np.testing.assert_allclose(batched, summed, atol=1e-12)


@needs_gdist
def test_default_kernel_and_cutoff_are_tvbs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.datatypes import local_connectivity

    tvb = local_connectivity.LocalConnectivity()
    lc = LocalConnectivity.from_kernel(_grid_cortex(6, 0.5))
    assert isinstance(lc.kernel, nm.equations.Gaussian)
    params = {k: float(getattr(lc.kernel, k)) for k in tvb.equation.parameters}
    assert (
        params
        == tvb.equation.parameters
        == dict(amp=1.0, sigma=1.0, midpoint=0.0, offset=0.0)
    )
    assert lc.cutoff == tvb.cutoff == 40.0
