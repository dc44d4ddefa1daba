"""neuromass on the standard workloads of WORKLOADS.md (W1, W1n, W2, W3).

Prints one JSON line per run (see `_common.report`). Usage:

    python benchmarks/neuromass_bench.py --workload W1 --interp linear
    python benchmarks/neuromass_bench.py --workload W2 --devices 2

The same connectome, constants and timing helper as the reference kernel
(`reference.py`) are used, so the two can be compared as ratios within one run
(`run_all.py`).
"""

import argparse
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def build_network(conn, nm, jnp):
    return nm.Network(
        nm.models.Hopf(a=C.A, omega=C.OMEGA),
        jnp.asarray(conn.weights, jnp.float32),
        lengths=jnp.asarray(conn.lengths, jnp.float32),
        speed=C.SPEED,
        coupling="diffusive",
        k=C.K,
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=["W1", "W1n", "W2", "W3"], default="W1")
    p.add_argument("--interp", choices=["nearest", "linear", "cubic"], default="linear")
    p.add_argument("--devices", type=int, default=1)
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="W2 chunk size (default: nm.sweep's, 64 points rounded up to whole "
        "calls of lanes x devices; sweep rounds any size up so)",
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--checkpoint",
        action="store_true",
        help="W3: simulate(checkpoint=True) (one stored state per save)",
    )
    p.add_argument(
        "--no-ynn",
        action="store_true",
        help=f"set XLA_FLAGS={C.NO_YNN_FLAG} (before importing jax)",
    )
    args = p.parse_args(argv)
    if args.devices > 1:
        C.set_host_devices(args.devices)
    if args.no_ynn:
        C._add_xla_flag(C.NO_YNN_FLAG)
    C.apply_env_xla_options()

    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import neuromass as nm

    conn = C.load_connectome(quiet=True)
    net = build_network(conn, nm, jnp)
    y0 = {"x": C.X0, "y": C.X0}
    sim_kw = dict(
        t1=C.T1,
        dt=C.DT,
        save_every=C.SAVE_EVERY,
        transient=C.SAVE_EVERY,
        y0=y0,
        interpolation=args.interp,
        variables=("x",),
    )
    common = dict(
        system="neuromass", interp=args.interp, n=conn.n, connectome=conn.source
    )

    if args.workload in ("W1", "W1n"):
        noise = nm.noise.Additive(C.SIGMA) if args.workload == "W1n" else None
        key = jax.random.key(C.NOISE_SEED)

        @jax.jit
        def run(net, key):
            return nm.simulate(net, noise=noise, key=key, **sim_kw)["x"]

        # The plain call users make (no jit of their own), with a new k each time,
        # alternated with the jitted call.
        ks = iter(C.K * (1.0 + 0.01 * i) for i in range(1000))

        def plain(net, key):
            net = eqx.tree_at(lambda n: n.k, net, next(ks))
            return nm.simulate(net, noise=noise, key=key, **sim_kw)["x"]

        t, e = C.timeit_pair(run, plain, net, key, repeats=args.repeats)
        x = t.result
        C.report(
            workload=args.workload,
            timing=t,
            saved=list(x.shape),
            finite=bool(jnp.isfinite(x).all()),
            eager_steady_s=e.steady_s,
            eager_compile_s=e.compile_s,
            **common,
        )
        return

    fc_slice = slice(int(round(C.FC_T0 / C.SAVE_EVERY)) - 1, None)

    def mean_fc(net):
        x = nm.simulate(net, **sim_kw)["x"][fc_slice]
        return nm.metrics.upper_triangle(nm.metrics.fc(x)).mean()

    if args.workload == "W2":
        # The library's own sweep path: nm.sweep over a Space targeting `k`, chunks of
        # `--batch` points (default: sweep's) through filter_vmap (sharded over the
        # host devices); sweep rounds a chunk up to whole calls of lanes x devices.
        space = nm.Space({"k": nm.DataAxis(jnp.asarray(C.K_SWEEP, jnp.float32))})

        def point(net):
            return {"mean_fc": mean_fc(net)}

        def sweep():
            return nm.sweep(
                point, space, model=net, batch_size=args.batch, progress=False
            )

        t = C.timeit(sweep, repeats=args.repeats, warmup=0)
        res = t.result
        n_points = len(res)
        C.report(
            workload="W2",
            timing=t,
            batch=n_points,
            chunk=args.batch or "default",
            points_per_s=n_points / t.steady_s,
            n_finite=int((res.table["status"] == "ok").sum()),
            **common,
        )
        return

    # W3: gradient of an FC loss w.r.t. k and a per-region a
    target = jax.jit(
        lambda net: nm.metrics.fc(nm.simulate(net, **sim_kw)["x"][fc_slice])
    )(eqx.tree_at(lambda n: n.k, net, jnp.asarray(C.K_TARGET, jnp.float32)))
    iu = jnp.triu_indices(conn.n, 1)

    def loss(params):
        k, a = params
        n2 = eqx.tree_at(lambda n: (n.k, n.node.a), net, (k, a))
        sol = nm.simulate(n2, checkpoint=args.checkpoint, **sim_kw)
        fc = nm.metrics.fc(sol["x"][fc_slice])
        return jnp.mean((fc[iu] - target[iu]) ** 2)

    vg = jax.jit(jax.value_and_grad(loss))
    params = (jnp.asarray(C.K, jnp.float32), jnp.full((conn.n,), C.A, jnp.float32))
    # alternated with the plain call: jax.value_and_grad without a jit of the user's
    t, e = C.timeit_pair(vg, jax.value_and_grad(loss), params, repeats=args.repeats)
    val, (gk, ga) = t.result
    C.report(
        workload="W3",
        timing=t,
        eager_steady_s=e.steady_s,
        eager_compile_s=e.compile_s,
        loss=float(val),
        grad_k=float(gk),
        grad_finite=bool(jnp.isfinite(ga).all()),
        **common,
    )


if __name__ == "__main__":
    main()
