"""Priors by parameter path, and the constraint that matches each prior's support."""

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from .._fit import AbstractConstraint, Bounded, Positive
from ..sweeps import DistributionAxis, UniformAxis, apply_point


def _numpyro():
    try:
        import numpyro.distributions as dist
    except ImportError as e:  # pragma: no cover - the extra is installed in tests
        raise ImportError(
            "`neuromass.inference` needs NumPyro: `pip install 'neuromass[inference]'`."
        ) from e
    return dist


def as_distribution(prior: Any, name: str):
    """A NumPyro distribution from a distribution or a sweep axis."""
    dist = _numpyro()
    if isinstance(prior, DistributionAxis):
        prior = prior.dist
    elif isinstance(prior, UniformAxis):
        prior = dist.Uniform(prior.low, prior.high)
    if not isinstance(prior, dist.Distribution):
        raise TypeError(
            f"`priors[{name!r}]` must be a NumPyro distribution (e.g. "
            "`numpyro.distributions.Normal(0.0, 1.0)`), an `nm.DistributionAxis` or an "
            f"`nm.UniformAxis`; got {type(prior).__name__}."
        )
    return prior


def constraint_for(prior: Any, name: str) -> AbstractConstraint | None:
    """The `nm.fit` constraint matching the support of a NumPyro distribution:
    none for the real line, `Positive` for $(0, \\infty)$, `Bounded` for an
    interval."""
    c = _numpyro().constraints
    support = prior.support
    if support is c.real or support is c.real_vector:
        return None
    if support is c.positive or isinstance(support, c._GreaterThan | c._GreaterThanEq):
        low = getattr(support, "lower_bound", 0.0)
        if np.all(np.asarray(low) == 0.0):
            return Positive()
    if isinstance(support, c._Interval):
        return Bounded(support.lower_bound, support.upper_bound)
    raise ValueError(
        f"The prior of `{name}` has support {support}, which has no matching "
        "constraint: give one in `constraints={...}` (`nm.Positive()`, "
        "`nm.Bounded(low, high)` or your own `nm.AbstractConstraint`)."
    )


def resolve_priors(
    model: PyTree,
    priors: Mapping[str, Any],
    constraints: Mapping[str, AbstractConstraint] | None,
) -> tuple[tuple[str, ...], tuple, tuple, tuple[tuple[int, ...], ...]]:
    """Names, distributions, constraints and shapes of the inferred parameters."""
    if not isinstance(priors, Mapping) or not priors:
        raise ValueError(
            "`priors` must be a non-empty dict from parameter paths to distributions, "
            'e.g. `{"k": dist.LogNormal(-1.0, 0.5), "node.a": dist.Normal(0.0, 0.2)}`.'
        )
    constraints = dict(constraints or {})
    unknown = set(constraints) - set(priors)
    if unknown:
        raise ValueError(
            f"`constraints` names {sorted(unknown)}, which have no prior; the keys of "
            f"`constraints` must be among the keys of `priors` ({sorted(priors)})."
        )
    names, dists, cons, shapes = [], [], [], []
    for name, prior in priors.items():
        if not isinstance(name, str):
            raise TypeError(
                "`priors` keys must be parameter paths such as `'node.a'`; got "
                f"{name!r}."
            )
        d = as_distribution(prior, name)
        current = _current_value(model, name)
        prior_shape = tuple(d.batch_shape) + tuple(d.event_shape)
        try:
            shape = tuple(np.broadcast_shapes(np.shape(current), prior_shape))
        except ValueError:
            raise ValueError(
                f"The prior of `{name}` has shape {prior_shape}, which does not "
                f"broadcast with the parameter's shape {np.shape(current)}."
            ) from None
        if name in constraints:
            c = constraints[name]
            if c is not None and not isinstance(c, AbstractConstraint):
                raise TypeError(
                    f"`constraints[{name!r}]` must be an `nm.AbstractConstraint` such "
                    f"as `nm.Positive()`; got {c!r}."
                )
        else:
            c = constraint_for(d, name)
        names.append(name)
        dists.append(d)
        cons.append(c)
        shapes.append(shape)
    return tuple(names), tuple(dists), tuple(cons), tuple(shapes)


def _current_value(model: PyTree, name: str):
    """The model's value at a path (a `ValueError` naming the path if there is
    none)."""
    apply_point(model, {name: 0.0})  # raises a ValueError naming a bad path
    obj = model
    for part in name.split("."):
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return jnp.asarray(0.0 if obj is None else obj)


def sample_shape(dist: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The `sample_shape` that makes `dist.sample` return `shape`."""
    own = len(dist.batch_shape) + len(dist.event_shape)
    return shape[: len(shape) - own] if own else shape
