"""Fit the global coupling of a 76-region delayed Hopf network to a target FC, with
whole-step (nearest) delays: forward and backward passes read the delays in blocks.

The bundled 76-region connectome, Hopf nodes above the bifurcation (a = 0.2,
deterministic), tract lengths at 10 mm/ms, dt = 0.1 ms and x saved every 1 ms for
1 s (10,000 steps). The target is the FC over [200, 1000] ms of a run at k = 0.8; the
fit starts from k = 0.5. With `interpolation="nearest"`, a linear coupling and Heun,
`simulate` computes the delayed sums of S steps at once (S = 5 here: the shortest
delay in steps, dividing the saving period), and its reverse mode pulls the
cotangents of S steps through each region's out-edges at once (docs: Fitting → How
gradients go back through the delays). Memory stays flat with the number of steps.

Run headless (under a minute on a 2-core CPU, most of it compilation):

    python examples/fit_whole_brain_nearest.py [OUT_DIR]

writes OUT_DIR/fit_whole_brain_nearest.png (the loss and k per step; default
OUT_DIR: ./out). NEUROMASS_QUICK=1: 2 steps of an 80 ms run, as in the test suite.
"""

import os
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import neuromass as nm


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
K_TRUE = 0.8
STEPS = 2 if QUICK else 40
START = 20 if QUICK else 199  # first sample of the FC window (ms)
SIM = dict(
    t1=80.0 if QUICK else 1000.0,
    dt=0.1,
    save_every=1.0,  # a multiple of the block: every 10 steps
    transient=1.0,
    y0={"x": 0.3, "y": 0.3},
    interpolation="nearest",
    variables=("x",),
)


def build_network(k: float) -> nm.Network:
    conn = nm.datasets.load_connectome()
    return nm.Network(
        nm.models.Hopf(a=0.2, omega=0.3),
        conn.weights,
        lengths=conn.lengths,
        speed=10.0,  # mm/ms
        coupling="diffusive",
        k=k,
    )


def simulated_fc(net: nm.Network):
    x = nm.simulate(net, **SIM)["x"]
    return nm.metrics.fc(x[START:])  # t in [200, 1000] ms


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("simulating the target (compiling)...", flush=True)
    fc_jit = eqx.filter_jit(simulated_fc)  # one program for every k
    target = fc_jit(build_network(K_TRUE))

    def loss(net):
        return nm.metrics.fc_mse(simulated_fc(net), target)

    # the slope of the loss at the start by a central finite difference: the first
    # (Adam) step must go downhill, against its sign
    h = 0.01
    fd = float(
        nm.metrics.fc_mse(fc_jit(build_network(0.5 + h)), target)
        - nm.metrics.fc_mse(fc_jit(build_network(0.5 - h)), target)
    ) / (2 * h)
    print(f"fitting k in {STEPS} steps (the first compiles the gradient)...")

    start = time.perf_counter()
    fitted, trace = nm.fit(
        build_network(0.5),
        loss,
        params=lambda n: n.k,
        constraints={lambda n: n.k: nm.Positive()},
        optimizer=optax.adam(0.05),
        steps=STEPS,
    )
    elapsed = time.perf_counter() - start
    print(f"true k = {K_TRUE}, start k = 0.5, fitted k = {float(fitted.k):.4f}")
    first_move = float(trace.params.k[1] - trace.params.k[0])
    print(f"finite-difference dL/dk at the start {fd:.4g}; the first step moves k "
          f"by {first_move:+.4g}")  # fmt: skip
    print(f"loss {trace.loss[0]:.3e} at the start, best {trace.best_loss:.3e} at "
          f"step {trace.best_step}")  # fmt: skip
    print("k every 5 steps:", np.round(np.asarray(trace.params.k[::5]), 3))
    print(f"{STEPS} fit steps in {elapsed:.1f} s, compilation included")

    # a gradient with respect to a per-region parameter (at the start) costs the same
    # (a second gradient program: left out of the quick run, which tests the fit)
    if not QUICK:
        print("gradient with respect to every region's a (compiling)...", flush=True)
        start_net = build_network(0.5)
        grad_a = jax.jit(
            jax.grad(lambda a: loss(eqx.tree_at(lambda n: n.node.a, start_net, a)))
        )(jnp.full(start_net.n_regions, 0.2))
        print(f"dL/da_i at k = 0.5: {grad_a.shape}, largest {float(grad_a.max()):.2e}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    steps = np.arange(len(trace.loss))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    ax1.semilogy(steps, trace.loss)
    ax1.set(xlabel="step", ylabel="FC mean squared error")
    ax2.plot(steps, trace.params.k, label="fit")
    ax2.axhline(K_TRUE, color="k", ls="--", label="true")
    ax2.set(xlabel="step", ylabel="k")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole
    path = out / "fit_whole_brain_nearest.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)
    return fitted, trace


if __name__ == "__main__":
    main(*sys.argv[1:2])
