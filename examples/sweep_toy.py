"""A parameter sweep of a toy model, resumable, with a heatmap written to a PNG.

Two Stuart-Landau (Hopf) oscillators with different frequencies are coupled
diffusively with strength `k`; `a` is the bifurcation parameter of both. For each
`(a, k)` we integrate with Euler steps and measure how synchronised the two are
(the Kuramoto order parameter, time-averaged). Strong enough coupling locks them.

Without coupling each oscillator settles on its limit cycle of radius sqrt(a): the
script checks the measured amplitude of the k = 0 column against it.

Run headless:

    python examples/sweep_toy.py [OUT_DIR]

writes OUT_DIR/sweep_toy.png (default OUT_DIR: ./out). Interrupt it and run it
again: finished chunks are loaded from the store (OUT_DIR/sweep_toy-store).
NEUROMASS_QUICK=1 sweeps a 3 x 4 grid of short runs.
"""

import os
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np


matplotlib.use("Agg")

from neuromass.sweeps import GridAxis, Space, sweep  # noqa: E402
from neuromass.viz import heatmap  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
STEPS = 800 if QUICK else 4000  # Euler steps of 0.01 (time units of the toy)


class TwoOscillators(eqx.Module):
    """A toy model: its fields are the parameters that a sweep sets by path."""

    a: float = 0.5
    k: float = 0.0
    omega: tuple[float, float] = (1.0, 1.3)


def synchrony(model: TwoOscillators) -> dict[str, jax.Array]:
    dt, steps, transient = 0.01, STEPS, STEPS // 4
    omega = jnp.asarray(model.omega)

    def step(z, _):
        coupling = model.k * (z[::-1] - z)
        dz = (model.a + 1j * omega - jnp.abs(z) ** 2) * z + coupling
        z = z + dt * dz
        return z, z

    z0 = jnp.array([0.5 + 0.0j, 0.0 + 0.5j], dtype=jnp.complex64)
    _, zs = jax.lax.scan(step, z0, None, length=steps)
    phases = jnp.exp(1j * jnp.angle(zs[transient:]))
    order = jnp.abs(phases.mean(axis=1)).mean()
    return {"synchrony": order, "amplitude": jnp.abs(zs[transient:]).mean()}


def main(out_dir="out") -> None:
    n_a, n_k = (3, 4) if QUICK else (12, 16)
    space = Space({"a": GridAxis(0.1, 1.0, n_a), "k": GridAxis(0.0, 0.4, n_k)})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "sweep_toy-store"
    res = sweep(
        synchrony,
        space,
        model=TwoOscillators(),  # each point sets model.a and model.k
        batch_size=48,
        store=store,
        fingerprint=f"sweep_toy-v1-{STEPS}",
    )
    print(res)
    print("grid shape (a, k):", res.grid("synchrony").shape)
    # k = 0: two independent limit cycles of radius sqrt(a) (the relaxation to it
    # takes ~1 / (2 a): the largest a of the grid has settled after the transient)
    amplitude = res.grid("amplitude")[:, 0]
    a_values = np.linspace(0.1, 1.0, n_a)  # the a axis of the grid
    print(f"k = 0, a = {a_values[-1]:.2f}: amplitude {amplitude[-1]:.4f} (theory "
          f"sqrt(a) = {np.sqrt(a_values[-1]):.4f})")  # fmt: skip
    ax = heatmap(
        res,
        "synchrony",
        x="k",
        y="a",
        title="phase locking of two Stuart-Landau oscillators",
        xlabel="coupling k",
        ylabel="bifurcation parameter a",
        label="time-averaged order parameter R",
    )
    path = out / "sweep_toy.png"
    ax.figure.savefig(path, dpi=100)
    print("wrote", path)


if __name__ == "__main__":
    main(*sys.argv[1:2])
