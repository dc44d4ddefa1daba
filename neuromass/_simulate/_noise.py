"""Brownian increments of the fixed-step loop, and the diffusion term of an SDE."""

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp


class StepIncrement(diffrax.AbstractBrownianPath):
    """A Brownian path that only knows one step: the increment drawn for it."""

    W: dict
    H: dict | None
    dt: float = eqx.field(static=True)
    levy_area: type = eqx.field(static=True)

    @property
    def t0(self):
        return -jnp.inf

    @property
    def t1(self):
        return jnp.inf

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        if not use_levy:
            return self.W
        dt = jnp.asarray(self.dt, dtype=jax.tree_util.tree_leaves(self.W)[0].dtype)
        if self.levy_area is diffrax.SpaceTimeLevyArea:
            return diffrax.SpaceTimeLevyArea(dt=dt, W=self.W, H=self.H)
        return diffrax.BrownianIncrement(dt=dt, W=self.W)


def levy_area_for(solver) -> type:
    """The Lévy area the solver needs (Brownian increments or space-time area)."""
    minimal = getattr(solver, "minimal_levy_area", diffrax.BrownianIncrement)
    if minimal in (diffrax.BrownianIncrement, diffrax.AbstractBrownianIncrement):
        return diffrax.BrownianIncrement
    if issubclass(diffrax.SpaceTimeLevyArea, minimal):
        return diffrax.SpaceTimeLevyArea
    raise ValueError(
        f"Solver {type(solver).__name__} needs Lévy area {minimal.__name__}, which "
        "neuromass does not generate; use Euler, EulerHeun, Heun, SRA1 or ShARK."
    )


def diffusion_term(noise, path):
    """`ControlTerm` of the (diagonal) diffusion of `noise` driven by `path`."""
    import lineax as lx

    def g(t, y, args):
        return lx.DiagonalLinearOperator(noise.diffusion(t, y))

    return diffrax.ControlTerm(g, path)


def increments(key, step, names, n, dtype, dt, space_time):
    """The Brownian increment (and space-time Lévy area) of step `step`: a function
    of the key and the step index only, so blocks of steps can draw theirs at once
    (vmapped) with the same values."""
    z = jax.random.normal(
        jax.random.fold_in(key, step), (2 if space_time else 1, len(names), n), dtype
    )
    sq = math.sqrt(dt)
    W = {v: sq * z[0, i] for i, v in enumerate(names)}
    H = None
    if space_time:
        H = {v: sq / math.sqrt(12.0) * z[1, i] for i, v in enumerate(names)}
    return W, H
