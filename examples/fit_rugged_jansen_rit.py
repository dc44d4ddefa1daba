"""Fit the global coupling of a Jansen-Rit network whose FC loss is rugged.

The problem of issue 23: Jansen-Rit columns on TVB's 76-region connectome
(`pip install "neuromass[data]"`), sigmoidal coupling with delays, 2 s runs with
one fixed noise key, and `nm.metrics.fc_mse` against the FC of a run at k = 0.1.
Started at k = 0.03, plain Adam goes the wrong way: at the scale of its steps the
loss is a washboard, and the gradient follows the ripples, not the valley.

The script

1. looks at the landscape first (`nm.landscape`): coarse over the whole range,
   then in steps of 1e-4 around the start with the gradient at every point;
2. runs plain Adam from the start (the protocol of the issue: `nm.Positive`,
   `optax.adam(0.1)`, 20 steps) and prints the `nm.RuggedLossWarning` if `fit`
   raises one (when, at the scale of its steps, the loss moved against the
   gradients at both ends of several steps; here the misleading stretch near the
   start is wider than a step: Adam's loss first rises for three steps, then it
   turns back and ends at k = 0.078, without the warning);
3. runs the hybrid: a CMA-ES global phase (`strategy=nm.CMAES(...)`), then Adam
   from its two best candidates, in one `nm.fit` call;

and plots them (docs/images/fit_rugged_jansen_rit.png). The hybrid ends at
k = 0.0995. About ten minutes on a quiet 2-core CPU (19 on a loaded one, most of
it the value-and-gradient of 20 Adam steps); `NEUROMASS_QUICK=1` runs a
12-region, 300 ms version in a couple of minutes (as in the test suite).

    python examples/fit_rugged_jansen_rit.py [OUT_DIR]
"""

import os
import sys
import time
import warnings
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import optax

import neuromass as nm


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"
N = 12 if QUICK else 76  # regions
T1 = 300.0 if QUICK else 2000.0  # ms
K_TRUE, K_START = 0.1, 0.03
KEY = jax.random.key(0)  # the one noise realisation of target and fit
BOX = nm.Bounded(0.005, 0.3)  # the search range of the global phase


def build(k: float) -> nm.Network:
    conn = nm.datasets.load_connectome("tvb76")
    w = np.asarray(conn.weights)[:N, :N].copy()
    np.fill_diagonal(w, 0.0)
    return nm.Network(
        nm.models.JansenRit(),
        w / w.max(),
        lengths=np.asarray(conn.lengths)[:N, :N],
        speed=10.0,  # mm/ms
        coupling="sigmoidal_jansen_rit",
        k=k,
        noise=nm.noise.Additive(0.01, variables=("y4",)),
    )


def fc(net: nm.Network):
    sol = nm.simulate(
        net, t1=T1, dt=0.1, save_every=1.0, key=KEY, variables=("y1", "y2")
    )
    return nm.metrics.fc(sol["y1"] - sol["y2"])  # the pyramidal potential


def main(out_dir: str | None = None):
    target = eqx.filter_jit(fc)(build(K_TRUE))

    def loss(net):
        return nm.metrics.fc_mse(fc(net), target)

    # 1. look before descending
    t0 = time.perf_counter()
    coarse = nm.landscape(
        loss, build(K_TRUE), {"k": nm.GridAxis(0.005, 0.3, 8 if QUICK else 24)},
        lanes=8, progress=False,
    )  # fmt: skip
    fine = nm.landscape(
        loss, build(K_TRUE), {"k": nm.GridAxis(K_START, K_START + 4e-4, 5)},
        gradient=True, lanes=1 if QUICK else 2, progress=False,
    )  # fmt: skip
    fd = fine.finite_difference("k")
    agree = np.mean(np.sign(fd) == np.sign(fine.slope["k"]))
    print(f"landscape: {time.perf_counter() - t0:.0f} s; grid minimum at k = "
          f"{coarse.argmin()['k']:.3f}; near the start the gradient's sign agrees "
          f"with the scanned slope at {agree:.0%} of the points")  # fmt: skip

    # 2. plain Adam from the start (as a new user would)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nm.RuggedLossWarning)
        adam, adam_trace = nm.fit(
            build(K_START), loss, params=lambda n: n.k,
            constraints={lambda n: n.k: nm.Positive()},
            optimizer=optax.adam(0.1), steps=3 if QUICK else 20, progress=False,
        )  # fmt: skip
    rugged = [w for w in caught if issubclass(w.category, nm.RuggedLossWarning)]
    if rugged:
        print("RuggedLossWarning:", str(rugged[0].message)[:160], "...")
    k_adam = float(adam.k)
    print(f"plain Adam: k = {k_adam:.4f}, error {abs(k_adam - K_TRUE) / K_TRUE:.0%} "
          f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip

    # 3. the hybrid: CMA-ES in the box, then Adam from its 2 best candidates
    t0 = time.perf_counter()
    hybrid, hybrid_trace = nm.fit(
        build(K_START), loss, params=lambda n: n.k,
        constraints={lambda n: n.k: BOX},
        strategy=nm.CMAES(population_size=8, generations=3 if QUICK else 6),
        optimizer=optax.adam(0.05), steps=2 if QUICK else 5, starts=2, lanes=2,
        progress=False,
    )  # fmt: skip
    k_hybrid = float(hybrid.k)
    print(f"hybrid: k = {k_hybrid:.4f}, error {abs(k_hybrid - K_TRUE) / K_TRUE:.0%} "
          f"({time.perf_counter() - t0:.0f} s, "
          f"{hybrid_trace.global_phase.evaluations} loss evaluations and "
          f"{hybrid_trace.loss.size} gradient steps)")  # fmt: skip
    print(
        f"errors: adam {abs(k_adam - K_TRUE):.4f} hybrid {abs(k_hybrid - K_TRUE):.4f}"
    )

    if out_dir is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(2, 2, figsize=(11, 7), layout="constrained")
        nm.viz.plot_landscape(coarse, axes[0, 0], mark={"k": K_TRUE},
                              title="the landscape (k = 0.1 marked)")  # fmt: skip
        nm.viz.plot_landscape(fine, axes[0, 1],
                              title="near the start, with the gradient")  # fmt: skip
        nm.viz.plot_fit(adam_trace, axes[1, 0], title="plain Adam from k = 0.03")
        nm.viz.plot_fit(hybrid_trace, axes[1, 1], title="hybrid: CMA-ES, then Adam")
        fig.savefig(out / "fit_rugged_jansen_rit.png", dpi=100)
        plt.close(fig)
        print("wrote", out / "fit_rugged_jansen_rit.png")
    return k_adam, k_hybrid


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
