"""2-D sweep: a heatmap of a Hopf node's peak frequency over (a, omega).

The peak of the power spectrum sits at omega / 2 pi (in kHz, since time is in ms)
wherever the node oscillates (a > 0). Writes `hopf_a_omega.png` and the tidy table
as `hopf_a_omega.csv`.

    python examples/sweeps/hopf_a_omega_heatmap.py [OUT_DIR]    (default OUT_DIR: ./out)
"""

import csv
import os
import sys
from pathlib import Path

import matplotlib
import numpy as np


matplotlib.use("Agg")
import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
N_A, N_OMEGA = (3, 3) if QUICK else (9, 11)
T1 = 700.0 if QUICK else 1200.0  # ms


def peak(node):
    sol = nm.simulate(node, t1=T1, dt=0.2, save_every=1.0, transient=200.0)
    nperseg = int(T1 - 200.0)  # the whole run: 1000 / nperseg Hz resolution
    return {"peak_hz": nm.metrics.peak_frequency(sol["x"], dt=1.0, nperseg=nperseg)[0]}


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    space = nm.Space(
        {"a": nm.GridAxis(-0.1, 0.3, N_A), "omega": nm.GridAxis(0.1, 0.6, N_OMEGA)}
    )
    res = nm.sweep(peak, space, model=nm.models.Hopf(), batch_size=N_A * N_OMEGA // 3)
    table = res.table
    with open(out / "hopf_a_omega.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(table))
        # str() of a NumPy scalar is its shortest repr at its own precision:
        # float32 -0.2 is written "-0.2", not "-0.20000000298023224".
        writer.writerows(zip(*(map(str, np.asarray(c)) for c in table.values())))
    osc = table["a"] > 0.05
    expected = 1000 * table["omega"][osc] / (2 * np.pi)
    print(
        f"peak frequency vs omega/2pi where a > 0: max error "
        f"{np.max(np.abs(table['peak_hz'][osc] - expected)):.2f} Hz "
        f"(spectral resolution {1000 / (T1 - 200):.0f} Hz)"
    )
    ax = nm.viz.heatmap(
        res,
        "peak_hz",
        x="omega",
        y="a",
        xlabel="Hopf omega (rad/ms)",
        ylabel="Hopf a (1/ms)",
        label="spectral peak of x (Hz)",
        title="Peak frequency of one Hopf node",
    )
    ax.figure.savefig(out / "hopf_a_omega.png", dpi=100)
    print(f"wrote {out / 'hopf_a_omega.png'} and {out / 'hopf_a_omega.csv'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
