"""A parameter sweep of a toy model, resumable, with a heatmap written to a PNG.

Two Stuart-Landau (Hopf) oscillators with different frequencies are coupled
diffusively with strength `k`; `a` is the bifurcation parameter of both. For each
`(a, k)` we integrate with Euler steps and measure how synchronised the two are
(the Kuramoto order parameter, time-averaged). Strong enough coupling locks them.

Run headless:

    MPLBACKEND=Agg python examples/sweep_toy.py [OUT.png]

Interrupt it and run it again: finished chunks are loaded from the store (a folder
next to the PNG). NEUROMASS_QUICK=1 sweeps a 3 x 4 grid of short runs.
"""

import os
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib


matplotlib.use("Agg")

from neuromass.sweep import GridAxis, Space, sweep  # noqa: E402
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


def main(out: str) -> None:
    n_a, n_k = (3, 4) if QUICK else (12, 16)
    space = Space({"a": GridAxis(0.1, 1.0, n_a), "k": GridAxis(0.0, 0.4, n_k)})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    store = out.with_name(out.stem + "-store")  # next to the PNG
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
    ax.figure.savefig(out, dpi=100)
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sweep_toy.png")
