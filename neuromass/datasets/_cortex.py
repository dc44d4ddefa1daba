"""`Cortex`: a triangulated cortical surface with its region mapping, and loaders
(The Virtual Brain's `cortex_16384`, GIFTI, FreeSurfer, TVB-format zips)."""

import functools
import importlib.metadata
import importlib.resources
import io
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._local_connectivity import _GDIST_HINT, LocalConnectivity


_NIBABEL_HINT = (
    "Reading GIFTI and FreeSurfer files needs the optional `nibabel` package: `pip "
    'install "neuromass[surface]"` (or `pip install nibabel`).'
)
_TVB_DATA_HINT = (
    "TVB's cortex needs the optional `tvb-data` package: "
    '`pip install "neuromass[data]"` (or `pip install tvb-data`).'
)


def _concrete(x) -> np.ndarray | None:
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


class Cortex(eqx.Module):
    r"""A triangulated cortical surface for surface simulations: vertices,
    triangles, vertex normals, the region of every vertex and, optionally, a
    local connectivity (The Virtual Brain's `Cortex` with its `CorticalSurface`
    and `RegionMapping`).

    A surface simulation puts one neural mass on every vertex; vertex $v$ belongs
    to region `region_mapping[v]` of the connectome, which is how long-range
    (delayed) coupling reaches it; the `local_connectivity` couples nearby
    vertices instantaneously.

    **Units and conventions.** Vertex positions in mm. `triangles[f]` are three
    vertex indices (0-based). Every vertex must belong to at least one triangle.
    `region_mapping[v]` is an index into the connectome's regions (its
    `labels`), in $[0, N)$.

    All arrays are JAX array leaves (`float32` unless 64-bit mode is enabled);
    `region_labels` and `source` are static. Derived quantities (areas, edge
    lengths, hemispheres) are computed by methods, not stored.

    **Attributes:**

    - `vertices`: `(V, 3)` positions in mm.
    - `triangles`: `(F, 3)` vertex indices.
    - `vertex_normals`: `(V, 3)` unit outward normals.
    - `region_mapping`: `(V,)` region index of every vertex.
    - `region_labels`: the names of the regions the mapping indexes, or `None`.
    - `local_connectivity`: a `neuromass.datasets.LocalConnectivity` of
        shape `(V, V)`, or `None`.
    - `source`: provenance.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        # a tetrahedron: 4 vertices, 4 triangles, two regions
        v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10.0]])
        t = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        cortex = nm.datasets.Cortex(v, t, region_mapping=[0, 0, 1, 1],
                                    region_labels=("A", "B"))
        cortex.n_vertices, cortex.n_regions         # (4, 2)
        float(cortex.triangle_areas.sum())          # surface area in mm^2
        ```
    """

    vertices: Float[Array, "vertices 3"]
    triangles: Int[Array, "triangles 3"]
    vertex_normals: Float[Array, "vertices 3"]
    region_mapping: Int[Array, " vertices"]
    local_connectivity: LocalConnectivity | None
    region_labels: tuple[str, ...] | None = eqx.field(static=True)
    source: str | None = eqx.field(static=True)

    def __init__(
        self,
        vertices: Float[ArrayLike, "vertices 3"],
        triangles: Int[ArrayLike, "triangles 3"],
        region_mapping: Int[ArrayLike, " vertices"],
        *,
        vertex_normals: Float[ArrayLike, "vertices 3"] | None = None,
        region_labels: Sequence[str] | None = None,
        local_connectivity: LocalConnectivity | None = None,
        source: str | None = None,
    ):
        v = np.asarray(vertices)
        t = np.asarray(triangles)
        rm = np.asarray(region_mapping)
        if not (
            np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)
        ):
            raise ValueError(
                "`vertices` must be real (x, y, z) positions in mm; got dtype "
                f"{v.dtype}."
            )
        for name, arr in (("triangles", t), ("region_mapping", rm)):
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                if np.issubdtype(arr.dtype, np.floating) and np.all(
                    arr == np.round(arr)
                ):
                    continue  # e.g. read from a text file as floats
                raise ValueError(
                    f"`{name}` must hold integer indices; got dtype {arr.dtype}."
                )
        if vertex_normals is None and v.ndim == 2 and v.shape[1] == 3 and t.ndim == 2:
            _check_triangles(t, v.shape[0])
            vertex_normals = vertex_normals_of(v, t.astype(np.int64))
        self.vertices = jnp.asarray(v, dtype=float)
        self.triangles = jnp.asarray(t, dtype=jnp.int32)
        self.region_mapping = jnp.asarray(rm, dtype=jnp.int32)
        self.vertex_normals = (
            jnp.zeros_like(self.vertices)
            if vertex_normals is None
            else jnp.asarray(vertex_normals, dtype=float)
        )
        if region_labels is not None:
            if isinstance(region_labels, str):
                raise ValueError(
                    "`region_labels` must be a sequence of names, one per region; got "
                    f"the single string {region_labels!r}."
                )
            region_labels = tuple(str(s) for s in region_labels)
        self.region_labels = region_labels
        self.local_connectivity = local_connectivity
        self.source = source

    def __check_init__(self):
        v_shape = self.vertices.shape
        if len(v_shape) != 2 or v_shape[1] != 3 or v_shape[0] < 3:
            raise ValueError(
                "`vertices` must be a (V, 3) array of positions in mm with V >= 3; got "
                f"shape {v_shape}."
            )
        n = v_shape[0]
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3:
            raise ValueError(
                "`triangles` must be an (F, 3) array of vertex indices; got shape "
                f"{self.triangles.shape}."
            )
        if self.vertex_normals.shape != v_shape:
            raise ValueError(
                f"`vertex_normals` must have the shape of `vertices`, {v_shape}; got "
                f"{self.vertex_normals.shape}. Pass `vertex_normals=None` to compute "
                "them from the triangles."
            )
        if self.region_mapping.shape != (n,):
            raise ValueError(
                "`region_mapping` must give one region index per vertex, shape "
                f"({n},); got {self.region_mapping.shape}. (TVB's 192-region "
                "mapping has 16,500 entries and does not fit its 16,384-vertex "
                "cortex: use regionMapping_16k_76.)"
            )
        verts = _concrete(self.vertices)
        if verts is not None and not np.all(np.isfinite(verts)):
            bad = ~np.isfinite(verts).all(axis=1)
            raise ValueError(
                f"`vertices` contains NaN or inf at {int(bad.sum())} vertices (the "
                f"first {_first(bad)}); give every vertex a finite position in mm."
            )
        tris = _concrete(self.triangles)
        if tris is not None:
            _check_triangles(tris, n)
        normals = _concrete(self.vertex_normals)
        if normals is not None and not np.all(np.isfinite(normals)):
            raise ValueError(
                "`vertex_normals` contains NaN or inf; pass `vertex_normals=None` to "
                "compute them from the triangles."
            )
        if self.region_labels is not None and len(set(self.region_labels)) != len(
            self.region_labels
        ):
            raise ValueError("`region_labels` must be unique.")
        rmap = _concrete(self.region_mapping)
        if rmap is not None and rmap.size:
            if rmap.min() < 0:
                bad = rmap < 0
                raise ValueError(
                    "`region_mapping` has negative labels at "
                    f"{int(bad.sum())} vertices (the first, vertex {_first(bad)}, "
                    f"has {int(rmap[bad][0])}); every vertex must belong to a "
                    "region in [0, N). Assign the unlabelled "
                    "vertices (e.g. FreeSurfer's 'unknown', -1) to a region."
                )
            if self.region_labels is not None and rmap.max() >= len(self.region_labels):
                bad = rmap >= len(self.region_labels)
                raise ValueError(
                    f"`region_mapping` has labels out of range at {int(bad.sum())} "
                    f"vertices (the largest is {int(rmap.max())}) for "
                    f"{len(self.region_labels)} `region_labels`: labels index the "
                    f"regions, in [0, {len(self.region_labels)}). Pass the labels of "
                    "every region, or fix the mapping."
                )
        lc = self.local_connectivity
        if lc is not None:
            if not isinstance(lc, LocalConnectivity):
                raise ValueError(
                    "`local_connectivity` must be a "
                    "`neuromass.datasets.LocalConnectivity` or None; got "
                    f"{type(lc).__name__}."
                )
            if lc.shape != (n, n):
                raise ValueError(
                    f"`local_connectivity` has shape {lc.shape}, but the cortex "
                    f"has {n} vertices: it must be ({n}, {n}), one row and column "
                    "per vertex. "
                    "Build it for this cortex, e.g. with "
                    "`LocalConnectivity.from_kernel(cortex, kernel)`."
                )

    # --- sizes ----------------------------------------------------------------------
    @property
    def n_vertices(self) -> int:
        """V, the number of vertices."""
        return self.vertices.shape[0]

    @property
    def n_triangles(self) -> int:
        """F, the number of triangles."""
        return self.triangles.shape[0]

    @property
    def n_regions(self) -> int:
        """The number of regions: `len(region_labels)` when labels are given, else
        the largest label + 1."""
        if self.region_labels is not None:
            return len(self.region_labels)
        return int(np.max(np.asarray(self.region_mapping))) + 1

    # --- geometry (derived) ---------------------------------------------------------
    def _corners(self):
        tri = self.triangles
        return (
            self.vertices[tri[:, 0]],
            self.vertices[tri[:, 1]],
            self.vertices[tri[:, 2]],
        )

    @property
    def triangle_normals(self) -> Float[Array, "triangles 3"]:
        """`(F, 3)` unit normals of the triangles (right-hand rule on their
        vertex order)."""
        a, b, c = self._corners()
        cross = jnp.cross(b - a, c - a)
        return cross / jnp.linalg.norm(cross, axis=1, keepdims=True)

    @property
    def triangle_areas(self) -> Float[Array, " triangles"]:
        """`(F,)` triangle areas in mm²."""
        a, b, c = self._corners()
        return 0.5 * jnp.linalg.norm(jnp.cross(b - a, c - a), axis=1)

    @property
    def vertex_areas(self) -> Float[Array, " vertices"]:
        """`(V,)` area attributed to each vertex in mm²: a third of the area of
        every triangle it belongs to (they sum to the surface area)."""
        third = jnp.repeat(self.triangle_areas / 3.0, 3)
        return jax.ops.segment_sum(third, self.triangles.reshape(-1), self.n_vertices)

    @property
    def edges(self) -> np.ndarray:
        """`(E, 2)` the unique edges `(i, j)`, `i < j`, sorted (NumPy)."""
        return _unique_edges(np.asarray(self.triangles))

    @property
    def edge_lengths(self) -> Float[Array, " edges"]:
        """`(E,)` the lengths of the unique edges in mm (order of `edges`)."""
        e = self.edges
        return jnp.linalg.norm(self.vertices[e[:, 0]] - self.vertices[e[:, 1]], axis=1)

    @property
    def mean_edge_length(self) -> float:
        """The mean edge length in mm (a Python float)."""
        return float(np.mean(np.asarray(self.edge_lengths)))

    def region_sizes(self, n_regions: int | None = None) -> np.ndarray:
        """`(N,)` the number of vertices of every region (NumPy), with N
        `n_regions` (default
        `neuromass.datasets.Cortex.n_regions`)."""
        n = self.n_regions if n_regions is None else int(n_regions)
        return np.bincount(np.asarray(self.region_mapping), minlength=n)[:n]

    def unmapped_regions(self, n_regions: int | None = None) -> np.ndarray:
        """The regions (ascending indices) that no vertex maps to, e.g. subcortical
        ones. TVB simulates one extra node for each of them, after the vertices."""
        return np.flatnonzero(self.region_sizes(n_regions) == 0)

    def check_regions(self, n_regions: int) -> None:
        """Check that the region mapping indexes a connectome of `n_regions`
        regions; raise a `ValueError` naming the fix otherwise."""
        rmap = np.asarray(self.region_mapping)
        if rmap.max() >= n_regions:
            bad = rmap >= n_regions
            raise ValueError(
                "`region_mapping` has labels out of range at "
                f"{int(bad.sum())} vertices (the largest is {int(rmap.max())}) for "
                f"a connectome of {n_regions} "
                f"regions: labels must be in [0, {n_regions}). Use the connectome the "
                "mapping was made for, or remap the labels."
            )

    def hemispheres(self) -> np.ndarray:
        """`(V,)` the hemisphere of every vertex: 0 left, 1 right (NumPy).

        From the region labels when every label names its hemisphere (TVB's
        `lA1`/`rA1`, `lh.`/`rh.`, `ctx-lh-`, `Left-`/`Right-`, `L_`/`R_`);
        otherwise from the geometry: the mesh's connected components are placed
        on either side of the midline along the axis that separates the two
        largest, the positive side being right (RAS coordinates, as FreeSurfer
        and GIFTI files are); a single connected mesh is split by the sign of x.
        """
        return _hemispheres(
            np.asarray(self.vertices, dtype=np.float64),
            np.asarray(self.triangles),
            np.asarray(self.region_mapping),
            self.region_labels,
        )

    def geodesic_distance(
        self,
        sources: Int[ArrayLike, " sources"] | int,
        max_distance: float | None = None,
    ) -> np.ndarray:
        """`(V,)` the exact geodesic distance in mm along the mesh from the nearest
        of `sources` to every vertex (tvb-gdist, as TVB's
        `CorticalSurface.geodesic_distance`), `inf` where no source is within
        reach (beyond `max_distance`, or on another connected component such as
        the other hemisphere). NumPy, not differentiable.

        **Arguments:**

        - `sources`: a vertex index or indices.
        - `max_distance`: stop the propagation at this distance (mm); faster for
            local distances.

        !!! example

            ```python
            # doc: no-run (needs tvb-data and tvb-gdist)
            cortex = nm.datasets.load_cortex()
            d = cortex.geodesic_distance(5000, max_distance=20.0)   # mm, inf beyond
            ```
        """
        try:
            import gdist
        except ImportError as e:
            raise ImportError(_GDIST_HINT) from e
        src = np.atleast_1d(np.asarray(sources))
        n = self.n_vertices
        if src.ndim != 1 or src.size == 0 or not np.issubdtype(src.dtype, np.integer):
            raise ValueError(
                f"`sources` must be one or more vertex indices; got {sources!r}."
            )
        if src.min() < 0 or src.max() >= n:
            raise ValueError(
                f"`sources` must be vertex indices in [0, {n}); got {src}."
            )
        kwargs = {} if max_distance is None else {"max_distance": float(max_distance)}
        d = gdist.compute_gdist(
            np.asarray(self.vertices, dtype=np.float64),
            np.asarray(self.triangles, dtype=np.int32),
            source_indices=src.astype(np.int32),
            **kwargs,
        )
        d = np.asarray(d, dtype=np.float64)
        limit = np.inf if max_distance is None else float(max_distance)
        d[~(d <= limit)] = np.inf  # gdist marks unreached vertices 1e100 or inf
        return d

    def with_local_connectivity(self, local_connectivity: LocalConnectivity | None):
        """A copy with another local connectivity (checked against the vertices).

        !!! example

            ```python
            # doc: no-run (needs tvb-data)
            cortex = nm.datasets.load_cortex()
            other = cortex.with_local_connectivity(
                nm.datasets.LocalConnectivity.from_kernel(cortex, kernel, cutoff=10.0))
            ```
        """
        return Cortex(
            self.vertices,
            self.triangles,
            self.region_mapping,
            vertex_normals=self.vertex_normals,
            region_labels=self.region_labels,
            local_connectivity=local_connectivity,
            source=self.source,
        )


Cortex.__init__.__doc__ = """**Arguments:**

- `vertices`: `(V, 3)` positions in mm.
- `triangles`: `(F, 3)` vertex indices (0-based); every vertex must be used.
- `region_mapping`: `(V,)` region index of every vertex, in `[0, N)`.
- `vertex_normals`: `(V, 3)` unit normals; computed from the triangles when
    `None` (TVB's rule: the mean of the normals of a vertex's triangles weighted
    by the angle each subtends at the vertex, with correct angles: TVB's
    `triangle_angles` give the third corner of every triangle pi too much). They
    follow the triangles' orientation (right-hand rule): outward for FreeSurfer
    and GIFTI meshes.
- `region_labels`: the N region names (e.g. the connectome's `labels`); when
    given, labels of the mapping must be below N.
- `local_connectivity`: an optional `(V, V)`
    `neuromass.datasets.LocalConnectivity`.
- `source`: provenance.

**Raises:**

`ValueError` naming the argument and the fix: wrong shapes, non-finite
positions, triangles that reference missing vertices, vertices no triangle
uses, degenerate triangles (a vertex repeated), a region mapping of the wrong
length or with labels out of range, a local connectivity of the wrong size.
"""


# --- mesh helpers ---------------------------------------------------------------------
def _check_triangles(tris: np.ndarray, n: int) -> None:
    if tris.size == 0:
        raise ValueError("`triangles` is empty: a cortex needs at least one triangle.")
    if tris.min() < 0 or tris.max() >= n:
        bad = ((tris < 0) | (tris >= n)).any(axis=1)
        raise ValueError(
            f"`triangles` reference missing vertices: {int(bad.sum())} triangles (the "
            f"first, triangle {_first(bad)} = {tris[bad][0].tolist()}) use indices "
            f"outside [0, {n}). Indices are 0-based; for 1-based files subtract 1."
        )
    degenerate = (
        (tris[:, 0] == tris[:, 1])
        | (tris[:, 1] == tris[:, 2])
        | (tris[:, 0] == tris[:, 2])
    )
    if degenerate.any():
        raise ValueError(
            f"`triangles` has {int(degenerate.sum())} degenerate triangles with a "
            f"repeated vertex (the first, triangle {_first(degenerate)} = "
            f"{tris[degenerate][0].tolist()}); remove them from the mesh."
        )
    used = np.zeros(n, dtype=bool)
    used[tris.ravel()] = True
    if not used.all():
        raise ValueError(
            f"Mesh with unreferenced vertices: {int((~used).sum())} of {n} "
            f"vertices (the first, vertex {_first(~used)}) belong to no triangle. "
            "Remove them from "
            "`vertices` (and renumber `triangles` and `region_mapping`), e.g. "
            "`keep = np.unique(triangles); vertices = vertices[keep]; triangles = "
            "np.searchsorted(keep, triangles)`."
        )


def _unique_edges(tris: np.ndarray) -> np.ndarray:
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    return np.unique(np.sort(edges, axis=1), axis=0)


def vertex_normals_of(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """TVB's vertex normals (`CorticalSurface.compute_vertex_normals`): the unit mean
    of the unit normals of the triangles around a vertex, each weighted by the
    angle it subtends at the vertex."""
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64)
    corners = v[t]  # (F, 3 corners, 3)
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        tri_n = cross / np.linalg.norm(cross, axis=1, keepdims=True)
        normals = np.zeros_like(v)
        for k in range(3):
            e1 = corners[:, (k + 1) % 3] - corners[:, k]
            e2 = corners[:, (k + 2) % 3] - corners[:, k]
            cos = np.sum(e1 * e2, axis=1) / (
                np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
            )
            angle = np.arccos(np.clip(cos, -1.0, 1.0))
            np.add.at(normals, t[:, k], angle[:, None] * tri_n)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        bad = ~np.isfinite(normals).all(axis=1)
        # TVB's fallback for a vertex whose triangles are degenerate: its position.
        normals[bad] = v[bad] / np.linalg.norm(v[bad], axis=1, keepdims=True)
    return np.nan_to_num(normals)


_HEMISPHERE_PATTERNS = (
    (re.compile(r"^(lh|rh)[._\-]", re.I), {"lh": 0, "rh": 1}),
    (re.compile(r"^ctx[-_](lh|rh)[-_]", re.I), {"lh": 0, "rh": 1}),
    (re.compile(r"^(left|right)[-_ ]", re.I), {"left": 0, "right": 1}),
    (re.compile(r"^(L|R)[_\-]"), {"l": 0, "r": 1}),
    (re.compile(r"^(l|r)(?=[A-Z0-9])"), {"l": 0, "r": 1}),
)


def _label_hemisphere(labels: Sequence[str]) -> np.ndarray | None:
    for pattern, sides in _HEMISPHERE_PATTERNS:
        found = [pattern.match(s) for s in labels]
        if all(found):
            return np.array([sides[m.group(1).lower()] for m in found])  # type: ignore[union-attr]
    return None


def _hemispheres(vertices, triangles, region_mapping, region_labels) -> np.ndarray:
    if region_labels is not None:
        by_label = _label_hemisphere(region_labels)
        if by_label is not None:
            return by_label[region_mapping]
    from ._local_connectivity import _components

    n = vertices.shape[0]
    n_comp, labels = _components(n, triangles)
    if n_comp < 2:
        return (vertices[:, 0] > 0).astype(np.int64)
    sizes = np.bincount(labels)
    big = np.argsort(sizes)[::-1][:2]
    centroids = np.array([vertices[labels == c].mean(axis=0) for c in range(n_comp)])
    diff = centroids[big[0]] - centroids[big[1]]
    axis = int(np.argmax(np.abs(diff)))
    midline = 0.5 * (centroids[big[0], axis] + centroids[big[1], axis])
    side = (centroids[:, axis] > midline).astype(np.int64)
    return side[labels]


# --- readers --------------------------------------------------------------------------
def _nibabel():
    try:
        import nibabel
    except ImportError as e:
        raise ImportError(_NIBABEL_HINT) from e
    return nibabel


def _read_tvb_zip(source) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """vertices, triangles and (optionally) vertex normals of a TVB surface zip."""
    with zipfile.ZipFile(source) as zf:
        names = {member.split("/")[-1]: member for member in zf.namelist()}

        def read(name, dtype):
            for candidate in (name, name + ".bz2"):
                if candidate in names:
                    data = zf.read(names[candidate])
                    if candidate.endswith(".bz2"):
                        import bz2

                        data = bz2.decompress(data)
                    return np.loadtxt(io.BytesIO(data), dtype=dtype, ndmin=2)
            return None

        v = read("vertices.txt", np.float64)
        t = read("triangles.txt", np.int64)
        normals = read("vertex_normals.txt", np.float64)
    if v is None or t is None:
        raise ValueError(
            "A TVB-format surface zip must contain `vertices.txt` and `triangles.txt`; "
            f"found {sorted(names)}."
        )
    return v, t, normals


def _read_surface(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not path.exists():
        raise FileNotFoundError(f"No surface file at {str(path)!r}.")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _read_tvb_zip(path)
    nib = _nibabel()
    if suffix == ".gii":
        img = nib.load(str(path))
        codes = nib.nifti1.intent_codes
        points = [d for d in img.darrays if d.intent == codes["NIFTI_INTENT_POINTSET"]]
        tris = [d for d in img.darrays if d.intent == codes["NIFTI_INTENT_TRIANGLE"]]
        if len(points) != 1 or len(tris) != 1:
            raise ValueError(
                f"{str(path)!r} is not a GIFTI surface: it needs one POINTSET and one "
                f"TRIANGLE data array; found {len(points)} and {len(tris)}. (A "
                "`.label.gii` or `.func.gii` is a region mapping or data, not a "
                "surface.)"
            )
        return np.asarray(points[0].data, float), np.asarray(tris[0].data), None
    try:
        coords, faces = nib.freesurfer.read_geometry(str(path))
    except Exception as e:
        raise ValueError(
            f"Cannot read {str(path)!r} as a surface: expected a GIFTI surface "
            "(`.gii`), a FreeSurfer surface (e.g. `lh.pial`, `lh.white`) or a "
            f"TVB-format `.zip` ({type(e).__name__}: {e})."
        ) from e
    return np.asarray(coords, float), np.asarray(faces), None


def _read_region_mapping(
    source: Any, n_vertices: int
) -> tuple[np.ndarray, list[str] | None]:
    """A region mapping (int array) and, for annotation files, the region names."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"No region-mapping file at {str(path)!r}.")
        name = path.name.lower()
        if name.endswith(".annot"):
            labels, _, names = _nibabel().freesurfer.read_annot(str(path))
            return np.asarray(labels), [
                n.decode() if isinstance(n, bytes) else str(n) for n in names
            ]
        if name.endswith(".gii"):
            img = _nibabel().load(str(path))
            if len(img.darrays) != 1:
                raise ValueError(
                    f"{str(path)!r}: a GIFTI label file must hold one data array; got "
                    f"{len(img.darrays)}."
                )
            data = np.asarray(img.darrays[0].data).ravel()
            table = img.labeltable.get_labels_as_dict() if img.labeltable else {}
            if table:
                keys = sorted(table)
                if keys != list(range(len(keys))):
                    raise ValueError(
                        f"{str(path)!r}: label keys must be 0..K-1 to be used as "
                        f"region indices; got {keys[:5]}... Pass an array instead."
                    )
                return data, [table[k] for k in keys]
            return data, None
        if name.endswith(".npy"):
            return np.load(path, allow_pickle=False), None
        try:
            return np.loadtxt(path, dtype=np.float64).ravel(), None
        except ValueError as e:
            raise ValueError(
                f"Cannot read {str(path)!r} as a region mapping: expected one integer "
                "per vertex (text, `.npy`), a FreeSurfer `.annot` or a GIFTI "
                f"`.label.gii` ({e})."
            ) from e
    arr = np.asarray(source)
    if arr.ndim != 1:
        raise ValueError(
            f"`region_mapping` must be a (V,) array, one region index per vertex (V = "
            f"{n_vertices}); got shape {arr.shape}."
        )
    return arr, None


def _hemisphere_prefix(path: Any, i: int) -> str:
    if isinstance(path, str | os.PathLike):
        m = re.match(r"^(lh|rh)\.", Path(path).name, re.I)
        if m:
            return m.group(1).lower() + "."
    return f"{i}."


# --- loaders --------------------------------------------------------------------------
@functools.cache
def _tvb_cortex_arrays():
    try:
        import tvb_data  # noqa: F401
    except ImportError as e:
        raise ImportError(_TVB_DATA_HINT) from e
    files = importlib.resources.files("tvb_data")
    with importlib.resources.as_file(files / "surfaceData" / "cortex_16384.zip") as p:
        v, t, normals = _read_tvb_zip(p)
    rmap_text = (files / "regionMapping" / "regionMapping_16k_76.txt").read_text()
    rmap = np.array(rmap_text.split(), dtype=np.int64)
    import scipy.io

    with importlib.resources.as_file(
        files / "local_connectivity" / "local_connectivity_16384.mat"
    ) as p:
        lc = scipy.io.loadmat(str(p))["LocalCoupling"]
    for a in (v, t, normals, rmap):
        a.setflags(write=False)
    return v, t, normals, rmap, lc


def load_cortex(
    surface: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    region_mapping: Any = None,
    *,
    region_labels: Sequence[str] | None = None,
    local_connectivity: bool = True,
) -> Cortex:
    """Load a cortical surface: The Virtual Brain's default cortex, or your own
    surface files.

    **Arguments:**

    - `surface`: one of

        - `None`: TVB's `cortex_16384` (16,384 vertices, 32,760 triangles, two
            hemispheres; tvb-data, `pip install "neuromass[data]"`) with its
            76-region mapping `regionMapping_16k_76` (labels of
            `load_connectome("tvb76")`; vertices 0-8191 are the right hemisphere,
            regions 0-37) and, with `local_connectivity=True`, its precomputed
            `local_connectivity_16384.mat` (each vertex coupled to its mesh
            neighbours with weight 1/degree).
        - a path to a GIFTI surface (`.gii`), a FreeSurfer surface (`lh.pial`,
            `lh.white`, ...) or a TVB-format surface `.zip` (`vertices.txt`,
            `triangles.txt`, optionally `vertex_normals.txt`), in mm;
        - a sequence of such paths (e.g. `["lh.pial", "rh.pial"]`): the meshes
            are concatenated in that order.

    - `region_mapping`: for your own surface (required), the region of every
        vertex: a `(V,)` integer array, a text or `.npy` file of V integers, a
        FreeSurfer `.annot` or a GIFTI label file (`.label.gii`) (region index =
        the annotation's label index; its names become `region_labels`); or a
        sequence of these, one per surface file. For a sequence of annotations
        the indices of each file are offset by the number of regions of the
        files before it, and names are prefixed with `lh.`/`rh.` (from the file
        name) or the file's position.
    - `region_labels`: the names of the regions the mapping indexes, e.g. your
        connectome's `labels` (overrides names read from annotations).
    - `local_connectivity`: for TVB's cortex, attach its precomputed local
        connectivity (default `True`).

    **Returns:**

    A validated `neuromass.datasets.Cortex`.

    **Raises:**

    - `ImportError` when `tvb-data` (TVB's cortex) or `nibabel` (GIFTI,
        FreeSurfer) is missing, naming the extra to install.
    - `ValueError` for unreadable files, a mapping of the wrong length, labels
        out of range, triangles that reference missing vertices, unreferenced
        vertices.

    !!! example

        ```python
        import neuromass as nm

        cortex = nm.datasets.load_cortex()           # needs tvb-data
        cortex.n_vertices, cortex.n_triangles        # (16384, 32760)
        cortex.local_connectivity.nnz                # 98280
        ```

        Your own FreeSurfer subject, with the Desikan-Killiany atlas:

        ```python
        # doc: no-run (needs a FreeSurfer subject)
        cortex = nm.datasets.load_cortex(
            ["surf/lh.pial", "surf/rh.pial"],
            ["label/lh.aparc.annot", "label/rh.aparc.annot"])
        ```
    """
    if surface is None:
        if region_mapping is not None:
            raise ValueError(
                "`region_mapping` is for your own surface; TVB's cortex_16384 comes "
                "with its 76-region mapping (the 192-region file of tvb-data has "
                "16,500 entries and does not fit it)."
            )
        v, t, normals, rmap, lc_matrix = _tvb_cortex_arrays()
        from ._loaders import load_connectome

        labels = (
            tuple(region_labels)
            if region_labels is not None
            else load_connectome("tvb76").labels
        )
        try:
            version = importlib.metadata.version("tvb-data")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            version = "unknown version"
        source = (
            f"tvb-data {version}: surfaceData/cortex_16384.zip, "
            "regionMapping/regionMapping_16k_76.txt"
        )
        lc = None
        if local_connectivity:
            lc = LocalConnectivity.from_matrix(
                lc_matrix,
                source=f"tvb-data {version}: "
                "local_connectivity/local_connectivity_16384.mat",
            )
        return Cortex(
            v,
            t,
            rmap,
            vertex_normals=normals,
            region_labels=labels,
            local_connectivity=lc,
            source=source + " (GPL-3.0-or-later)",
        )

    paths = [surface] if isinstance(surface, str | os.PathLike) else list(surface)
    if not paths:
        raise ValueError("`surface` is an empty sequence; pass at least one file.")
    if region_mapping is None:
        raise ValueError(
            "`region_mapping` is required for your own surface: the region of every "
            "vertex, as an array or a file (text, .npy, FreeSurfer .annot, GIFTI "
            ".label.gii)."
        )
    meshes = [_read_surface(Path(p)) for p in paths]
    sizes = [m[0].shape[0] for m in meshes]
    offsets = np.cumsum([0] + sizes[:-1])
    vertices = np.concatenate([m[0] for m in meshes])
    triangles = np.concatenate([m[1] + o for m, o in zip(meshes, offsets, strict=True)])
    if all(m[2] is not None for m in meshes):
        normals = np.concatenate([m[2] for m in meshes])
    else:
        normals = None

    separate = (
        len(paths) > 1
        and not isinstance(region_mapping, str | os.PathLike)
        and isinstance(region_mapping, Sequence)
        and len(region_mapping) == len(paths)
        and all(
            isinstance(r, str | os.PathLike) or np.ndim(r) == 1 for r in region_mapping
        )
    )
    if separate:
        parts = []
        names: list[str] | None = []
        shift = 0
        for i, (rm, size) in enumerate(zip(region_mapping, sizes, strict=True)):
            arr, part_names = _read_region_mapping(rm, size)
            if arr.shape != (size,):
                raise ValueError(
                    f"`region_mapping[{i}]` has {arr.size} entries but surface "
                    f"{str(paths[i])!r} has {size} vertices; give one region per "
                    "vertex."
                )
            if part_names is not None and names is not None:
                arr = np.where(arr >= 0, arr + shift, arr)
                prefix = _hemisphere_prefix(rm, i)
                names += [prefix + n for n in part_names]
                shift += len(part_names)
            else:
                names = None
            parts.append(arr)
        rmap = np.concatenate(parts)
    else:
        rmap, names = _read_region_mapping(region_mapping, vertices.shape[0])
        if rmap.shape != (vertices.shape[0],):
            raise ValueError(
                f"`region_mapping` has {rmap.size} entries but the surface has "
                f"{vertices.shape[0]} vertices; give one region per vertex (for "
                "several surface files, one mapping per file or one for all)."
            )
    if region_labels is not None:
        names = list(region_labels)
    return Cortex(
        vertices,
        triangles,
        rmap,
        vertex_normals=normals,
        region_labels=names,
        source=", ".join(str(p) for p in paths),
    )
