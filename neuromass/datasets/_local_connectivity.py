"""`LocalConnectivity`: the sparse, instantaneous vertex-to-vertex coupling of a
cortical surface (The Virtual Brain's `LocalConnectivity`)."""

import hashlib
import importlib.metadata
import multiprocessing
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..equations import Gaussian
from ._sparse import SparseMatrix, SparsityPattern, ell_weights


if TYPE_CHECKING:
    from ._cortex import Cortex


# Version of the geodesic-distance cache layout written by `from_kernel(cache=...)`.
CACHE_FORMAT = "neuromass-geodesic-distances"
CACHE_VERSION = 1

_GDIST_HINT = (
    "Computing geodesic distances needs the optional `tvb-gdist` package: `pip "
    'install "neuromass[surface]"` (or `pip install tvb-gdist`).'
)


def _concrete(x) -> np.ndarray | None:
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _homogenise(weights: Float[Array, " nnz"], rows: np.ndarray, n: int) -> Array:
    r"""The Virtual Brain's homogenisation of a local connectivity (CSR values).

    With $P_i$ and $N_i$ the sums of the positive and of the negative entries of
    row $i$, and $\bar P$, $\bar N$ their means over all $n$ rows, the positive
    entries of row $i$ are scaled by $\bar P / P_i$ and the negative ones by
    $\bar N / N_i$ (a row without positive, or negative, entries keeps zeros), so
    that every row has the same positive and the same negative sum, whatever the
    local density of vertices. This is `LocalConnectivity.compute` in
    tvb-library (`tvb/datatypes/local_connectivity.py`).
    """
    pos = jnp.where(weights > 0, weights, 0.0)
    neg = jnp.where(weights < 0, weights, 0.0)
    pos_sum = jax.ops.segment_sum(pos, rows, n, indices_are_sorted=True)
    neg_sum = jax.ops.segment_sum(neg, rows, n, indices_are_sorted=True)

    def factor(total):
        nonzero = total != 0
        safe = jnp.where(nonzero, total, 1.0)
        return jnp.where(nonzero, jnp.mean(total) / safe, 0.0)

    return factor(pos_sum)[rows] * pos + factor(neg_sum)[rows] * neg


class LocalConnectivity(eqx.Module):
    r"""The local (surface) connectivity of a cortex: a sparse `(V, V)` matrix $L$
    of instantaneous couplings between nearby vertices, row = target
    (The Virtual Brain's `LocalConnectivity`).

    At every vertex $i$ a surface simulation adds $s \sum_j L_{ij} x_j$ to the
    node model (TVB's `local_coupling`, with $s$ the local coupling strength,
    TVB's `Cortex.coupling_strength`).

    Two kinds, by construction:

    - **explicit values**
        (`neuromass.datasets.LocalConnectivity.from_matrix`),
        e.g. TVB's precomputed `local_connectivity_16384.mat`, which
        `neuromass.datasets.load_cortex` attaches to its cortex;
    - **a kernel of geodesic distance**
        (`neuromass.datasets.LocalConnectivity.from_kernel`):
        the distances $d_{ij}$ (mm) along the surface between vertices closer
        than a cutoff are stored, and the values $L_{ij} = k(d_{ij})$ (optionally
        homogenised as TVB does) are computed in JAX from the `kernel` module, so
        they are differentiable with respect to its parameters (e.g. a
        Gaussian's width) and can be changed with `eqx.tree_at`.

    The sparsity pattern is static NumPy metadata; the values (or distances) are
    JAX array leaves in CSR order. For a time loop, build the product operator
    once with `neuromass.datasets.LocalConnectivity.matrix` and call its
    `matvec` at every step.

    **Attributes:**

    - `values`: `(nnz,)` explicit values, or `None` for a kernel connectivity.
    - `distances`: `(nnz,)` geodesic distances in mm, or `None`.
    - `kernel`: a callable module mapping distances (mm) to weights (e.g. a
        `neuromass.equations.Gaussian`), or `None`.
    - `homogenise`: apply TVB's homogenisation to the kernel values (static).
    - `cutoff`: the geodesic cutoff in mm, when known (static).
    - `pattern`: the static sparsity pattern (CSR `indptr`, `indices`, `n`).
    - `source`: provenance (static).

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        # a ring of 4 vertices, each coupled to its two neighbours by 1/2
        m = np.array([[0, .5, 0, .5], [.5, 0, .5, 0], [0, .5, 0, .5], [.5, 0, .5, 0]])
        lc = nm.datasets.LocalConnectivity.from_matrix(m)
        lc.matvec(np.array([1.0, 0.0, 0.0, 0.0]))   # [0, 0.5, 0, 0.5]
        ```
    """

    values: Float[Array, " nnz"] | None
    distances: Float[Array, " nnz"] | None
    kernel: Callable[[Float[Array, " nnz"]], Float[Array, " nnz"]] | None
    homogenise: bool = eqx.field(static=True)
    cutoff: float | None = eqx.field(static=True)
    pattern: SparsityPattern = eqx.field(static=True)
    source: str | None = eqx.field(static=True)

    def __init__(
        self,
        pattern: SparsityPattern,
        *,
        values: Float[ArrayLike, " nnz"] | None = None,
        distances: Float[ArrayLike, " nnz"] | None = None,
        kernel: Callable | None = None,
        homogenise: bool = False,
        cutoff: float | None = None,
        source: str | None = None,
    ):
        if not isinstance(pattern, SparsityPattern):
            raise ValueError(
                "`LocalConnectivity.pattern` must be a `SparsityPattern`; build a "
                "LocalConnectivity with `LocalConnectivity.from_matrix` or "
                "`LocalConnectivity.from_kernel`."
            )
        self.pattern = pattern
        self.values = None if values is None else jnp.asarray(values, dtype=float)
        self.distances = (
            None if distances is None else jnp.asarray(distances, dtype=float)
        )
        self.kernel = kernel
        self.homogenise = bool(homogenise)
        self.cutoff = None if cutoff is None else float(cutoff)
        self.source = source

    def __check_init__(self):
        nnz = self.pattern.nnz
        if (self.values is None) == (self.distances is None):
            raise ValueError(
                "A `LocalConnectivity` holds either explicit `values` or "
                "`distances` with a `kernel`, not both and not neither."
            )
        if self.distances is not None and self.kernel is None:
            raise ValueError(
                "`LocalConnectivity.kernel` is required with `distances`: pass a "
                "module that maps distances in mm to weights, e.g. "
                "`nm.equations.Gaussian(sigma=5.0)`."
            )
        if self.values is not None and (self.kernel is not None or self.homogenise):
            raise ValueError(
                "`kernel` and `homogenise` apply to a kernel connectivity (built "
                "from distances); explicit `values` are used as they are."
            )
        for name in ("values", "distances"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (nnz,):
                raise ValueError(
                    f"`LocalConnectivity.{name}` must have one entry per stored "
                    f"entry of the pattern, shape ({nnz},); got {arr.shape}."
                )
        if self.distances is not None:
            d = _concrete(self.distances)
            if d is not None and not (np.all(np.isfinite(d)) and np.all(d >= 0)):
                raise ValueError(
                    "`LocalConnectivity.distances` must be finite and >= 0 (mm)."
                )
        if self.values is not None:
            v = _concrete(self.values)
            if v is not None and not np.all(np.isfinite(v)):
                raise ValueError(
                    "`LocalConnectivity.values` contains NaN or inf; replace them "
                    "(e.g. with `numpy.nan_to_num`)."
                )

    # --- shape and structure ------------------------------------------------
    @property
    def n_vertices(self) -> int:
        """V, the number of vertices (rows and columns)."""
        return self.pattern.n

    @property
    def shape(self) -> tuple[int, int]:
        """`(V, V)`."""
        return (self.pattern.n, self.pattern.n)

    @property
    def nnz(self) -> int:
        """The number of stored entries."""
        return self.pattern.nnz

    # --- values -----------------------------------------------------------------
    @property
    def data(self) -> Float[Array, " nnz"]:
        """The matrix values in CSR order, `(nnz,)`: `values`, or
        `kernel(distances)` (homogenised when `homogenise`). Computed in JAX, so
        differentiable with respect to the kernel's parameters."""
        if self.values is not None:
            return self.values
        assert self.distances is not None and self.kernel is not None
        w = jnp.asarray(self.kernel(self.distances))
        if w.shape != self.distances.shape:
            raise ValueError(
                "`LocalConnectivity.kernel` must map the (nnz,) distances to (nnz,) "
                f"weights elementwise; got shape {w.shape} from {self.distances.shape}."
            )
        if self.homogenise:
            w = _homogenise(w, self.pattern.rows, self.pattern.n)
        return w

    def matrix(self) -> SparseMatrix:
        """The product operator: a `neuromass.datasets.SparseMatrix` holding
        the values in the layout of the fast product.

        Build it once per simulation (outside the time loop: it evaluates the
        kernel and the homogenisation), then call its `matvec` at every step;
        gradients flow from its `weights` back to this module's leaves.

        !!! example

            ```python
            import numpy as np
            import neuromass as nm

            lc = nm.datasets.LocalConnectivity.from_matrix(np.eye(3)[[1, 2, 0]])
            L = lc.matrix()
            L @ np.array([1.0, 2.0, 3.0])   # [2, 3, 1]
            ```
        """
        return SparseMatrix(ell_weights(self.data, self.pattern), self.pattern)

    def matvec(
        self, x: Float[ArrayLike, "vertices ..."]
    ) -> Float[Array, "vertices ..."]:
        r"""The product $y = L x$, $y_i = \sum_j L_{ij} x_j$, for `x` of shape
        `(V,)` or `(V, k)`. Jit-able and differentiable (with respect to `x` and
        to the leaves of this module). In a time loop prefer
        `neuromass.datasets.LocalConnectivity.matrix`, which evaluates
        the values once.
        """
        return self.matrix().matvec(x)

    def __matmul__(self, x):
        return self.matvec(x)

    def row_sums(self) -> Float[Array, " vertices"]:
        """$\\sum_j L_{ij}$ for every row $i$, `(V,)`."""
        return jax.ops.segment_sum(
            self.data, self.pattern.rows, self.pattern.n, indices_are_sorted=True
        )

    def to_scipy(self):
        """The matrix as a `scipy.sparse.csr_matrix` (concrete values only)."""
        import scipy.sparse

        return scipy.sparse.csr_matrix(
            (np.asarray(self.data), self.pattern.indices, self.pattern.indptr),
            shape=self.shape,
        )

    def todense(self) -> Float[Array, "vertices vertices"]:
        """The dense `(V, V)` matrix (for small meshes and checks)."""
        dense = jnp.zeros(self.shape, self.data.dtype)
        return dense.at[self.pattern.rows, self.pattern.indices].set(self.data)

    # --- constructors -------------------------------------------------------------
    @classmethod
    def from_matrix(
        cls, matrix: Any, *, source: str | None = None
    ) -> "LocalConnectivity":
        """A local connectivity with explicit values, from a square matrix.

        **Arguments:**

        - `matrix`: a `scipy.sparse` matrix or a dense `(V, V)` array, row =
            target. Its stored entries define the sparsity pattern (for a dense
            array: the non-zeros).
        - `source`: optional provenance string.

        **Returns:**

        A `LocalConnectivity` with `values` set.

        **Raises:**

        `ValueError` if the matrix is not square or holds NaN/inf.

        !!! example

            ```python
            import numpy as np
            import neuromass as nm

            lc = nm.datasets.LocalConnectivity.from_matrix(np.ones((3, 3)) - np.eye(3))
            lc.nnz, lc.row_sums()   # 6, [2, 2, 2]
            ```
        """
        pattern, data = _csr_arrays(matrix, "matrix")
        return cls(pattern, values=data, source=source)

    @classmethod
    def from_distances(
        cls,
        distances: Any,
        kernel: Callable,
        *,
        homogenise: bool = True,
        cutoff: float | None = None,
        source: str | None = None,
    ) -> "LocalConnectivity":
        """A kernel connectivity from a sparse matrix of distances (mm).

        **Arguments:**

        - `distances`: a `scipy.sparse` `(V, V)` matrix whose stored entries are
            the distances in mm between the vertex pairs to couple (row =
            target); an entry absent is no coupling.
        - `kernel`: a module mapping distances (mm) to weights elementwise,
            e.g. `nm.equations.Gaussian(sigma=5.0)`.
        - `homogenise`: apply TVB's homogenisation (equal mean positive and
            negative row sums; see `neuromass.datasets.LocalConnectivity`).
        - `cutoff`: the cutoff (mm) the distances were computed with, if any.
        - `source`: optional provenance string.

        !!! example

            ```python
            import scipy.sparse
            import neuromass as nm

            d = scipy.sparse.csr_matrix([[0, 1.0, 2.0], [1.0, 0, 0], [2.0, 0, 0]])
            lc = nm.datasets.LocalConnectivity.from_distances(
                d, nm.equations.Gaussian(sigma=2.0))
            lc.row_sums()   # equal row sums (homogenised)
            ```
        """
        if not _is_scipy_sparse(distances):
            raise ValueError(
                "`distances` must be a scipy.sparse matrix whose stored entries are "
                "distances in mm (a dense array cannot tell a distance of 0 from no "
                "entry); convert with `scipy.sparse.csr_matrix(...)`."
            )
        pattern, data = _csr_arrays(distances, "distances")
        return cls(
            pattern,
            distances=data,
            kernel=kernel,
            homogenise=homogenise,
            cutoff=cutoff,
            source=source,
        )

    @classmethod
    def from_kernel(
        cls,
        cortex: "Cortex",
        kernel: Callable | None = None,
        *,
        cutoff: float = 40.0,
        homogenise: bool = True,
        cache: str | os.PathLike | None = None,
        workers: int = 1,
    ) -> "LocalConnectivity":
        r"""A local connectivity from a kernel of geodesic distance on a cortex,
        as TVB's `LocalConnectivity(equation=..., cutoff=...)` computes it.

        The exact geodesic distance along the mesh (tvb-gdist, TVB's own code) from
        every vertex to every vertex within `cutoff` mm is computed once; the
        values $L_{ij} = k(d_{ij})$ are then evaluated in JAX whenever they are
        needed, so the kernel can be swept and differentiated without
        recomputing distances. The diagonal is not stored ($L_{ii} = 0$), as in
        TVB.

        **Arguments:**

        - `cortex`: a `neuromass.datasets.Cortex` (vertices in mm, triangles).
        - `kernel`: a module mapping distances (mm) to weights elementwise, e.g.
            `neuromass.equations.Gaussian``(sigma=5.0)` or
            `neuromass.equations.DoubleGaussian`. Default: TVB's,
            `nm.equations.Gaussian()` (`amp=1`, `sigma=1` mm, `midpoint=0`,
            `offset=0`).
        - `cutoff`: the largest geodesic distance coupled, in mm (TVB's default
            40). It must exceed the mesh's mean edge length.
        - `homogenise`: apply TVB's homogenisation (TVB always does): the positive
            (and the negative) entries of each row are rescaled so that every
            row has the mean row sum.
        - `cache`: optional path of a `.npz` file for the distances: read when it
            exists (after checking it was made for this mesh and cutoff, and is
            intact), written otherwise. The file holds only numeric arrays and
            checksums.
        - `workers`: the number of processes computing distances in parallel, one
            connected component (hemisphere) each; 1 computes the whole mesh in
            this process.

        **Returns:**

        A `LocalConnectivity` with `distances` and `kernel`.

        **Raises:**

        - `ValueError` if `cutoff` is below the mean edge length ("mesh too
            coarse"), or if the cache belongs to another mesh or cutoff, or is
            damaged.
        - `ImportError` if tvb-gdist is not installed.

        A `UserWarning` is issued when some vertices have no neighbour within
        the cutoff (their rows are zero).

        Computing the distances of TVB's 16,384-vertex cortex at 40 mm takes
        about a minute per hemisphere (measured in the guide); use `cache`.

        !!! example

            ```python
            # doc: no-run (about two minutes; tvb-data and tvb-gdist)
            import neuromass as nm

            cortex = nm.datasets.load_cortex()
            lc = nm.datasets.LocalConnectivity.from_kernel(
                cortex, nm.equations.Gaussian(sigma=5.0), cutoff=40.0,
                cache="cortex16k_40mm.npz")
            ```
        """
        if kernel is None:
            kernel = Gaussian()  # TVB's LocalConnectivity.equation default
        cutoff = float(cutoff)
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(
                f"`cutoff` must be a positive distance in mm; got {cutoff}."
            )
        vertices = np.asarray(cortex.vertices, dtype=np.float64)
        triangles = np.asarray(cortex.triangles, dtype=np.int32)
        lengths = _edge_lengths(vertices, triangles)
        mean_edge = float(lengths.mean())
        if cutoff < mean_edge:
            raise ValueError(
                f"Mesh too coarse for `cutoff` = {cutoff:g} mm: it is below the "
                f"mesh's mean edge length, {mean_edge:.3g} mm (shortest "
                f"{float(lengths.min()):.3g} mm), so most vertices (all, below the "
                "shortest edge) would have no neighbour within the cutoff and "
                f"every such row would be zero. Raise `cutoff` above {mean_edge:.3g} "
                "mm (TVB's default is 40 mm)."
            )
        if int(workers) < 1:
            raise ValueError(f"`workers` must be >= 1; got {workers}.")
        dist = None
        mesh_digest = _mesh_digest(vertices, triangles)
        if cache is not None:
            cache = Path(cache)
            if cache.suffix != ".npz":
                cache = cache.with_name(cache.name + ".npz")
            if cache.exists():
                dist = _read_cache(cache, mesh_digest, cutoff)
        if dist is None:
            dist = geodesic_distance_matrix(
                vertices, triangles, cutoff, workers=int(workers)
            )
            if cache is not None:
                _write_cache(cache, dist, mesh_digest, cutoff)
        empty = np.flatnonzero(np.diff(dist.indptr) == 0)
        if empty.size:
            warnings.warn(
                f"{empty.size} of {dist.shape[0]} vertices (the first {int(empty[0])}) "
                f"have no neighbour within `cutoff` = {cutoff:g} mm: their rows of "
                "the local connectivity are zero (TVB: 'Cortical mesh is too coarse "
                "for requested LocalConnectivity'). Raise `cutoff`.",
                UserWarning,
                stacklevel=2,
            )
        return cls.from_distances(
            dist,
            kernel,
            homogenise=homogenise,
            cutoff=cutoff,
            source=f"geodesic distances <= {cutoff:g} mm"
            + (f" (cache {cache})" if cache is not None else ""),
        )


LocalConnectivity.__init__.__doc__ = """**Arguments:** (prefer the constructors
`from_matrix`, `from_distances` and `from_kernel`)

- `pattern`: the static sparsity pattern.
- `values`: `(nnz,)` explicit values in CSR order; or
- `distances`: `(nnz,)` distances in mm in CSR order, with
- `kernel`: a module mapping distances (mm) to weights.
- `homogenise`: apply TVB's homogenisation to the kernel values.
- `cutoff`: the geodesic cutoff (mm) the distances were computed with.
- `source`: provenance.
"""


# --- helpers ------------------------------------------------------------------------
def _is_scipy_sparse(x) -> bool:
    try:
        import scipy.sparse
    except ImportError:  # pragma: no cover - scipy comes with jax
        return False
    return scipy.sparse.issparse(x)


def _csr_arrays(matrix, argname: str) -> tuple[SparsityPattern, np.ndarray]:
    import scipy.sparse

    if _is_scipy_sparse(matrix):
        m = scipy.sparse.csr_matrix(matrix, copy=True)
    else:
        dense = np.asarray(matrix)
        if dense.ndim != 2:
            raise ValueError(
                f"`{argname}` must be a square (V, V) matrix; got shape {dense.shape}."
            )
        m = scipy.sparse.csr_matrix(dense)
    if m.shape[0] != m.shape[1]:
        raise ValueError(
            f"`{argname}` must be a square (V, V) matrix, row = target; got shape "
            f"{m.shape}."
        )
    m.sum_duplicates()
    m.sort_indices()
    if not np.all(np.isfinite(m.data)):
        raise ValueError(
            f"`{argname}` contains NaN or inf; replace them before building a "
            "LocalConnectivity."
        )
    return SparsityPattern(m.indptr, m.indices, m.shape[0]), np.asarray(
        m.data, dtype=np.float64
    )


def _edge_lengths(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The lengths of the unique edges of a triangle mesh."""
    edges = np.concatenate(
        [triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]
    )
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    return np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)


def _components(n: int, triangles: np.ndarray) -> tuple[int, np.ndarray]:
    import scipy.sparse
    import scipy.sparse.csgraph

    a = scipy.sparse.coo_matrix(
        (
            np.ones(triangles.size),
            (triangles.ravel(), np.roll(triangles, 1, 1).ravel()),
        ),
        shape=(n, n),
    )
    return scipy.sparse.csgraph.connected_components(a, directed=False)


def geodesic_distance_matrix(
    vertices: np.ndarray, triangles: np.ndarray, cutoff: float, *, workers: int = 1
):
    """The sparse (CSR) matrix of exact geodesic distances (mm) between the vertices
    closer than `cutoff` along the mesh: tvb-gdist's `local_gdist_matrix`, as TVB
    calls it. With `workers > 1`, the connected components are computed in
    parallel processes and assembled."""
    try:
        import gdist
    except ImportError as e:
        raise ImportError(_GDIST_HINT) from e
    import scipy.sparse

    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    triangles = np.ascontiguousarray(triangles, dtype=np.int32)
    n = vertices.shape[0]
    n_comp, labels = _components(n, triangles) if workers > 1 else (1, None)
    if n_comp == 1:
        m = gdist.local_gdist_matrix(vertices, triangles, max_distance=float(cutoff))
        m = m.tocsr()
        m.sort_indices()
        return m
    parts = []
    for c in range(n_comp):
        index = np.flatnonzero(labels == c)
        local = np.full(n, -1, dtype=np.int64)
        local[index] = np.arange(index.size)
        tri = triangles[labels[triangles[:, 0]] == c]
        parts.append(
            (index, np.ascontiguousarray(vertices[index]), local[tri].astype(np.int32))
        )
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [
            pool.submit(gdist.local_gdist_matrix, v, t, float(cutoff))
            for _, v, t in parts
        ]
        results = [f.result() for f in futures]
    rows, cols, vals = [], [], []
    for (index, _, _), m in zip(parts, results, strict=True):
        coo = m.tocoo()
        rows.append(index[coo.row])
        cols.append(index[coo.col])
        vals.append(coo.data)
    m = scipy.sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, n),
    )
    m.sort_indices()
    return m


def _mesh_digest(vertices: np.ndarray, triangles: np.ndarray) -> str:
    """A checksum of a mesh, independent of JAX's float precision (vertices are
    hashed as float32)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(vertices, dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(triangles, dtype=np.int32).tobytes())
    return h.hexdigest()


def _content_digest(indptr, indices, data) -> str:
    h = hashlib.sha256()
    for a in (indptr, indices, data):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _write_cache(path: Path, dist, mesh_digest: str, cutoff: float) -> None:
    indptr = np.asarray(dist.indptr, dtype=np.int64)
    indices = np.asarray(dist.indices, dtype=np.int32)
    data = np.asarray(dist.data, dtype=np.float64)
    try:
        gdist_version = importlib.metadata.version("tvb-gdist")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        gdist_version = "unknown"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as f:
        np.savez_compressed(
            f,
            format=np.asarray(CACHE_FORMAT),
            version=np.asarray(CACHE_VERSION, dtype=np.int64),
            cutoff=np.asarray(cutoff, dtype=np.float64),
            n=np.asarray(dist.shape[0], dtype=np.int64),
            mesh_sha256=np.asarray(mesh_digest),
            content_sha256=np.asarray(_content_digest(indptr, indices, data)),
            gdist_version=np.asarray(gdist_version),
            indptr=indptr,
            indices=indices,
            data=data,
        )
    os.replace(tmp, path)


def _read_cache(path: Path, mesh_digest: str, cutoff: float):
    import scipy.sparse

    fix = (
        f"Delete {str(path)!r} (it is then recomputed and written again) or pass "
        "another `cache` path."
    )
    keys = ("format", "version", "cutoff", "n", "mesh_sha256", "content_sha256")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            meta = {k: f[k] for k in keys}
            indptr, indices, data = f["indptr"], f["indices"], f["data"]
    except Exception as e:  # a truncated zip, a missing key, not an npz at all
        raise ValueError(
            f"The geodesic-distance cache {str(path)!r} cannot be read "
            f"({type(e).__name__}: {e}); it is damaged or not a neuromass cache. {fix}"
        ) from e
    if str(meta["format"]) != CACHE_FORMAT or int(meta["version"]) != CACHE_VERSION:
        raise ValueError(
            f"{str(path)!r} is not a neuromass geodesic-distance cache of version "
            f"{CACHE_VERSION}. {fix}"
        )
    if _content_digest(indptr, indices, data) != str(meta["content_sha256"]):
        raise ValueError(
            f"The geodesic-distance cache {str(path)!r} is damaged (its checksum "
            f"does not match its content). {fix}"
        )
    if str(meta["mesh_sha256"]) != mesh_digest or float(meta["cutoff"]) != cutoff:
        raise ValueError(
            f"The geodesic-distance cache {str(path)!r} was computed for another mesh "
            f"or cutoff (cutoff {float(meta['cutoff']):g} mm; requested "
            f"{cutoff:g} mm). "
            f"{fix}"
        )
    n = int(meta["n"])
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))
