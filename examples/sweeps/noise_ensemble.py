"""A noise ensemble: 32 realisations of a noisy, delayed network from one key,
through `eqx.filter_vmap`; outputs are `(ensemble, time, regions)`. Reports how much
the FC varies across realisations and writes `ensemble_fc.png` (mean and standard
deviation of the FC across the ensemble; default OUT_DIR: ./out). One member is
recomputed by a plain `simulate` with its key.

    python examples/sweeps/noise_ensemble.py [OUT_DIR]
"""

import os
import sys
from pathlib import Path

import equinox as eqx
import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
N_REALISATIONS = 4 if QUICK else 32
T1 = 200.0 if QUICK else 600.0  # ms
N_REGIONS = 10 if QUICK else None  # None: all 76


def main(out_dir="out"):
    conn = nm.datasets.load_connectome()
    n = N_REGIONS or conn.n_regions
    net = nm.Network(
        nm.models.Hopf(a=-0.02, omega=0.3),
        conn.weights[:n, :n],
        lengths=conn.lengths[:n, :n],
        speed=10.0,
        coupling="diffusive",
        k=0.2,
        noise=nm.noise.Additive(0.02),
    )
    keys = jax.random.split(jax.random.key(0), N_REALISATIONS)

    def one(key):
        sol = nm.simulate(net, t1=T1, dt=0.1, save_every=1.0, transient=T1 / 6, key=key)
        return sol["x"], nm.metrics.fc(sol["x"])

    realisation = eqx.filter_jit(eqx.filter_vmap(one))
    print(f"simulating {N_REALISATIONS} realisations (compiling)...", flush=True)
    x, fcs = realisation(keys)
    print(f"trajectories {x.shape} (ensemble, time, regions)")
    last, _ = one(keys[-1])  # the last member alone
    diff = float(np.abs(np.asarray(last) - np.asarray(x[-1])).max())
    print(f"member {N_REALISATIONS - 1} simulated alone: max difference {diff:.1e} "
          f"(x up to {float(np.abs(np.asarray(x)).max()):.2f})")  # fmt: skip
    fcs = np.asarray(fcs)
    iu = np.triu_indices(n, 1)
    print(
        f"mean FC {fcs[:, iu[0], iu[1]].mean():.3f}, its standard deviation "
        f"across realisations {fcs[:, iu[0], iu[1]].mean(axis=1).std():.3f}"
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, m, what in ((axes[0], fcs.mean(0), "mean"), (axes[1], fcs.std(0), "std")):
        nm.viz.plot_matrix(
            m,
            ax=ax,
            title=f"FC of x, ensemble {what} ({N_REALISATIONS} noise keys)",
            colorbar_label=f"{what} of Pearson r",
            xlabel="region",
            ylabel="region",
        )
    path = Path(out_dir) / "ensemble_fc.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
