"""Recover the global coupling of a delayed Hopf network from its BOLD FC with `nm.fit`.

Eight regions of the bundled connectome, Hopf nodes below the bifurcation (a < 0,
4.8 Hz, 200 ms decay) driven by noise, delays from tract lengths at 3 mm/ms (6-23
ms). The BOLD signal comes from the Balloon-Windkessel monitor (`nm.monitors.Bold`),
integrated inside the simulation loop and sampled every TR = 720 ms. We simulate a
"target" run at k = 0.03, take the functional connectivity of its BOLD signal, and
fit k from 0.01 by matching the BOLD FC (mean squared difference over the upper
triangle). The gradient flows back through the hemodynamics, the delays and the
network. The same noise key is used for the target and for every fit step
("common random numbers"), so the loss is a deterministic function of k whose
minimum, 0, is at the true value.

Run headless (about half a minute on a laptop CPU, most of it compilation):

    python examples/fit_bold_fc.py [OUT_DIR]

writes OUT_DIR/fit_bold_fc.png (default OUT_DIR: ./out): the loss and k per step,
next to the BOLD FC of the target and of the start. NEUROMASS_QUICK=1: 2 steps of a
shorter run, as in the test suite.
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
K_TRUE = 0.03
KEY = jax.random.key(0)
TR = 720.0  # ms
TRANSIENT = 1440.0 if QUICK else 4320.0  # ms: 6 TRs, for the hemodynamics to settle
N_VOLUMES = 12 if QUICK else 80  # BOLD samples after the transient (58 s)
STEPS = 2 if QUICK else 40


def build_network(k: float) -> nm.Network:
    conn = nm.datasets.load_connectome()
    return nm.Network(
        nm.models.Hopf(a=-0.005, omega=0.03),
        conn.weights[:N_REGIONS, :N_REGIONS],
        lengths=conn.lengths[:N_REGIONS, :N_REGIONS],
        speed=3.0,  # mm/ms: delays of 6-23 ms
        coupling="diffusive",
        k=k,
        noise=nm.noise.Additive(0.02),
    )


def bold_fc(net: nm.Network):
    sol = nm.simulate(
        net,
        t1=TRANSIENT + N_VOLUMES * TR,
        dt=5.0,  # the nodes turn by 0.15 rad per step; the hemodynamics are slower
        save_every=TR,
        transient=TRANSIENT,
        variables="x",
        key=KEY,
        solver=diffrax.Euler(),
        monitors=[nm.monitors.Bold("x", tr=TR)],
    )
    return nm.metrics.fc(sol["bold"])  # (N_VOLUMES, N) samples -> (N, N)


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("simulating the target BOLD (compiling)...", flush=True)
    bold_fc_jit = eqx.filter_jit(bold_fc)  # one compiled program for every call
    target = bold_fc_jit(build_network(K_TRUE))

    def loss(net):
        return nm.metrics.fc_mse(bold_fc(net), target)

    # the slope of the loss at the start by a central finite difference: the first
    # (Adam) step must go downhill, against its sign
    h = 1e-3
    fd = float(
        nm.metrics.fc_mse(bold_fc_jit(build_network(0.01 + h)), target)
        - nm.metrics.fc_mse(bold_fc_jit(build_network(0.01 - h)), target)
    ) / (2 * h)
    print(f"fitting k in {STEPS} steps (the first compiles the gradient)...")

    fitted, trace = nm.fit(
        build_network(0.01),
        loss,
        params=lambda n: n.k,
        constraints={lambda n: n.k: nm.Positive()},
        optimizer=optax.adam(0.1, b1=0.5),
        steps=STEPS,
    )
    fitted_fc = bold_fc_jit(fitted)
    print(f"true k = {K_TRUE}, start k = 0.01, fitted k = {float(fitted.k):.5f}")
    first_move = float(trace.params.k[1] - trace.params.k[0])
    print(f"finite-difference dL/dk at the start {fd:.4g}; the first step moves k "
          f"by {first_move:+.4g}")  # fmt: skip
    print(f"loss {trace.loss[0]:.3e} at the start, best {trace.best_loss:.3e} at "
          f"step {trace.best_step}")  # fmt: skip
    corr = float(nm.metrics.fc_corr(fitted_fc, target))
    print(f"BOLD FC correlation of the fit with the target: {corr:.6f}")
    print("k every 5 steps:", np.round(np.asarray(trace.params.k[::5]), 4))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    steps = np.arange(len(trace.loss))
    fig, axes = plt.subplots(1, 4, figsize=(14, 3), layout="constrained")
    axes[0].semilogy(steps, trace.loss)
    axes[0].set(xlabel="step", ylabel="BOLD FC mean squared error")
    axes[1].plot(steps, trace.params.k, label="fit")
    axes[1].axhline(K_TRUE, color="k", ls="--", label="true")
    axes[1].set(xlabel="step", ylabel="k")
    axes[1].legend()
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole
    start_fc = bold_fc_jit(build_network(0.01))
    for ax, fc, title in (
        (axes[2], target, f"target BOLD FC (k = {K_TRUE})"),
        (axes[3], start_fc, "BOLD FC at the start (k = 0.01)"),
    ):
        im = ax.imshow(fc, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="region", ylabel="region")
    fig.colorbar(im, ax=axes[2:], shrink=0.8, label="Pearson FC")
    path = out / "fit_bold_fc.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)
    return fitted, trace


if __name__ == "__main__":
    main(*sys.argv[1:2])
