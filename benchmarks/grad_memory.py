"""Peak memory of a W3-style gradient as the number of steps grows (issue: 10,000 vs
40,000 steps, sublinear growth; under 2 GB at 10,000).

Each measurement runs in a fresh process (peak RSS is per process) and prints one JSON
line; `--compare` runs 10,000 and 40,000 steps, with and without
`simulate(checkpoint=True)`, and prints the ratios. Usage:

    python benchmarks/grad_memory.py --compare
    python benchmarks/grad_memory.py --steps 40000 --checkpoint
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def measure(steps: int, checkpoint: bool, interp: str):
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    from neuromass_bench import build_network

    import neuromass as nm

    conn = C.load_connectome(quiet=True)
    net = build_network(conn, nm, jnp)
    t1 = steps * C.DT
    kw = dict(
        t1=t1,
        dt=C.DT,
        save_every=C.SAVE_EVERY,
        transient=C.SAVE_EVERY,
        y0={"x": C.X0, "y": C.X0},
        interpolation=interp,
        variables=("x",),
        checkpoint=checkpoint,
    )
    first = int(round(0.2 * t1 / C.SAVE_EVERY)) - 1  # FC over [0.2 t1, t1]
    iu = jnp.triu_indices(conn.n, 1)
    target = jax.jit(lambda n: nm.metrics.fc(nm.simulate(n, **kw)["x"][first:]))(
        eqx.tree_at(lambda n: n.k, net, jnp.asarray(C.K_TARGET, jnp.float32))
    )

    def loss(params):
        k, a = params
        n2 = eqx.tree_at(lambda n: (n.k, n.node.a), net, (k, a))
        fc = nm.metrics.fc(nm.simulate(n2, **kw)["x"][first:])
        return jnp.mean((fc[iu] - target[iu]) ** 2)

    vg = jax.jit(jax.value_and_grad(loss))
    params = (jnp.asarray(C.K, jnp.float32), jnp.full((conn.n,), C.A, jnp.float32))
    t = C.timeit(vg, params, repeats=3)
    val, (gk, ga) = t.result
    C.report(
        system="neuromass",
        workload="W3-memory",
        interp=interp,
        timing=t,
        steps=steps,
        checkpoint=checkpoint,
        loss=float(val),
        grad_finite=bool(jnp.isfinite(ga).all() & jnp.isfinite(gk)),
        connectome=conn.source,
    )


def compare(interp: str):
    rows = {}
    for checkpoint in (False, True):
        for steps in (10_000, 40_000):
            cmd = [sys.executable, __file__, "--steps", str(steps), "--interp", interp]
            if checkpoint:
                cmd.append("--checkpoint")
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            line = out.stdout.strip().splitlines()[-1]
            print(line, flush=True)
            rows[checkpoint, steps] = json.loads(line)
    for checkpoint in (False, True):
        a, b = rows[checkpoint, 10_000], rows[checkpoint, 40_000]
        print(
            json.dumps(
                {
                    "checkpoint": checkpoint,
                    "peak_rss_mb_10k": a["peak_rss_mb"],
                    "peak_rss_mb_40k": b["peak_rss_mb"],
                    "ratio_40k_10k": round(b["peak_rss_mb"] / a["peak_rss_mb"], 3),
                    "s_per_value_and_grad_10k": a["steady_s"],
                    "s_per_value_and_grad_40k": b["steady_s"],
                }
            )
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=C.N_STEPS)
    p.add_argument("--checkpoint", action="store_true")
    p.add_argument("--interp", choices=["nearest", "linear"], default="linear")
    p.add_argument("--compare", action="store_true")
    args = p.parse_args(argv)
    if args.compare:
        compare(args.interp)
    else:
        measure(args.steps, args.checkpoint, args.interp)


if __name__ == "__main__":
    main()
