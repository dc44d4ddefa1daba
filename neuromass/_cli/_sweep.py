"""`neuromass sweep SPEC.toml`."""

import json
import sys
import time
import warnings
from pathlib import Path

from .._io import atomic_write
from ._common import (
    SYMMETRIC_START,
    _blame,
    _check_traceable,
    _describe_network,
    _describe_stimulus,
    _error,
    _stored_points,
    _warn_in_strength,
)
from ._output import _format_head, _plot_sweep, _write_csv


def _prepare(path, overrides):
    """Read and validate the spec, build the network, the space and the point
    function, and trace one point (`SpecError` on any problem)."""
    import neuromass as nm

    from ._spec import build_space, build_sweep_network, load_spec, point_summary

    spec = load_spec(path, overrides, command="sweep")
    net = build_sweep_network(spec)
    space = build_space(spec)
    fn = point_summary(spec, net)
    key = spec.key() if net.noise is not None else None
    point = nm.apply_point(net, space[0])
    symmetric = _check_traceable(spec, fn, point, *([] if key is None else [key]))
    return spec, net, space, fn, key, symmetric


def _sweep(args) -> int:
    from ._spec import SpecError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import numpy as np

        import neuromass as nm

        spec, net, space, fn, key, symmetric = _prepare(args.spec, args.set or ())
    except SpecError as e:
        where = _blame(e, lambda o: _prepare(args.spec, o), args.spec, args.set)
        return _error("sweep", f"{where}: {e}", 2)

    folder = Path(args.out or spec.folder)
    if spec.sweep.store is None:
        store = None
    else:
        store = Path(spec.sweep.store) if spec.sweep.store else folder / "store"
    if store is not None and store.exists() and not store.is_dir():
        where = "`sweep.store`" if spec.sweep.store else "the store (<folder>/store)"
        return _error(
            "sweep",
            f"{Path(args.spec).name}: {where} = {str(store)!r} is a file, not a "
            "directory; give a directory (new, or the store of an earlier run of this "
            "sweep to resume it), or `sweep.store = false`.",
            2,
        )
    shape = " x ".join(
        f"{path} ({axis.size} {axis.kind})" for path, axis in spec.axes.items()
    )
    print(f"neuromass sweep {Path(args.spec).name}: {_describe_network(spec, net)}")
    if fn.stimulus is not None:
        print(_describe_stimulus(spec, fn.stimulus))
    print(
        f"{len(space)} points ({spec.sweep.mode}: {shape}); recording "
        f"{', '.join(spec.sweep.outputs)} of {spec.sweep_variable()!r}"
    )
    if store is not None and store.is_dir() and (n := _stored_points(store)):
        print(f"store: {store} (holds {n} finished points)")
    _warn_in_strength("sweep", net, spec.model.name)
    if symmetric:
        print(
            f"neuromass sweep: warning: at the first point, {SYMMETRIC_START}",
            file=sys.stderr,
        )
    if args.check:
        print("spec OK (--check: nothing was run)")
        return 0

    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nm.SymmetricStartWarning)  # printed above
            res = nm.sweep(
                fn,
                space,
                model=net,
                batch_size=spec.sweep.batch_size,
                lanes=spec.sweep.lanes,
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
    text = json.dumps(spec.as_dict(), indent=2) + "\n"
    atomic_write(folder / "spec.json", text.encode("utf-8"))
    written = [csv_path, folder / "results.npz"]
    if spec.plot:
        written += _plot_sweep(res, spec, net, folder)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
