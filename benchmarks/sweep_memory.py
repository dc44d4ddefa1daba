"""Peak memory of the W2 sweep against the number of points (issue #4).

The bar: *peak memory for 4,096 points at batch 256 within 1.2x of 256 points at batch
256*. Each measurement runs the W2 workload of WORKLOADS.md (delayed Hopf on TVB's
76-region connectome, per point the mean upper-triangle FC of x) through `nm.sweep`
with `batch_size=256` over `k = linspace(0, 1.5, points)`, in a fresh process, and
prints one JSON line (`_common.report`). Usage:

    python benchmarks/sweep_memory.py --points 4096            # one measurement
    python benchmarks/sweep_memory.py --compare                # 256 and 4096, ratio
    python benchmarks/sweep_memory.py --compare --steps 1000   # shorter runs
    python benchmarks/sweep_memory.py --compare --store        # chunks to a temp store

`--steps` shortens every run (default 10,000 = W2): the bar concerns how memory
scales with the number of *points* at a fixed batch, which is the same whatever the
length of each run, so shorter runs are a legitimate (and much faster) way to measure
it; the FC then uses the samples with t in [0.2 t1, t1] (W2: [200, 1000] ms).

Memory figures of each JSON line (MB):

- `peak_rss_mb`: the process's peak resident set (`getrusage` max RSS), compilation
  included: the figure the bar is about.
- `rss_baseline_mb`: resident set after a warm-up sweep of the first `batch` points
  (which compiles the chunk program and runs it once), just before the measured sweep.
- `sweep_peak_rss_mb`, `sweep_growth_mb`: the highest resident set sampled (every
  `--sample-ms`, from `/proc/self/statm`) during the measured sweep, and that minus
  the baseline: what the sweep itself adds once compiled.
- `rss_after_mb`: resident set after the sweep, with the result still alive.

`--compare` runs each size as a separate subprocess (same options) and then prints a
summary line with `ratio_peak_rss` = peak(4096) / peak(256) against the bar 1.2.
"""

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


BAR = 1.2


def rss_mb() -> float | None:
    """Current resident set of this process in MB (`/proc/self/statm`), or None."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler:
    """Samples the resident set in a background thread; `peak` is the highest seen."""

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self.peak = rss_mb() or math.nan
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            r = rss_mb()
            if r is not None:
                self.peak = max(self.peak, r)
                self.samples += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        r = rss_mb()
        if r is not None:
            self.peak = max(self.peak, r)


def measure(args) -> dict:
    if args.devices > 1:
        C.set_host_devices(args.devices)
    C.apply_env_xla_options()

    import jax.numpy as jnp
    import numpy as np
    from neuromass_bench import build_network

    import neuromass as nm

    conn = C.load_connectome(quiet=True)
    net = build_network(conn, nm, jnp)
    t1 = args.steps * C.DT
    fc_first = int(round(0.2 * t1 / C.SAVE_EVERY)) - 1  # W2: sample 199 = 200 ms
    sim_kw = dict(
        t1=t1,
        dt=C.DT,
        save_every=C.SAVE_EVERY,
        transient=C.SAVE_EVERY,
        y0={"x": C.X0, "y": C.X0},
        interpolation=args.interp,
        variables=("x",),
    )

    def point(net):
        x = nm.simulate(net, **sim_kw)["x"][fc_first:]
        return {"mean_fc": nm.metrics.upper_triangle(nm.metrics.fc(x)).mean()}

    k = np.linspace(0.0, 1.5, args.points).astype(np.float32)
    space = nm.Space({"k": nm.DataAxis(k)})
    kw = dict(model=net, batch_size=args.batch, progress=False)
    rss_start = rss_mb()

    # Warm-up: the first chunk alone compiles the chunk program (same shapes, so the
    # measured sweep reuses it) and runs it once.
    t0 = time.perf_counter()
    nm.sweep(point, space[: min(args.batch, args.points)], **kw)
    compile_s = time.perf_counter() - t0
    gc.collect()
    peak_before = C.peak_rss_mb()
    rss_base = rss_mb()

    with tempfile.TemporaryDirectory(prefix="nm-sweep-mem-") as tmp:
        store = os.path.join(tmp, "store") if args.store else None
        with RssSampler(args.sample_ms / 1000.0) as sampler:
            t0 = time.perf_counter()
            res = nm.sweep(point, space, store=store, **kw)
            sweep_s = time.perf_counter() - t0
        gc.collect()
        rss_after = rss_mb()
        extra = {}
        if store is not None:
            files = sorted(os.listdir(store))
            n_chunks = sum(f.endswith(".npz") for f in files)
            t0 = time.perf_counter()
            again = nm.sweep(point, space, store=store, **kw)  # all from the store
            extra = dict(
                store_chunks=n_chunks,
                store_chunks_expected=math.ceil(args.points / args.batch),
                store_bytes=sum(os.path.getsize(os.path.join(store, f)) for f in files),
                store_reload_s=time.perf_counter() - t0,
                store_reload_identical=bool(
                    np.array_equal(
                        again.outputs["mean_fc"], res.outputs["mean_fc"], equal_nan=True
                    )
                ),
            )
            del again

    result_bytes = sum(
        a.nbytes
        for a in (
            res.index,
            res.status,
            *res.params.values(),
            *res.outputs.values(),
            *res.coords.values(),
        )
    )
    return C.report(
        system="neuromass",
        workload="W2-memory",
        interp=args.interp,
        n=conn.n,
        steps=args.steps,
        batch=args.points,
        chunk=args.batch,
        store=bool(args.store),
        compile_s=compile_s,
        sweep_s=sweep_s,
        points_per_s=args.points / sweep_s,
        region_steps_per_s=conn.n * args.steps * args.points / sweep_s,
        n_finite=int(res.ok.sum()),
        rss_start_mb=rss_start,
        peak_rss_before_sweep_mb=peak_before,
        rss_baseline_mb=rss_base,
        sweep_peak_rss_mb=sampler.peak,
        sweep_growth_mb=sampler.peak - rss_base,
        rss_after_mb=rss_after,
        rss_samples=sampler.samples,
        result_bytes=result_bytes,
        connectome=conn.source,
        **extra,
    )


def compare(args, passthrough: list[str]) -> None:
    recs = {}
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--points", str(n), *passthrough]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        line = proc.stdout.strip().splitlines()[-1]
        print(line, flush=True)
        recs[n] = json.loads(line)
    small, large = recs[min(args.sizes)], recs[max(args.sizes)]

    def ratio(field):
        a, b = large.get(field), small.get(field)
        return None if a is None or not b else round(a / b, 4)

    ratio_peak = ratio("peak_rss_mb")
    summary = {
        "system": "neuromass",
        "workload": "W2-memory-ratio",
        "points": [min(args.sizes), max(args.sizes)],
        "chunk": args.batch,
        "steps": args.steps,
        "interp": args.interp,
        "store": bool(args.store),
        "peak_rss_mb": [small["peak_rss_mb"], large["peak_rss_mb"]],
        "ratio_peak_rss": ratio_peak,
        "sweep_peak_rss_mb": [small["sweep_peak_rss_mb"], large["sweep_peak_rss_mb"]],
        "ratio_sweep_peak_rss": ratio("sweep_peak_rss_mb"),
        "sweep_growth_mb": [small["sweep_growth_mb"], large["sweep_growth_mb"]],
        "sweep_s": [small["sweep_s"], large["sweep_s"]],
        "bar": BAR,
        "met": None if ratio_peak is None else ratio_peak <= BAR,
    }
    print(json.dumps(summary), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=256, help="k values in [0, 1.5]")
    p.add_argument("--batch", type=int, default=256, help="sweep batch_size (chunk)")
    p.add_argument(
        "--steps",
        type=int,
        default=C.N_STEPS,
        help="Heun steps per run (default 10,000 = W2; a multiple of 10)",
    )
    p.add_argument("--interp", choices=["nearest", "linear", "cubic"], default="linear")
    p.add_argument("--devices", type=int, default=1, help="host devices")
    p.add_argument("--store", action="store_true", help="sweep into a temp store")
    p.add_argument("--sample-ms", type=float, default=5.0, help="RSS sampling period")
    p.add_argument(
        "--compare",
        action="store_true",
        help="run --sizes as separate processes and print peak(large)/peak(small)",
    )
    p.add_argument("--sizes", type=int, nargs=2, default=[256, 4096])
    args = p.parse_args(argv)
    if args.steps < 10 * C.SAVE_STRIDE or args.steps % C.SAVE_STRIDE:
        p.error(f"--steps must be a multiple of {C.SAVE_STRIDE}, at least 100")
    if args.compare:
        passthrough = [
            "--batch", str(args.batch), "--steps", str(args.steps),
            "--interp", args.interp, "--devices", str(args.devices),
            "--sample-ms", str(args.sample_ms),
        ]  # fmt: skip
        if args.store:
            passthrough.append("--store")
        compare(args, passthrough)
    else:
        measure(args)


if __name__ == "__main__":
    main()
