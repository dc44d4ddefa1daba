"""The `neuromass` command line."""

import argparse
import json
import sys
import time
from pathlib import Path


def _csv_cells(column) -> list[str]:
    """The CSV text of a column: each value at its own dtype's precision (the
    shortest text that reads back to the same value), so float32 -0.2 is "-0.2",
    not "-0.20000000298023224"; integers and strings as they are."""
    import numpy as np

    col = np.asarray(column)
    if col.dtype.kind == "f":
        return [np.format_float_positional(v, unique=True, trim="-")
                if 1e-4 <= abs(v) < 1e16 or v == 0 or not np.isfinite(v)
                else np.format_float_scientific(v, unique=True, trim="-")
                for v in col]  # fmt: skip
    return [str(v) for v in col.tolist()]


def _write_csv(table: dict, path: Path) -> None:
    import csv

    names = list(table)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        writer.writerows(zip(*(_csv_cells(table[n]) for n in names)))


def _unit(node_cls: type, name: str) -> str | None:
    """A parameter's unit from the table of its model's docstring
    (`| `name` | default | unit | ...`), or None."""
    import re

    match = re.search(
        rf"^\s*\|\s*`{re.escape(name)}`\s*\|[^|]*\|\s*([^|]*?)\s*\|",
        node_cls.__doc__ or "",
        re.M,
    )
    if match is None or match.group(1) in ("", "-", "1", "dimensionless"):
        return None
    return match.group(1)


def _axis_label(path: str, node_cls: type, model_name: str) -> str:
    """An axis label with the quantity and its unit, e.g. "Hopf a (1/ms)"."""
    if path == "k":
        return "global coupling k"
    if path == "speed":
        return "conduction speed (mm/ms)"
    if path.startswith("node."):
        name = path[len("node.") :]
        unit = _unit(node_cls, name)
        return f"{model_name} {name}" + (f" ({unit})" if unit else "")
    return path


def _announce_compile(what: str) -> None:
    print(f"compiling {what} (once per new program)...", flush=True)


def _warn_in_strength(command: str, net, model_name: str) -> None:
    """Print `check_in_strength`'s warning (if any) as one line on stderr."""
    import warnings

    import numpy as np

    import neuromass as nm

    if net.n_regions < 2:
        return
    k = np.asarray(net.k)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nm.datasets.check_in_strength(
            net.weights, model=model_name, k=float(k) if k.ndim == 0 else None
        )
    for w in caught:
        print(f"neuromass {command}: warning: {w.message}", file=sys.stderr)


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


def _models(args) -> int:
    import neuromass as nm

    print(nm.models.list_models().to_table())
    return 0


def _error(command: str, message: str, code: int) -> int:
    print(f"neuromass {command}: error: {message}", file=sys.stderr)
    return code


def _check_traceable(spec, fn, *args) -> None:
    """Trace `fn(*args)` without running it: `simulate`'s checks of the settings
    (time grid, delays against `dt`, solver, interpolation) raise here. The
    arguments are closed over, so that checks of concrete values run too."""
    import jax

    from ._spec import SpecError

    try:
        jax.eval_shape(lambda: fn(*args))
    except (TypeError, ValueError) as e:
        sim = spec.simulation
        raise SpecError(
            f"The simulation cannot run with these [simulation] settings (solver "
            f"{sim.solver!r}, dt {sim.dt:g} ms, interpolation {sim.interpolation!r})"
            f": {e}"
        ) from None


def _describe_network(spec, net) -> str:
    noise = f", {spec.network.noise_kind} noise" if net.noise is not None else ""
    if spec.network.connectome is None:
        where = f"as a single region{noise}"
    else:
        delays = (
            f"delays up to {net.max_delay:.3g} ms" if net.max_delay > 0 else "no delays"
        )
        where = (
            f"on {spec.network.connectome} ({net.n_regions} regions, {delays}{noise})"
        )
    return (
        f"{spec.model.name} {where}, {spec.simulation.t1:g} ms at dt = "
        f"{spec.simulation.dt:g} ms with {spec.simulation.solver}"
    )


def _stored_points(store: Path) -> int:
    """Points already in a sweep store (from its chunk file names)."""
    from .sweep._store import stored_points

    return stored_points(store)


def _plot_sweep(res, spec, net, folder: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import numpy as np

    import neuromass as nm

    declared = list(spec.axes)
    labels = {p: _axis_label(p, type(net.node), spec.model.name) for p in declared}
    written = []
    for name in spec.sweep.outputs:
        title = f"{name} of {spec.sweep_variable()}"
        if res.grid_shape is not None and len(declared) >= 2:
            reduce = np.nanmean if len(declared) > 2 else None
            if reduce is not None:
                title += f" (mean over {', '.join(declared[2:])})"
            ax = nm.viz.heatmap(
                res,
                name,
                x=declared[0],
                y=declared[1],
                reduce=reduce,
                title=title,
                xlabel=labels[declared[0]],
                ylabel=labels[declared[1]],
            )
        else:
            ax = nm.viz.line(
                res, name, x=declared[0], title=title, xlabel=labels[declared[0]]
            )
        path = folder / f"{name}.png"
        ax.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(path)
    return written


def _sweep(args) -> int:
    from ._spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec, args.set, command="sweep")
        import matplotlib

        matplotlib.use("Agg")
        import numpy as np

        import neuromass as nm

        net = spec.build_sweep_network()
        space = spec.build_space()
        fn = spec.point_summary(net)
        key = spec.key() if net.noise is not None else None
        point = nm.apply_point(net, space[0])
        _check_traceable(spec, fn, point, *([] if key is None else [key]))
    except SpecError as e:
        return _error("sweep", f"{Path(args.spec).name}: {e}", 2)

    folder = Path(args.out or spec.folder)
    if spec.sweep.store is None:
        store = None
    else:
        store = Path(spec.sweep.store) if spec.sweep.store else folder / "store"
    shape = " x ".join(
        f"{path} ({axis.size} {axis.kind})" for path, axis in spec.axes.items()
    )
    print(f"neuromass sweep {Path(args.spec).name}: {_describe_network(spec, net)}")
    print(
        f"{len(space)} points ({spec.sweep.mode}: {shape}); recording "
        f"{', '.join(spec.sweep.outputs)} of {spec.sweep_variable()!r}"
    )
    if store is not None and store.is_dir() and (n := _stored_points(store)):
        print(f"store: {store} (holds {n} finished points)")
    _warn_in_strength("sweep", net, spec.model.name)
    if args.check:
        print("spec OK (--check: nothing was run)")
        return 0

    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    try:
        res = nm.sweep(
            fn,
            space,
            model=net,
            batch_size=spec.sweep.batch_size,
            store=store,
            progress=not args.quiet,
            key=key,
            fingerprint=spec.fingerprint(),
        )
    except nm.SweepError as e:
        return _error(
            "sweep",
            f"{e}\nThe finished points are kept"
            + (f" in {store}; run the same command again to resume." if store else "."),
            1,
        )
    except ValueError as e:  # e.g. a store written by another sweep, or in use
        hint = ""
        if store is not None and (
            "different sweep" in str(e) or "not a neuromass sweep store" in str(e)
        ):
            hint = (
                f"\nThe store is {store}: choose another `--out` or `sweep.store`, "
                "or delete it to start over."
            )
        return _error("sweep", f"{e}{hint}", 2)
    except RuntimeError as e:  # e.g. the store's lock file removed mid-run
        return _error("sweep", str(e), 1)
    except KeyboardInterrupt:
        where = f"; run the same command again to resume from {store}" if store else ""
        return _error("sweep", f"interrupted{where}.", 130)
    elapsed = time.perf_counter() - t
    n_ok = int(np.sum(res.ok))
    print(
        f"{len(res)} points in {elapsed:.1f} s, {n_ok} ok, {len(res) - n_ok} flagged "
        "(non-finite or failed)"
    )
    print(_format_head(res.table))
    csv_path = folder / "results.csv"
    _write_csv(res.table, csv_path)
    res.save(folder / "results.npz")
    (folder / "spec.json").write_text(json.dumps(spec.as_dict(), indent=2) + "\n")
    written = [csv_path, folder / "results.npz"]
    if spec.plot:
        written += _plot_sweep(res, spec, net, folder)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _simulate(args) -> int:
    from ._spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec, args.set, command="simulate")
        import diffrax
        import matplotlib

        matplotlib.use("Agg")
        import numpy as np

        import neuromass as nm

        net = spec.build_network()
        spec.check_delays(net)
        key = spec.key() if net.noise is not None else None
        variables = spec.simulation.variables
        for v in variables or ():
            if v not in net.node.state_names:
                raise SpecError(
                    f"`simulation.variables`: {v!r} is not a state variable of "
                    f"{spec.model.name}; its variables are {net.node.state_names}."
                )
        solver = getattr(diffrax, spec.simulation.solver)()

        def run(net, key=None):
            return nm.simulate(
                net,
                solver=solver,
                variables=variables,
                key=key,
                **spec.simulate_settings(),
            )

        _check_traceable(spec, run, net, key)
    except SpecError as e:
        return _error("simulate", f"{Path(args.spec).name}: {e}", 2)

    print(f"neuromass simulate {Path(args.spec).name}: {_describe_network(spec, net)}")
    _warn_in_strength("simulate", net, spec.model.name)
    if args.check:
        print("spec OK (--check: nothing was run)")
        return 0
    folder = Path(args.out or spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    import equinox as eqx

    t = time.perf_counter()
    if not args.quiet:
        _announce_compile("the simulation")
    compiled = eqx.filter_jit(run).lower(net, key).compile()
    compile_s = time.perf_counter() - t
    if not args.quiet:
        print(
            f"compiled in {compile_s:.1f} s; simulating {spec.simulation.t1:g} ms "
            f"({spec.simulation.t1 / spec.simulation.dt:.0f} steps)...",
            flush=True,
        )
    t = time.perf_counter()
    sol = compiled(net, key)
    ts = np.asarray(sol.ts)
    ys = {name: np.asarray(value) for name, value in sol.ys.items()}
    elapsed = time.perf_counter() - t
    names = ", ".join(f"{n} {y.shape}" for n, y in ys.items())
    print(
        f"simulated {spec.simulation.t1:g} ms in {elapsed:.1f} s (+ {compile_s:.1f} s "
        f"compiling); saved {len(ts)} samples every "
        f"{spec.simulation.save_every:g} ms: {names}"
    )
    for name, y in ys.items():
        if not np.all(np.isfinite(y)):
            print(
                f"warning: {name!r} has non-finite values; the run diverged (try a "
                "smaller `simulation.dt`).",
                file=sys.stderr,
            )
    labels = spec.region_labels(net.n_regions)
    path = folder / "simulation.npz"
    np.savez(
        path,
        ts=ts,
        labels=np.asarray(labels, dtype=np.str_),
        spec=np.asarray(json.dumps(spec.as_dict())),
        **ys,
    )
    written = [path]
    if spec.plot:
        import matplotlib.pyplot as plt

        first = next(iter(ys))
        ax = nm.viz.plot_timeseries(
            ts, ys[first], labels=labels, ylabel=first, lw=0.8, legend=False
        )
        ax.set_title(f"{spec.model.name}: {first}")
        written.append(folder / "timeseries.png")
        ax.figure.savefig(written[-1], dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        if net.n_regions >= 3 and len(ts) >= 3:
            fc = nm.metrics.fc(ys[first])
            ax = nm.viz.plot_matrix(fc, title=f"FC of {first}")
            written.append(folder / "fc.png")
            ax.figure.savefig(written[-1], dpi=110, bbox_inches="tight")
            plt.close(ax.figure)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


_SPEC_EXAMPLE = """\
A spec is a TOML file; relative paths are relative to the current directory:

  [model]
  name = "Hopf"                 # see `neuromass models`
  a = -0.05                     # any parameter of the model
  [network]
  connectome = "default"        # or "tvb76", or a .zip/.npz path
  speed = 10.0                  # mm/ms; delays = tract lengths / speed
  coupling = "diffusive"
  k = 0.5
  noise = 0.02                  # additive noise intensity
  [simulation]
  t1 = 1000.0                   # ms
  dt = 0.1
  save_every = 1.0
  transient = 200.0
  solver = "Heun"               # any Diffrax solver class
  seed = 0
"""

_SWEEP_EXAMPLE = """\
  [sweep]
  outputs = ["mean_fc", "metastability"]
  batch_size = 16
  [axes.k]
  grid = [0.0, 1.0, 8]          # low, high, number of values
  [axes."node.a"]
  values = [-0.1, 0.0, 0.1]

Every finished chunk is stored in <folder>/store; running the same command again
resumes. The folder gets results.csv, results.npz and one PNG per output. See the
documentation page "Command line" for every key.
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, except where there is nothing to show
    (flags, options without a default, help texts that already say it)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or default == []
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class _RawHelpFormatter(_HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """`_HelpFormatter` keeping the line breaks of the description and epilogue
    (the spec examples)."""


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("neuromass")
    except importlib.metadata.PackageNotFoundError:  # a source tree
        return "0.0.0"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuromass",
        description="Whole-brain neural-mass network simulation on JAX/Diffrax.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"neuromass {_version()}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the headline job: a 2-D parameter sweep on the bundled connectome",
        description="Sweep global coupling k and the Hopf parameter a of a delayed "
        "Hopf network on the bundled connectome; print the head of the tidy result "
        "table and write it as CSV, with a heatmap PNG.",
        formatter_class=_HelpFormatter,
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
    models = sub.add_parser(
        "models",
        help="print the model catalogue",
        description="Print the built-in node models: name, category, state "
        "variables coupled by default, typical use and reference.",
        formatter_class=_HelpFormatter,
    )
    models.set_defaults(func=_models)
    for name, func, summary, epilog in (
        (
            "simulate",
            _simulate,
            "simulate the network of a TOML spec and save the trajectories",
            _SPEC_EXAMPLE + "\nWrites <folder>/simulation.npz (ts, one (T, N) array "
            "per saved variable, labels, the resolved spec as JSON; it loads with "
            "numpy.load(path, allow_pickle=False)) and, with [output] plot = true, "
            "timeseries.png and fc.png.\n",
        ),
        (
            "sweep",
            _sweep,
            "run the parameter sweep of a TOML spec (resumable)",
            _SPEC_EXAMPLE + _SWEEP_EXAMPLE,
        ),
    ):
        cmd = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=epilog,
            formatter_class=_RawHelpFormatter,
        )
        cmd.add_argument("spec", metavar="SPEC.toml", help="the spec file")
        cmd.add_argument(
            "--set",
            metavar="KEY=VALUE",
            action="append",
            default=[],
            help="override a key of the spec, e.g. --set simulation.t1=500 or "
            "--set 'axes.k.grid=[0, 1, 4]' (repeatable)",
        )
        cmd.add_argument(
            "--out", default=None, help="output folder (default: [output] folder)"
        )
        cmd.add_argument(
            "--check",
            action="store_true",
            help="validate the spec and describe the run, without running it",
        )
        cmd.add_argument(
            "--quiet", action="store_true", help="no progress bar or progress lines"
        )
        cmd.set_defaults(func=func)
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
