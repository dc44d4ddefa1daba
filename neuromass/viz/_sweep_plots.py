"""Plots of sweep results: heatmaps over two axes, lines over one."""

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..sweeps import SweepResult
from ._common import axes_or_new


def _coords(result: SweepResult, path: str) -> np.ndarray:
    c = np.asarray(result.coords[path])
    return c if c.ndim == 1 else np.arange(c.shape[0])


def _is_geometric(c: np.ndarray) -> bool:
    if len(c) < 3 or np.any(c <= 0):
        return False
    linear = np.allclose(np.diff(c), c[1] - c[0], rtol=1e-4)
    ratios = np.diff(np.log(c))
    return not linear and bool(np.allclose(ratios, ratios[0], rtol=1e-4))


def _edges(c: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around sorted centres `c` (midpoints, mirrored at the ends)."""
    v = np.log(c) if log else c.astype(float)
    if len(v) == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5]) if not log else v[0] + np.array([-1, 1])
    else:
        mid = (v[:-1] + v[1:]) / 2
        e = np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
    return np.exp(e) if log else e


def _set_ticks(ax: Any, which: str, c: np.ndarray, log: bool, limit: int = 12):
    """Put the ticks of a heatmap axis on the swept values (when few enough to
    read), so that each tick sits at the centre of its cell."""
    if len(c) > limit:
        return
    labels = [f"{v:.3g}" for v in c.tolist()]
    if which == "x":
        crowded = sum(len(s) + 2 for s in labels) > 36  # would overlap: slant
        ax.set_xticks(c, labels, rotation=45 if crowded else 0,
                      ha="right" if crowded else "center")  # fmt: skip
    else:
        ax.set_yticks(c, labels)
    if log:  # no extra minor ticks between the swept values
        from matplotlib.ticker import NullLocator

        (ax.xaxis if which == "x" else ax.yaxis).set_minor_locator(NullLocator())


def _check_grid(result: SweepResult, fname: str, value: str) -> None:
    if not isinstance(result, SweepResult):
        raise TypeError(f"`{fname}` needs a SweepResult; got {type(result).__name__}.")
    if value not in result.outputs and value not in result.params:
        raise KeyError(
            f"`{fname}`: no output named {value!r}; outputs are {list(result.outputs)}."
        )


def _check_axis(result: SweepResult, name: str, arg: str) -> None:
    if name not in result.coords:
        raise ValueError(
            f"`{arg}={name!r}` is not a swept axis; axes are {list(result.coords)}."
        )


def heatmap(
    result: SweepResult,
    value: str,
    x: str | None = None,
    y: str | None = None,
    ax: Any = None,
    *,
    cmap: str = "viridis",
    colorbar: bool = True,
    reduce: Callable[..., Any] | None = None,
    log: bool | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Any:
    """Draw a scalar output of a product sweep over two axes.

    Cells are centred on the real axis values (cell edges halfway between
    neighbouring values), so unevenly spaced axes are drawn to scale;
    log-spaced axes (e.g. `neuromass.sweeps.LogGridAxis`) get a log scale.
    An axis of at most 12 values gets one tick per value, at the centre of its
    cell. Non-finite points (status `"nonfinite"`, `"error"`, or missing) are blank.

    **Arguments:**

    - `result`: a `neuromass.sweeps.SweepResult` of a product space.
    - `value`: the name of a scalar output.
    - `x`: the axis path along the horizontal; `y`: along the vertical. With two
        axes they default to the second and the first (`y` = rows of `grid`).
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `cmap`: a matplotlib colormap name.
    - `colorbar`: add a colorbar labelled `value`.
    - `reduce`: when the sweep has more than two axes, a NumPy reduction such as
        `np.nanmean`, applied (with `axis=`) over the other axes. Without it, the
        other axes must have size 1.
    - `log`: force (`True`) or forbid (`False`) log scales; default: automatic.
    - `title`: the Axes title.
    - `xlabel`, `ylabel`: axis labels, e.g. `"Hopf a (1/ms)"` (default: the axis
        paths).
    - `label`: the colorbar label, e.g. `"mean FC"` (default: `value`).
    - `kwargs`: passed to `ax.pcolormesh` (e.g. `vmin`, `vmax`).

    **Returns:**

    The matplotlib Axes (the colour mesh is `ax.collections[0]`).

    !!! example

        ```python
        from neuromass.sweeps import GridAxis, Space, sweep
        from neuromass.viz import heatmap

        space = Space({"a": GridAxis(0.0, 1.0, 5), "k": GridAxis(0.0, 2.0, 9)})
        res = sweep(lambda p: {"v": p["a"] * p["k"]}, space, progress=False)
        ax = heatmap(res, "v", x="k", y="a", xlabel="coupling k (1/ms)",
                     ylabel="a (1/ms)", label="a k")
        ax.figure.savefig("v.png")
        ```
    """
    _check_grid(result, "heatmap", value)
    if result.grid_shape is None:
        raise ValueError(
            "`heatmap` needs a product sweep (a grid); this result is from a zip "
            "space. Plot `result.table` with a scatter plot instead."
        )
    names = list(result.axis_names)
    if len(names) < 2:
        raise ValueError(
            f"`heatmap` needs two swept axes; this sweep has {names}. Use `line`."
        )
    if x is None and y is None:
        if len(names) != 2:
            raise ValueError(
                f"This sweep has axes {names}: name the two to draw with `x=` and `y=`."
            )
        y, x = names
    elif x is None or y is None:
        given = x if x is not None else y
        rest = [n for n in names if n != given]
        if len(rest) != 1:
            raise ValueError(f"This sweep has axes {names}: give both `x=` and `y=`.")
        x, y = (given, rest[0]) if x is not None else (rest[0], given)
    _check_axis(result, x, "x")
    _check_axis(result, y, "y")
    if x == y:
        raise ValueError("`x` and `y` must be different axes.")
    grid = np.asarray(result.grid(value), dtype=float)
    if grid.ndim != len(names):
        raise ValueError(
            f"`heatmap` draws scalar outputs; {value!r} has shape "
            f"{grid.shape[len(names) :]} per point."
        )
    iy, ix = names.index(y), names.index(x)
    data = np.moveaxis(grid, [iy, ix], [-2, -1])
    n_other = data.ndim - 2
    if n_other:
        if reduce is not None:
            data = np.asarray(reduce(data, axis=tuple(range(n_other))))
        elif all(s == 1 for s in data.shape[:n_other]):
            data = data.reshape(data.shape[-2:])
        else:
            others = [n for n in names if n not in (x, y)]
            raise ValueError(
                f"Axes {others} have more than one value: pass `reduce=np.nanmean` "
                "(or another reduction), or plot a slice of the result."
            )
    cx, cy = _coords(result, x), _coords(result, y)
    ox, oy = np.argsort(cx, kind="stable"), np.argsort(cy, kind="stable")
    cx, cy = cx[ox], cy[oy]
    data = data[np.ix_(oy, ox)]
    log_x = _is_geometric(cx) if log is None else bool(log) and bool(np.all(cx > 0))
    log_y = _is_geometric(cy) if log is None else bool(log) and bool(np.all(cy > 0))
    ax = axes_or_new(ax)
    mesh = ax.pcolormesh(
        _edges(cx, log_x),
        _edges(cy, log_y),
        np.ma.masked_invalid(data),
        cmap=cmap,
        shading="flat",
        **kwargs,
    )
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    if result.coords[x].ndim == 1:
        _set_ticks(ax, "x", cx, log_x)
    if result.coords[y].ndim == 1:
        _set_ticks(ax, "y", cy, log_y)
    ax.set_xlabel(x if xlabel is None else xlabel)
    ax.set_ylabel(y if ylabel is None else ylabel)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=value if label is None else label)
    if title is not None:
        ax.set_title(title)
    return ax


def line(
    result: SweepResult,
    value: str,
    x: str | None = None,
    ax: Any = None,
    *,
    title: str | None = None,
    legend: bool | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    **plot_kwargs: Any,
) -> Any:
    """Plot a scalar output against one swept parameter.

    For a one-axis sweep this is a single line. For a product sweep over more
    axes, one line is drawn per combination of the other axes' values, labelled
    with them. For a zip sweep, the points are drawn sorted by `x`.

    **Arguments:**

    - `result`: a `neuromass.sweeps.SweepResult`.
    - `value`: the name of a scalar output.
    - `x`: the parameter path on the horizontal axis; default: the only axis.
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `title`: the Axes title.
    - `legend`: draw a legend; default when several lines are drawn.
    - `xlabel`, `ylabel`: axis labels with quantities and units, e.g.
        `"global coupling k (1/ms)"` (default: the axis path and `value`).
    - `plot_kwargs`: passed to `ax.plot` (default marker `"o"`).

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import jax.numpy as jnp
        from neuromass.sweeps import GridAxis, Space, sweep
        from neuromass.viz import line

        res = sweep(lambda p: {"amp": jnp.sqrt(p["a"])},
                    Space({"a": GridAxis(0.0, 1.5, 16)}), progress=False)
        ax = line(res, "amp")
        ```
    """
    _check_grid(result, "line", value)
    names = list(result.axis_names)
    if x is None:
        if len(names) != 1:
            raise ValueError(f"This sweep has axes {names}: choose one with `x=`.")
        x = names[0]
    _check_axis(result, x, "x")
    plot_kwargs.setdefault("marker", "o")
    ax = axes_or_new(ax, figsize=(5.0, 3.5))
    lines = 0
    if result.grid_shape is not None:
        grid = np.asarray(result.grid(value), dtype=float)
        if grid.ndim != len(names):
            raise ValueError(f"`line` draws scalar outputs; {value!r} is an array.")
        ix = names.index(x)
        cx = _coords(result, x)
        order = np.argsort(cx, kind="stable")
        data = np.moveaxis(grid, ix, -1)[..., order]
        others = [n for n in names if n != x]
        for combo in itertools.product(
            *(range(result.coords[n].shape[0]) for n in others)
        ):
            values = data[combo]
            if not np.any(np.isfinite(values)):
                continue
            label = ", ".join(
                f"{n}={_coords(result, n)[i]:.4g}" for n, i in zip(others, combo)
            )
            ax.plot(cx[order], values, label=label or value, **plot_kwargs)
            lines += 1
    else:
        if x not in result.params or result.params[x].ndim != 1:
            raise ValueError(f"`x={x!r}` must be a scalar parameter.")
        px = result.params[x]
        order = np.argsort(px, kind="stable")
        ax.plot(px[order], np.asarray(result.outputs[value])[order], **plot_kwargs)
        lines = 1
    ax.set_xlabel(x if xlabel is None else xlabel)
    ax.set_ylabel(value if ylabel is None else ylabel)
    if title is not None:
        ax.set_title(title)
    if legend is None:
        legend = lines > 1
    if legend:
        ax.legend(fontsize="small")
    return ax
