"""A surface simulation: activity spreading from a stimulated patch of cortex.

Generic2dOscillator on every vertex of The Virtual Brain's 16,384-vertex cortex,
coupled locally through its precomputed local connectivity and at long range
through the 76-region connectome (delays at 10 mm/ms). A `SurfaceStimulus` (a
Gaussian of the geodesic distance, 6 mm wide, around a vertex of the left motor
cortex) pushes the patch with one 5 ms pulse; the picture shows `V` on the left
hemisphere every few ms: the patch, then its spread through the local coupling and,
through the region-level coupling, its echo in the connected regions.

Writes `surface_activity.png` and prints the number of vertices above threshold at
each frame. Needs tvb-data and tvb-gdist (`pip install "neuromass[data,surface]"`).

Run headless:  python examples/surface_simulation.py [OUT_DIR]
(default OUT_DIR: ./out)

With NEUROMASS_QUICK=1 (the test suite) the run is shorter.
"""

import os
import sys
from pathlib import Path

import matplotlib
import numpy as np


matplotlib.use("Agg")

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
T1 = 12.0 if QUICK else 60.0  # ms
FRAME = 3.0 if QUICK else 6.0  # ms between pictures
DT = 2.0**-4  # ms, as TVB's surface demos
SEED_REGION = "lM1"


def resting_state(node):
    """The node's fixed point (V*, W*): W = (a + b V + c V^2) / beta and
    alpha W - f V^3 + e V^2 + g V + gamma I = 0 (the real root of the cubic)."""
    p = {k: float(x) for k, x in node.parameters().items()}
    a, b, c, beta = p["a"], p["b"], p["c"], p["beta"]
    roots = np.roots(
        [
            -p["f"],
            p["e"] + p["alpha"] * c / beta,
            p["g"] + p["alpha"] * b / beta,
            p["alpha"] * a / beta + p["gamma"] * p["I"],
        ]
    )
    V = float(roots[np.abs(roots.imag) < 1e-9].real.min())
    return {"V": V, "W": (a + b * V + c * V * V) / beta}


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cortex = nm.datasets.load_cortex()
    conn = nm.datasets.load_connectome("tvb76")
    w = np.asarray(conn.weights, float)
    np.fill_diagonal(w, 0.0)
    net = nm.SurfaceNetwork(
        nm.models.Generic2dOscillator(),
        cortex,
        w / w.max(),
        lengths=conn.lengths,
        speed=10.0,
        coupling=nm.coupling.Linear(a=0.05),
        local_strength=5.0,
    )
    v = np.asarray(cortex.vertices)
    region = np.flatnonzero(
        np.asarray(cortex.region_mapping) == cortex.region_labels.index(SEED_REGION)
    )
    focus = int(region[np.argmax(v[region, 1])])  # on the lateral surface
    stim = nm.stimuli.SurfaceStimulus(
        cortex,
        focus,
        nm.equations.Gaussian(amp=1.0, sigma=6.0),
        nm.equations.PulseTrain(onset=0.5, T=1000.0, tau=5.0, amp=3.0),
        variables="V",
    )
    # the resting state with the local coupling: settle from the lone node's
    rest = nm.simulate(net, t1=50.0, dt=DT, save_every=50.0, y0=resting_state(net.node))
    rest = rest.y_final
    sol = nm.simulate(
        net, t1=T1, dt=DT, save_every=FRAME, y0=rest, stimulus=stim, variables="V"
    )
    V = np.asarray(sol["V"])
    excess = V - np.asarray(rest["V"])
    active = (excess > 0.5).sum(axis=1)
    print(f"{net.n_nodes} nodes, stimulated around vertex {focus} of {SEED_REGION}")
    print("vertices more than 0.5 above rest per frame:", " ".join(map(str, active)))
    fig = nm.viz.plot_surface_frames(
        cortex,
        excess,
        np.asarray(sol.ts),
        hemisphere="left",
        ncols=min(len(excess), 5),
        cmap="magma",
        vmin=0.0,
        vmax=float(np.percentile(excess, 99.9)),
        colorbar_label="V - V at rest",
        title="Generic2dOscillator on cortex_16384: a 5 ms pulse on the left M1",
    )
    fig.savefig(out / "surface_activity.png", dpi=50 if QUICK else 60)
    print(f"wrote {out / 'surface_activity.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
