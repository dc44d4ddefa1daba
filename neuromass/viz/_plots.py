"""Plots of matrices (connectivity, FC) and of simulated time series."""

from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import ArrayLike

from ._common import axes_or_new


def plot_matrix(
    matrix: ArrayLike,
    labels: Sequence[str] | None = None,
    ax: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    *,
    colorbar: bool = True,
    colorbar_label: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Any:
    """Draw any matrix as an image with a colorbar: a connectome, an FC matrix...

    Row `i` is drawn at the top-to-bottom position `i` and column `j` at left-to-
    right position `j`, so a weights matrix `W[to, from]` reads "to" down the side
    and "from" along the bottom. Non-finite entries are left blank.

    **Arguments:**

    - `matrix`: a 2-D array.
    - `labels`: one tick label per row/column (square matrices only).
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `title`: the Axes title.
    - `cmap`: a matplotlib colormap name.
    - `colorbar`: add a colorbar (default `True`).
    - `colorbar_label`: the colorbar's label.
    - `vmin`, `vmax`: colour limits (default: the data range).
    - `xlabel`, `ylabel`: axis labels.

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import numpy as np
        from neuromass.viz import plot_matrix

        ax = plot_matrix(np.corrcoef(np.random.randn(5, 100)),
                         labels=list("ABCDE"), title="FC", cmap="RdBu_r",
                         vmin=-1, vmax=1)
        ax.figure.savefig("fc.png")
        ```
    """
    m = np.asarray(matrix)
    if m.ndim != 2:
        raise ValueError(f"`plot_matrix` needs a 2-D matrix; got shape {m.shape}.")
    if labels is not None:
        labels = [str(s) for s in labels]
        if m.shape[0] != m.shape[1] or len(labels) != m.shape[0]:
            raise ValueError(
                f"`labels` must give one name per row and column of a square matrix; "
                f"got {len(labels)} labels for shape {m.shape}."
            )
    ax = axes_or_new(ax)
    image = ax.imshow(
        np.ma.masked_invalid(m),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        aspect="equal" if m.shape[0] == m.shape[1] else "auto",
    )
    if labels is not None:
        size = 8 if len(labels) <= 20 else max(3, int(160 / len(labels)))
        ticks = np.arange(len(labels))
        ax.set_xticks(ticks, labels, rotation=90, fontsize=size)
        ax.set_yticks(ticks, labels, fontsize=size)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def plot_timeseries(
    ts: ArrayLike,
    ys: ArrayLike,
    ax: Any = None,
    max_traces: int = 20,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    xlabel: str = "time (ms)",
    ylabel: str | None = None,
    legend: bool | None = None,
    **plot_kwargs: Any,
) -> Any:
    """Plot simulated traces `ys` against time `ts`, one line per region.

    At most `max_traces` regions are drawn, evenly spread over all of them, so
    plotting a 76-region run stays readable and fast.

    **Arguments:**

    - `ts`: times, shape `(T,)` (e.g. `sol.ts`).
    - `ys`: values, shape `(T,)` or `(T, N)` (e.g. `sol["x"]`).
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `max_traces`: the most regions to draw (>= 1).
    - `labels`: one name per region (all `N`); drawn traces are labelled with it.
    - `title`, `xlabel`, `ylabel`: texts of the Axes.
    - `legend`: draw a legend; default when `labels` are given and few lines drawn.
    - `plot_kwargs`: passed to `ax.plot` (e.g. `lw=0.5`, `alpha=0.7`).

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import numpy as np
        from neuromass.viz import plot_timeseries

        ts = np.linspace(0.0, 100.0, 1001)
        ys = np.sin(0.3 * ts[:, None] + np.arange(8))     # (T, N)
        ax = plot_timeseries(ts, ys, max_traces=4, lw=0.8)
        ```
    """
    t = np.asarray(ts)
    y = np.asarray(ys)
    if t.ndim != 1:
        raise ValueError(f"`ts` must be 1-D; got shape {t.shape}.")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != t.shape[0]:
        raise ValueError(
            f"`ys` must have shape (T,) or (T, N) with T = len(ts) = {t.shape[0]}; "
            f"got {np.asarray(ys).shape}."
        )
    if max_traces < 1:
        raise ValueError(f"`max_traces` must be >= 1; got {max_traces}.")
    n = y.shape[1]
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` must have {n} entries; got {len(labels)}.")
    if n > max_traces:
        cols = np.unique(np.linspace(0, n - 1, max_traces).round().astype(int))
    else:
        cols = np.arange(n)
    ax = axes_or_new(ax, figsize=(7.0, 3.5))
    for j in cols:
        label = labels[j] if labels is not None else f"region {j}"
        ax.plot(t, y[:, j], label=label, **plot_kwargs)
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if legend is None:
        legend = labels is not None and len(cols) <= 10
    if legend:
        ax.legend(fontsize="small")
    if len(t) > 1:
        ax.set_xlim(t[0], t[-1])
    return ax


def plot_carpet(
    ts: ArrayLike,
    ys: ArrayLike,
    ax: Any = None,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    xlabel: str = "time (ms)",
    ylabel: str = "region",
    colorbar_label: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    """A carpet plot: the traces of every region as an image of regions (rows)
    against time (columns), with a colorbar. 76 regions read at a glance, where 76
    overlaid lines would not (see `neuromass.viz.plot_timeseries` for a few).

    **Arguments:**

    - `ts`: times, shape `(T,)` (e.g. `sol.ts`), evenly spaced.
    - `ys`: values, shape `(T, N)` (e.g. `sol["x"]`).
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `labels`: one name per region; up to 40 regions get one tick each.
    - `title`, `xlabel`, `ylabel`: texts of the Axes.
    - `colorbar_label`: the colorbar's label (the quantity and its unit).
    - `cmap`, `vmin`, `vmax`: colour map and limits (default: the 1st and 99th
      percentiles of the values, so that a few outliers do not wash it out).

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import numpy as np
        from neuromass.viz import plot_carpet

        ts = np.linspace(0.0, 200.0, 401)
        ys = np.sin(0.1 * ts[:, None] + np.linspace(0, 3, 76))     # (T, 76)
        ax = plot_carpet(ts, ys, colorbar_label="x")
        ```
    """
    t = np.asarray(ts)
    y = np.asarray(ys)
    if t.ndim != 1 or y.ndim != 2 or y.shape[0] != t.shape[0]:
        raise ValueError(
            "`plot_carpet` needs `ts` (T,) and `ys` (T, N) with T = len(ts); got "
            f"shapes {t.shape} and {y.shape}."
        )
    n = y.shape[1]
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` must have {n} entries; got {len(labels)}.")
    finite = y[np.isfinite(y)]
    if finite.size and vmin is None:
        vmin = float(np.percentile(finite, 1))
    if finite.size and vmax is None:
        vmax = float(np.percentile(finite, 99))
    ax = axes_or_new(ax, figsize=(8.0, 4.0))
    dt = (t[-1] - t[0]) / max(len(t) - 1, 1)
    image = ax.imshow(
        np.ma.masked_invalid(y.T),
        aspect="auto",
        interpolation="nearest",
        origin="upper",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        extent=(t[0] - dt / 2, t[-1] + dt / 2, n - 0.5, -0.5),
    )
    if labels is not None and n <= 40:
        ax.set_yticks(np.arange(n), [str(s) for s in labels], fontsize=6)
    ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax
