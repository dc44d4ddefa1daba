"""`neuromass demo`: the main job, a 2-D sweep of a delayed Hopf network."""

import time
from pathlib import Path

from ._output import _format_head, _write_csv


def _demo(args) -> int:
    import jax
    import jax.numpy as jnp
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    import neuromass as nm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    conn = nm.datasets.load_connectome()
    net = nm.Network(
        nm.models.Hopf(a=0.2, omega=0.3),
        conn.weights,
        lengths=conn.lengths,
        speed=10.0,
        coupling="diffusive",
        k=0.5,
    )
    space = nm.Space(
        {
            "k": nm.GridAxis(0.0, args.k_max, args.n_k),
            "node.a": nm.GridAxis(-0.2, 0.1, args.n_a),
        }
    )
    print(
        f"neuromass {nm.__version__} demo: a {args.n_k} x {args.n_a} sweep of global "
        f"coupling k and Hopf bifurcation parameter a on the bundled connectome "
        f"({conn.n_regions} regions, {net.n_edges} edges, delays up to "
        f"{net.max_delay:.1f} ms at 10 mm/ms), noise sigma {args.sigma:g}, "
        f"{args.t1:g} ms per point at dt = 0.1 ms"
    )

    noise = nm.noise.Additive(args.sigma)

    def summary(net, key):
        # Random initial states (from the model's state ranges): identical ones
        # would keep oscillating regions in phase, and correlated, even at k = 0.
        init_key, key = jax.random.split(key)
        sol = nm.simulate(
            net,
            t1=args.t1,
            dt=0.1,
            save_every=1.0,
            transient=args.transient,
            noise=noise,
            key=key,
            y0=net.node.initial_state(net.n_regions, key=init_key),
        )
        x = sol["x"]
        fc = nm.metrics.fc(x)
        return {
            "mean_fc": nm.metrics.upper_triangle(fc).mean(),
            "amplitude": jnp.sqrt(sol["x"] ** 2 + sol["y"] ** 2).mean(),
            "metastability": nm.metrics.metastability(
                jnp.arctan2(sol["y"], sol["x"]), kind="phases"
            ),
        }

    t = time.perf_counter()
    res = nm.sweep(
        summary,
        space,
        model=net,
        batch_size=args.batch_size,
        store=args.store,
        progress=not args.quiet,
        key=jax.random.key(args.seed),
    )
    elapsed = time.perf_counter() - t
    n_ok = int(np.sum(res.ok))
    print(
        f"{len(res)} points in {elapsed:.1f} s ({len(res) / elapsed:.2f} points/s), "
        f"{n_ok} ok, {len(res) - n_ok} flagged"
    )
    print(_format_head(res.table))
    csv_path = out / "sweep.csv"
    _write_csv(res.table, csv_path)
    ax = nm.viz.heatmap(
        res,
        "mean_fc",
        x="k",
        y="node.a",
        xlabel="global coupling k (diffusive, 1/ms)",
        ylabel="Hopf a, bifurcation parameter (1/ms)",
        label="mean FC of x (Pearson r)",
        title=f"Delayed Hopf network, {conn.n_regions} regions: mean FC",
    )
    png_path = out / "heatmap.png"
    ax.figure.savefig(png_path, dpi=110, bbox_inches="tight")
    print(f"wrote {csv_path} and {png_path}")
    return 0
