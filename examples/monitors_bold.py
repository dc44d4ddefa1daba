"""Monitors in one run: the neural activity averaged over 10 ms windows and the BOLD
signal it drives (Balloon-Windkessel, one sample per TR), for three regions of a
noisy, delayed Hopf network on the bundled connectome.

The BOLD signal is the neural activity seen through the slow hemodynamics: it
lags by seconds and keeps only the slow fluctuations of the activity.

The 10 ms averages are checked against the means of the saved 1 ms samples of the
same run.

Run headless:  python examples/monitors_bold.py [OUT_DIR]
(writes OUT_DIR/monitors_bold.png; default OUT_DIR: ./out)

With NEUROMASS_QUICK=1 (the test suite), the run is 10 times shorter.
"""

import os
import sys
from pathlib import Path

import diffrax
import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
T1 = 6000.0 if QUICK else 60000.0  # ms
TR = 500.0  # ms
TRANSIENT = 4000.0  # ms: the hemodynamics settle


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome()
    net = nm.Network(
        # 0.05 rad/ms: 8 Hz oscillations below the bifurcation, driven by noise
        nm.models.Hopf(a=-0.02, omega=0.05),
        conn.weights,
        lengths=conn.lengths,
        speed=3.0,
        coupling="diffusive",
        k=0.02,
        noise=nm.noise.Additive(0.02),
    )
    print(
        f"compiling and simulating {T1 / 1000:g} s of a {conn.n_regions}-region "
        "network with a temporal-average and a BOLD monitor...",
        flush=True,
    )
    sol = nm.simulate(
        net,
        t1=T1,
        dt=1.0,  # Euler: 0.05 rad per step at 8 Hz
        solver=diffrax.Euler(),
        save_every=1.0,  # every step: the reference of the 10 ms averages
        transient=TRANSIENT,
        key=jax.random.key(0),
        variables="x",
        monitors=[
            nm.monitors.TemporalAverage(10.0, variables="x"),
            nm.monitors.Bold("x", tr=TR),
        ],
    )
    tavg, bold = sol.monitors["tavg"], sol.monitors["bold"]
    print(
        f"temporal average {tavg.data['x'].shape} every 10 ms, "
        f"BOLD {bold.data.shape} every {TR:g} ms"
    )
    # each 10 ms average is the mean of the steps of its window, (t - 10, t]
    ts, x = np.asarray(sol.ts), np.asarray(sol["x"])
    windows = [(ts > t - 10.0 - 1e-6) & (ts <= t + 1e-6) for t in np.asarray(tavg.ts)]
    means = np.stack([x[w].mean(axis=0) for w in windows])
    diff = np.abs(means - np.asarray(tavg.data["x"])).max()
    print(f"10 ms averages against the means of the saved 1 ms samples: max "
          f"difference {diff:.1e} (x up to {np.abs(x).max():.2f})")  # fmt: skip
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    t_avg = np.asarray(tavg.ts) / 1000.0
    t_bold = np.asarray(bold.ts) / 1000.0
    x_avg = np.asarray(tavg.data["x"])
    window = np.ones(100) / 100  # 100 samples of 10 ms: a 1 s running mean
    for c, j in enumerate((0, 25, 50)):
        color = f"C{c}"
        ax1.plot(t_avg, x_avg[:, j], lw=0.3, alpha=0.25, color=color)
        slow = np.convolve(x_avg[:, j], window, mode="same")
        ax1.plot(t_avg, 5 * slow, lw=1.2, color=color, label=conn.labels[j])
        ax2.plot(t_bold, np.asarray(bold.data)[:, j], marker=".", lw=1.0, color=color)
    ax1.set(
        ylabel="x",
        title="Neural activity of three regions: 10 ms averages (faint) and "
        "1 s running means (x 5)",
    )
    ax1.legend(fontsize="small", loc="upper right")
    ax2.set(
        xlabel="time (s)",
        ylabel="BOLD (fraction)",
        title=f"Its BOLD signal, one sample per TR = {TR:g} ms",
    )
    fig.tight_layout()
    path = out / "monitors_bold.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
