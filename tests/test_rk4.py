"""`nm.RK4`, the classic fourth-order Runge-Kutta method (TVB's
`RungeKutta4thOrderDeterministic`): its tableau, its order of convergence on ODEs
with analytic solutions, through Diffrax and through `simulate`. Its parity with
tvb-library on delayed networks is in test_tvb_parity.py."""

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

import neuromass as nm


def test_tableau_is_the_classic_one():
    tab = nm.RK4.tableau
    np.testing.assert_array_equal(tab.c, [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(tab.b_sol, [1 / 6, 1 / 3, 1 / 3, 1 / 6])
    assert [list(a) for a in tab.a_lower] == [[0.5], [0.0, 0.5], [0.0, 0.0, 1.0]]
    # the error estimate is the difference to the midpoint method y + h k2
    np.testing.assert_allclose(tab.b_sol - tab.b_error, [0.0, 1.0, 0.0, 0.0])
    assert nm.RK4().order(None) == 4 and nm.RK4().error_order(None) == 3
    assert isinstance(nm.RK4(), diffrax.AbstractERK)


def _slope(hs, errors):
    return scipy.stats.linregress(np.log(hs), np.log(errors)).slope


def test_fourth_order_on_an_ode_with_an_analytic_solution(x64):
    """y' = -y + sin t, y(0) = 1: y(t) = (sin t - cos t)/2 + 3/2 e^{-t}. The error
    at t = 4 falls as h^4 (Heun's as h^2)."""
    term = diffrax.ODETerm(lambda t, y, args: -y + jnp.sin(t))
    exact = (np.sin(4.0) - np.cos(4.0)) / 2 + 1.5 * np.exp(-4.0)
    hs = np.array([0.4, 0.2, 0.1, 0.05, 0.025])
    errors = {}
    for solver in (nm.RK4(), diffrax.Heun()):
        errors[type(solver).__name__] = [
            abs(
                float(
                    diffrax.diffeqsolve(
                        term, solver, 0.0, 4.0, h, jnp.array(1.0), max_steps=None
                    ).ys[-1]
                )
                - exact
            )
            for h in hs
        ]
    assert _slope(hs, errors["RK4"]) == pytest.approx(4.0, abs=0.3)
    assert _slope(hs, errors["Heun"]) == pytest.approx(2.0, abs=0.3)
    assert errors["RK4"][-1] < 1e-9


@pytest.mark.slow
def test_fourth_order_through_simulate(x64):
    """A linear network without delays, x' = (gamma I + k W) x, simulated with
    `solver=nm.RK4()`: the error against expm falls as dt^4."""
    rng = np.random.default_rng(0)
    w = rng.random((3, 3))
    net = nm.Network(nm.models.Linear(gamma=-1.0), w, k=0.3)
    y0 = {"x": jnp.array([1.0, -0.5, 0.25])}
    a = -1.0 * np.eye(3) + 0.3 * (w * (1 - np.eye(3)))
    exact = scipy.linalg.expm(2.0 * a) @ np.asarray(y0["x"])
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    errors = [
        np.abs(
            np.asarray(
                nm.simulate(net, t1=2.0, dt=float(h), y0=y0, solver=nm.RK4())["x"][-1]
            )
            - exact
        ).max()
        for h in hs
    ]
    assert _slope(hs, errors) == pytest.approx(4.0, abs=0.3)
