"""Surface simulation speed: Generic2dOscillator on TVB's 16,384-vertex cortex
(precomputed local connectivity, 76-region delayed linear coupling, Heun,
dt = 2^-4 ms), as issue "cortical surface simulation" measures it.

Rows (wall time per simulated ms, medians of alternated repeats in one process):

- `neuromass raw`: `nm.simulate` of the surface network, states saved every 1 ms;
- `neuromass monitors`: with temporal and spatial (region) averages and two EEG
  projections (as TVB's `TemporalAverage`, `SpatialAverage` and `EEG` monitors);
- `floor`: a hand-written minimal JAX Heun step (the local product and the node
  update alone, no delays, no monitors), as the lower bound;
- `tvb raw`, `tvb monitors`: tvb-library's own surface simulation of the same
  setting (a short run), when tvb-library and tvb-data are installed;
- `gradient`: `jax.value_and_grad` of a 100 ms run (w.r.t. the local coupling
  strength and k) against the forward run;
- `vmap 8`: an ensemble of 8 runs (vmapped `k`) against one run.

Usage: `python benchmarks/surface_bench.py [--t1 MS] [--repeats N] [--skip-tvb]`.
Prints one JSON line per row and a summary table.
"""

import argparse
import json
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import neuromass as nm


DT = 2.0**-4


def _network():
    cortex = nm.datasets.load_cortex()
    conn = nm.datasets.load_connectome("tvb76")
    w = np.asarray(conn.weights, float)
    np.fill_diagonal(w, 0.0)
    w /= w.max()
    net = nm.SurfaceNetwork(
        nm.models.Generic2dOscillator(),
        cortex,
        w,
        lengths=conn.lengths,
        speed=10.0,
        coupling=nm.coupling.Linear(a=0.1),
    )
    return net, cortex


def _monitors(cortex):
    gain = np.nan_to_num(np.load(_tvb_data_file("projection_eeg_65_surface_16k.npy")))
    mask = np.asarray(cortex.region_mapping)
    return [
        nm.monitors.TemporalAverage(1.0, variables="V"),
        nm.monitors.SpatialAverage(mask, every=1.0, variables="V"),
        nm.monitors.Projection(gain, "V", every=1.0, reference="average", name="eeg1"),
        nm.monitors.Projection(gain, "V", every=2.0, reference="average", name="eeg2"),
    ]


def _tvb_data_file(name):
    import importlib.resources

    import tvb_data

    root = importlib.resources.files(tvb_data)
    for path in ("projectionMatrix", "sensors", "surfaceData", "."):
        candidate = root / path / name
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(name)


def _time(fn, repeats):
    jax.block_until_ready(fn())  # compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _floor(net, t1):
    """A minimal JAX Heun step: the local product (segment sum over the stored
    entries) and the Generic2dOscillator update, nothing else."""
    lc = net.cortex.local_connectivity
    pattern = lc.pattern
    rows = np.repeat(np.arange(pattern.n), np.diff(pattern.indptr)).astype(np.int32)
    cols = np.asarray(pattern.indices, np.int32)
    values = lc.data
    p = net.node
    steps = int(round(t1 / DT))

    def f(V, W):
        lc_v = jax.ops.segment_sum(values * V[cols], rows, num_segments=pattern.n)
        dV = p.d * p.tau * (p.alpha * W - p.f * V**3 + p.e * V**2 + p.g * V
                            + p.gamma * p.I + lc_v)  # fmt: skip
        dW = p.d * (p.a + p.b * V + p.c * V**2 - p.beta * W) / p.tau
        return dV, dW

    def step(c, _):
        V, W = c
        a1, b1 = f(V, W)
        a2, b2 = f(V + DT * a1, W + DT * b1)
        return (V + DT / 2 * (a1 + a2), W + DT / 2 * (b1 + b2)), None

    run = jax.jit(lambda V, W: jax.lax.scan(step, (V, W), None, length=steps)[0])
    V0 = jnp.zeros(pattern.n)
    return lambda: run(V0, V0)


def _tvb(t1, monitors):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.datatypes import connectivity, cortex as tvb_cortex
        from tvb.simulator import (
            coupling,
            integrators,
            models,
            monitors as tvb_monitors,
            simulator,
        )

        conn = connectivity.Connectivity.from_file("connectivity_76.zip")
        w = np.array(conn.weights, float)
        np.fill_diagonal(w, 0.0)
        conn.weights = w / w.max()
        conn.speed = np.array([10.0])
        ctx = tvb_cortex.Cortex.from_file(
            source_file="cortex_16384.zip",
            region_mapping_file="regionMapping_16k_76.txt",
            local_connectivity_file="local_connectivity_16384.mat",
        )
        ctx.region_mapping_data.connectivity = conn
        ctx.region_mapping_data.surface.configure()
        mons = [tvb_monitors.Raw()]
        if monitors:
            mons = [
                tvb_monitors.TemporalAverage(period=1.0),
                tvb_monitors.SpatialAverage(period=1.0),
                tvb_monitors.EEG.from_file(period=1.0),
                tvb_monitors.EEG.from_file(period=2.0),
            ]
        sim = simulator.Simulator(
            model=models.Generic2dOscillator(),
            connectivity=conn,
            coupling=coupling.Linear(a=np.array([0.1])),
            integrator=integrators.HeunDeterministic(dt=DT),
            monitors=mons,
            surface=ctx,
            simulation_length=t1,
        )
        sim.configure()
        t = time.perf_counter()
        sim.run()
        return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--t1", type=float, default=100.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tvb-t1", type=float, default=50.0)
    ap.add_argument("--skip-tvb", action="store_true")
    ap.add_argument("--skip-grad", action="store_true")
    args = ap.parse_args()
    net, cortex = _network()
    kw = dict(t1=args.t1, dt=DT, save_every=1.0, interpolation="nearest")
    rows = {}

    def record(name, seconds, per_ms):
        rows[name] = per_ms
        print(json.dumps(dict(row=name, seconds=seconds, ms_per_simulated_ms=per_ms)))

    s = _time(lambda: nm.simulate(net, **kw).ys, args.repeats)
    record("neuromass raw", s, 1e3 * s / args.t1)
    mons = _monitors(cortex)
    s = _time(
        lambda: nm.simulate(net, monitors=mons, variables="V", **kw).monitors,
        args.repeats,
    )
    record("neuromass monitors", s, 1e3 * s / args.t1)
    s = _time(_floor(net, args.t1), args.repeats)
    record("floor (minimal Heun step)", s, 1e3 * s / args.t1)
    if not args.skip_tvb:
        for monitors in (False, True):
            s = _tvb(args.tvb_t1, monitors)
            name = "tvb monitors" if monitors else "tvb raw"
            record(name, s, 1e3 * s / args.tvb_t1)
    if not args.skip_grad:
        gkw = dict(kw, t1=100.0)

        def loss(p):
            n = eqx.tree_at(lambda m: (m.local_strength, m.k), net, p)
            return jnp.mean(nm.simulate(n, **gkw)["V"] ** 2)

        p0 = (jnp.asarray(1.0), jnp.asarray(1.0))
        fwd = _time(lambda: loss(p0), args.repeats)
        vg = jax.value_and_grad(loss)
        grad = _time(lambda: vg(p0), args.repeats)
        print(json.dumps(dict(row="gradient / forward (100 ms)", ratio=grad / fwd)))
        rows["gradient / forward"] = grad / fwd

    def one(k):
        n = eqx.tree_at(lambda m: m.k, net, k)
        return nm.simulate(n, **dict(kw, t1=min(args.t1, 50.0))).ys

    single = _time(lambda: one(jnp.asarray(1.0)), args.repeats)
    batch = _time(lambda: jax.vmap(one)(jnp.linspace(0.5, 1.5, 8)), args.repeats)
    print(json.dumps(dict(row="vmap 8 / one", ratio=batch / single)))
    rows["vmap 8 / one"] = batch / single
    print("\n".join(f"{k:32s} {v:10.3f}" for k, v in rows.items()))


if __name__ == "__main__":
    main()
