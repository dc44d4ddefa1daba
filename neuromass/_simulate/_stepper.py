"""How the delayed loop advances one step: steppers.

- [`neuromass.TableauStepper`][] (default): explicit Runge-Kutta solvers are stepped by
  unrolling their Butcher tableau, read from the Diffrax solver; other solvers fall
  back to their own `step`.
- [`neuromass.SolverStepper`][]: always the Diffrax solver's own `step`.

Both give the same update (tested); the unrolled tableau avoids the generic stage loop
of `solver.step`, which costs more than the whole vector field of a small network, and
lets the loop know each stage's offset `c` at trace time (so that the delayed reads
of each stage are planned once, outside the loop).

To add a stepper, subclass `AbstractStepper` in a new file and implement `tableau`.
"""

import abc

import diffrax
import equinox as eqx
import numpy as np


class AbstractStepper(eqx.Module):
    """Base class of steppers (see the module docstring)."""

    @abc.abstractmethod
    def tableau(self, solver) -> tuple | None:
        """`(c, a_lower, b_sol)` numpy arrays of the explicit Runge-Kutta tableau to
        unroll for `solver`, or None to call `solver.step`."""


class TableauStepper(AbstractStepper):
    r"""Unroll the Butcher tableau of explicit Runge-Kutta solvers (Euler, Heun,
    Midpoint, Ralston, Bosh3, Tsit5, ...):

    $$y_{n+1} = y_n + \sum_s b_s k_s,\quad k_s = \Delta t\, f\big(t_n + c_s \Delta t,
    \; y_n + \textstyle\sum_{j<s} a_{sj} k_j\big)\; [+\, g\, \Delta W_n]$$

    (as Diffrax applies a tableau to an SDE's `MultiTerm`). Other solvers (EulerHeun,
    SRA1, ShARK, ...) use their own `step`.
    """

    def tableau(self, solver):
        return explicit_tableau(solver)


class SolverStepper(AbstractStepper):
    """Always step with the Diffrax solver's own `step` (the reference for
    `TableauStepper`; slower on small networks)."""

    def tableau(self, solver):
        return None


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
