"""Brain views of values on a cortical surface, drawn with matplotlib alone.

Each view projects the triangles of one hemisphere orthographically onto the
screen, sorts them back to front (painter's algorithm) and fills them with the
colour of their mean vertex value, shaded by the angle between the triangle and
the line of sight. No 3-D axes (`plot_trisurf` sorts poorly and is slow), no
nilearn (a heavy dependency stack for one figure).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from jaxtyping import ArrayLike


if TYPE_CHECKING:
    from ..datasets import Cortex


_VIEWS = ("lateral", "medial", "dorsal", "ventral", "anterior", "posterior")
_HEMISPHERES = {"left": 0, "right": 1, "both": None}


class _Geometry:
    """NumPy copies of what the views need, computed once per figure."""

    def __init__(self, cortex: "Cortex"):
        self.vertices = np.asarray(cortex.vertices, dtype=np.float64)
        self.triangles = np.asarray(cortex.triangles)
        self.region_mapping = np.asarray(cortex.region_mapping)
        self.region_labels = cortex.region_labels
        self.hemisphere = cortex.hemispheres()
        self.right, self.superior, self.anterior = _orientation(
            self.vertices, self.hemisphere
        )
        corners = self.vertices[self.triangles]
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        norm = np.linalg.norm(cross, axis=1, keepdims=True)
        normals = cross / np.where(norm > 0, norm, 1.0)
        self.triangle_hemisphere = self.hemisphere[self.triangles].max(axis=1)
        # Orient the triangles outwards (TVB's cortex lists them clockwise): per
        # hemisphere, most triangles face away from its centroid.
        centres = corners.mean(axis=1)
        for h in np.unique(self.triangle_hemisphere):
            mask = self.triangle_hemisphere == h
            outward = centres[mask] - centres[mask].mean(axis=0)
            if np.sum(np.sum(normals[mask] * outward, axis=1) > 0) < mask.sum() / 2:
                normals[mask] = -normals[mask]
        self.triangle_normals = normals


def _orientation(vertices, hemisphere):
    """Unit vectors (right, superior, anterior) of the mesh's frame: right from the
    left hemisphere's centroid towards the right one's (snapped to the nearest
    coordinate axis), superior +z, anterior = superior x right (a right-handed
    frame: RAS files, and TVB's x-anterior, y-left, z-superior cortex)."""
    right = np.array([1.0, 0.0, 0.0])
    if (hemisphere == 0).any() and (hemisphere == 1).any():
        diff = vertices[hemisphere == 1].mean(axis=0) - vertices[hemisphere == 0].mean(
            axis=0
        )
        axis = int(np.argmax(np.abs(diff[:2])))  # the left-right axis is x or y
        right = np.zeros(3)
        right[axis] = np.sign(diff[axis]) or 1.0
    superior = np.array([0.0, 0.0, 1.0])
    anterior = np.cross(superior, right)
    return right, superior, anterior


def _camera(geometry: _Geometry, view: str, hemisphere: int | None):
    """(direction of sight, screen-up vector) of a named view."""
    r, s, a = geometry.right, geometry.superior, geometry.anterior
    side = -1.0 if hemisphere in (0, None) else 1.0  # where the hemisphere lies
    if view == "lateral":
        d = -side * r  # look from outside towards the midline
    elif view == "medial":
        d = side * r
    elif view == "dorsal":
        d, s = -s, a
    elif view == "ventral":
        d, s = s, a
    elif view == "anterior":
        d = -a
    else:  # posterior
        d = a
    return d, s


def _vertex_values(geometry: _Geometry, values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    n_vertices = geometry.vertices.shape[0]
    if v.shape == (n_vertices,):
        return v
    labels = geometry.region_labels
    if labels is not None:
        ok, expected = v.shape == (len(labels),), f"({len(labels)},)"
    else:  # unlabelled: any N covering the mapping (a connectome may have more)
        n_regions = int(geometry.region_mapping.max()) + 1
        ok, expected = (
            v.ndim == 1 and v.shape[0] >= n_regions,
            f"(N,), N >= {n_regions}",
        )
    if ok:
        return v[geometry.region_mapping]
    raise ValueError(
        f"`values` must have one entry per vertex ({n_vertices},) or one per region "
        f"{expected} (broadcast through the region mapping); got shape {v.shape}."
    )


def _draw_view(
    ax, geometry, tri_values, view, hemisphere, cmap, norm, shading, nan_color
):
    from matplotlib.collections import PolyCollection

    d, up = _camera(geometry, view, hemisphere)
    screen_x = np.cross(d, up)
    # back faces (facing away from the viewer) are hidden on a closed surface:
    # drop them, which halves the drawing (a small margin keeps the silhouette)
    keep = geometry.triangle_normals @ d < 0.35
    if hemisphere is not None:
        keep &= geometry.triangle_hemisphere == hemisphere
    tris = geometry.triangles[keep]
    corners = geometry.vertices[tris]  # (F, 3, 3)
    depth = corners.mean(axis=1) @ d
    order = np.argsort(-depth)  # far first
    polys = np.stack([corners @ screen_x, corners @ up], axis=-1)[order]
    values = tri_values[keep][order]
    light = np.abs(geometry.triangle_normals[keep][order] @ d)
    colours = cmap(norm(values))
    colours[~np.isfinite(values)] = nan_color
    colours[:, :3] *= (1.0 - shading) + shading * light[:, None]
    # no antialiasing: it leaves light seams between neighbouring triangles
    collection = PolyCollection(
        polys, facecolors=colours, edgecolors=colours, linewidths=0.3, antialiased=False
    )
    collection.set_in_layout(False)  # limits are set below; skip its extents
    ax.add_collection(collection)
    lo, hi = polys.reshape(-1, 2).min(axis=0), polys.reshape(-1, 2).max(axis=0)
    pad = 0.02 * (hi - lo).max()
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _colour_setup(values, cmap, vmin, vmax, symmetric):
    import matplotlib
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    if vmin is None or vmax is None:
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if symmetric:
            m = max(abs(lo), abs(hi))
            lo, hi = -m, m
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap, Normalize(
        vmin, vmax
    )


def _parse_views(views, hemispheres):
    out = []
    for view in views:
        if view not in _VIEWS:
            raise ValueError(f"Unknown view {view!r}; `views` are taken from {_VIEWS}.")
    for hemi in hemispheres:
        if hemi not in _HEMISPHERES:
            raise ValueError(
                f"Unknown hemisphere {hemi!r}; use 'left', 'right' or 'both'."
            )
    for view in views:
        for hemi in hemispheres:
            out.append((view, hemi))
    return out


def plot_surface(
    cortex: "Cortex",
    values: ArrayLike | None = None,
    *,
    views: Sequence[str] = ("lateral", "medial"),
    hemispheres: Sequence[str] = ("left", "right"),
    cmap: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
    symmetric: bool = False,
    colorbar: bool = True,
    colorbar_label: str | None = None,
    title: str | None = None,
    shading: float = 0.6,
    figsize: tuple[float, float] | None = None,
    fig: Any = None,
) -> Any:
    """Draw values on a cortical surface: lateral and medial views of both
    hemispheres, with a colour bar.

    Each panel is an orthographic view of one hemisphere; triangles are filled
    with the mean of their vertices' values and shaded by their angle to the
    line of sight (matplotlib only; about a second for TVB's 16,384 vertices).

    **Arguments:**

    - `cortex`: a `neuromass.datasets.Cortex`.
    - `values`: `(V,)` per-vertex values, or `(N,)` per-region values broadcast
        to the vertices through the region mapping. `None` draws the region
        mapping (each region a colour, no colour bar). NaN is drawn grey.
    - `views`: among `"lateral"`, `"medial"`, `"dorsal"`, `"ventral"`,
        `"anterior"`, `"posterior"`; one row of panels per view.
    - `hemispheres`: `"left"`, `"right"` or `"both"` (the whole mesh in one
        panel); one column per entry. Hemispheres are found by
        `neuromass.datasets.Cortex.hemispheres`.
    - `cmap`: a matplotlib colormap or its name (default `"viridis"`,
        `"RdBu_r"` when `symmetric`).
    - `vmin`, `vmax`: colour limits (default: the range of the finite values).
    - `symmetric`: colour limits symmetric about 0.
    - `colorbar`, `colorbar_label`: the colour bar and its label.
    - `title`: the figure's title.
    - `shading`: 0 (flat colours) to 1 (strongest relief shading).
    - `figsize`: the figure size in inches (default from the number of panels).
    - `fig`: a matplotlib Figure to draw into (it is cleared); a new one when
        `None`.

    **Returns:**

    The matplotlib Figure (its panels are `fig.axes`).

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        cortex = nm.datasets.load_cortex()                  # needs tvb-data
        x = np.asarray(cortex.vertices)[:, 0]               # anterior-posterior (mm)
        fig = nm.viz.plot_surface(cortex, x, colorbar_label="x (mm)")
        fig.savefig("surface.png", dpi=80)
        ```
    """
    import matplotlib.pyplot as plt

    geometry = _Geometry(cortex)
    if values is None:
        vertex_values = geometry.region_mapping.astype(np.float64)
        n = int(vertex_values.max()) + 1
        # a repeating qualitative palette, shuffled so that neighbours differ
        order = np.random.default_rng(0).permutation(n)
        vertex_values = order[geometry.region_mapping] % 20
        cmap = "tab20" if cmap is None else cmap
        vmin, vmax, colorbar = -0.5, 19.5, False
    else:
        vertex_values = _vertex_values(geometry, values)
    if cmap is None:
        cmap = "RdBu_r" if symmetric else "viridis"
    cmap_obj, norm = _colour_setup(vertex_values, cmap, vmin, vmax, symmetric)
    if not 0.0 <= shading <= 1.0:
        raise ValueError(f"`shading` must be in [0, 1]; got {shading}.")
    panels = _parse_views(views, hemispheres)
    n_rows, n_cols = len(views), len(hemispheres)
    if not panels:
        raise ValueError("`views` and `hemispheres` must not be empty.")
    present = set(np.unique(geometry.hemisphere).tolist())
    for hemi in hemispheres:
        if _HEMISPHERES[hemi] is not None and _HEMISPHERES[hemi] not in present:
            raise ValueError(
                f"The cortex has no {hemi} hemisphere (by `Cortex.hemispheres`); pass "
                f"`hemispheres=('both',)` or the ones present."
            )
    tri_values = vertex_values[geometry.triangles].mean(axis=1)
    if figsize is None:
        figsize = (3.2 * n_cols + (0.9 if colorbar else 0.0), 2.4 * n_rows + 0.4)
    if fig is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    nan_color = np.array([0.75, 0.75, 0.75, 1.0])
    for (view, hemi), ax in zip(panels, axes.ravel(), strict=True):
        _draw_view(
            ax,
            geometry,
            tri_values,
            view,
            _HEMISPHERES[hemi],
            cmap_obj,
            norm,
            shading,
            nan_color,
        )
        ax.set_title(f"{hemi} {view}" if hemi != "both" else view, fontsize=9)
    if colorbar:
        from matplotlib.cm import ScalarMappable

        mappable = ScalarMappable(norm=norm, cmap=cmap_obj)
        fig.colorbar(
            mappable, ax=axes.ravel().tolist(), label=colorbar_label, shrink=0.8
        )
    if title is not None:
        fig.suptitle(title)
    return fig


def plot_surface_frames(
    cortex: "Cortex",
    values_over_time: ArrayLike,
    times: ArrayLike,
    *,
    view: str = "lateral",
    hemisphere: str = "left",
    ncols: int = 4,
    cmap: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
    symmetric: bool = False,
    colorbar_label: str | None = None,
    title: str | None = None,
    time_unit: str = "ms",
    shading: float = 0.6,
    fig: Any = None,
) -> Any:
    """Small multiples of activity on the surface: one view per time, on a common
    colour scale, e.g. activity spreading from a stimulated patch.

    **Arguments:**

    - `cortex`: a `neuromass.datasets.Cortex`.
    - `values_over_time`: `(T, V)` per-vertex or `(T, N)` per-region values.
    - `times`: the `T` times (ms), printed above each panel.
    - `view`, `hemisphere`: the view of every panel (see
        `neuromass.viz.plot_surface`).
    - `ncols`: panels per row.
    - `cmap`, `vmin`, `vmax`, `symmetric`, `colorbar_label`, `shading`: as in
        `plot_surface`; the colour limits are common to all frames (default: the
        range over all of them).
    - `title`: the figure's title.
    - `time_unit`: the unit printed after each time.
    - `fig`: a matplotlib Figure to draw into; a new one when `None`.

    **Returns:**

    The matplotlib Figure.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        cortex = nm.datasets.load_cortex()                  # needs tvb-data
        L = cortex.local_connectivity.matrix()
        x = np.zeros(cortex.n_vertices)
        x[5000] = 1.0
        frames = [x]
        for _ in range(3):                                  # spread to neighbours
            frames.append(np.asarray(L @ frames[-1]) + frames[-1])
        fig = nm.viz.plot_surface_frames(cortex, np.stack(frames) > 0, [0, 1, 2, 3],
                                         hemisphere="right", time_unit="step")
        ```
    """
    import matplotlib.pyplot as plt

    geometry = _Geometry(cortex)
    frames = np.asarray(values_over_time, dtype=np.float64)
    t = np.asarray(times)
    if frames.ndim != 2 or t.shape != (frames.shape[0],):
        raise ValueError(
            "`values_over_time` must be (T, V) or (T, N) and `times` (T,); got "
            f"shapes {frames.shape} and {t.shape}."
        )
    if frames.shape[0] > 48:
        raise ValueError(
            f"{frames.shape[0]} frames is too many for small multiples (at most 48); "
            "pick a subset, e.g. `values[::10]` with `times[::10]`."
        )
    if ncols < 1:
        raise ValueError(f"`ncols` must be >= 1; got {ncols}.")
    ((view_, hemi),) = _parse_views([view], [hemisphere])
    vertex_frames = np.stack([_vertex_values(geometry, f) for f in frames])
    if cmap is None:
        cmap = "RdBu_r" if symmetric else "viridis"
    cmap_obj, norm = _colour_setup(vertex_frames, cmap, vmin, vmax, symmetric)
    if not 0.0 <= shading <= 1.0:
        raise ValueError(f"`shading` must be in [0, 1]; got {shading}.")
    n = frames.shape[0]
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(
            figsize=(2.3 * ncols + 0.9, 1.8 * nrows + 0.4), layout="constrained"
        )
    else:
        fig.clear()
    axes = fig.subplots(nrows, ncols, squeeze=False)
    nan_color = np.array([0.75, 0.75, 0.75, 1.0])
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        tri_values = vertex_frames[k][geometry.triangles].mean(axis=1)
        _draw_view(
            ax,
            geometry,
            tri_values,
            view_,
            _HEMISPHERES[hemi],
            cmap_obj,
            norm,
            shading,
            nan_color,
        )
        ax.set_title(f"{t[k]:g} {time_unit}", fontsize=9)
    from matplotlib.cm import ScalarMappable

    fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap_obj),
        ax=axes.ravel().tolist(),
        label=colorbar_label,
        shrink=0.8,
    )
    if title is not None:
        fig.suptitle(title)
    return fig
