"""Unrolled Butcher tableaus of explicit Runge-Kutta solvers."""

import diffrax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractStepper
from ._solver import SolverStepper


class TableauStepper(AbstractStepper):
    r"""Unroll the Butcher tableau of explicit Runge-Kutta solvers (Euler, Heun,
    Midpoint, Ralston, Bosh3, Tsit5, ...):

    $$y_{n+1} = y_n + \sum_s b_s k_s,\quad k_s = \Delta t\, f\big(t_n + c_s \Delta t,
    \; y_n + \textstyle\sum_{j<s} a_{sj} k_j\big)\; [+\, g\, \Delta W_n]$$

    (as Diffrax applies a tableau to an SDE's `MultiTerm`). Other solvers (EulerHeun,
    SRA1, ShARK, ...) are stepped by their own `step` (`neuromass.SolverStepper`).

    The unrolled tableau avoids the generic stage loop of `solver.step`, which costs
    more than the whole vector field of a small network, and lets the loop know each
    stage's offset `c` at trace time (so that the delayed reads of each stage are
    planned once, outside the loop). Both give the same update (tested).

    !!! example

        ```python
        import neuromass as nm

        stepper = nm.TableauStepper()
        ```
    """

    def offsets(self, solver):
        tableau = explicit_tableau(solver)
        if tableau is None:
            return None
        return tuple(sorted({float(c) for c in tableau[0]}))

    def for_solver(self, solver):
        return self if explicit_tableau(solver) is not None else SolverStepper()

    def init(self, solver, system, t0, dt, y0, stage, noise):
        return None

    def step(self, solver, system, tn, y, dt, stage_of, solver_state, noise):
        W = None if noise is None else noise[0]
        y1 = erk_step(
            explicit_tableau(solver), _increment(system, stage_of, dt, W), tn, y, dt
        )
        return y1, solver_state

    def step_stacked(self, solver, system, tn, y, dt, stage_of, noise):
        """The same step with the Runge-Kutta combinations acting on the state
        stacked into one `(N, variables)` array: with one array per variable, XLA
        fuses the unrolled steps of a block into expressions that recompute every
        earlier step (several times slower)."""
        names = tuple(y)
        W = None if noise is None else noise[0]
        inc = _increment(system, stage_of, dt, W)

        def increment(c, t, z):
            f = inc(c, t, {v: z[..., i] for i, v in enumerate(names)})
            return jnp.stack([f[v] for v in names], axis=-1)

        z = erk_step(
            explicit_tableau(solver),
            increment,
            tn,
            jnp.stack([y[v] for v in names], -1),
            dt,
        )
        return {v: z[..., i] for i, v in enumerate(names)}


def _increment(system, stage_of, dt, W):
    """The stage increment `f dt` (plus `g dW` for an SDE) at offset `c`."""

    def increment(c, t, ys):
        f = system.drift(t, ys, stage_of(c))
        if W is None:
            return {v: dt * f[v] for v in f}
        g = system.diffusion(t, ys)
        return {v: dt * f[v] + g[v] * W[v] for v in f}

    return increment


def explicit_tableau(solver):
    """`(c, a_lower, b_sol)` of an explicit RK solver, or None for other solvers."""
    if type(solver) is diffrax.Euler:
        return (np.zeros(1), (), np.ones(1))
    if isinstance(solver, diffrax.AbstractERK):
        tab = getattr(solver, "tableau", None)
        if isinstance(tab, diffrax.ButcherTableau):
            c = np.concatenate([[0.0], np.asarray(tab.c, dtype=float)])
            a = tuple(np.asarray(row, dtype=float) for row in tab.a_lower)
            return (c, a, np.asarray(tab.b_sol, dtype=float))
    return None


def erk_step(tableau, increment, t, y, dt):
    """One explicit RK step: `increment(c_s, t_s, y_s)` returns the stage increment
    (`f dt`, plus `g dW` for an SDE, as Diffrax applies a tableau to a MultiTerm)."""
    c, a, b = tableau
    n_stages = len(b)
    needed = [
        b[j] != 0 or any(a[i - 1][j] != 0 for i in range(j + 1, n_stages))
        for j in range(n_stages)
    ]
    ks = []
    for s in range(n_stages):
        if not needed[s]:
            ks.append(None)
            continue
        ys = y
        if s > 0:
            ys = _combine(y, [(a[s - 1][j], ks[j]) for j in range(s) if a[s - 1][j]])
        ks.append(increment(float(c[s]), t + c[s] * dt, ys))
    return _combine(y, [(b[j], ks[j]) for j in range(n_stages) if b[j]])


def _combine(y, terms):
    """`y + sum(a * k for a, k in terms)` for a state dict or a stacked array."""
    if isinstance(y, dict):
        return {v: y[v] + sum(a * k[v] for a, k in terms) for v in y}
    return y + sum(a * k for a, k in terms)
