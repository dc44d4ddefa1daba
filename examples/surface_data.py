"""The data of a surface simulation: The Virtual Brain's 16,384-vertex cortex, its
76-region mapping and its local connectivity, drawn on the brain.

Two pictures:

- `surface_regions.png`: the region of every vertex (lateral and medial views of
  both hemispheres);
- `surface_spread.png`: how far the local connectivity reaches: a patch of
  cortex (10 mm around the most lateral point of the left motor cortex), then
  repeated local averaging `x <- x + rate * (L x - x)` (TVB's precomputed L
  averages each vertex's mesh neighbours), which widens the patch by one ring of
  neighbours (about 4 mm) per application; drawn in log10.

Needs tvb-data (`pip install "neuromass[data]"`).

Run headless:  python examples/surface_data.py [OUT_DIR]
(default OUT_DIR: ./out)

With NEUROMASS_QUICK=1 (the test suite), fewer frames are drawn at a lower
resolution.
"""

import os
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np


matplotlib.use("Agg")

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
FRAMES = 4 if QUICK else 8
STEPS_PER_FRAME = 6
RATE = 0.5
SEED_REGION = "lM1"  # left primary motor cortex, on the lateral surface


def spread(L, x0, n_frames, steps_per_frame):
    """Frames of `x <- x + RATE * (L x - x)`, one every `steps_per_frame` steps."""

    @jax.jit
    def advance(x):
        def body(x, _):
            return x + RATE * (L @ x - x), None

        return jax.lax.scan(body, x, None, length=steps_per_frame)[0]

    frames = [x0]
    for _ in range(n_frames - 1):
        frames.append(advance(frames[-1]))
    return np.stack([np.asarray(f) for f in frames])


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cortex = nm.datasets.load_cortex()
    lc = cortex.local_connectivity
    print(
        f"cortex: {cortex.n_vertices} vertices, {cortex.n_triangles} triangles, "
        f"{cortex.n_regions} regions, mean edge {cortex.mean_edge_length:.2f} mm"
    )
    degree = lc.pattern.row_nnz
    print(
        f"local connectivity: {lc.nnz} non-zeros, {degree.min()}-{degree.max()} "
        f"neighbours per vertex, row sums {float(lc.row_sums().min()):.3f}"
    )
    dpi = 50 if QUICK else 80
    fig = nm.viz.plot_surface(cortex, title="regionMapping_16k_76 on cortex_16384")
    fig.savefig(out / "surface_regions.png", dpi=dpi)

    # a patch: the vertices within 10 mm of the most lateral point of the seed
    # region (on a gyral crown, visible from the side; TVB's y axis points left)
    v = np.asarray(cortex.vertices)
    region = np.flatnonzero(
        np.asarray(cortex.region_mapping) == cortex.region_labels.index(SEED_REGION)
    )
    seed = region[np.argmax(v[region, 1])]
    x0 = (np.linalg.norm(v - v[seed], axis=1) < 10.0).astype(np.float32)
    print(
        f"seed: vertex {seed} of {SEED_REGION}, {int(x0.sum())} vertices in the patch"
    )
    frames = spread(lc.matrix(), jnp.asarray(x0), FRAMES, STEPS_PER_FRAME)
    reached = (frames > 1e-3).sum(axis=1)
    print("vertices above 1e-3 per frame:", " ".join(str(int(r)) for r in reached))
    fig = nm.viz.plot_surface_frames(
        cortex,
        np.log10(np.maximum(frames, 1e-6)),
        np.arange(FRAMES) * STEPS_PER_FRAME,
        hemisphere="left",
        ncols=4,
        cmap="YlOrRd",
        vmin=-4.0,
        vmax=0.0,
        colorbar_label="log10 x",
        time_unit="steps",
        title="local averaging x <- x + 0.5 (L x - x) from a 10 mm patch",
    )
    fig.savefig(out / "surface_spread.png", dpi=dpi)
    print(f"wrote {out / 'surface_regions.png'} and {out / 'surface_spread.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
