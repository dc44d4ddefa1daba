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
            if d.size:
                hi[i] = max(hi[i], float(d.max()))
                lo[i] = min(lo[i], float(d.min()))
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
