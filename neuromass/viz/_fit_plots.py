"""Plots of fits: loss paths of one or many starts and of a global search, and
loss landscapes."""

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import axes_or_new


#: Colours of the non-best starts (C1 draws the global phase, C3 the best start).
_OTHERS = ("C0", "C2", "C4", "C5", "C6", "C7", "C8", "C9")


def _auto_log(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return bool(v.size) and bool(np.all(v > 0)) and v.max() > 30 * v.min()


def plot_fit(
    trace: Any,
    ax: Any = None,
    *,
    log: bool | None = None,
    title: str | None = None,
) -> Any:
    """Draw the loss path(s) of a fit from its trace.

    - A `neuromass.FitTrace`: the loss at every step, the best step marked.
    - A `neuromass.MultiStartTrace`: one line per start, the start that reached
        the lowest loss drawn bold.
    - A `neuromass.GlobalTrace`: every candidate's loss per generation (dots)
        and the best so far (line).
    - A hybrid fit's `MultiStartTrace`: its global phase (generations), then the
        gradient refinement of each candidate (steps), on one horizontal axis.

    Non-finite losses are left out.

    **Arguments:**

    - `trace`: the trace returned by `neuromass.fit`.
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `log`: a logarithmic loss axis; default when the losses are positive and
        span more than a factor 30.
    - `title`: the Axes title.

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import optax
        import neuromass as nm

        fitted, trace = nm.fit({"x": 2.0}, lambda m: (m["x"] - 1.0) ** 2,
                               params=lambda m: m["x"],
                               constraints={lambda m: m["x"]: nm.Bounded(-3.0, 3.0)},
                               optimizer=optax.adam(0.1), steps=50, starts=4,
                               progress=False)
        ax = nm.viz.plot_fit(trace)
        ```
    """
    from .._fit._trace import FitTrace, GlobalTrace, MultiStartTrace

    ax = axes_or_new(ax, figsize=(6.0, 3.8))
    drawn: list[np.ndarray] = []
    if isinstance(trace, FitTrace):
        loss = np.asarray(trace.loss, dtype=float)
        steps = np.arange(len(loss))
        ax.plot(steps, loss, marker=".", lw=1.2, label="loss")
        if trace.best_step >= 0:
            ax.plot(
                [trace.best_step], [trace.best_loss], "*", ms=12, color="C3",
                label="best",
            )  # fmt: skip
        ax.set_xlabel("step")
        drawn.append(loss)
    elif isinstance(trace, GlobalTrace):
        _draw_global(ax, trace, drawn)
        ax.set_xlabel("generation")
    elif isinstance(trace, MultiStartTrace):
        offset = 0
        if trace.global_phase is not None:
            _draw_global(ax, trace.global_phase, drawn)
            offset = trace.global_phase.generations
            ax.axvline(offset - 0.5, color="0.5", ls="--", lw=0.8)
        steps = offset + np.arange(trace.steps)
        for i in range(trace.n_starts):
            loss = np.asarray(trace.loss[i], dtype=float)
            best = i == trace.best_start
            ax.plot(
                steps, loss, lw=2.0 if best else 0.9, alpha=1.0 if best else 0.6,
                color="C3" if best else _OTHERS[i % len(_OTHERS)],
                label=f"start {i} (best)" if best else None,
            )  # fmt: skip
            drawn.append(loss)
        ax.set_xlabel(
            "generation, then refinement step"
            if trace.global_phase is not None
            else "step"
        )
    else:
        raise TypeError(
            "`plot_fit` draws the trace returned by `nm.fit` (a FitTrace, "
            f"MultiStartTrace or GlobalTrace); got {type(trace).__name__}."
        )
    values = np.concatenate([d.ravel() for d in drawn]) if drawn else np.zeros(0)
    if log if log is not None else _auto_log(values):
        ax.set_yscale("log")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    if title is not None:
        ax.set_title(title)
    return ax


def _draw_global(ax: Any, trace: Any, drawn: list[np.ndarray]) -> None:
    loss = np.asarray(trace.loss, dtype=float)
    g = np.repeat(np.arange(trace.generations), trace.population_size)
    ax.plot(g, loss.ravel(), ".", color="0.55", ms=4, label="candidates")
    ax.plot(
        np.arange(trace.generations), trace.best_so_far, "-", color="C1", lw=1.8,
        label="best so far",
    )  # fmt: skip
    drawn.append(loss)


def plot_landscape(
    landscape: Any,
    ax: Any = None,
    *,
    mark: Mapping[str, float] | None = None,
    log: bool | None = None,
    slope: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Any:
    """Draw a loss landscape from `neuromass.landscape`.

    One axis: the loss against the parameter; with the landscape's gradients
    (`gradient=True`) each grid point also gets a short tangent of the slope the
    gradient reports, so you see at a glance where it follows the curve and where
    it points along small-scale ripples instead. Two axes: a heatmap
    (`neuromass.viz.heatmap`).

    **Arguments:**

    - `landscape`: a `neuromass.Landscape`.
    - `ax`: the matplotlib Axes to draw on; a new figure when `None`.
    - `mark`: `{path: value}` of a point to mark with a star (e.g. the true
        parameters of a simulated target).
    - `log`: a logarithmic loss scale (1-D) or colour scale (2-D); default
        automatic.
    - `slope`: draw the gradient tangents (1-D, when the landscape has them).
    - `title`, `xlabel`, `ylabel`: labels (default: the paths and "loss").

    **Returns:**

    The matplotlib Axes.

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        land = nm.landscape(lambda m: (m["k"] - 0.1) ** 2, {"k": 0.0},
                            {"k": nm.GridAxis(0.0, 0.2, 21)}, gradient=True,
                            progress=False)
        ax = nm.viz.plot_landscape(land, mark={"k": 0.1})
        ```
    """
    from .._fit._landscape import Landscape
    from ._sweep_plots import heatmap

    if not isinstance(landscape, Landscape):
        raise TypeError(
            "`plot_landscape` draws an `nm.Landscape` (from `nm.landscape`); got "
            f"{type(landscape).__name__}."
        )
    names = landscape.names
    mark = dict(mark or {})
    unknown = sorted(set(mark) - set(names))
    if unknown:
        raise ValueError(
            f"`mark` names {unknown}, which are not axes of the landscape "
            f"{list(names)}."
        )
    if len(names) == 2 and landscape.loss.ndim == 2:
        ax = heatmap(
            landscape.result, "loss", ax=ax, log=log, title=title, xlabel=xlabel,
            ylabel=ylabel,
        )  # fmt: skip
        if len(mark) == 2:
            ax.plot([mark[names[1]]], [mark[names[0]]], "*", ms=14, color="w",
                    markeredgecolor="k")  # fmt: skip
        return ax
    if len(names) != 1 or landscape.loss.ndim != 1:
        raise ValueError(
            "`plot_landscape` draws one axis (a line) or two (a heatmap); this "
            f"landscape has axes {list(names)}. Scan fewer, or draw "
            "`landscape.result` with `nm.viz.heatmap(..., reduce=np.nanmin)`."
        )
    name = names[0]
    x = np.asarray(landscape.coords[name], dtype=float)
    if x.ndim != 1:
        raise ValueError(
            f"`plot_landscape`: axis `{name}` has array values; a line needs scalars."
        )
    y = np.asarray(landscape.loss, dtype=float)
    ax = axes_or_new(ax, figsize=(6.0, 3.8))
    order = np.argsort(x)
    ax.plot(x[order], y[order], "-o", ms=3, lw=1.2, label="loss")
    if slope and name in landscape.slope and len(x) > 1:
        g = np.asarray(landscape.slope[name], dtype=float)
        half = 0.35 * np.min(np.diff(x[order]))
        for xi, yi, gi in zip(x, y, g):
            if np.isfinite(yi) and np.isfinite(gi):
                ax.plot([xi - half, xi + half], [yi - gi * half, yi + gi * half],
                        color="C3", lw=1.0)  # fmt: skip
        ax.plot([], [], color="C3", lw=1.0, label="gradient (tangent)")
    if name in mark:
        ax.axvline(mark[name], color="k", ls=":", lw=1.0, label="marked")
    if log if log is not None else _auto_log(y):
        ax.set_yscale("log")
    ax.set_xlabel(name if xlabel is None else xlabel)
    ax.set_ylabel("loss" if ylabel is None else ylabel)
    ax.legend(fontsize="small")
    if title is not None:
        ax.set_title(title)
    return ax
