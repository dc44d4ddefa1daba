"""Recover the global coupling of a delayed Hopf network from its FC with `nm.fit`.

Eight regions of the bundled connectome, Hopf nodes just below the bifurcation
(a < 0) driven by noise, delays from tract lengths at 10 mm/ms. We simulate a
"target" run at k = 0.3 and fit k from 0.05 by matching the functional connectivity
(mean squared difference over the upper triangle). The same noise key is used for
the target and for every fit step ("common random numbers"), so the loss is a
smooth, deterministic function of k whose minimum, 0, is at the true value.

Before fitting, the gradient of the loss at the start is checked against a central
finite difference.

Run headless (about half a minute on a laptop CPU, most of it compilation):

    python examples/fit_hopf_fc.py [OUT_DIR]

writes OUT_DIR/fit_hopf_fc.png (the loss and k per step; default OUT_DIR: ./out).
NEUROMASS_QUICK=1: 3 steps of a shorter run, as in the test suite.
"""

import os
import sys
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import numpy as np
import optax

import neuromass as nm


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
N_REGIONS = 8
T1 = 150.0 if QUICK else 400.0  # ms
STEPS = 3 if QUICK else 60
K_TRUE = 0.3
KEY = jax.random.key(0)


def build_network(k: float) -> nm.Network:
    conn = nm.datasets.load_connectome()
    weights = conn.weights[:N_REGIONS, :N_REGIONS]
    lengths = conn.lengths[:N_REGIONS, :N_REGIONS]
    return nm.Network(
        nm.models.Hopf(a=-0.05, omega=0.3),
        weights,
        lengths=lengths,
        speed=10.0,  # mm/ms: delays of 2-7 ms
        coupling="diffusive",
        k=k,
        noise=nm.noise.Additive(0.05),
    )


def simulated_fc(net: nm.Network):
    sol = nm.simulate(
        net,
        t1=T1,
        dt=0.5,
        save_every=1.0,
        transient=50.0 if QUICK else 100.0,
        key=KEY,
        solver=diffrax.Euler(),
    )
    return nm.metrics.fc(sol["x"])


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("simulating the target (compiling)...", flush=True)
    target = eqx.filter_jit(simulated_fc)(build_network(K_TRUE))

    def loss(net):
        return nm.metrics.fc_mse(simulated_fc(net), target)

    # the gradient at the start against a central finite difference
    start = build_network(0.05)
    loss_at = eqx.filter_jit(lambda k: loss(eqx.tree_at(lambda n: n.k, start, k)))
    grad = float(eqx.filter_jit(jax.grad(loss_at))(start.k))
    h = 1e-3
    fd = (float(loss_at(start.k + h)) - float(loss_at(start.k - h))) / (2 * h)
    print(f"dL/dk at k = 0.05: {grad:.5g} (finite difference {fd:.5g})")
    print(f"fitting k in {STEPS} steps (the first compiles the gradient)...")

    fitted, trace = nm.fit(
        start,
        loss,
        params=lambda n: n.k,
        constraints={lambda n: n.k: nm.Positive()},
        optimizer=optax.adam(0.1),
        steps=STEPS,
    )
    print(f"true k = {K_TRUE}, start k = 0.05, fitted k = {float(fitted.k):.4f}")
    print(f"loss {trace.loss[0]:.3e} at the start, best {trace.best_loss:.3e} at "
          f"step {trace.best_step}")  # fmt: skip
    print("k every 10 steps:", np.round(np.asarray(trace.params.k[::10]), 3))

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
    path = out / "fit_hopf_fc.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)
    return fitted, trace


if __name__ == "__main__":
    main(*sys.argv[1:2])
