"""An ensemble of Hopf networks driven by coloured (Ornstein-Uhlenbeck) noise.

Sixteen noise realisations (a `vmap` over keys) of a delayed Hopf network below its
bifurcation, each region driven by an OU process of correlation time 20 ms. Plots the
ensemble of one region's trace, and the power spectrum of the OU processes against
the Lorentzian of theory, S(f) = 2 sigma^2 tau / (1 + (2 pi f tau)^2) (per ms), and
prints their stationary variance against sigma^2. Writes `ou_ensemble.png`.

    python examples/ou_noise_ensemble.py [OUT_DIR]    (default OUT_DIR: ./out)

With NEUROMASS_QUICK=1 (the test suite), the runs are shorter and the network small.
"""

import os
import sys
from pathlib import Path

import equinox as eqx
import jax
import matplotlib
import numpy as np


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuromass as nm  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"
T1 = 1000.0 if QUICK else 10000.0  # ms
N_REGIONS = 8 if QUICK else None  # None: all 76
MEMBERS = 16
TAU, SIGMA = 20.0, 0.05  # ms, units of x per ms


def main(out_dir="out"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome()
    n = N_REGIONS or conn.n_regions
    noise = nm.noise.OrnsteinUhlenbeck(TAU, SIGMA, variables=("x",))
    net = nm.Network(
        nm.models.Hopf(a=-0.02, omega=0.06),
        conn.weights[:n, :n],
        lengths=conn.lengths[:n, :n],
        speed=10.0,
        coupling="diffusive",
        k=0.1,
        noise=noise,
    )
    keys = jax.random.split(jax.random.key(0), MEMBERS)

    def member(key):
        sol = nm.simulate(
            net, t1=T1, dt=0.1, save_every=1.0, key=key, variables=("x", "ou_x")
        )
        return sol["x"], sol["ou_x"]

    print(f"compiling and running {MEMBERS} members of {T1:g} ms ({n} regions)...")
    x, eta = eqx.filter_jit(eqx.filter_vmap(member))(keys)
    x, eta = np.asarray(x), np.asarray(eta)
    print(f"OU variance {eta.var():.5f} (theory sigma^2 = {SIGMA**2:.5f})")

    # spectrum of the OU processes (1 ms samples), averaged over members and regions
    seg = 256
    e = eta[:, : (eta.shape[1] // seg) * seg].reshape(MEMBERS, -1, seg, n)
    e = e - e.mean(axis=2, keepdims=True)
    power = (np.abs(np.fft.rfft(e, axis=2)) ** 2).mean(axis=(0, 1, 3)) / seg  # per ms
    f = np.fft.rfftfreq(seg, d=1.0)  # cycles per ms
    theory = 2 * SIGMA**2 * TAU / (1 + (2 * np.pi * f * TAU) ** 2)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    t = np.arange(x.shape[1])
    for i in range(MEMBERS):
        a1.plot(t, x[i, :, 0], lw=0.6, alpha=0.6)
    a1.set(xlabel="time (ms)", ylabel="x, region 0", title=f"{MEMBERS} realisations")
    a2.loglog(f[1:] * 1000, power[1:], label="simulated")
    a2.loglog(f[1:] * 1000, theory[1:], "k--", label="Lorentzian (theory)")
    a2.set(xlabel="frequency (Hz)", ylabel="power of the OU process (per ms)")
    a2.legend()
    fig.tight_layout()
    fig.savefig(out / "ou_ensemble.png", dpi=110)
    print(f"wrote {out / 'ou_ensemble.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
