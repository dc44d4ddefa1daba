"""Every node model on a 76-region delayed network: 1 s at dt = 0.1 ms (Heun, linear
delay interpolation) at the model's default parameters. Checks that nothing is
NaN and reports the per-step cost, one JSON line per model:

    python benchmarks/models_bench.py            # all models
    python benchmarks/models_bench.py Hopf JansenRit

Connectome: TVB's 76 regions (tvb-data) prepared as in WORKLOADS.md (weights / max,
zero diagonal, 10 mm/ms), or the bundled default when tvb-data is missing. The
coupling is each model's usual one, with The Virtual Brain's default strength.
"""

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import neuromass as nm


# coupling per model (TVB's usual choice) and its default strength in TVB
COUPLINGS = {
    "JansenRit": (nm.coupling.SigmoidalJansenRit(), 1.0),
    "Kuramoto": (nm.coupling.Kuramoto(), 1.0),
    "Hopf": (nm.coupling.Diffusive(), 0.1),
    "Epileptor": (nm.coupling.Diffusive(), 0.1),
    "Epileptor2D": (nm.coupling.Diffusive(), 0.1),
}
DEFAULT = (nm.coupling.Linear(), 1.0 / 256.0)


def connectome():
    try:
        conn = nm.datasets.load_connectome("tvb76")
    except ImportError:
        conn = nm.datasets.load_connectome()
    w = np.asarray(conn.weights)
    return conn.name, w / w.max(), np.asarray(conn.lengths)


def main(names):
    source, w, lengths = connectome()
    infos = [m for m in nm.models.list_models() if not names or m.name in names]
    for info in infos:
        coupling, k = COUPLINGS.get(info.name, DEFAULT)
        node = info.cls()
        net = nm.Network(node, w, lengths=lengths, speed=10.0, coupling=coupling, k=k)

        @jax.jit
        def run(net):
            sol = nm.simulate(net, t1=1000.0, dt=0.1, save_every=1.0)
            return {v: x for v, x in sol.ys.items()}

        t = time.perf_counter()
        out = jax.block_until_ready(run(net))
        compile_s = time.perf_counter() - t
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            out = jax.block_until_ready(run(net))
            runs.append(time.perf_counter() - t)
        steady = float(np.median(runs))
        finite = all(bool(jnp.isfinite(x).all()) for x in out.values())
        rec = dict(
            system="neuromass",
            workload="models-1s",
            model=info.name,
            connectome=source,
            n=w.shape[0],
            edges=net.n_edges,
            states=info.n_states,
            coupling=type(coupling).__name__,
            finite=finite,
            compile_s=round(compile_s, 3),
            steady_s=round(steady, 4),
            us_per_step=round(steady / 10_000 * 1e6, 2),
            region_steps_per_s=float(f"{w.shape[0] * 10_000 / steady:.4g}"),
        )
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
