"""Posterior inference for a delayed Hopf network: NUTS and simulation-based
inference on the same problem, with recovery and calibration checks.

Eight regions of the bundled connectome with Hopf nodes (per-region bifurcation
parameter a_i, fixed frequencies), diffusive coupling k and conduction delays
lengths / speed. The data: the x activity of a deterministic run from a known
initial state, sampled every 2 ms for 120 ms and observed with Gaussian noise
(sigma = 0.05), at known true values (k = 0.3, speed = 6 mm/ms, a_i in
[-0.1, 0.05]). Ten parameters are inferred: k, a (8) and speed.

1. NUTS (NumPyro) on the exact likelihood, gradients through the delayed
   simulation; 4 chains; R-hat and ESS.
2. SBI: 4000 simulations drawn from the prior through `nm.sweep`, summary features
   (FC, spectral peaks, amplitude statistics, the first 10 ms), a flowjax neural
   posterior; then simulation-based calibration on 200 held-out simulations.

Run headless (about 5 minutes on a CPU; `NEUROMASS_QUICK=1` runs a 2-region,
few-draw version in about 40 s of CPU time, almost all of it compiling the NUTS
and flow-training programs):

    python examples/inference_hopf.py [OUT_DIR]

writes the figures `inference-pairs.png`, `inference-recovery.png` and
`inference-sbc.png` to OUT_DIR (default ./out; the docs use `docs/`). It first checks
the data model: the residuals of the data around the true run have the standard
deviation of the observation noise, and the likelihood is higher at the truth than
at the sampler's start.
"""

import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist

import neuromass as nm
import neuromass.inference as nmi


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"
N = 2 if QUICK else 8
T1, DT, SAVE, SIGMA = (20.0 if QUICK else 120.0), 0.5, 2.0, 0.05
SPEED_RANGE = (4.0, 12.0)  # mm/ms, the prior of the conduction speed
TRUTH = {"k": 0.3, "node.a": np.linspace(-0.1, 0.05, N), "speed": 6.0}
NUTS_DRAWS = dict(num_warmup=10, num_samples=10, num_chains=1) if QUICK else {}
N_SIMS, N_SBC = (200, 10) if QUICK else (4000, 200)
FLOW = (
    dict(transformer="affine", flow_layers=1, nn_width=16, max_epochs=3)
    if QUICK
    else dict(max_epochs=200)
)


def build_network() -> nm.Network:
    """The network at the NUTS starting values (not the truth)."""
    conn = nm.datasets.load_connectome()
    lengths = np.asarray(conn.lengths[:N, :N])
    weights = np.asarray(conn.weights[:N, :N])
    connected = lengths[weights > 0]
    return nm.Network(
        nm.models.Hopf(a=jnp.full(N, -0.05), omega=jnp.linspace(0.25, 0.4, N)),
        weights,
        lengths=lengths,
        speed=8.0,
        coupling="diffusive",
        k=0.25,
        coupled_vars=("x", "y"),
        # sampled speeds change the delays inside jit/grad: declare their bounds
        max_delay=float(connected.max() / SPEED_RANGE[0]),
        min_delay=float(connected.min() / SPEED_RANGE[1]),
    )


PRIORS = {
    "k": dist.LogNormal(np.log(0.25), 0.5),
    "node.a": dist.Normal(-0.05, 0.1),
    "speed": dist.Uniform(*SPEED_RANGE),
}
Y0 = {
    "x": 0.5 * jnp.cos(jnp.arange(N) * 1.3),
    "y": 0.5 * jnp.sin(jnp.arange(N) * 1.3),
}


def observe(net: nm.Network) -> jax.Array:
    """Noise-free x activity, (T1 / SAVE + 1, N)."""
    return nm.simulate(net, t1=T1, dt=DT, save_every=SAVE, y0=Y0)["x"]


def features(x: jax.Array) -> dict[str, jax.Array]:
    """Summary features of an observed series for SBI."""
    out = nmi.summary_features(x, dt=SAVE)
    out["early"] = x[:5].T.reshape(-1)  # the first 10 ms of every region
    return out


def simulator(net: nm.Network, key: jax.Array) -> dict[str, jax.Array]:
    x = observe(net)
    return features(x + SIGMA * jax.random.normal(key, x.shape))


def synthetic_data(net: nm.Network) -> jax.Array:
    true_net = nm.apply_point(net, {n: jnp.asarray(v, float) for n, v in TRUTH.items()})
    x = observe(true_net)
    return x + SIGMA * jax.random.normal(jax.random.key(2024), x.shape)


def run_nuts(net, data):
    post = nmi.Posterior(net, PRIORS, nmi.GaussianTimeSeries(data, observe, SIGMA))
    return nmi.nuts(post, jax.random.key(0), progress=not QUICK, **NUTS_DRAWS)


def run_sbi(net, data):
    t0 = time.perf_counter()
    table = nmi.simulate_table(
        simulator,
        net,
        PRIORS,
        N_SIMS + N_SBC,
        key=jax.random.key(1),
        batch_size=250,
        progress=not QUICK,
    )
    t_sim = time.perf_counter() - t0
    train, held_out = table.iloc[:N_SIMS], table.iloc[N_SIMS:]
    t0 = time.perf_counter()
    q = nmi.train_posterior(
        train,
        ["fc", "peak_freq", "mean", "std", "early"],
        key=jax.random.key(3),
        progress=not QUICK,
        **FLOW,
    )
    t_train = time.perf_counter() - t0
    observed = {k: np.asarray(v) for k, v in features(data).items()}
    t0 = time.perf_counter()
    draws = q.sample(jax.random.key(4), observed, 2000)  # compiles the sampler
    t_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    q.sample(jax.random.key(5), observed, 2000)  # as for any further dataset
    t_again = time.perf_counter() - t0
    return (
        q,
        table,
        held_out,
        draws,
        dict(sim=t_sim, train=t_train, sample=t_sample, again=t_again),
    )


def sbc(q, held_out, n_draws=99):
    """Ranks of the held-out true values among amortised posterior draws."""
    draws = q.sample(jax.random.key(5), held_out, n_draws)
    ranks, truths, flat = {}, {}, {}
    for name, cols in q.params:
        t = held_out[list(cols)].to_numpy()
        d = draws[name].reshape(len(held_out), n_draws, -1)
        ranks[name] = nmi.sbc_ranks(t, d)
        truths[name], flat[name] = t, d
    return ranks, truths, flat


def _labels():
    return ["k"] + [f"a[{i}]" for i in range(N)] + ["speed"]


def _stack(samples: dict) -> np.ndarray:
    """(draws, 10) in the order k, a[0..N-1], speed."""
    return np.concatenate(
        [np.reshape(samples[n], (len(samples["k"]), -1)) for n in PRIORS], axis=1
    )


def plot(outdir: Path, nuts_samples, sbi_draws, ranks, n_draws=99):
    import matplotlib.pyplot as plt

    truth = np.concatenate([np.ravel(TRUTH[n]) for n in PRIORS])
    nuts_x = _stack({n: nuts_samples.flat(n) for n in PRIORS})
    sbi_x = _stack(sbi_draws)
    labels = _labels()
    # pair plot of k, a[0], speed
    idx = [0, 1, len(labels) - 1]
    fig, axes = plt.subplots(3, 3, figsize=(6.0, 6.0))
    for r, i in enumerate(idx):
        for c, j in enumerate(idx):
            ax = axes[r, c]
            if c > r:
                ax.axis("off")
                continue
            if r == c:
                lo = min(nuts_x[:, i].min(), sbi_x[:, i].min())
                hi = max(nuts_x[:, i].max(), sbi_x[:, i].max())
                bins = np.linspace(lo, hi, 40)
                ax.hist(
                    sbi_x[:, i], bins, density=True, alpha=0.5, color="C0", label="SBI"
                )
                ax.hist(
                    nuts_x[:, i],
                    bins,
                    density=True,
                    alpha=0.6,
                    color="C1",
                    label="NUTS",
                )
                ax.axvline(truth[i], color="k", lw=1)
            else:
                ax.plot(sbi_x[:, j], sbi_x[:, i], ".", ms=1, alpha=0.3, color="C0")
                ax.plot(nuts_x[:, j], nuts_x[:, i], ".", ms=1, alpha=0.3, color="C1")
                ax.plot(truth[j], truth[i], "k+", ms=10)
            if r == 2:
                ax.set_xlabel(labels[j])
            if c == 0 and r > 0:
                ax.set_ylabel(labels[i])
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Posterior (true value in black)", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "inference-pairs.png", dpi=80)
    plt.close(fig)
    # recovery: 90% intervals vs truth
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    pos = np.arange(len(labels))
    scale = np.concatenate(
        [
            np.ravel(np.broadcast_to(np.sqrt(PRIORS[n].variance), np.shape(TRUTH[n])))
            for n in PRIORS
        ]
    )
    for off, x, name, color in (
        (-0.15, nuts_x, "NUTS", "C1"),
        (0.15, sbi_x, "SBI", "C0"),
    ):
        lo, mid, hi = np.quantile(x, [0.05, 0.5, 0.95], axis=0)
        ax.errorbar(
            pos + off,
            (mid - truth) / scale,
            yerr=[(mid - lo) / scale, (hi - mid) / scale],
            fmt="o",
            ms=3,
            color=color,
            label=name,
        )
    ax.axhline(0.0, color="k", lw=1)
    ax.set_xticks(pos, labels, fontsize=7)
    ax.set_ylabel("(posterior - truth) / prior sd", fontsize=8)
    ax.set_title("Median and 90% interval of each parameter", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(outdir / "inference-recovery.png", dpi=80)
    plt.close(fig)
    # SBC rank histograms
    r = np.concatenate([ranks[n].reshape(ranks[n].shape[0], -1) for n in PRIORS], 1)
    fig, axes = plt.subplots(2, (len(labels) + 1) // 2, figsize=(8.0, 3.2), sharey=True)
    expected = r.shape[0] / 10
    for i, ax in enumerate(axes.flat):
        if i >= len(labels):
            ax.axis("off")
            continue
        ax.hist(r[:, i], bins=np.linspace(0, n_draws + 1, 11), color="C0")
        ax.axhline(expected, color="k", lw=1)
        ax.set_title(labels[i], fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle("SBC ranks of the SBI posterior (uniform if calibrated)", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "inference-sbc.png", dpi=80)
    plt.close(fig)


def log_likelihood(net: nm.Network, data: jax.Array) -> float:
    """The Gaussian log-likelihood of the data for a network (the one NUTS uses)."""
    r = (np.asarray(data) - np.asarray(observe(net))) / SIGMA
    return float(-0.5 * (r**2).sum() - r.size * np.log(SIGMA * np.sqrt(2 * np.pi)))


def main(out_dir="out") -> dict:
    net = build_network()
    data = synthetic_data(net)
    truth = np.concatenate([np.ravel(TRUTH[n]) for n in PRIORS])
    true_net = nm.apply_point(net, {n: jnp.asarray(v, float) for n, v in TRUTH.items()})
    residual = np.asarray(data) - np.asarray(observe(true_net))
    print(
        f"data: {residual.size} values, residual standard deviation around the "
        f"true run {residual.std():.4f} (observation noise sigma = {SIGMA})"
    )
    print(f"log-likelihood at the truth {log_likelihood(true_net, data):.1f}, at "
          f"the sampler's start {log_likelihood(net, data):.1f}")  # fmt: skip

    t0 = time.perf_counter()
    s = run_nuts(net, data)
    nuts_seconds = time.perf_counter() - t0
    summary = s.summary()
    summary["truth"] = truth
    inside = (summary["low"] <= truth) & (truth <= summary["high"])
    print(summary.round(3).to_string())
    print(
        f"NUTS: {nuts_seconds:.1f} s, min ESS {summary['ess'].min():.0f}, "
        f"max R-hat {summary['r_hat'].max():.3f}, truth inside the 90% interval for "
        f"{int(inside.sum())}/{len(inside)} parameters"
    )

    q, table, held_out, draws, times = run_sbi(net, data)
    sbi_x = _stack(draws)
    lo, hi = np.quantile(sbi_x, [0.05, 0.95], axis=0)
    sbi_inside = (lo <= truth) & (truth <= hi)
    print(
        f"SBI: {times['sim']:.1f} s simulating {len(table)} runs, "
        f"{times['train']:.1f} s training, {times['sample']:.2f} s for 2000 draws "
        f"({times['again']:.3f} s for the next dataset); "
        f"truth inside the 90% interval for {int(sbi_inside.sum())}/{len(truth)} "
        "parameters"
    )
    ranks, truths, flat = sbc(q, held_out)
    pvals = np.concatenate(
        [np.ravel(nmi.rank_uniformity(ranks[n], 99)) for n in PRIORS]
    )
    cover = np.concatenate([np.ravel(nmi.coverage(truths[n], flat[n])) for n in PRIORS])
    print(
        f"SBC over {len(held_out)} held-out datasets: min p-value {pvals.min():.3g}, "
        f"90% coverage from {cover.min():.2f} to {cover.max():.2f}"
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot(out, s, draws, ranks)
    print(f"wrote the figures to {out}")
    return dict(
        nuts=s,
        nuts_seconds=nuts_seconds,
        nuts_inside=inside.to_numpy(),
        sbi=q,
        sbi_draws=draws,
        sbi_times=times,
        sbi_inside=sbi_inside,
        sbc_pvalues=pvals,
        sbc_coverage=cover,
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
