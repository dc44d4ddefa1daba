"""Posterior effective samples per second: NUMPYRO vs BLACKJAX NUTS, and NUTS vs SBI.

Two measurements, each printing one JSON line per run (`_common.report` style):

- `--samplers`: the same small posterior (3-region delayed Hopf, k, a (3), speed,
  Gaussian likelihood on the x series) sampled by NumPyro's NUTS (the one
  `neuromass.inference.nuts` uses) and BlackJAX's NUTS with window adaptation, both
  with 4 chains vectorised by `vmap`, 300 warm-up + 300 draws. Each is run twice in
  the same process; the second run is reported as `steady` (compilation mostly
  cached), the first as `cold`. ESS is the smallest bulk ESS over the parameters
  (NumPyro's `effective_sample_size`, the same estimator for both).
- `--nuts-vs-sbi`: the worked example (`examples/inference_hopf.py`: 8 regions,
  10 parameters): NUTS (4 chains, 500 + 500) against SBI (4000 simulations through
  `nm.sweep`, a flowjax neural posterior, 2000 independent draws). For SBI, the
  "first dataset" rate counts simulation + training + sampling; the "amortised"
  rate only the sampling of a new dataset's posterior.

Usage (needs the `inference` extra and `blackjax`):

    python benchmarks/inference_bench.py --samplers
    python benchmarks/inference_bench.py --nuts-vs-sbi
"""

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from numpyro.diagnostics import effective_sample_size

import neuromass as nm
import neuromass.inference as nmi


ROOT = Path(__file__).resolve().parents[1]


def report(**fields):
    print(json.dumps(fields), flush=True)


def small_posterior() -> nmi.Posterior:
    rng = np.random.default_rng(3)
    w = rng.uniform(0.3, 1.0, (3, 3))
    lengths = rng.uniform(10.0, 30.0, (3, 3))
    net = nm.Network(
        nm.models.Hopf(a=jnp.full(3, -0.05), omega=jnp.array([0.25, 0.3, 0.35])),
        w,
        lengths=lengths,
        speed=5.0,
        coupling="diffusive",
        k=0.3,
        coupled_vars=("x", "y"),
        max_delay=30.0 / 2.0,
        min_delay=10.0 / 10.0,
    )
    y0 = {"x": jnp.array([0.5, 0.2, -0.3]), "y": jnp.array([0.1, -0.4, 0.3])}

    def observe(n):
        return nm.simulate(n, t1=60.0, dt=0.5, save_every=2.0, y0=y0)["x"]

    truth = nm.apply_point(
        net, {"k": jnp.asarray(0.3), "node.a": jnp.array([-0.1, 0.0, 0.05])}
    )
    data = observe(truth) + 0.05 * jax.random.normal(jax.random.key(4), (31, 3))
    priors = {
        "k": dist.LogNormal(np.log(0.3), 0.5),
        "node.a": dist.Normal(-0.05, 0.1),
        "speed": dist.Uniform(2.0, 10.0),
    }
    return nmi.Posterior(net, priors, nmi.GaussianTimeSeries(data, observe, 0.05))


def min_ess(u: dict) -> float:
    """Smallest ESS over the elements of `{name: (chains, draws, ...)}`."""
    return float(
        min(
            np.min(effective_sample_size(np.asarray(v, dtype=np.float64)))
            for v in u.values()
        )
    )


def run_numpyro(post, key, warmup, draws, chains):
    s = nmi.nuts(
        post,
        key,
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        progress=False,
    )
    steps = float(s.stats["num_steps"].mean())
    return s.seconds, min_ess(s.samples), steps


def run_blackjax(post, key, warmup, draws, chains):
    import blackjax

    centre = post.unconstrain(post.initial_values())
    k_init, k_run = jax.random.split(key)
    keys = jax.random.split(k_init, len(post.names))
    u0 = {
        n: centre[n] + 0.1 * jax.random.normal(kk, (chains,) + centre[n].shape)
        for kk, n in zip(keys, post.names)
    }

    @jax.jit
    def run(keys, u0):
        def one(key, u0):
            k1, k2 = jax.random.split(key)
            adapt = blackjax.window_adaptation(blackjax.nuts, post.log_density)
            (state, params), _ = adapt.run(k1, u0, num_steps=warmup)
            kernel = blackjax.nuts(post.log_density, **params)

            def step(st, k):
                st, info = kernel.step(k, st)
                return st, (st.position, info.num_integration_steps)

            _, (pos, n) = jax.lax.scan(step, state, jax.random.split(k2, draws))
            return pos, n

        return jax.vmap(one)(keys, u0)

    t0 = time.perf_counter()
    pos, n = run(jax.random.split(k_run, chains), u0)
    jax.block_until_ready(pos)
    seconds = time.perf_counter() - t0
    values = jax.vmap(jax.vmap(post.constrain))(pos)
    return seconds, min_ess(values), float(np.mean(n))


def samplers(args):
    post = small_posterior()
    for name, fn in (("numpyro", run_numpyro), ("blackjax", run_blackjax)):
        for run in ("cold", "steady"):
            seconds, ess, steps = fn(
                post, jax.random.key(0), args.warmup, args.draws, args.chains
            )
            report(
                bench="nuts_sampler",
                sampler=name,
                run=run,
                chains=args.chains,
                warmup=args.warmup,
                draws=args.draws,
                seconds=round(seconds, 2),
                min_ess=round(ess, 1),
                ess_per_s=round(ess / seconds, 2),
                mean_leapfrog_steps=round(steps, 2),
                device=str(jax.devices()[0].platform),
            )


def nuts_vs_sbi(args):
    spec = importlib.util.spec_from_file_location(
        "inference_hopf", ROOT / "examples" / "inference_hopf.py"
    )
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    out = ex.main(args.figures)
    s = out["nuts"]
    ess = min(float(np.min(v)) for v in s.ess().values())
    report(
        bench="nuts_vs_sbi",
        method="nuts",
        params=10,
        seconds=round(out["nuts_seconds"], 1),
        min_ess=round(ess, 1),
        ess_per_s=round(ess / out["nuts_seconds"], 2),
        truth_in_90=f"{int(out['nuts_inside'].sum())}/10",
    )
    t = out["sbi_times"]
    n = len(out["sbi_draws"]["k"])
    report(
        bench="nuts_vs_sbi",
        method="sbi",
        params=10,
        simulate_s=round(t["sim"], 1),
        train_s=round(t["train"], 1),
        sample_s=round(t["sample"], 3),
        sample_again_s=round(t["again"], 4),
        draws=n,
        ess_per_s_first=round(n / (t["sim"] + t["train"] + t["sample"]), 2),
        ess_per_s_amortised=round(n / t["again"], 1),
        truth_in_90=f"{int(out['sbi_inside'].sum())}/10",
        sbc_min_p=float(np.min(out["sbc_pvalues"])),
        sbc_coverage=[
            float(out["sbc_coverage"].min()),
            float(out["sbc_coverage"].max()),
        ],
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samplers", action="store_true")
    p.add_argument("--nuts-vs-sbi", action="store_true")
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--draws", type=int, default=300)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--figures", default=None, help="directory for the figures")
    args = p.parse_args()
    if not (args.samplers or args.nuts_vs_sbi):
        p.error("give --samplers and/or --nuts-vs-sbi")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.samplers:
        samplers(args)
    if args.nuts_vs_sbi:
        nuts_vs_sbi(args)


if __name__ == "__main__":
    main()
