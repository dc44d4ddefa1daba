"""Spaces: trees of axes and fixed values, combined by product or zip."""

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from ._axes import AbstractAxis, _jsonable, axis_spec


def _is_axis(x: Any) -> bool:
    return isinstance(x, AbstractAxis)


def _key_str(k: Any) -> str:
    if isinstance(k, jax.tree_util.DictKey):
        return str(k.key)
    if isinstance(k, jax.tree_util.GetAttrKey):
        return k.name
    if isinstance(k, jax.tree_util.SequenceKey):
        return str(k.idx)
    if isinstance(k, jax.tree_util.FlattenedIndexKey):
        return str(k.key)
    return str(k)


def path_str(path: Sequence[Any]) -> str:
    """`(DictKey('node'), GetAttrKey('a'))` -> `"node.a"`."""
    return ".".join(_key_str(k) for k in path)


def _leaves_with_paths(tree: PyTree, is_leaf=None) -> tuple[list[str], list[Any], Any]:
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
    paths = [path_str(p) for p, _ in flat]
    leaves = [leaf for _, leaf in flat]
    return paths, leaves, treedef


def _is_arraylike(x: Any) -> bool:
    return isinstance(x, bool | int | float | complex | np.ndarray | np.generic) or (
        isinstance(x, jax.Array)
    )


def _step(obj: Any, part: str, done: str, full: str) -> Any:
    where = f"`{done}`" if done else "the model"
    if isinstance(obj, dict):
        if part in obj:
            return obj[part]
        raise ValueError(
            f"Parameter path `{full}`: {where} is a dict without key `{part}`; "
            f"its keys are {sorted(map(str, obj))}."
        )
    if isinstance(obj, list | tuple) and not hasattr(obj, "_fields"):
        if part.lstrip("-").isdigit() and -len(obj) <= int(part) < len(obj):
            return obj[int(part)]
        raise ValueError(
            f"Parameter path `{full}`: `{part}` is not a valid index into {where} "
            f"(a {type(obj).__name__} of length {len(obj)})."
        )
    static = ()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = dataclasses.fields(obj)
        names = [f.name for f in fields]
        static = [f.name for f in fields if f.metadata.get("static", False)]
    elif hasattr(obj, "_fields"):
        names = list(obj._fields)
    else:
        names = []
    if part in static:
        raise ValueError(
            f"Cannot set the parameter path `{full}`: `{part}` is a static field of "
            f"{type(obj).__name__} (part of its structure, fixed when it is built), "
            "not an array leaf, so it cannot be swept or set per point. Build one "
            f"model per value instead, e.g. `{part}` given to the constructor or to "
            "`.replace(...)` in a loop, with one sweep each."
        )
    if part in names:
        return getattr(obj, part)
    raise ValueError(
        f"Parameter path `{full}`: {where} ({type(obj).__name__}) has no field "
        f"`{part}`; its fields are {names}."
    )


def _getter(path: str):
    parts = path.split(".")

    def get(model):
        obj = model
        for i, part in enumerate(parts):
            obj = _step(obj, part, ".".join(parts[:i]), path)
        return obj

    return get


def apply_point(model: PyTree, point: PyTree) -> PyTree:
    """Return `model` with the parameters named by `point` replaced.

    Every leaf of `point` is addressed by its path: dict keys and attribute names
    joined by dots, so `{"k": 0.3, "node.a": -0.1}` and `{"node": {"a": -0.1}}` both
    name attributes of `model`. Each is set with `eqx.tree_at`; the input model is
    not modified. This is how `neuromass.sweep` applies a point when given
    `model=`, so a sweep over a network needs no builder function.

    **Arguments:**

    - `model`: any PyTree of `eqx.Module`s, dicts, lists and tuples.
    - `point`: one point of a `neuromass.sweeps.Space` (or any tree whose leaf
        paths name attributes of `model`).

    **Returns:**

    The updated model.

    **Raises:**

    `ValueError` naming the path when an attribute, key or index does not exist.

    !!! example

        ```python
        import equinox as eqx
        from neuromass.sweeps import apply_point

        class Node(eqx.Module):
            a: float

        class Net(eqx.Module):
            k: float
            node: Node

        net = apply_point(Net(0.1, Node(0.2)), {"k": 0.5, "node.a": -0.1})
        net.k, net.node.a   # (0.5, -0.1)
        ```
    """
    paths, values, _ = _leaves_with_paths(point)
    for path, value in zip(paths, values):
        if path == "":
            raise ValueError(
                "`apply_point` needs a point whose leaves have paths (a dict such as "
                '`{"k": ...}`); got a bare value.'
            )
        get = _getter(path)
        target = get(model)  # validates the path with a clear message
        if isinstance(target, eqx.Module):
            raise ValueError(
                f"Cannot set the parameter path `{path}`: it names a whole "
                f"{type(target).__name__}, not a number or an array. Name one of its "
                "parameters (e.g. `" + path + ".<field>`), or build one model per "
                "value."
            )
        model = eqx.tree_at(get, model, value, is_leaf=lambda x: x is None)
    return model


def _hash_leaf(leaf: Any) -> Any:
    if _is_arraylike(leaf):
        return _jsonable(np.asarray(leaf))
    if isinstance(leaf, str) or leaf is None:
        return leaf
    return type(leaf).__module__ + "." + type(leaf).__qualname__


class Space(eqx.Module):
    """A set of parameter points: a tree of axes and fixed values.

    The tree may be any nesting of dicts, lists, tuples and `eqx.Module`s. Its
    leaves are either axes (instances of `neuromass.sweeps.GridAxis` and friends)
    or fixed values that are the same at every point. Each point of the space is the
    same tree with every axis replaced by one of its values.

    Axes are found by flattening the tree with `jax.tree_util`, which visits dict
    keys in *sorted* order, lists/tuples in order, and Module fields in declaration
    order. That order is the order of `axis_names`, of the dimensions of `shape`,
    of `SweepResult.grid` and of `SweepResult.to_xarray`.

    - `mode="product"`: every combination of axis values; `len` is the product of
      the axis sizes and `shape` the grid shape. Point `i` corresponds to grid
      position `np.unravel_index(i, shape)` (C order: the last axis varies fastest).
    - `mode="zip"`: the `i`-th value of every axis together; all axes must have the
      same size, unless `truncate=True`, which keeps the shortest length.

    A key in a dict may be a dotted path such as `"node.a"`: the points then work
    with `neuromass.sweeps.apply_point` (or `space.apply`) to set attributes of a
    model.

    Random axes draw their values once, when the space is built, from `key`
    (`jax.random.fold_in(key, j)` for the `j`-th axis); the same key gives the same
    points.

    !!! example

        ```python
        import jax
        from neuromass.sweeps import GridAxis, Space, UniformAxis

        space = Space(
            {"k": GridAxis(0.0, 1.0, 4), "noise": UniformAxis(0.0, 0.1, 3), "dt": 0.1},
            mode="product",
            key=jax.random.key(0),
        )
        len(space), space.shape, space.axis_names   # 12, (4, 3), ("k", "noise")
        space[-1]["dt"]                             # 0.1
        sub = space[2:6]                            # a Space of 4 points
        ```
    """

    tree: PyTree
    mode: Literal["product", "zip"] = eqx.field(static=True)
    key: PRNGKeyArray | None
    truncate: bool = eqx.field(static=True)
    _paths: tuple[str, ...] = eqx.field(static=True)
    _slots: tuple[int, ...] = eqx.field(static=True)
    _fixed: tuple[Any, ...]
    _treedef: Any = eqx.field(static=True)
    _coords: tuple[np.ndarray, ...]
    _sizes: tuple[int, ...] = eqx.field(static=True)
    _n_full: int = eqx.field(static=True)
    _indices: np.ndarray

    def __init__(
        self,
        tree: PyTree,
        mode: Literal["product", "zip"] = "product",
        key: PRNGKeyArray | None = None,
        truncate: bool = False,
    ):
        if mode not in ("product", "zip"):
            raise ValueError(
                f'`Space(mode=...)` must be "product" or "zip"; got {mode!r}.'
            )
        paths, leaves, treedef = _leaves_with_paths(tree, is_leaf=_is_axis)
        slots = tuple(i for i, leaf in enumerate(leaves) if _is_axis(leaf))
        axes = [leaves[i] for i in slots]
        coords = []
        for j, axis in enumerate(axes):
            sub = None if key is None else jax.random.fold_in(key, j)
            vals = np.asarray(axis.values(sub))
            if vals.ndim < 1 or vals.shape[0] != axis.size:
                raise ValueError(
                    f"Axis `{paths[slots[j]]}` ({type(axis).__name__}) returned values "
                    f"of shape {vals.shape}; expected a leading axis of {axis.size}."
                )
            vals.setflags(write=False)
            coords.append(vals)
        sizes = tuple(axis.size for axis in axes)
        if mode == "product":
            n_full = math.prod(sizes)
        elif sizes and len(set(sizes)) > 1 and not truncate:
            detail = ", ".join(f"`{paths[s]}`: {n}" for s, n in zip(slots, sizes))
            raise ValueError(
                'Space(mode="zip") needs axes of equal size; got '
                f"{detail}. Pass `truncate=True` to keep the shortest length."
            )
        else:
            n_full = min(sizes) if sizes else 1
        self.tree = tree
        self.mode = mode
        self.key = key
        self.truncate = truncate
        self._paths = tuple(paths)
        self._slots = slots
        self._fixed = tuple(None if _is_axis(leaf) else leaf for leaf in leaves)
        self._treedef = treedef
        self._coords = tuple(coords)
        self._sizes = sizes
        self._n_full = n_full
        self._indices = np.arange(n_full, dtype=np.int64)

    # ----------------------------------------------------------------- structure
    @property
    def axis_names(self) -> tuple[str, ...]:
        """Paths of the axes (e.g. `("k", "node.a")`), in tree-flattening order."""
        return tuple(self._paths[s] for s in self._slots)

    @property
    def axes(self) -> dict[str, AbstractAxis]:
        """The axes by path."""
        leaves = jax.tree_util.tree_leaves(self.tree, is_leaf=_is_axis)
        return {self._paths[s]: leaves[s] for s in self._slots}

    @property
    def coords(self) -> dict[str, np.ndarray]:
        """The values of each axis by path, each with leading axis = axis size."""
        return dict(zip(self.axis_names, self._coords))

    @property
    def is_grid(self) -> bool:
        """Whether this is a whole (unsliced) product space."""
        return (
            self.mode == "product"
            and len(self._indices) == self._n_full
            and bool(np.all(self._indices == np.arange(self._n_full)))
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape `(size of axis 0, size of axis 1, ...)` of a product space.

        For a zip space or a slice of a space: `(len(space),)`.
        """
        if self.is_grid:
            return self._sizes
        return (len(self),)

    @property
    def grid_shape(self) -> tuple[int, ...] | None:
        """The shape of the full product grid this space was cut from, else `None`."""
        return self._sizes if self.mode == "product" else None

    @property
    def indices(self) -> np.ndarray:
        """Flat indices of this space's points in the unsliced space."""
        return self._indices

    def __len__(self) -> int:
        return len(self._indices)

    # -------------------------------------------------------------------- points
    def _axis_positions(self, flat: np.ndarray) -> list[np.ndarray]:
        flat = np.asarray(flat, dtype=np.int64)
        if not self._sizes:
            return []
        if self.mode == "product":
            return list(np.unravel_index(flat, self._sizes))
        return [flat for _ in self._sizes]

    def _axis_batch(self, flat: np.ndarray) -> list[np.ndarray]:
        """Values of each axis at the given flat indices, leading axis = points."""
        pos = self._axis_positions(flat)
        return [c[p] for c, p in zip(self._coords, pos)]

    def _assemble(self, axis_values: Sequence[Any]) -> PyTree:
        leaves = list(self._fixed)
        for slot, value in zip(self._slots, axis_values):
            leaves[slot] = value
        return jax.tree_util.tree_unflatten(self._treedef, leaves)

    def _point_at(self, flat: int) -> PyTree:
        values = [v[0] for v in self._axis_batch(np.array([flat]))]
        return self._assemble(values)

    def __iter__(self) -> Iterator[PyTree]:
        for flat in self._indices:
            yield self._point_at(int(flat))

    def __getitem__(self, item: int | slice | Sequence[int] | np.ndarray):
        """`space[i]` is a point (negative `i` counts from the end); `space[a:b:s]`,
        an integer array or a boolean mask give a new `Space` of those points."""
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            n = len(self)
            i = int(item)
            if not -n <= i < n:
                raise IndexError(f"Space index {i} out of range for {n} points.")
            return self._point_at(int(self._indices[i]))
        if isinstance(item, slice):
            new = self._indices[item]
        else:
            arr = np.asarray(item)
            if arr.dtype == bool:
                if arr.shape != (len(self),):
                    raise IndexError(
                        f"Boolean mask of shape {arr.shape} for a Space of {len(self)} "
                        "points."
                    )
                new = self._indices[arr]
            elif np.issubdtype(arr.dtype, np.integer) and arr.ndim == 1:
                n = len(self)
                if arr.size and not (-n <= arr.min() and arr.max() < n):
                    raise IndexError(f"Space indices out of range for {n} points.")
                new = self._indices[arr]
            else:
                raise TypeError(
                    "Space indices must be an int, a slice, a 1-D integer array or a "
                    f"boolean mask; got {item!r}."
                )
        new = np.asarray(new, dtype=np.int64)
        if len(np.unique(new)) != len(new):
            raise IndexError("A Space cannot hold the same point twice.")
        return eqx.tree_at(lambda s: s._indices, self, new)

    def stacked(self) -> PyTree:
        """All points as one tree with a leading batch axis of length `len(self)`.

        Axis leaves hold the value of every point; fixed array-like values (numbers,
        arrays) are broadcast (without copying) to a leading batch axis too; other
        fixed leaves (strings, callables, ...) are left as they are. The result can
        be fed to `jax.vmap` / `eqx.filter_vmap`.
        """
        n = len(self)
        leaves: list[Any] = []
        for leaf in self._fixed:
            if _is_arraylike(leaf):
                arr = np.asarray(leaf)
                leaf = np.broadcast_to(arr, (n,) + arr.shape)
            leaves.append(leaf)
        for slot, values in zip(self._slots, self._axis_batch(self._indices)):
            leaves[slot] = values
        return jax.tree_util.tree_unflatten(self._treedef, leaves)

    def apply(self, model: PyTree, point: PyTree) -> PyTree:
        """`apply_point(model, point)`: set the attributes named by the point's paths.

        See `neuromass.sweeps.apply_point`.
        """
        return apply_point(model, point)

    # --------------------------------------------------------------- fingerprint
    def fingerprint(self) -> dict[str, Any]:
        """A JSON-able description of exactly which points this space holds.

        It records the mode, every axis (type, definition, and a SHA-256 of its
        materialised values, so random axes depend on the key), every fixed value
        (arrays by hash) and the selected indices. Two spaces with the same
        fingerprint have the same points. Used to guard sweep stores.
        """
        h = hashlib.sha256()
        for c in self._coords:
            h.update(str((c.dtype.str, c.shape)).encode())
            h.update(np.ascontiguousarray(c).tobytes())
        axes = [
            {"path": path, "axis": axis_spec(axis)} for path, axis in self.axes.items()
        ]
        fixed = [
            {"path": self._paths[i], "value": _hash_leaf(leaf)}
            for i, leaf in enumerate(self._fixed)
            if i not in self._slots
        ]
        idx = np.ascontiguousarray(self._indices)
        fp = {
            "mode": self.mode,
            "truncate": bool(self.truncate),
            "n_points": len(self),
            "axes": axes,
            "fixed": fixed,
            "values_sha256": h.hexdigest(),
            "indices_sha256": hashlib.sha256(idx.tobytes()).hexdigest(),
        }
        # Round-trip through JSON so the result compares equal to a loaded manifest.
        return json.loads(json.dumps(fp))

    def __repr__(self) -> str:
        axes = ", ".join(f"{p}: {n}" for p, n in zip(self.axis_names, self._sizes))
        return f"Space({{{axes}}}, mode={self.mode!r}, points={len(self)})"


Space.__init__.__doc__ = """**Arguments:**

- `tree`: a PyTree (dicts, lists, tuples, `eqx.Module`s) whose leaves are axes or
    fixed values. Dict keys may be dotted paths such as `"node.a"`.
- `mode`: `"product"` (all combinations) or `"zip"` (matched values).
- `key`: a JAX PRNG key, required when the tree has random axes
    (`UniformAxis`, `DistributionAxis`).
- `truncate`: in zip mode, allow axes of unequal size and keep the shortest.
"""
