"""Systems without a delay history: `diffrax.diffeqsolve` with any solver, fixed or
adaptive step, ODE or SDE."""

import diffrax
import jax
import jax.numpy as jnp

from .._inputs._base import Stage
from ._noise import diffusion_term, levy_area_for


def solve_ode(system, solver, y0, grid, key, controller, max_steps):
    """Integrate the instantaneously coupled `system`; returns `(ys, y_final,
    num_steps)` with `ys` at the grid's saved times."""
    t0, dt = grid.t0, grid.dt
    drift = diffrax.ODETerm(lambda t, y, args: system.drift(t, y, Stage.free(t)))
    dtype = jax.tree.leaves(y0)[0].dtype
    ts = grid.ts(dtype)
    # the end in the saved times' dtype, so that the last saved time (rounded to
    # it) never lies beyond it (t1 = 1.1 ms at dt = 0.1 ms in float32)
    t_end = jnp.maximum(jnp.asarray(t0 + grid.n_total * dt, dtype), ts[-1])
    if key is not None:
        shape = {v: jax.ShapeDtypeStruct(x.shape, x.dtype) for v, x in y0.items()}
        bm = diffrax.VirtualBrownianTree(
            t0,
            t_end,
            tol=dt / 4,
            shape=shape,
            key=key,
            levy_area=levy_area_for(solver),
        )
        terms = diffrax.MultiTerm(drift, diffusion_term(system, bm))
    else:
        terms = drift
    if controller is None:
        controller = diffrax.ConstantStepSize()
    if max_steps is None:
        adaptive = not isinstance(controller, diffrax.ConstantStepSize)
        max_steps = 16**4 if adaptive else grid.n_total + 1
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        t0,
        t_end,
        dt,
        y0,
        saveat=diffrax.SaveAt(ts=ts, t1=True),
        stepsize_controller=controller,
        max_steps=max_steps,
    )
    out = system.bounded(sol.ys)
    ys = {v: x[:-1] for v, x in out.items()}
    y_final = {v: x[-1] for v, x in out.items()}
    return ys, y_final, sol.stats["num_steps"]
