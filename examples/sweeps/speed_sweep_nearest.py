"""Conduction-speed and coupling sweeps of a delayed Hopf network with whole-step
(`"nearest"`) delays and noise: mean functional connectivity against `speed` and
against `k`.

With nearest delays, a linear coupling and Heun, each chunk of a sweep runs as one
loop with the sweep as the trailing axis of the delay history (docs: Delays ->
Performance notes). Sweeping `speed` changes the delays themselves, so the network is
built with `max_delay` (history for the slowest speed) and `min_delay` (block length
for the fastest speed). The slowest point is recomputed by a plain `simulate` of a
network built at that speed, with the key the sweep gave it. Writes
OUT_DIR/speed_mean_fc.png (default OUT_DIR: ./out).

    python examples/sweeps/speed_sweep_nearest.py [OUT_DIR]
"""

import os
import sys
import time
from pathlib import Path

import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
T1 = 150.0 if QUICK else 600.0  # ms
N_SPEED, N_K = (3, 3) if QUICK else (8, 16)
SWEPT = ("speed",) if QUICK else ("speed", "k")  # quick: the speed sweep only
N_REGIONS = 10 if QUICK else None  # None: all 76


def main(out_dir="out"):
    conn = nm.datasets.load_connectome()
    n = N_REGIONS or conn.n_regions
    weights, all_lengths = conn.weights[:n, :n], conn.lengths[:n, :n]
    speeds = (2.0, 20.0)  # mm/ms
    lengths = np.asarray(all_lengths)[np.asarray(weights) != 0]
    net = nm.Network(
        nm.models.Hopf(a=-0.02, omega=0.3),  # noisy fluctuations near the bifurcation
        weights,
        lengths=all_lengths,
        speed=10.0,
        coupling="diffusive",
        k=0.3,
        noise=nm.noise.Additive(0.02),
        max_delay=float(lengths.max()) / speeds[0],
        min_delay=float(lengths[lengths > 0].min()) / speeds[1],
    )

    def mean_fc(net, key):
        sol = nm.simulate(
            net,
            key=key,
            t1=T1,
            dt=0.1,
            save_every=1.0,  # a multiple of the block: blocked reads apply
            transient=T1 / 6,
            interpolation="nearest",
        )
        return {"mean_fc": nm.metrics.upper_triangle(nm.metrics.fc(sol["x"])).mean()}

    for name, axis in [
        ("speed", nm.GridAxis(*speeds, N_SPEED)),
        ("k", nm.GridAxis(0.0, 0.8, N_K)),
    ]:
        if name not in SWEPT:
            continue
        start = time.perf_counter()
        res = nm.sweep(
            mean_fc,
            nm.Space({name: axis}),
            model=net,
            batch_size=16,
            key=jax.random.key(0),
        )
        took = time.perf_counter() - start
        print(f"{name} sweep: {len(res.table[name])} points in {took:.1f} s")
        for x, fc in zip(res.table[name], res.table["mean_fc"]):
            print(f"  {name} = {x:6.3f}: mean FC {fc:.3f}")
        if name == "speed":  # the slowest point, from a network built at its speed
            fresh = nm.Network(
                net.node, weights, lengths=all_lengths, speed=speeds[0],
                coupling="diffusive", k=0.3, noise=net.noise,
            )  # fmt: skip
            alone = mean_fc(fresh, jax.random.fold_in(jax.random.key(0), 0))
            print(f"  speed = {speeds[0]:6.3f} built and simulated alone: mean FC "
                  f"{float(alone['mean_fc']):.6f} (in the sweep "
                  f"{float(res.table['mean_fc'][0]):.6f})")  # fmt: skip
        if name == "speed":
            ax = nm.viz.line(
                res,
                "mean_fc",
                x="speed",
                xlabel="conduction speed (mm/ms = m/s)",
                ylabel="mean FC of x (Pearson r)",
                title=f"Noisy delayed Hopf network, {n} regions, k = 0.3",
            )
            path = Path(out_dir) / "speed_mean_fc.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            ax.figure.savefig(path, dpi=100)
            print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
