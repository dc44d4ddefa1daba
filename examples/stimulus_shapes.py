"""The shapes of the stimulus equations (`neuromass.equations`): every temporal
equation over time (ms) and every spatial one over distance (mm), as The Virtual
Brain defines them, plus a stimulus built from recorded samples
(`neuromass.stimuli.TimeSeriesStimulus`).

Each panel says the parameters it uses; "TVB defaults" means the equation's
defaults, which are The Virtual Brain's.

Two shapes are checked against their closed forms: the Gaussian is its amplitude
exp(-1/2) one sigma from its midpoint, and the recorded samples are interpolated
linearly and held outside.

Run headless:  python examples/stimulus_shapes.py [OUT_DIR]
(writes OUT_DIR/stimulus_shapes.png; default OUT_DIR: ./out)
"""

import sys
from pathlib import Path

import jax.numpy as jnp
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


E = nm.equations


def _panel(ax, x, curves, title, xlabel, top=None):
    for eq, label, style in curves:
        ax.plot(x, np.asarray(eq(jnp.asarray(x))), style, lw=1.4, label=label)
    ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(labelsize=7)
    if top is not None:  # room above the curves for the legend
        ax.set_ylim(top=top)
    if any(label for _, label, _ in curves):
        if top is not None:
            ax.legend(fontsize=6.5, loc="upper center", ncol=2, frameon=False)
        else:
            ax.legend(fontsize=6.5, loc="best", frameon=False)


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = np.linspace(0.0, 250.0, 2501)  # ms
    ms = "time (ms)"
    fig, axes = plt.subplots(3, 4, figsize=(12, 7.2))
    ax = axes.ravel()
    _panel(
        ax[0],
        t,
        [
            (E.PulseTrain(), "exact (TVB)", "C0-"),
            (E.PulseTrain(sharpness=0.5), "sharpness = 0.5 / ms", "C1--"),
        ],
        "PulseTrain (TVB defaults:\nonset 30, T 42, tau 13 ms)",
        ms,
        top=1.35,
    )
    _panel(
        ax[1],
        t,
        [(E.Sinusoid(), "Sinusoid", "C0-"), (E.Cosine(), "Cosine", "C1--")],
        "Sinusoid, Cosine (TVB defaults:\nfrequency 0.01 / ms = 10 Hz)",
        ms,
        top=1.6,
    )
    _panel(
        ax[2],
        t,
        [
            (E.Alpha(onset=20.0, alpha=0.05, beta=0.2), "alpha 0.05, beta 0.2", "C0-"),
            (
                E.Alpha(onset=20.0, alpha=0.02, beta=0.05),
                "alpha 0.02, beta 0.05",
                "C1-",
            ),
        ],
        "Alpha (onset 20 ms; rates in 1/ms)",
        ms,
    )
    _panel(
        ax[3],
        np.linspace(0.0, 2.0, 2001),
        [(E.Alpha(), "", "C0-")],
        "Alpha (TVB defaults: onset 0.5 ms,\nalpha 13, beta 42 / ms)",
        ms,
    )
    _panel(
        ax[4],
        t,
        [(E.Gaussian(midpoint=100.0, sigma=20.0), "", "C0-")],
        "Gaussian (midpoint 100, sigma 20 ms)",
        ms,
    )
    _panel(
        ax[5],
        t,
        [(E.DoubleGaussian(midpoint_1=100.0, midpoint_2=100.0), "", "C0-")],
        "DoubleGaussian (TVB defaults,\nmidpoints moved to 100 ms)",
        ms,
    )
    _panel(
        ax[6],
        t,
        [
            (E.GeneralizedSigmoid(midpoint=100.0, sigma=20.0), "sigma 20 ms", "C0-"),
            (E.GeneralizedSigmoid(midpoint=100.0, sigma=2.0), "sigma 2 ms", "C1--"),
        ],
        "GeneralizedSigmoid (low 0, high 1,\nmidpoint 100 ms)",
        ms,
    )
    _panel(
        ax[7],
        t,
        [(E.Linear(a=0.004, b=-0.5), "", "C0-")],
        "Linear (a 0.004 / ms, b -0.5)",
        ms,
    )
    d = np.linspace(0.0, 60.0, 1201)  # mm
    mm = "distance from the focus (mm)"
    _panel(
        ax[8],
        d,
        [
            (E.Gaussian(sigma=10.0), "sigma 10 mm", "C0-"),
            (E.Gaussian(), "TVB defaults (sigma 1 mm)", "C1--"),
        ],
        "Gaussian over distance",
        mm,
    )
    _panel(
        ax[9],
        d,
        [
            (E.DoubleGaussian(), "TVB defaults", "C0-"),
            (
                E.DoubleGaussian(amp_1=1.0, sigma_1=8.0, amp_2=0.5, sigma_2=20.0),
                "centre on, surround off",
                "C1--",
            ),
        ],
        "DoubleGaussian (Mexican hat)",
        mm,
    )
    _panel(
        ax[10],
        d,
        [
            (E.Sigmoid(radius=20.0, sigma=3.0), "radius 20, sigma 3 mm", "C0-"),
            (E.Sigmoid(), "TVB defaults (radius 5, sigma 1)", "C1--"),
        ],
        "Sigmoid over distance",
        mm,
    )
    # A stimulus from samples: linear interpolation between them, held outside.
    times = np.array([20.0, 60.0, 80.0, 130.0, 170.0, 220.0])
    samples = np.array([[0.0], [1.0], [0.2], [0.8], [-0.4], [0.0]])
    series = nm.stimuli.TimeSeriesStimulus(times, samples)
    ax[11].plot(t, np.asarray(series.values(jnp.asarray(t)))[:, 0], "C0-", lw=1.4)
    ax[11].plot(times, samples[:, 0], "C3o", ms=4, label="samples")
    ax[11].axhline(0.0, color="0.8", lw=0.6, zorder=0)
    ax[11].set_title("TimeSeriesStimulus (one region)", fontsize=9)
    ax[11].set_xlabel(ms, fontsize=8)
    ax[11].tick_params(labelsize=7)
    ax[11].legend(fontsize=6.5, frameon=False)
    # closed forms: exp(-1/2) one sigma from the midpoint; linear interpolation
    # between samples (40 ms: halfway from 0 to 1; 70 ms: halfway from 1 to 0.2),
    # the last sample held after the last time
    g = float(E.Gaussian(midpoint=100.0, sigma=20.0)(jnp.asarray(120.0)))
    held = np.asarray(series.values(jnp.asarray([40.0, 70.0, 250.0])))[:, 0]
    print(f"Gaussian one sigma from its midpoint: {g:.6f} (exp(-1/2) = "
          f"{np.exp(-0.5):.6f})")  # fmt: skip
    print(f"TimeSeriesStimulus at 40, 70, 250 ms: {held[0]:.6f} {held[1]:.6f} "
          f"{held[2]:.6f} (by hand: 0.5 0.6 0.0)")  # fmt: skip
    fig.tight_layout()
    path = out / "stimulus_shapes.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
