"""Sparse (V, V) matrices with a static sparsity pattern and JAX values.

The pattern (CSR row pointers and column indices, plus the padded ELL layout
derived from them) is plain NumPy held as static metadata; the values are a JAX
array leaf, so products are jit-able and differentiable with respect to the values.
"""

import functools
import hashlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


# The ELL product is unrolled over the padded columns up to this width; wider rows
# (e.g. a geodesic kernel with a cutoff of tens of mm: hundreds per row) are summed
# in a `lax.scan` over blocks of `_BLOCK` unrolled columns, which keeps the
# program small. Measured in benchmarks/surface_matvec.py.
_UNROLL = 16
_BLOCK = 8


def _index_dtype(largest: int):
    return np.int32 if largest < 2**31 - 1 else np.int64


class SparsityPattern:
    """The positions of the stored entries of an `(n, n)` sparse matrix, in CSR
    order (rows sorted, columns sorted and unique within each row).

    Immutable and hashable by content, so it can be static metadata of an
    `equinox.Module` (two matrices with the same pattern share compiled code).
    """

    __slots__ = ("indptr", "indices", "n", "_digest", "__dict__")

    def __init__(self, indptr: ArrayLike, indices: ArrayLike, n: int):
        indptr = np.array(indptr, dtype=np.int64)
        indices = np.array(indices, dtype=np.int32)
        n = int(n)
        if indptr.shape != (n + 1,) or indptr[0] != 0:
            raise ValueError(
                f"`indptr` must have n + 1 = {n + 1} entries starting at 0; got "
                f"shape {indptr.shape}."
            )
        if np.any(np.diff(indptr) < 0) or indptr[-1] != indices.size:
            raise ValueError(
                "`indptr` must be non-decreasing and end at the number of stored "
                f"entries ({indices.size}); got last value {int(indptr[-1])}."
            )
        if indices.ndim != 1 or (indices.size and (indices.min() < 0)):
            raise ValueError("`indices` must be a 1-D array of non-negative columns.")
        if indices.size and indices.max() >= n:
            raise ValueError(
                f"`indices` must be columns below n = {n}; got {int(indices.max())}."
            )
        rows = np.repeat(np.arange(n), np.diff(indptr))
        if indices.size > 1:
            same_row = rows[1:] == rows[:-1]
            if np.any(same_row & (indices[1:] <= indices[:-1])):
                raise ValueError(
                    "The columns of each row must be sorted and unique (canonical "
                    "CSR); call `sum_duplicates()` and `sort_indices()` on a scipy "
                    "matrix first."
                )
        indptr.setflags(write=False)
        indices.setflags(write=False)
        self.indptr = indptr
        self.indices = indices
        self.n = n
        h = hashlib.sha256()
        h.update(np.int64(n).tobytes())
        h.update(indptr.tobytes())
        h.update(indices.tobytes())
        self._digest = h.hexdigest()

    def __hash__(self) -> int:
        return hash(self._digest)

    def __eq__(self, other) -> bool:
        return isinstance(other, SparsityPattern) and self._digest == other._digest

    def __repr__(self) -> str:
        return f"SparsityPattern(n={self.n}, nnz={self.nnz})"

    @property
    def nnz(self) -> int:
        """The number of stored entries."""
        return int(self.indices.size)

    @functools.cached_property
    def row_nnz(self) -> np.ndarray:
        """The number of stored entries of each row, `(n,)`."""
        return np.diff(self.indptr).astype(np.int32)

    @functools.cached_property
    def rows(self) -> np.ndarray:
        """The row of each stored entry, `(nnz,)`, in CSR order."""
        out = np.repeat(np.arange(self.n, dtype=np.int32), self.row_nnz)
        out.setflags(write=False)
        return out

    @functools.cached_property
    def ell(self) -> tuple[np.ndarray, np.ndarray]:
        """The padded ELL layout, column-major: `(cols, slots)`, both `(K, n)` with K
        the largest row length. Entry `k` of row `i` is column `cols[k, i]` and
        stored value `slots[k, i]` (a CSR position); padding points at the row
        itself (`cols[k, i] = i`, local in memory) and at the slot `nnz`, which
        holds a zero."""
        k = int(self.row_nnz.max()) if self.n else 0
        cols = np.tile(np.arange(self.n, dtype=np.int32), (max(k, 1), 1))
        slots = np.full((max(k, 1), self.n), self.nnz, dtype=_index_dtype(self.nnz))
        position = np.arange(self.nnz) - self.indptr[self.rows]
        cols[position, self.rows] = self.indices
        slots[position, self.rows] = np.arange(self.nnz)
        cols.setflags(write=False)
        slots.setflags(write=False)
        return cols, slots

    @functools.cached_property
    def ell_flat_positions(self) -> np.ndarray:
        """For each stored entry (CSR order), its position in the flattened `(K, n)`
        ELL array."""
        position = np.arange(self.nnz) - self.indptr[self.rows]
        out = position * self.n + self.rows
        out.setflags(write=False)
        return out

    @functools.cached_property
    def transpose_ell(self) -> tuple[np.ndarray, np.ndarray]:
        """The ELL layout of the transposed matrix: `(cols_t, take)`, both `(K_t, n)`;
        its values are `concat(weights.ravel(), [0])[take]` for this pattern's ELL
        `weights` (the padding takes the appended zero)."""
        order = np.lexsort((self.rows, self.indices))  # by column, then row
        t_rows = self.indices[order]
        counts = np.bincount(t_rows, minlength=self.n)
        t_indptr = np.concatenate([[0], np.cumsum(counts)])
        transposed = SparsityPattern(t_indptr, self.rows[order], self.n)
        cols_t, slots_t = transposed.ell
        k = self.ell[0].shape[0]
        valid = slots_t < self.nnz
        take = np.full(slots_t.shape, k * self.n, dtype=_index_dtype(k * self.n))
        take[valid] = self.ell_flat_positions[order[slots_t[valid]]]
        take.setflags(write=False)
        return cols_t, take

    @functools.cached_property
    def product(self):
        """`product(weights, x)`: the jit-able `L x` for ELL `weights` of this
        pattern, with its reverse-mode rule (built once per pattern)."""
        return _product(self)


def _ell_product(
    weights: Float[Array, "k n"], cols: np.ndarray, x: Float[Array, "n ..."]
) -> Float[Array, "n ..."]:
    """`sum_k weights[k] * x[cols[k]]`, unrolled over k (in blocks when wide)."""

    def term(w, c):
        g = x[c]
        return (w.reshape(w.shape + (1,) * (x.ndim - 1))) * g

    k = cols.shape[0]
    if k <= _UNROLL:
        acc = term(weights[0], cols[0])
        for j in range(1, k):
            acc = acc + term(weights[j], cols[j])
        return acc
    n_blocks = -(-k // _BLOCK)
    pad = n_blocks * _BLOCK - k
    n = cols.shape[1]
    cols_b = np.concatenate([cols, np.tile(np.arange(n, dtype=cols.dtype), (pad, 1))])
    cols_b = cols_b.reshape(n_blocks, _BLOCK, n)
    w_b = jnp.concatenate([weights, jnp.zeros((pad, n), weights.dtype)])
    w_b = w_b.reshape(n_blocks, _BLOCK, n)

    def body(acc, block):
        wb, cb = block
        for j in range(_BLOCK):
            acc = acc + term(wb[j], cb[j])
        return acc, None

    init = jnp.zeros(x.shape, jnp.result_type(weights, x))
    return jax.lax.scan(body, init, (w_b, jnp.asarray(cols_b)))[0]


def _weight_cotangent(cols: np.ndarray, x: Array, g: Array) -> Array:
    """`dW[k, i] = sum_b g[i, b] * x[cols[k, i], b]`: the cotangent of the ELL
    weights of `y = L x`."""
    gathered = x[cols]  # (K, n, ...)
    prod = gathered * g[None]
    return prod.reshape(prod.shape[:2] + (-1,)).sum(axis=-1)


def _product(pattern: SparsityPattern):
    """`y = L x` for the ELL weights of `pattern`, with a reverse-mode rule whose
    transposed product is a gather over the transposed pattern (not a scatter)
    and whose weight cotangent is one gather (measured in
    benchmarks/surface_matvec.py: about 3x faster than autodiff for gradients
    with respect to the weights)."""
    cols, _ = pattern.ell

    @jax.custom_vjp
    def product(weights, x):
        return _ell_product(weights, cols, x)

    def forward(weights, x):
        return _ell_product(weights, cols, x), (weights, x)

    def backward(residuals, g):
        weights, x = residuals
        cols_t, take = pattern.transpose_ell
        flat = jnp.concatenate([weights.reshape(-1), jnp.zeros((1,), weights.dtype)])
        dx = _ell_product(flat[take], cols_t, g)
        dw = _weight_cotangent(cols, x, g)
        return dw.astype(weights.dtype), dx.astype(x.dtype)

    product.defvjp(forward, backward)
    return product


class SparseMatrix(eqx.Module):
    r"""A sparse `(V, V)` matrix prepared for fast products inside a simulation.

    The values are stored in a padded ELL layout, `weights[k, i]` being the `k`-th
    stored entry of row `i` (zero in the padding), as a JAX array leaf, so
    gradients reach them; the column indices are static NumPy metadata (the
    sparsity pattern). The product
    $y_i = \sum_j L_{ij} x_j$ is computed as a sum over the `K` padded columns of
    gathered values, unrolled, which measured fastest on CPU for mesh-neighbour
    matrices (see the "Surface simulations" guide).

    Build one with
    `neuromass.datasets.LocalConnectivity.matrix`
    (once, outside a time loop) and call
    `neuromass.datasets.SparseMatrix.matvec` (or `L @ x`) at every
    step.

    **Attributes:**

    - `weights`: `(K, V)` values in ELL layout (zero where padded).
    - `pattern`: the static sparsity pattern (CSR `indptr`, `indices`).

    !!! example

        ```python
        import jax
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        ring = np.roll(np.eye(5), 1, axis=1) + np.roll(np.eye(5), -1, axis=1)
        L = nm.datasets.LocalConnectivity.from_matrix(ring / 2).matrix()

        @jax.jit
        def diffuse(L, x):                    # 10 steps of x <- L x
            return jax.lax.fori_loop(0, 10, lambda i, x: L @ x, x)

        diffuse(L, jnp.eye(5)[0])             # spreads around the ring
        ```
    """

    weights: Float[Array, "k vertices"]
    pattern: SparsityPattern = eqx.field(static=True)

    @property
    def shape(self) -> tuple[int, int]:
        """`(V, V)`."""
        return (self.pattern.n, self.pattern.n)

    @property
    def data(self) -> Float[Array, " nnz"]:
        """The stored values in CSR order, `(nnz,)`."""
        return self.weights.reshape(-1)[self.pattern.ell_flat_positions]

    def matvec(
        self, x: Float[ArrayLike, "vertices ..."]
    ) -> Float[Array, "vertices ..."]:
        r"""The product $y = L x$, $y_i = \sum_j L_{ij} x_j$ (row = target).

        **Arguments:**

        - `x`: `(V,)` or `(V, k)` values at the vertices.

        **Returns:**

        An array of the shape of `x`. Works under `jax.jit`, `jax.vmap` and
        reverse-mode `jax.grad` (with respect to `x` and to `weights`; the
        transposed product is a gather over the transposed pattern). Forward-mode
        differentiation (`jax.jvp`, `jax.jacfwd`) is not supported (a
        `jax.custom_vjp`).
        """
        x = jnp.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.pattern.n:
            raise ValueError(
                f"`x` must have shape (V,) or (V, k) with V = {self.pattern.n}; got "
                f"{x.shape}."
            )
        return self.pattern.product(self.weights, x)

    def __matmul__(self, x):
        return self.matvec(x)

    def to_scipy(self):
        """The matrix as a `scipy.sparse.csr_matrix` (concrete values only)."""
        import scipy.sparse

        return scipy.sparse.csr_matrix(
            (np.asarray(self.data), self.pattern.indices, self.pattern.indptr),
            shape=self.shape,
        )


def ell_weights(
    data: Float[Array, " nnz"], pattern: SparsityPattern
) -> Float[Array, "k n"]:
    """Scatter CSR-ordered values into the ELL layout of `pattern` (zero padding)."""
    _, slots = pattern.ell
    padded = jnp.concatenate([data, jnp.zeros((1,), data.dtype)])
    return padded[slots]
