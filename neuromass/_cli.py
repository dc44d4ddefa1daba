"""The `neuromass` command line."""

import argparse
import sys
import time
from pathlib import Path


def _write_csv(table: dict, path: Path) -> None:
    import csv

    import numpy as np

    names = list(table)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for row in zip(*(np.asarray(table[n]).tolist() for n in names)):
            writer.writerow(row)


def _format_head(table: dict, n: int = 8) -> str:
    import numpy as np

    names = list(table)
    cells = [
        [
            f"{v:.4g}" if isinstance(v, float) else str(v)
            for v in np.asarray(table[c])[:n].tolist()
        ]
        for c in names
    ]
    widths = [max(len(c), *(len(v) for v in col)) for c, col in zip(names, cells)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(names, widths))]
    for i in range(len(cells[0])):
        lines.append("  ".join(col[i].rjust(w) for col, w in zip(cells, widths)))
    return "\n".join(lines)


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
        f"({conn.n_regions} regions, {net.pattern.n_edges} edges, delays up to "
        f"{net.max_delay:.1f} ms at 10 mm/ms), noise sigma {args.sigma:g}, "
        f"{args.t1:g} ms per point at dt = 0.1 ms"
    )

    noise = nm.noise.Additive(args.sigma)

    def summary(net, key):
        sol = nm.simulate(
            net,
            t1=args.t1,
            dt=0.1,
            save_every=1.0,
            transient=args.transient,
            noise=noise,
            key=key,
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
    ax = nm.viz.heatmap(res, "mean_fc", x="k", y="node.a")
    ax.set_title("Mean functional connectivity of x")
    png_path = out / "heatmap.png"
    ax.figure.savefig(png_path, dpi=110, bbox_inches="tight")
    print(f"wrote {csv_path} and {png_path}")
    return 0


def _models(args) -> int:
    import neuromass as nm

    print(nm.models.list_models().to_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuromass",
        description="Whole-brain neural-mass network simulation on JAX/Diffrax.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the headline job: a 2-D parameter sweep on the bundled connectome",
        description="Sweep global coupling k and the Hopf parameter a of a delayed "
        "Hopf network on the bundled connectome; print the head of the tidy result "
        "table and write it as CSV, with a heatmap PNG.",
    )
    demo.add_argument("--out", default="neuromass-demo", help="output folder")
    demo.add_argument("--t1", type=float, default=600.0, help="ms per point")
    demo.add_argument("--transient", type=float, default=100.0, help="ms discarded")
    demo.add_argument("--n-k", type=int, default=8, help="number of k values")
    demo.add_argument("--n-a", type=int, default=6, help="number of a values")
    demo.add_argument("--k-max", type=float, default=0.8, help="largest k")
    demo.add_argument("--batch-size", type=int, default=16, help="points per chunk")
    demo.add_argument(
        "--store", default=None, help="folder to store (and resume) the sweep"
    )
    demo.add_argument("--sigma", type=float, default=0.02, help="noise intensity")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)
    models = sub.add_parser("models", help="print the model catalogue")
    models.set_defaults(func=_models)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
