"""The `Connectome` module: structural connectivity as an immutable pytree."""

import collections
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


# Version of the `.npz` layout written by `Connectome.save`; bumped on any
# incompatible change so that old readers can refuse new files clearly. Version 2
# files end with a SHA-256 checksum of their bytes (the archive's comment), which
# `load_connectome` requires and verifies; version 1 files (no checksum) and
# hand-made files without `format_version` are read without one.
NPZ_FORMAT_VERSION = 2

_NORMALISATIONS = ("max", "row_sum", "log")


def _as_real_array(value: ArrayLike, argname: str) -> Array:
    """Convert `value` to a floating JAX array (default float precision)."""
    try:
        dtype = np.result_type(value)
    except TypeError:
        # Nested sequences or objects numpy cannot type directly.
        dtype = np.asarray(value).dtype
    if not (
        np.issubdtype(dtype, np.floating)
        or np.issubdtype(dtype, np.integer)
        or np.issubdtype(dtype, np.bool_)
    ):
        raise ValueError(
            f"`Connectome.{argname}` must hold real numbers; got dtype {dtype}. "
            "Convert it to a float array first."
        )
    return jnp.asarray(value, dtype=float)


def _concrete(x: Array) -> np.ndarray | None:
    """The value of `x` as numpy, or `None` when `x` is traced inside a transform."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _check_finite_nonnegative(value: np.ndarray, argname: str, fix: str) -> None:
    bad = ~np.isfinite(value)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`Connectome.{argname}` contains {int(bad.sum())} non-finite value(s) "
            f"(NaN or inf), the first at index {first}. Replace them, e.g. with "
            "`numpy.nan_to_num`, before building a Connectome."
        )
    negative = value < 0
    if negative.any():
        first = tuple(int(i) for i in np.argwhere(negative)[0])
        raise ValueError(
            f"`Connectome.{argname}` contains {int(negative.sum())} negative "
            f"value(s), the first {float(value[first])!r} at index {first}. {fix}"
        )


class Connectome(eqx.Module):
    r"""Structural connectivity between brain regions: weights, tract lengths,
    labels and region centres.

    **Convention.** `weights[i, j]` is the strength of the connection *to* region
    `i` *from* region `j` (rows are targets, columns are sources; TVB's
    `[to, from]` order). The afferent input of region `i` is therefore a sum over
    the columns of row `i`,

    $$c_i(t) = \sum_j w_{ij}\, x_j(t - \tau_{ij}), \qquad \tau_{ij} = \ell_{ij} / v,$$

    which is `weights @ x` for instantaneous coupling. The same indexing holds
    for `lengths` and for `delays(speed)`.

    **Units.** `lengths` and `centres` are in millimetres, delays in
    milliseconds, conduction speeds in mm/ms (numerically equal to m/s).
    Weights are dimensionless (arbitrary units; see
    `neuromass.datasets.Connectome.normalised`).

    A `Connectome` is an immutable `equinox.Module`: the arrays are pytree
    leaves (JAX float arrays, `float32` unless 64-bit mode is enabled), so it can
    be passed straight into `jax.jit`/`jax.vmap`/`jax.grad`, while `labels`,
    `name` and `source` are static metadata. Change a field with
    `eqx.tree_at(lambda c: c.weights, conn, new_weights)`.

    Values are validated when a `Connectome` is built from concrete arrays:
    shapes must agree, everything must be finite, and weights and lengths must
    be non-negative. (Inside a JAX transformation only shapes can be checked.)

    !!! example

        ```python
        import numpy as np
        from neuromass.datasets import Connectome

        w = np.array([[0.0, 2.0], [1.0, 0.0]])   # region 0 receives 2.0 from region 1
        conn = Connectome(w, lengths=np.full((2, 2), 30.0), labels=("A", "B"))
        conn.n_regions                           # 2
        conn.delays(speed=10.0)                  # 3 ms everywhere
        conn.normalised("max").weights           # [[0, 1], [0.5, 0]]
        ```
    """

    weights: Float[Array, "nodes nodes"]
    lengths: Float[Array, "nodes nodes"]
    centres: Float[Array, "nodes 3"] | None
    labels: tuple[str, ...] = eqx.field(static=True)
    name: str | None = eqx.field(static=True)
    source: str | None = eqx.field(static=True)

    def __init__(
        self,
        weights: Float[ArrayLike, "nodes nodes"],
        lengths: Float[ArrayLike, "nodes nodes"],
        labels: Iterable[str] | None = None,
        centres: Float[ArrayLike, "nodes 3"] | None = None,
        *,
        name: str | None = None,
        source: str | None = None,
    ):
        self.weights = _as_real_array(weights, "weights")
        self.lengths = _as_real_array(lengths, "lengths")
        self.centres = None if centres is None else _as_real_array(centres, "centres")
        if labels is None:
            n = self.weights.shape[0] if self.weights.ndim >= 1 else 0
            labels = tuple(str(i) for i in range(n))
        elif isinstance(labels, str):
            raise ValueError(
                "`Connectome.labels` must be a sequence of strings, one per region; "
                f"got the single string {labels!r}."
            )
        # numpy string scalars become plain `str`, so the static metadata hashes
        # and compares like ordinary Python strings.
        self.labels = tuple(str(x) if isinstance(x, str) else x for x in labels)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"`Connectome.name` must be a string; got {name!r}.")
        if source is not None and not isinstance(source, str):
            raise ValueError(f"`Connectome.source` must be a string; got {source!r}.")
        self.name = name
        self.source = source

    def __check_init__(self):
        shape = self.weights.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(
                "`Connectome.weights` must be a square (N, N) matrix in the "
                f"[to, from] convention; got shape {shape}. Pass one row and one "
                "column per region."
            )
        n = shape[0]
        if n == 0:
            raise ValueError("`Connectome.weights` must have at least one region.")
        if self.lengths.shape != shape:
            raise ValueError(
                f"`Connectome.lengths` must have the same shape as `weights`, {shape}; "
                f"got {self.lengths.shape}. Tract lengths are given for every "
                "(to, from) pair, in mm."
            )
        if self.centres is not None and self.centres.shape != (n, 3):
            raise ValueError(
                f"`Connectome.centres` must have shape (N, 3) = ({n}, 3), one "
                f"(x, y, z) position in mm per region; got {self.centres.shape}."
            )
        if len(self.labels) != n:
            raise ValueError(
                f"`Connectome.labels` must have one entry per region ({n}); got "
                f"{len(self.labels)}."
            )
        for label in self.labels:
            if not isinstance(label, str):
                raise ValueError(
                    "`Connectome.labels` must contain only strings; got "
                    f"{label!r} of type {type(label).__name__}."
                )
        if len(set(self.labels)) != n:
            counts = collections.Counter(self.labels)
            duplicates = sorted(label for label, k in counts.items() if k > 1)
            raise ValueError(
                f"`Connectome.labels` must be unique; {duplicates} appear more "
                "than once. Rename the duplicated regions."
            )

        weights = _concrete(self.weights)
        if weights is not None:
            _check_finite_nonnegative(
                weights,
                "weights",
                "Connection strengths must be >= 0; encode inhibition in the "
                "coupling or node model instead.",
            )
        lengths = _concrete(self.lengths)
        if lengths is not None:
            _check_finite_nonnegative(
                lengths,
                "lengths",
                "Tract lengths are distances in mm and must be >= 0.",
            )
        if self.centres is not None:
            centres = _concrete(self.centres)
            if centres is not None and not np.isfinite(centres).all():
                raise ValueError(
                    "`Connectome.centres` contains non-finite values (NaN or inf); "
                    "give every region a finite (x, y, z) position in mm, or pass "
                    "`centres=None`."
                )

    @property
    def n_regions(self) -> int:
        """The number of regions N (a Python `int`)."""
        return self.weights.shape[0]

    @property
    def in_strength(self) -> Float[Array, " nodes"]:
        r"""The in-strength of each region, $s_i = \sum_j w_{ij}$: the total weight
        of its afferent connections (a row sum of the `[to, from]` matrix).

        With a linear coupling, region $i$ receives $k\,s_i$ when every source
        sits at 1, so $k \max_i s_i$ is the largest drive of the network; see
        `neuromass.datasets.check_in_strength` for why it
        matters and how to normalise it.

        !!! example

            ```python
            import neuromass as nm

            conn = nm.datasets.load_connectome()
            conn.in_strength.max()               # about 4.2
            ```
        """
        return jnp.sum(self.weights, axis=1)

    def delays(
        self, speed: float | Float[ArrayLike, ""]
    ) -> Float[Array, "nodes nodes"]:
        """Conduction delays `lengths / speed`, in ms.

        **Arguments:**

        - `speed`: conduction speed in mm/ms (= m/s); a positive scalar. It may be
            a traced JAX scalar, e.g. when differentiating with respect to it; a
            non-positive traced value then raises through `equinox.error_if`.

        **Returns:**

        An `(N, N)` array of delays in ms, `delays[i, j]` for the path to `i` from
        `j`.

        !!! example

            ```python
            import neuromass as nm

            conn = nm.datasets.load_connectome()
            tau = conn.delays(speed=10.0)        # ms; e.g. max about 17 ms
            ```
        """
        speed_arr = jnp.asarray(speed, dtype=self.lengths.dtype)
        if speed_arr.shape != ():
            raise ValueError(
                f"`speed` must be a scalar in mm/ms; got shape {speed_arr.shape}."
            )
        concrete = _concrete(speed_arr)
        if concrete is not None:
            if not (np.isfinite(concrete) and concrete > 0):
                raise ValueError(
                    f"`speed` must be a finite, positive conduction speed in mm/ms "
                    f"(= m/s); got {float(concrete)!r}. Typical values are 1-20 mm/ms."
                )
        else:
            speed_arr = eqx.error_if(
                speed_arr, speed_arr <= 0, "`speed` must be > 0 (mm/ms)."
            )
        return self.lengths / speed_arr

    def normalised(
        self, kind: Literal["max", "row_sum", "log"] = "max"
    ) -> "Connectome":
        r"""Return a copy with rescaled weights (lengths, labels, centres unchanged).

        **Arguments:**

        - `kind`: one of

            - `"max"`: $w'_{ij} = w_{ij} / \max_{kl} w_{kl}$, so the strongest
                connection is 1 and ratios are kept.
            - `"row_sum"`: $w'_{ij} = w_{ij} / \sum_k w_{ik}$, so every region's
                total afferent weight (its in-strength, a row of the `[to, from]`
                matrix) is 1.
            - `"log"`: $w'_{ij} = \log(1 + w_{ij}) / \log(1 + \max_{kl} w_{kl})$,
                which compresses the heavy tail of tractography counts while
                keeping zeros at zero, the order of the weights, and a maximum
                of 1.

            An all-zero matrix (or, for `"row_sum"`, an all-zero row) is left
            unchanged rather than divided by zero.

        **Returns:**

        A new `Connectome`. It works inside `jax.jit` and is differentiable.

        !!! example

            ```python
            import numpy as np
            from neuromass.datasets import Connectome

            conn = Connectome(np.array([[0.0, 3.0], [1.0, 1.0]]), np.zeros((2, 2)))
            conn.normalised("row_sum").weights   # [[0, 1], [0.5, 0.5]]
            ```
        """
        w = self.weights
        if kind == "max":
            scale = jnp.max(w)
            new = w / jnp.where(scale > 0, scale, 1.0)
        elif kind == "row_sum":
            totals = jnp.sum(w, axis=1, keepdims=True)
            new = w / jnp.where(totals > 0, totals, 1.0)
        elif kind == "log":
            logged = jnp.log1p(w)
            scale = jnp.max(logged)
            new = logged / jnp.where(scale > 0, scale, 1.0)
        else:
            raise ValueError(
                f"Unknown normalisation {kind!r}; `kind` must be one of "
                f"{', '.join(repr(k) for k in _NORMALISATIONS)}."
            )
        return eqx.tree_at(lambda c: c.weights, self, new)

    def with_zero_diagonal(self) -> "Connectome":
        """Return a copy whose weights have no self-connections (`w_ii = 0`).

        **Returns:**

        A new `Connectome`; lengths, labels and centres are unchanged.

        !!! example

            ```python
            import numpy as np
            from neuromass.datasets import Connectome

            conn = Connectome(np.ones((3, 3)), np.zeros((3, 3)))
            conn.with_zero_diagonal().weights    # ones with a zero diagonal
            ```
        """
        mask = 1 - jnp.eye(self.n_regions, dtype=self.weights.dtype)
        return eqx.tree_at(lambda c: c.weights, self, self.weights * mask)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the connectome to a compressed NumPy `.npz` file.

        The file holds only plain numeric and string arrays (`weights`,
        `lengths`, `labels`, optionally `centres`, `name`, `source`, and a
        `format_version`), so it loads with `numpy.load(path, allow_pickle=False)`
        and with `neuromass.datasets.load_connectome`. It is
        written atomically (a killed process leaves the old file or none) and its
        comment holds the SHA-256 of its bytes, which `load_connectome` verifies
        before reading anything: a damaged file is an error naming it.

        **Arguments:**

        - `path`: destination file. `.npz` is appended when missing.

        **Returns:**

        The path that was written.

        !!! example

            ```python
            import neuromass as nm

            conn = nm.datasets.load_connectome()
            out = conn.save("my_connectome.npz")
            again = nm.datasets.load_connectome(out)
            ```
        """
        arrays = {
            "weights": np.asarray(self.weights),
            "lengths": np.asarray(self.lengths),
            "labels": self.labels,
        }
        if self.centres is not None:
            arrays["centres"] = np.asarray(self.centres)
        return write_npz(path, arrays, name=self.name, source=self.source)


def write_npz(
    path: str | os.PathLike,
    arrays: Mapping[str, Any],
    *,
    name: str | None,
    source: str | None,
    extra: Mapping[str, str] | None = None,
) -> Path:
    """Write connectome arrays in the `Connectome.save` layout (no pickled objects),
    atomically, with the SHA-256 of the file's bytes as the archive's comment.

    `arrays` holds `weights`, `lengths`, `labels` and optionally `centres`;
    `extra` adds further string entries (e.g. generator parameters as JSON).
    """
    from .._io._npz import write_npz as write_checked_npz

    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    contents: dict[str, np.ndarray] = {
        "format_version": np.asarray(NPZ_FORMAT_VERSION, dtype=np.int64),
        "weights": np.asarray(arrays["weights"]),
        "lengths": np.asarray(arrays["lengths"]),
        "labels": np.asarray(list(arrays["labels"]), dtype=np.str_),
    }
    if arrays.get("centres") is not None:
        contents["centres"] = np.asarray(arrays["centres"])
    if name is not None:
        contents["name"] = np.asarray(name, dtype=np.str_)
    if source is not None:
        contents["source"] = np.asarray(source, dtype=np.str_)
    for key, value in (extra or {}).items():
        contents[key] = np.asarray(value, dtype=np.str_)
    return write_checked_npz(path, contents, compress=True)


Connectome.__init__.__doc__ = """**Arguments:**

- `weights`: `(N, N)` non-negative connection strengths, `weights[i, j]` = to
    region `i` from region `j`.
- `lengths`: `(N, N)` non-negative tract lengths in mm, same indexing.
- `labels`: `N` unique region names. Defaults to `("0", "1", ..., str(N - 1))`.
- `centres`: optional `(N, 3)` region positions (x, y, z) in mm.
- `name`: optional short name, e.g. `"tvb76"`.
- `source`: optional provenance string (file, generator call, licence).

**Raises:**

`ValueError` naming the offending argument if shapes disagree, if `weights` is
not square, or if any value is non-finite or (for `weights`/`lengths`) negative.
"""


#: The largest in-strength that `check_in_strength` accepts without a warning.
IN_STRENGTH_LIMIT = 10.0
# The bundled default connectome's largest in-strength (all examples, specs and
# default couplings are tuned on it).
_DEFAULT_MAX_IN_STRENGTH = 4.2


def check_in_strength(
    weights: "Connectome | Float[ArrayLike, 'nodes nodes']",
    *,
    model: str | None = None,
    k: float | None = None,
    limit: float = IN_STRENGTH_LIMIT,
    stacklevel: int = 2,
) -> float:
    r"""Warn when a connectome's in-strength would saturate the regions.

    The in-strength of region $i$ is $s_i = \sum_j w_{ij}$, the total weight it
    receives. With the same global coupling $k$, a region's afferent input grows
    with $s_i$: it is $k \sum_j w_{ij}\,\mathrm{pre}(x_j)$, at most
    $k\,s_i \max \mathrm{pre}$.

    **Criterion.** A warning is issued when $\max_i s_i$ exceeds `limit`
    (default 10). The couplings' defaults, the examples and the specs are tuned
    on weights whose in-strength is of order 1 (the bundled connectome: 1.3 to
    4.2). Above 10, the most connected regions get more than twice the drive
    of the bundled connectome's most connected region at the same $k$:
    sigmoidal models (Jansen-Rit, Wilson-Cowan, Wong-Wang) are pushed onto the
    plateau of their firing-rate sigmoid and stop responding (their traces go
    flat), and diffusively coupled oscillators are damped by $k\,s_i$ faster
    than they oscillate. TVB's raw tractography weights are in this range (tvb76:
    in-strength up to about 39).

    **Fixes**, named in the warning: divide $k$ by the ratio of the largest
    in-strengths, or normalise the weights with `conn.normalised("row_sum")`
    (in-strength 1 everywhere; in a spec, `network.normalisation = "row_sum"`)
    and scale $k$ by the bundled connectome's mean in-strength, 2.8.
    (`normalised("max")` keeps the ratios between regions: tvb76 then still has
    in-strengths up to 24.)

    **Arguments:**

    - `weights`: a `neuromass.datasets.Connectome` or an `(N, N)` weights
        matrix `[to, from]`.
    - `model`: the node model's name, for the message.
    - `k`: the global coupling, for the message.
    - `limit`: the largest in-strength accepted without a warning.
    - `stacklevel`: passed to `warnings.warn`.

    **Returns:**

    The largest in-strength $\max_i s_i$ (a Python float).

    !!! example

        ```python
        import warnings
        import numpy as np
        import neuromass as nm

        w = np.full((4, 4), 5.0)                     # in-strength 20 everywhere
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = nm.datasets.check_in_strength(w, model="JansenRit", k=10.0)
        print(caught[0].message)                     # "... in-strength ... is 20 ..."
        s                                            # 20.0
        nm.datasets.check_in_strength(w / 20.0)      # 1.0, no warning
        ```
    """
    w = weights.weights if isinstance(weights, Connectome) else weights
    strength = float(np.max(np.sum(np.asarray(w, dtype=float), axis=1)))
    if strength > limit:
        who = f"{model} regions" if model else "regions"
        at_k = f"at k = {k:g}" if k is not None else "at the same k"
        factor = strength / _DEFAULT_MAX_IN_STRENGTH
        warnings.warn(
            f"The connectome's largest in-strength (total afferent weight of a "
            f"region) is {strength:.3g}, above {limit:g}: {at_k}, {who} receive "
            f"up to {factor:.1f} times the drive of the bundled connectome's most "
            "connected region, which saturates sigmoidal models and over-damps "
            f"diffusively coupled oscillators. Divide k by {factor:.1f}, or "
            'normalise the weights: `conn.normalised("row_sum")` gives every '
            'region in-strength 1 (in a spec, `network.normalisation = "row_sum"`'
            "; then multiply k by about 3 to match the bundled connectome's mean "
            "in-strength, 2.8).",
            UserWarning,
            stacklevel=stacklevel,
        )
    return strength
