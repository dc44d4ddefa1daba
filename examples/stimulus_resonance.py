"""The resonance of a delayed Hopf network to a sinusoidal stimulus: a sweep
(`nm.sweep`) over the stimulus frequency, with the response of every region of the
bundled 76-region connectome as a heatmap (frequency x region).

Each node is a damped Hopf oscillator (a < 0: at rest without input) with natural
frequency omega / 2 pi = 1000 * 0.25 / (2 pi) = 39.8 Hz. Three regions get
S(t) = 5e-4 sin(2 pi f t) on dx/dt (`RegionStimulus` with a `Sinusoid`, TVB's
`StimuliRegion`); the sweep sets the stimulus's frequency through its path
`temporal.frequency` (the stimulus is the swept model). The response of a region
is its amplitude at the stimulus frequency, 2 |mean_t x(t) exp(-2 pi i f t)| over
the steady state. The stimulated regions resonate at the natural frequency (a
damped oscillator's gain peaks there), and the regions they project to follow
through the delayed coupling, weaker. The amplitude is small so that the response
stays linear (|z|^2 much below |a|: a larger drive saturates the oscillators and
flattens the resonance).

Run headless:  python examples/stimulus_resonance.py [OUT_DIR]

writes OUT_DIR/stimulus_resonance.png (default OUT_DIR: ./out) and prints the
frequency of the stimulated regions' largest response (theory: the natural
frequency, within the sweep's spacing). NEUROMASS_QUICK=1 sweeps 9 frequencies
over shorter runs.
"""

import os
import sys
from pathlib import Path

import jax.numpy as jnp
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
T1, TRANSIENT = (300.0, 100.0) if QUICK else (1200.0, 400.0)  # ms
FREQUENCIES = (20.0, 60.0, 9 if QUICK else 41)  # Hz: low, high, number
OMEGA = 0.25  # rad/ms: 39.8 Hz
STIMULATED = (10, 48, 60)  # region indices


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome()
    n = conn.n_regions
    net = nm.Network(
        nm.models.Hopf(a=-0.005, omega=OMEGA),
        conn.weights,
        lengths=conn.lengths,
        speed=10.0,
        coupling="diffusive",
        k=0.005,
    )
    weights = jnp.zeros(n).at[jnp.array(STIMULATED)].set(1.0)
    stim = nm.stimuli.RegionStimulus(
        weights, nm.equations.Sinusoid(amp=5e-4, frequency=0.04), variables="x"
    )
    rest = {"x": jnp.zeros(n), "y": jnp.zeros(n)}

    def response(stim):
        sol = nm.simulate(
            net, t1=T1, dt=0.1, save_every=1.0, transient=TRANSIENT, y0=rest,
            stimulus=stim,
        )  # fmt: skip
        f = stim.temporal.frequency  # 1/ms
        phase = jnp.exp(-2j * jnp.pi * f * sol.ts)[:, None]
        return {"amplitude": 2 * jnp.abs(jnp.mean(sol["x"] * phase, axis=0))}

    low, high, count = FREQUENCIES
    space = nm.Space({"temporal.frequency": nm.GridAxis(low / 1e3, high / 1e3, count)})
    res = nm.sweep(response, space, model=stim, progress=False)
    freqs = 1e3 * np.asarray(res.table["temporal.frequency"])  # Hz
    amp = np.asarray(res.outputs["amplitude"])  # (frequencies, regions)
    driven = amp[:, list(STIMULATED)].mean(axis=1)
    natural = 1e3 * OMEGA / (2 * np.pi)
    peak = freqs[np.argmax(driven)]
    spacing = (high - low) / (count - 1)
    print(
        f"{n} regions, stimulated {[conn.labels[i] for i in STIMULATED]}; "
        f"{count} stimulus frequencies from {low:g} to {high:g} Hz"
    )
    print(
        f"resonance of the stimulated regions at {peak:.1f} Hz (natural frequency "
        f"omega / 2 pi = {natural:.1f} Hz, sweep spacing {spacing:g} Hz)"
    )
    # regions ordered by their largest response (the stimulated ones on top)
    order = np.argsort(amp.max(axis=0))
    fig, (ax0, ax1) = plt.subplots(
        1, 2, figsize=(11, 6), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    mesh = ax0.pcolormesh(
        freqs, np.arange(n), np.log10(amp[:, order].T + 1e-12), shading="nearest",
        cmap="magma", vmin=np.log10(amp.max()) - 4,
    )  # fmt: skip
    fig.colorbar(mesh, ax=ax0, label="log10 response amplitude of x")
    ax0.axvline(natural, color="w", ls=":", lw=1)
    names = ", ".join(conn.labels[i] for i in STIMULATED)
    ax0.set_yticks([n - 2])
    ax0.set_yticklabels([f"stimulated\n({names})"], fontsize=7)
    ax0.set_xlabel("stimulus frequency (Hz)")
    ax0.set_ylabel("region (ordered by response)")
    ax0.set_title("Response of every region", fontsize=10)
    ax1.plot(freqs, driven, "C3o-", ms=3, label="stimulated regions (mean)")
    others = np.setdiff1d(np.arange(n), STIMULATED)
    top = others[np.argsort(amp[:, others].max(axis=0))[-5:]]
    for i in top:
        ax1.plot(freqs, amp[:, i], lw=0.8, label=f"{conn.labels[i]} (not stimulated)")
    ax1.axvline(natural, color="k", ls=":", lw=1, label="omega / 2 pi")
    ax1.set_yscale("log")
    ax1.set_xlabel("stimulus frequency (Hz)")
    ax1.set_ylabel("response amplitude of x")
    ax1.set_title("Resonance curves", fontsize=10)
    ax1.legend(fontsize=7, frameon=False)
    fig.suptitle(
        f"Delayed Hopf network (a = -0.005, {natural:.1f} Hz nodes) driven by a "
        "sinusoid on 3 regions",
        fontsize=11,
    )
    fig.tight_layout()
    path = out / "stimulus_resonance.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
