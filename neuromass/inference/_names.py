"""One owner for the names of the elements of an array-valued parameter or
feature: `name` for a scalar, `name[i,j]` (C order) for an array, as in NUTS
summaries and simulation tables."""

import re

import numpy as np


def flat_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """`[name]` for `shape == ()`, else `name[i,j,...]` for every index of `shape`
    in C order, e.g. `flat_names("w", (2,))` is `["w[0]", "w[1]"]`."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]


def flat_columns(name: str, col: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of `col` (leading axis = rows) under their `flat_names`."""
    n = col.shape[0]
    if col.ndim == 1:
        return {name: col}
    flat = col.reshape(n, -1)
    return {k: flat[:, j] for j, k in enumerate(flat_names(name, col.shape[1:]))}


def element_pattern(name: str) -> re.Pattern:
    """Matches the `flat_names` of the elements of an array named `name`."""
    return re.compile(re.escape(name) + r"\[[0-9,]+\]$")
