"""Shared helpers of the plotting functions (matplotlib is imported lazily)."""

from typing import Any


def axes_or_new(ax: Any, figsize: tuple[float, float] = (5.0, 4.0)) -> Any:
    """Return `ax`, or a new Axes on a new figure when `ax is None`."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
