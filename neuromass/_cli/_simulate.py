"""`neuromass simulate SPEC.toml`."""

import json
import sys
import time
import warnings
from pathlib import Path

from ._common import (
    SYMMETRIC_START,
    _announce_compile,
    _blame,
    _check_traceable,
    _describe_network,
    _describe_stimulus,
    _error,
    _warn_in_strength,
)


def _prepare(path, overrides):
    """Read and validate the spec, build the network and the run function, and
    trace it (`SpecError` on any problem)."""
    import diffrax

    import neuromass as nm

    from ._spec import (
        SpecError,
        build_network,
        build_stimulus,
        check_delays,
        load_spec,
    )

    spec = load_spec(path, overrides, command="simulate")
    net = build_network(spec)
    check_delays(spec, net)
    stimulus = build_stimulus(spec, net)
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
            stimulus=stimulus,
            **spec.simulate_settings(),
        )

    symmetric = _check_traceable(spec, run, net, key)
    return spec, net, stimulus, key, run, symmetric


def _simulate(args) -> int:
    from .._io._npz import write_npz
    from ._spec import SpecError, region_labels

    try:
        import matplotlib

        matplotlib.use("Agg")
        import numpy as np

        import neuromass as nm

        spec, net, stimulus, key, run, symmetric = _prepare(args.spec, args.set or ())
    except SpecError as e:
        where = _blame(e, lambda o: _prepare(args.spec, o), args.spec, args.set)
        return _error("simulate", f"{where}: {e}", 2)

    print(f"neuromass simulate {Path(args.spec).name}: {_describe_network(spec, net)}")
    if stimulus is not None:
        print(_describe_stimulus(spec, stimulus))
    _warn_in_strength("simulate", net, spec.model.name)
    if symmetric:
        print(f"neuromass simulate: warning: {SYMMETRIC_START}", file=sys.stderr)
    if args.check:
        print("spec OK (--check: nothing was run)")
        return 0
    folder = Path(args.out or spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    import equinox as eqx

    t = time.perf_counter()
    if not args.quiet:
        _announce_compile("the simulation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nm.SymmetricStartWarning)  # printed above
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
    labels = region_labels(spec, net.n_regions)
    path = folder / "simulation.npz"
    arrays = {
        "ts": np.asarray(ts),
        "labels": np.asarray(labels, dtype=np.str_),
        "spec": np.asarray(json.dumps(spec.as_dict())),
        **{name: np.asarray(y) for name, y in ys.items()},
    }
    write_npz(path, arrays, compress=False)  # atomic, with its SHA-256 as comment
    written = [path]
    if spec.plot:
        import matplotlib.pyplot as plt

        first = next(iter(ys))
        ax = nm.viz.plot_carpet(
            ts,
            ys[first],
            labels=labels,
            title=f"{spec.model.name}: {first} of {net.n_regions} regions",
            colorbar_label=first,
        )
        written.append(folder / "timeseries.png")
        ax.figure.savefig(written[-1], dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        if net.n_regions >= 3 and len(ts) >= 3:
            fc = nm.metrics.fc(ys[first])
            ax = nm.viz.plot_matrix(
                fc,
                labels=labels if net.n_regions <= 40 else None,
                title=f"FC of {first} (Pearson correlation)",
                cmap="RdBu_r",
                vmin=-1.0,
                vmax=1.0,
                colorbar_label="Pearson FC",
                xlabel="region",
                ylabel="region",
            )
            written.append(folder / "fc.png")
            ax.figure.savefig(written[-1], dpi=110, bbox_inches="tight")
            plt.close(ax.figure)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
