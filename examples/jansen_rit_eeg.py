"""A Jansen-Rit network on The Virtual Brain's 76-region connectome, observed as EEG
through TVB's 63-electrode lead field for that same parcellation, and its spectrum
with the alpha peak.

The connectome is TVB's (`load_connectome("tvb76")`, from tvb-data), not the
bundled synthetic `edr_76`: a lead field only means something for the regions it
was computed for, and `EEG(lead_field).bind(net)` refuses a network whose region
labels differ from the lead field's (`Network.from_connectome` keeps them).

The EEG monitor projects the model's observable, the pyramidal membrane potential
y1 - y2 (mV), through the region-level gain (average reference, a little
observation noise). Units: tvb-data's gain summed over the vertices of each region
(of order 1e3 per region) times y1 - y2 in mV gives samples of order 1e4-1e5:
arbitrary units, as the printed amplitude shows. The Welch spectrum of the
electrodes peaks in the alpha band with Jansen & Rit's (1995) firing threshold
v0 = 6 mV; TVB's default v0 = 5.52 mV puts the column in another regime (the
script prints both peaks).

Needs the optional `tvb-data` package. Run headless:

    python examples/jansen_rit_eeg.py [OUT_DIR]

writes OUT_DIR/jansen_rit_eeg.png (default OUT_DIR: ./out). `NEUROMASS_QUICK=1`
shortens the run (a smoke test).
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


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run


def eeg_spectrum(v0: float, lead_field, conn, key):
    """Simulate the network with threshold `v0` (mV); the EEG and its mean Welch
    spectrum over electrodes."""
    node = nm.models.JansenRit(v0=v0)
    net = nm.Network.from_connectome(
        node,
        conn.normalised("max"),
        speed=10.0,  # mm/ms
        coupling="sigmoidal_jansen_rit",
        k=0.05,
    )
    # regions start at different phases: a small random perturbation of y1
    key_y0, key_noise = jax.random.split(key)
    y0 = node.initial_state(conn.n_regions)
    y0["y1"] = y0["y1"] + jax.random.uniform(key_y0, (conn.n_regions,), minval=-5.0)
    every = 2.0  # ms: 500 Hz sampling
    # bind: checks the lead field's parcellation against the network's labels and
    # fills in the model's observable, y1 - y2
    eeg = nm.monitors.EEG(lead_field, every=every, noise=1.0, key=key_noise).bind(net)
    t1, transient = (700.0, 200.0) if QUICK else (6000.0, 1000.0)
    sol = nm.simulate(
        net, t1=t1, dt=0.1, y0=y0, transient=transient, save_every=every,
        monitors=[eeg],
    )  # fmt: skip
    signal = np.asarray(sol["eeg"])  # (samples, electrodes)
    nperseg = 128 if QUICK else 1024
    freqs, power = nm.metrics.psd(signal, dt=every, nperseg=nperseg)
    freqs, power = np.asarray(freqs), np.asarray(power).mean(axis=-1)
    band = (freqs >= 2.0) & (freqs <= 40.0)
    peak = freqs[band][np.argmax(power[band])]
    return np.asarray(sol.monitors["eeg"].ts), signal, freqs[band], power[band], peak


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome("tvb76")  # TVB's connectome, from tvb-data
    lead_field = nm.datasets.load_lead_field("eeg", n_regions=conn.n_regions)
    print(f"connectome: {conn.name} ({conn.n_regions} regions, {conn.source})")
    print(f"EEG lead field: {lead_field.gain.shape[0]} electrodes x "
          f"{lead_field.gain.shape[1]} regions of the parcellation "
          f"{lead_field.parcellation} ({lead_field.source})")  # fmt: skip

    results = {}
    for v0 in (6.0, 5.52):  # Jansen & Rit (1995)'s threshold, TVB's default
        results[v0] = eeg_spectrum(v0, lead_field, conn, jax.random.key(0))
        peak = results[v0][-1]
        where = "alpha" if 8.0 <= peak <= 13.0 else "outside the alpha band"
        print(f"v0 = {v0} mV: spectral peak of the mean electrode spectrum: "
              f"{peak:.1f} Hz ({where})")  # fmt: skip
    ts, signal, freqs, power, peak = results[6.0]
    print(f"EEG: {signal.shape[0]} samples x {signal.shape[1]} electrodes, "
          f"standard deviation {signal.std():.3g} (a.u.)")  # fmt: skip

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    scale = 3.0 * signal.std()
    for k, i in enumerate(range(0, signal.shape[1], 12)):
        ax1.plot(ts, signal[:, i] + k * scale, lw=0.7, label=lead_field.labels[i])
    ax1.set(xlabel="time (ms)", ylabel="EEG (a.u., offset)",
            title="EEG, v0 = 6 mV (average reference)")  # fmt: skip
    ax1.set_xlim(ts[-1] - min(1000.0, ts[-1] - ts[0]), ts[-1])
    ax1.legend(fontsize=7, loc="upper left")
    for v0, (_, _, f, p, pk) in results.items():
        ax2.semilogy(f, p, label=f"v0 = {v0} mV (peak {pk:.1f} Hz)")
    ax2.axvspan(8.0, 13.0, color="orange", alpha=0.2, label="alpha band")
    ax2.set(xlabel="frequency (Hz)", ylabel="power (a.u.², mean over electrodes)",
            title="Welch spectrum of the EEG")  # fmt: skip
    ax2.legend(fontsize=8)
    path = out / "jansen_rit_eeg.png"
    fig.savefig(path, dpi=110)
    print(f"saved {path}")
    return peak


if __name__ == "__main__":
    main(*sys.argv[1:2])
