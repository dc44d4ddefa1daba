"""1-D sweep: the limit-cycle amplitude of a Hopf node against `a`.

Above the bifurcation (a > 0) the amplitude follows sqrt(a); below it the node decays
to rest. The sweep targets the node's field `a` by path, so no builder function is
needed. Writes `hopf_amplitude.png`.

    python examples/sweeps/hopf_amplitude_vs_a.py [OUT_DIR]    (default OUT_DIR: ./out)
"""

import os
import sys
from pathlib import Path

import jax.numpy as jnp
import matplotlib
import numpy as np


matplotlib.use("Agg")
import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
N_A = 6 if QUICK else 29


def amplitude(node):
    sol = nm.simulate(node, t1=400.0, dt=0.1, save_every=1.0, transient=300.0)
    return {"amplitude": jnp.sqrt(sol["x"] ** 2 + sol["y"] ** 2).mean()}


def main(out_dir="out"):
    space = nm.Space({"a": nm.GridAxis(-0.2, 0.5, N_A)})
    res = nm.sweep(amplitude, space, model=nm.models.Hopf(), batch_size=N_A)
    a = res.params["a"]
    amp = res.outputs["amplitude"]
    above = a > 0.02
    err = np.max(np.abs(amp[above] - np.sqrt(a[above])))
    print(f"max |amplitude - sqrt(a)| above the bifurcation: {err:.2e}")
    ax = nm.viz.line(
        res,
        "amplitude",
        x="a",
        xlabel="Hopf a (1/ms)",
        ylabel="mean amplitude sqrt(x² + y²)",
        title="Limit-cycle amplitude of one Hopf node",
    )
    ax.plot(a[a > 0], np.sqrt(a[a > 0]), "k--", label="sqrt(a)")
    ax.legend()
    path = Path(out_dir) / "hopf_amplitude.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(path, dpi=100)
    print(f"wrote {path}")
    return err


if __name__ == "__main__":
    main(*sys.argv[1:2])
