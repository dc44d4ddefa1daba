"""Bounds of the networks of a sweep's model, widened to cover every point."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._delay._structure import allowed_edges
from .._network import Network
from ._space import apply_point


_STRUCTURAL = ("weights", "lengths", "speed", "explicit_delays", "delays")


def widen_bounds(model, space, chunk: int = 512):
    """`model` with the bounds (`max_delay`, `min_delay`, `edge_mask`) of each of
    its networks widened to cover the values that `space`'s points give them, so
    that a sweep that traces them (`nm.sweep(..., model=...)`) runs every point as a
    freshly built network would. Networks whose delays and weights the space does
    not touch are returned unchanged."""
    paths = getattr(space, "_paths", ())
    if not any(p.split(".")[-1] in _STRUCTURAL for p in paths):
        return model

    def is_net(x):
        return isinstance(x, Network)

    nets = [x for x in jax.tree.leaves(model, is_leaf=is_net) if is_net(x)]
    if not nets:
        return model
    check_structural_axes(space)
    hi = [0.0] * len(nets)
    lo = [math.inf] * len(nets)
    masks = [np.zeros((n.n_regions,) * 2, bool) for n in nets]

    def structure(point):
        m = apply_point(model, point)
        out = []
        for net in (x for x in jax.tree.leaves(m, is_leaf=is_net) if is_net(x)):
            d = net.delays
            out.append((net.weights, d if d is not None else jnp.zeros(())))
        return out

    for start in range(0, len(space), chunk):
        part = space[start : start + chunk]
        values = eqx.filter_vmap(structure)(part.stacked())
        for i, (w, d) in enumerate(values):
            net = nets[i]
            w = np.asarray(w) != 0
            w &= allowed_edges(net.n_regions, net.self_connection)[None]
            masks[i] |= w.any(axis=0)
            if net.delays is None:
                continue
            d = np.broadcast_to(np.asarray(d), w.shape)[w]
            if d.size and not (np.isfinite(d).all() and (d >= 0).all()):
                raise ValueError(
                    "The swept values give non-finite or negative delays (NaN, inf or "
                    f"< 0 ms) for points {start}..{start + len(part) - 1} of the "
                    f"space; check the axes {_structural_paths(paths)} (speeds must be "
                    "finite and > 0 mm/ms, lengths and delays finite and >= 0)."
                )
            if d.size:  # NumPy max/min: a NaN could not be skipped (checked above)
                hi[i] = max(hi[i], float(np.max(d)))
                lo[i] = min(lo[i], float(np.min(d)))
    widened = {}
    for i, net in enumerate(nets):
        mask = masks[i] | net.edge_mask.mask
        kw = dict(edge_mask=mask)
        if net.delays is not None:
            kw["max_delay"] = max(net.max_delay, hi[i])
            kw["min_delay"] = min(net.min_delay, lo[i])
        widened[id(net)] = net.replace(**kw)
    return jax.tree.map(
        lambda x: widened.get(id(x), x) if is_net(x) else x, model, is_leaf=is_net
    )


#: What the values of a swept structural path must be: (test, words), by the last
#: part of the path.
_DOMAINS = {
    "speed": (lambda v: np.isfinite(v) & (v > 0), "finite and > 0 (mm/ms)"),
    "lengths": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0 (mm)"),
    "delays": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0 (ms)"),
    "explicit_delays": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0 (ms)"),
    "weights": (np.isfinite, "finite"),
}


def _structural_paths(paths) -> str:
    found = [p for p in paths if p.split(".")[-1] in _STRUCTURAL]
    return ", ".join(f"`{p}`" for p in found) or "(none)"


def check_structural_axes(space) -> None:
    """Refuse swept speeds, lengths, delays or weights outside their domain (NaN,
    inf, a speed <= 0, a negative length or delay), naming the axis and the first
    bad value: such values would otherwise reach the delay bounds (as an infinite
    `max_delay` or a negative `min_delay`) or run as wrong delays."""
    for path, values in zip(space.axis_names, space._axis_batch(space.indices)):
        rule = _DOMAINS.get(path.split(".")[-1])
        if rule is None:
            continue
        ok, words = rule
        values = np.asarray(values, dtype=float)
        good = ok(values).reshape(len(values), -1).all(axis=1)
        if not good.all():
            row = int(np.argmin(good))
            bad = values[row][~ok(values[row])] if values.ndim > 1 else values[row]
            shown = float(np.ravel(bad)[0])
            raise ValueError(
                f"The axis `{path}` holds {shown!r} at point {int(space.indices[row])} "
                f"of the space; every value of `{path.split('.')[-1]}` must be "
                f"{words}. Remove it from the axis."
            )
