"""A Jansen-Rit network on the 76-region connectome, observed as EEG through The
Virtual Brain's 63-electrode lead field, and its spectrum with the alpha peak.

The EEG monitor projects the pyramidal potential `y1 - y2` of every region through
the region-level gain matrix (average reference, a little observation noise); the
Welch spectrum of the electrodes peaks in the alpha band (8-13 Hz), the rhythm of
the Jansen-Rit column with Jansen & Rit's firing threshold v0 = 6 mV.

Needs the optional `tvb-data` package (the lead field). Run headless:

    MPLBACKEND=Agg python examples/jansen_rit_eeg.py [OUT_DIR]

`NEUROMASS_QUICK=1` shortens the run (a smoke test).
"""

import os
import sys
from pathlib import Path

import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"


def main(out_dir="."):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome()  # TVB's 76-region connectome
    lead_field = nm.datasets.load_lead_field("eeg", n_regions=conn.n_regions)
    print(f"EEG lead field: {lead_field.gain.shape[0]} electrodes x "
          f"{lead_field.gain.shape[1]} regions ({lead_field.source})")  # fmt: skip

    node = nm.models.JansenRit(v0=6.0)  # Jansen & Rit (1995)'s threshold
    net = nm.Network(
        node,
        conn.weights / conn.weights.max(),
        lengths=conn.lengths,
        speed=10.0,  # mm/ms
        coupling="sigmoidal_jansen_rit",
        k=0.05,
    )
    # regions start at different phases: a small random perturbation of y1
    key_y0, key_noise = jax.random.split(jax.random.key(0))
    y0 = node.initial_state(conn.n_regions)
    y0["y1"] = y0["y1"] + jax.random.uniform(key_y0, (conn.n_regions,), minval=-5.0)

    every = 2.0  # ms: 500 Hz sampling
    eeg = nm.monitors.EEG(
        lead_field, variable="y1 - y2", every=every, noise=1e-3, key=key_noise
    )
    t1, transient = (700.0, 200.0) if QUICK else (5000.0, 1000.0)
    sol = nm.simulate(
        net, t1=t1, dt=0.1, y0=y0, transient=transient, save_every=every,
        monitors=[eeg],
    )  # fmt: skip
    signal = np.asarray(sol["eeg"])  # (samples, electrodes)
    print(f"EEG: {signal.shape[0]} samples x {signal.shape[1]} electrodes")

    nperseg = 128 if QUICK else 1024
    freqs, power = nm.metrics.psd(signal, dt=every, nperseg=nperseg)
    freqs, power = np.asarray(freqs), np.asarray(power).mean(axis=-1)
    band = (freqs >= 2.0) & (freqs <= 40.0)
    peak = freqs[band][np.argmax(power[band])]
    where = "alpha" if 8.0 <= peak <= 13.0 else "outside the alpha band"
    print(f"spectral peak of the mean electrode spectrum: {peak:.1f} Hz ({where})")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    ts = np.asarray(sol.monitors["eeg"].ts)
    for k, i in enumerate(range(0, signal.shape[1], 12)):
        ax1.plot(ts, signal[:, i] + 3.0 * k * signal.std(), lw=0.7,
                 label=lead_field.labels[i])  # fmt: skip
    ax1.set(xlabel="time (ms)", ylabel="EEG (a.u., offset)", title="EEG (avg. ref.)")
    ax1.set_xlim(ts[-1] - min(1000.0, ts[-1] - ts[0]), ts[-1])
    ax1.legend(fontsize=7, loc="upper left")
    ax2.semilogy(freqs[band], power[band])
    ax2.axvspan(8.0, 13.0, color="orange", alpha=0.2, label="alpha band")
    ax2.axvline(peak, color="k", lw=0.8, ls="--", label=f"peak {peak:.1f} Hz")
    ax2.set(xlabel="frequency (Hz)", ylabel="power (mean over electrodes)",
            title="Welch spectrum")  # fmt: skip
    ax2.legend(fontsize=8)
    path = out / "jansen_rit_eeg.png"
    fig.savefig(path, dpi=110)
    print(f"saved {path}")
    return peak


if __name__ == "__main__":
    main(*sys.argv[1:2])
