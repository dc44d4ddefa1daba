"""`nm.datasets.Cortex` and `load_cortex`: TVB's cortex_16384, your own surface
files (GIFTI, FreeSurfer, TVB zips), derived geometry and every bad input."""

import builtins
import importlib.resources
import sys
import zipfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
from surface_meshes import flat_grid, icosphere, two_hemispheres

import neuromass as nm
from neuromass.datasets import Cortex, LocalConnectivity, load_cortex
from neuromass.datasets._cortex import _tvb_cortex_arrays, vertex_normals_of


pytest.importorskip("tvb_data")


@pytest.fixture(scope="module")
def tvb_cortex():
    return load_cortex()


def _tetra():
    v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10.0]])
    t = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    return v, t


# --- TVB's cortex_16384 -----------------------------------------------------------
def test_tvb_cortex_known_facts(tvb_cortex):
    c = tvb_cortex
    assert (c.n_vertices, c.n_triangles) == (16384, 32760)
    assert c.vertices.shape == c.vertex_normals.shape == (16384, 3)
    assert c.triangles.shape == (32760, 3)
    assert c.region_labels == nm.datasets.load_connectome("tvb76").labels
    assert c.n_regions == 76
    # every one of the 76 regions has 29-683 vertices: nothing unmapped
    sizes = c.region_sizes()
    assert sizes.min() == 29 and sizes.max() == 683 and sizes.sum() == 16384
    assert c.unmapped_regions().size == 0
    np.testing.assert_allclose(np.linalg.norm(c.vertex_normals, axis=1), 1.0, atol=1e-5)
    # two disconnected hemispheres of 8192 vertices; vertices 0-8191 -> regions
    # 0-37, whose labels start with "r" (right)
    tris = np.asarray(c.triangles)
    adj = scipy.sparse.coo_matrix(
        (np.ones(tris.size), (tris.ravel(), np.roll(tris, 1, 1).ravel())),
        shape=(16384, 16384),
    )
    n_comp, comp = scipy.sparse.csgraph.connected_components(adj, directed=False)
    assert n_comp == 2 and np.all(comp[:8192] == comp[0]) and comp[8192] != comp[0]
    rmap = np.asarray(c.region_mapping)
    assert rmap[:8192].max() == 37 and rmap[8192:].min() == 38
    hemi = c.hemispheres()
    assert np.all(hemi[:8192] == 1) and np.all(hemi[8192:] == 0)
    assert all(c.region_labels[r].startswith("r") for r in np.unique(rmap[:8192]))
    # TVB's axes: x anterior, y left, z superior (mm)
    v = np.asarray(c.vertices)
    assert v[:8192, 1].mean() < -25 < 25 < v[8192:, 1].mean()
    assert 3.5 < c.mean_edge_length < 4.5
    assert "cortex_16384" in c.source


def test_tvb_local_connectivity_is_degree_normalised_adjacency(tvb_cortex):
    lc = tvb_cortex.local_connectivity
    assert isinstance(lc, LocalConnectivity)
    assert lc.shape == (16384, 16384) and lc.nnz == 98280
    m = lc.to_scipy()
    np.testing.assert_allclose(np.asarray(lc.row_sums()), 1.0, rtol=1e-6)
    assert np.all(m.diagonal() == 0)
    # exactly D^-1 A, A the 0/1 adjacency of the triangles, D the degree (3..11)
    tris = np.asarray(tvb_cortex.triangles)
    i = np.concatenate([tris[:, 0], tris[:, 1], tris[:, 2]] * 2)
    j = np.concatenate(
        [tris[:, 1], tris[:, 2], tris[:, 0], tris[:, 2], tris[:, 0], tris[:, 1]]
    )
    a = scipy.sparse.csr_matrix((np.ones(i.size), (i, j)), shape=m.shape)
    a.data[:] = 1.0
    degree = np.asarray(a.sum(axis=1)).ravel()
    assert degree.min() == 3 and degree.max() == 11
    expected = scipy.sparse.diags(1.0 / degree) @ a
    assert abs(m - expected).max() < 1e-6
    assert abs(m - m.T).max() > 0.01  # not symmetric


def test_tvb_cortex_without_local_connectivity_and_jit(tvb_cortex):
    c = load_cortex(local_connectivity=False)
    assert c.local_connectivity is None
    area = jax.jit(lambda cortex: cortex.vertex_areas.sum())(c)
    np.testing.assert_allclose(area, c.triangle_areas.sum(), rtol=1e-5)


def test_missing_tvb_data_names_the_extra(monkeypatch):
    _tvb_cortex_arrays.cache_clear()
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "tvb_data" or name.startswith("tvb_data."):
            raise ImportError("No module named 'tvb_data'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "tvb_data", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r'pip install "neuromass\[data\]"'):
        load_cortex()
    monkeypatch.undo()
    _tvb_cortex_arrays.cache_clear()


def test_region_mapping_not_accepted_for_tvb_cortex():
    with pytest.raises(ValueError, match="16,500"):
        load_cortex(region_mapping=np.zeros(16384, int))


# --- construction, derived geometry -----------------------------------------------
def test_tetrahedron_geometry():
    v, t = _tetra()
    c = Cortex(v, t, [0, 0, 1, 1], region_labels=("A", "B"))
    assert (c.n_vertices, c.n_triangles, c.n_regions) == (4, 4, 2)
    areas = np.asarray(c.triangle_areas)
    np.testing.assert_allclose(sorted(areas)[:3], [50.0, 50.0, 50.0], rtol=1e-6)
    np.testing.assert_allclose(sorted(areas)[3], 50.0 * np.sqrt(3.0), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(c.vertex_areas).sum(), areas.sum(), rtol=1e-6)
    assert c.edges.shape == (6, 2)
    np.testing.assert_allclose(
        sorted(np.asarray(c.edge_lengths)),
        [10, 10, 10] + [10 * np.sqrt(2)] * 3,
        rtol=1e-6,
    )
    assert c.region_sizes().tolist() == [2, 2]
    assert c.unmapped_regions(4).tolist() == [2, 3]


def test_computed_normals_of_a_sphere_point_outward():
    v, t = icosphere(2, radius=40.0)
    c = Cortex(v, t, np.zeros(len(v), int))
    radial = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = np.sum(np.asarray(c.vertex_normals) * radial, axis=1)
    assert cos.min() > 0.99
    np.testing.assert_allclose(np.linalg.norm(c.vertex_normals, axis=1), 1.0, atol=1e-6)


def test_normals_follow_tvbs_rule_without_its_angle_bug():
    """TVB's `compute_vertex_normals` (angle-weighted mean of triangle normals) on a
    bumpy sheet. TVB's `triangle_angles` give the third corner of every triangle
    pi too much (its angles sum to 2 pi); with the angles corrected, TVB's own
    routine gives our normals."""
    surfaces = pytest.importorskip("tvb.datatypes.surfaces")
    v, t = flat_grid(5, 2.0)
    rng = np.random.default_rng(0)
    v = v + rng.normal(scale=0.4, size=v.shape)  # a bumpy sheet
    surf = surfaces.CorticalSurface(vertices=v, triangles=t)
    surf.configure()
    np.testing.assert_allclose(surf.triangle_angles.sum(axis=1), 2 * np.pi)
    angles = surf.triangle_angles.copy()
    angles[:, 2] = np.pi - angles[:, 0] - angles[:, 1]
    surf._triangle_angles = angles
    surf.compute_vertex_normals()
    np.testing.assert_allclose(vertex_normals_of(v, t), surf.vertex_normals, atol=1e-12)


def test_hemispheres_from_geometry_and_labels():
    v, t = two_hemispheres(1)
    n = len(v) // 2
    c = Cortex(v, t, np.r_[np.zeros(n, int), np.ones(n, int)])
    assert np.all(c.hemispheres()[:n] == 0) and np.all(c.hemispheres()[n:] == 1)
    # labels override geometry: here region 0 says right, region 1 left
    c = Cortex(
        v, t, np.r_[np.zeros(n, int), np.ones(n, int)], region_labels=("rX", "lX")
    )
    assert np.all(c.hemispheres()[:n] == 1) and np.all(c.hemispheres()[n:] == 0)
    c = Cortex(
        v, t, np.r_[np.zeros(n, int), np.ones(n, int)], region_labels=("lh.a", "rh.a")
    )
    assert np.all(c.hemispheres()[:n] == 0)


def test_with_local_connectivity_and_tree_at():
    v, t = flat_grid(4)
    c = Cortex(v, t, np.zeros(16, int))
    lc = LocalConnectivity.from_matrix(np.eye(16)[::-1])
    c2 = c.with_local_connectivity(lc)
    assert c2.local_connectivity is lc and c.local_connectivity is None
    moved = eqx.tree_at(lambda x: x.vertices, c2, c2.vertices + 1.0)
    np.testing.assert_allclose(moved.vertices, np.asarray(c2.vertices) + 1.0)


# --- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, match",
    [
        (
            dict(region_mapping=np.zeros(15, int)),
            r"`region_mapping` must give one region",
        ),
        (dict(region_mapping=np.r_[np.zeros(15, int), 3]), r"out of range.*\[0, 2\)"),
        (dict(region_mapping=np.r_[np.zeros(15, int), -1]), r"negative labels"),
        (
            dict(triangles=np.array([[0, 1, 4], [0, 1, 16]])),
            r"reference missing vertices",
        ),
        (dict(triangles=np.array([[0, 1, 1]])), r"degenerate triangles"),
        (dict(vertices=np.zeros((16, 2))), r"`vertices` must be a \(V, 3\)"),
        (
            dict(vertex_normals=np.zeros((3, 3))),
            r"`vertex_normals` must have the shape",
        ),
        (dict(region_mapping=np.full(16, 0.5)), r"`region_mapping` must hold integer"),
    ],
)
def test_bad_inputs_are_named(change, match):
    v, t = flat_grid(4)
    kwargs = dict(vertices=v, triangles=t, region_mapping=np.zeros(16, int))
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        Cortex(
            kwargs.pop("vertices"),
            kwargs.pop("triangles"),
            kwargs.pop("region_mapping"),
            region_labels=("a", "b"),
            **kwargs,
        )


def test_unreferenced_vertices_are_refused():
    v, t = flat_grid(4)
    v = np.vstack([v, [[100.0, 0, 0]]])
    with pytest.raises(
        ValueError,
        match=r"(?s)Mesh with unreferenced vertices.*vertex 16.*searchsorted",
    ):
        Cortex(v, t, np.zeros(17, int))


def test_non_finite_vertices_and_wrong_local_connectivity_size():
    v, t = flat_grid(4)
    bad = v.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf at 1 vertices"):
        Cortex(bad, t, np.zeros(16, int), vertex_normals=np.ones((16, 3)))
    lc = LocalConnectivity.from_matrix(np.ones((5, 5)))
    with pytest.raises(ValueError, match=r"shape \(5, 5\).*16 vertices.*from_kernel"):
        Cortex(v, t, np.zeros(16, int), local_connectivity=lc)


def test_check_regions_against_a_connectome():
    v, t = flat_grid(4)
    c = Cortex(v, t, np.arange(16) % 5)
    c.check_regions(5)
    with pytest.raises(ValueError, match=r"connectome of 4 regions"):
        c.check_regions(4)


# --- your own files -------------------------------------------------------------------
def test_gifti_surface_and_label_file(tmp_path):
    nib = pytest.importorskip("nibabel")
    v, t = icosphere(1, 30.0)
    img = nib.gifti.GiftiImage()
    img.add_gifti_data_array(
        nib.gifti.GiftiDataArray(v.astype(np.float32), intent="NIFTI_INTENT_POINTSET")
    )
    img.add_gifti_data_array(
        nib.gifti.GiftiDataArray(t.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")
    )
    nib.save(img, tmp_path / "lh.sphere.gii")
    labels = (np.arange(len(v)) % 3).astype(np.int32)
    lab = nib.gifti.GiftiImage()
    for key, name in enumerate(["a", "b", "c"]):
        entry = nib.gifti.GiftiLabel(key=key)
        entry.label = name
        lab.labeltable.labels.append(entry)
    lab.add_gifti_data_array(
        nib.gifti.GiftiDataArray(labels, intent="NIFTI_INTENT_LABEL")
    )
    nib.save(lab, tmp_path / "lh.regions.label.gii")
    c = load_cortex(tmp_path / "lh.sphere.gii", tmp_path / "lh.regions.label.gii")
    np.testing.assert_allclose(c.vertices, v, rtol=1e-6)
    assert np.array_equal(np.asarray(c.triangles), t)
    assert np.array_equal(np.asarray(c.region_mapping), labels)
    assert c.region_labels == ("a", "b", "c")
    # a plain array works too, and the label file is not a surface
    c2 = load_cortex(str(tmp_path / "lh.sphere.gii"), labels)
    assert c2.region_labels is None and c2.n_regions == 3
    with pytest.raises(ValueError, match="not a GIFTI surface"):
        load_cortex(tmp_path / "lh.regions.label.gii", labels)


def test_freesurfer_hemispheres_with_annotations(tmp_path):
    nib = pytest.importorskip("nibabel")
    v, t = two_hemispheres(1)
    n = len(v) // 2
    nib.freesurfer.write_geometry(str(tmp_path / "lh.pial"), v[:n], t[: len(t) // 2])
    nib.freesurfer.write_geometry(
        str(tmp_path / "rh.pial"), v[n:], t[len(t) // 2 :] - n
    )
    ctab = np.array([[25, 5, 25, 0, 0], [200, 100, 50, 0, 0]], dtype=np.int32)
    ctab[:, 4] = ctab[:, 0] + ctab[:, 1] * 2**8 + ctab[:, 2] * 2**16
    lab_l = (np.arange(n) % 2).astype(np.int32)
    lab_r = ((np.arange(n) + 1) % 2).astype(np.int32)
    for hemi, lab in (("lh", lab_l), ("rh", lab_r)):
        nib.freesurfer.write_annot(
            str(tmp_path / f"{hemi}.aparc.annot"), lab, ctab, [b"frontal", b"occipital"]
        )
    c = load_cortex(
        [tmp_path / "lh.pial", tmp_path / "rh.pial"],
        [tmp_path / "lh.aparc.annot", tmp_path / "rh.aparc.annot"],
    )
    assert c.n_vertices == 2 * n and c.n_triangles == len(t)
    assert c.region_labels == (
        "lh.frontal",
        "lh.occipital",
        "rh.frontal",
        "rh.occipital",
    )
    rmap = np.asarray(c.region_mapping)
    assert np.array_equal(rmap[:n], lab_l) and np.array_equal(rmap[n:], lab_r + 2)
    hemi = c.hemispheres()
    assert np.all(hemi[:n] == 0) and np.all(hemi[n:] == 1)
    np.testing.assert_allclose(c.vertices, v, rtol=1e-5, atol=1e-4)
    # a mapping of the wrong length names the file
    with pytest.raises(ValueError, match=r"`region_mapping\[1\]` has 3 entries"):
        load_cortex([tmp_path / "lh.pial", tmp_path / "rh.pial"], [lab_l, np.zeros(3)])
    # unlabelled vertices (-1 in an annotation) are refused
    lab_l[0] = -1
    nib.freesurfer.write_annot(
        str(tmp_path / "lh.bad.annot"), lab_l, ctab, [b"frontal", b"occipital"]
    )
    with pytest.raises(ValueError, match="negative labels"):
        load_cortex(tmp_path / "lh.pial", tmp_path / "lh.bad.annot")


def test_tvb_zip_text_mapping_and_bad_files(tmp_path):
    v, t = _tetra()
    path = tmp_path / "surface.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("vertices.txt", "\n".join(" ".join(map(str, r)) for r in v))
        zf.writestr("triangles.txt", "\n".join(" ".join(map(str, r)) for r in t))
    (tmp_path / "map.txt").write_text("0\n1\n1\n0\n")
    c = load_cortex(path, tmp_path / "map.txt", region_labels=("x", "y"))
    assert np.asarray(c.region_mapping).tolist() == [0, 1, 1, 0]
    assert c.region_labels == ("x", "y")
    with pytest.raises(ValueError, match=r"has 3 entries but the surface has 4"):
        load_cortex(path, [0, 1, 1])
    with pytest.raises(ValueError, match="required for your own surface"):
        load_cortex(path)
    with pytest.raises(FileNotFoundError):
        load_cortex(tmp_path / "missing.gii", [0])
    (tmp_path / "lh.junk").write_text("not a surface")
    pytest.importorskip("nibabel")
    with pytest.raises(ValueError, match="Cannot read .* as a surface"):
        load_cortex(tmp_path / "lh.junk", [0])


def test_tvb_sample_gifti_reads():
    """tvb-data's sample GIFTI cortex (written by gifticlib) reads as a surface."""
    pytest.importorskip("nibabel")
    path = importlib.resources.files("tvb_data") / "gifti" / "sample.cortex.gii"
    with importlib.resources.as_file(path) as p:
        c = load_cortex(p, np.zeros(131342, int))
    assert c.n_vertices == 131342 and c.n_triangles == 262680
    assert np.isfinite(np.asarray(c.vertex_normals)).all()


def test_cortex_is_a_pytree_with_array_leaves(tvb_cortex):
    leaves = jax.tree_util.tree_leaves(tvb_cortex)
    assert all(isinstance(x, jax.Array) for x in leaves)
    assert any(x.dtype == jnp.int32 for x in leaves)


def test_geodesic_distance_from_sources():
    pytest.importorskip("gdist")
    v, t = flat_grid(6, 2.0)  # flat and convex: geodesic = Euclidean
    c = Cortex(v, t, np.zeros(36, int))
    d = c.geodesic_distance(0)
    np.testing.assert_allclose(d, np.linalg.norm(v - v[0], axis=1), atol=1e-9)
    near = c.geodesic_distance([0, 35], max_distance=5.0)
    expected = np.minimum(
        np.linalg.norm(v - v[0], axis=1), np.linalg.norm(v - v[35], axis=1)
    )
    within = expected <= 5.0
    np.testing.assert_allclose(near[within], expected[within], atol=1e-9)
    assert np.all(np.isinf(near[~within]))
    v2, t2 = two_hemispheres(1)
    c2 = Cortex(v2, t2, np.zeros(len(v2), int))
    d2 = c2.geodesic_distance(0)
    assert np.all(np.isfinite(d2[: len(v2) // 2])) and np.all(
        np.isinf(d2[len(v2) // 2 :])
    )
    with pytest.raises(ValueError, match=r"vertex indices in \[0, 36\)"):
        c.geodesic_distance(36)
