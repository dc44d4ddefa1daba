"""A noise ensemble: 32 realisations of a noisy, delayed network from one key,
through `eqx.filter_vmap`; outputs are `(ensemble, time, regions)`. Reports how much
the FC varies across realisations and writes `ensemble_fc.png` (mean and standard
deviation of the FC across the ensemble).

    MPLBACKEND=Agg python examples/sweeps/noise_ensemble.py [OUT_DIR]
"""

import sys
from pathlib import Path

import equinox as eqx
import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


def main(out_dir="."):
    conn = nm.datasets.load_connectome()
    net = nm.Network(
        nm.models.Hopf(a=-0.02, omega=0.3),
        conn.weights,
        lengths=conn.lengths,
        speed=10.0,
        coupling="diffusive",
        k=0.2,
        noise=nm.noise.Additive(0.02),
    )
    keys = jax.random.split(jax.random.key(0), 32)

    @eqx.filter_jit
    @eqx.filter_vmap
    def realisation(key):
        sol = nm.simulate(
            net, t1=600.0, dt=0.1, save_every=1.0, transient=100.0, key=key
        )
        return sol["x"], nm.metrics.fc(sol["x"])

    x, fcs = realisation(keys)
    print(f"trajectories {x.shape} (ensemble, time, regions)")
    fcs = np.asarray(fcs)
    iu = np.triu_indices(conn.n_regions, 1)
    print(
        f"mean FC {fcs[:, iu[0], iu[1]].mean():.3f}, its standard deviation "
        f"across realisations {fcs[:, iu[0], iu[1]].mean(axis=1).std():.3f}"
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    nm.viz.plot_matrix(fcs.mean(0), ax=axes[0], title="FC, ensemble mean")
    nm.viz.plot_matrix(fcs.std(0), ax=axes[1], title="FC, ensemble std")
    fig.tight_layout()
    path = Path(out_dir) / "ensemble_fc.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
