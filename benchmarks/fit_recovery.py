"""Recovery studies of `nm.fit` on rugged and smooth whole-brain problems.

Three models on TVB's 76-region connectome (`tvb-data`, weights / max, tract
lengths at 10 mm/ms), each fitted to targets simulated with known parameters:

- `jr`: Jansen-Rit, sigmoidal coupling, 2 s runs with a fixed noise key, FC of
  y1 - y2 (`nm.metrics.fc_mse`); recover `k`. The rugged problem of issue 23.
- `ww`: reduced Wong-Wang (excitatory-inhibitory), BOLD FC; recover `k` and `w_p`.
- `hopf`: Hopf oscillators below the bifurcation, FC of x; recover `k` and `a`.

Each model has 10 problems (different true parameters, noise keys and far-away
starts). Strategies: `adam` (single start), `multistart`, `cmaes`, `hybrid`
(CMA-ES then Adam from its best candidates). A problem is recovered when every
fitted parameter is within 10 % of its true value. Every fit's wall time
includes its compilation (a new target is a new loss); peak memory is the
process's peak RSS (one process per model x strategy).

Usage (one JSON line per fit, then a summary line):

    python benchmarks/fit_recovery.py study jr hybrid            # 10 problems
    python benchmarks/fit_recovery.py study hopf adam --problems 3 --quick
    python benchmarks/fit_recovery.py landscape jr               # loss scans
    python benchmarks/fit_recovery.py grid jr                    # grid vs CMA-ES
    python benchmarks/fit_recovery.py all                        # every study, one
                                                                 # process each
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"


# ------------------------------------------------------------------ the problems
class Problem:
    """One model's family of recovery problems."""

    name: str
    names: tuple[str, ...]  # fitted parameters, paths in the model
    bounds: dict[str, tuple[float, float]]

    def network(self, values, key_index):  # the model at parameter values
        raise NotImplementedError

    def loss_for(self, target_values, key_index):  # deterministic loss(model)
        raise NotImplementedError

    def truth(self, i):  # true parameters of problem i
        raise NotImplementedError

    def start(self, i):  # far-away start of problem i
        raise NotImplementedError


def _connectome():
    import numpy as np

    import neuromass as nm

    conn = nm.datasets.load_connectome("tvb76")
    w = np.asarray(conn.weights, dtype=float)
    np.fill_diagonal(w, 0.0)
    return w / w.max(), np.asarray(conn.lengths, dtype=float)


class JansenRit(Problem):
    name = "jr"
    names = ("k",)
    bounds = {"k": (0.005, 0.3)}
    t1, dt, sigma = 2000.0, 0.1, 0.01

    def __init__(self):
        self.w, self.lengths = _connectome()

    def network(self, values, key_index=0):
        import neuromass as nm

        return nm.Network(
            nm.models.JansenRit(),
            self.w,
            lengths=self.lengths,
            speed=10.0,
            coupling="sigmoidal_jansen_rit",
            k=values["k"],
            noise=nm.noise.Additive(self.sigma, variables=("y4",)),
        )

    def signal(self, net, key):
        import neuromass as nm

        sol = nm.simulate(
            net, t1=self.t1, dt=self.dt, save_every=1.0, key=key,
            variables=("y1", "y2"),
        )  # fmt: skip
        return nm.metrics.fc(sol["y1"] - sol["y2"])

    def loss_for(self, target_values, key_index):
        import equinox as eqx
        import jax

        import neuromass as nm

        key = jax.random.key(1000 + key_index)
        target = eqx.filter_jit(self.signal)(self.network(target_values), key)

        def loss(net):
            return nm.metrics.fc_mse(self.signal(net, key), target)

        return loss

    def truth(self, i):
        return {"k": [0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15][i]}

    def start(self, i):
        k = self.truth(i)["k"]
        return {"k": 0.3 * k if i % 2 == 0 else min(2.2 * k, 0.28)}


class Hopf(Problem):
    name = "hopf"
    names = ("k", "node.a")
    bounds = {"k": (0.001, 0.5), "node.a": (-0.2, -0.001)}
    t1, dt, transient, sigma, omega = 4000.0, 0.2, 500.0, 0.02, 0.06

    def __init__(self):
        self.w, self.lengths = _connectome()

    def network(self, values, key_index=0):
        import neuromass as nm

        return nm.Network(
            nm.models.Hopf(a=values["node.a"], omega=self.omega),
            self.w,
            lengths=self.lengths,
            speed=10.0,
            coupling="diffusive",
            k=values["k"],
            noise=nm.noise.Additive(self.sigma),
        )

    def signal(self, net, key):
        import diffrax

        import neuromass as nm

        sol = nm.simulate(
            net, t1=self.t1, dt=self.dt, save_every=2.0, transient=self.transient,
            key=key, solver=diffrax.Euler(), variables=("x",),
        )  # fmt: skip
        return nm.metrics.fc(sol["x"])

    loss_for = JansenRit.loss_for

    def truth(self, i):
        ks = [0.05, 0.08, 0.1, 0.12, 0.15, 0.06, 0.09, 0.11, 0.14, 0.07]
        aa = [-0.02, -0.05, -0.03, -0.08, -0.04, -0.06, -0.02, -0.1, -0.05, -0.03]
        return {"k": ks[i], "node.a": aa[i]}

    def start(self, i):
        t = self.truth(i)
        if i % 2 == 0:
            return {"k": 0.3 * t["k"], "node.a": max(3.0 * t["node.a"], -0.19)}
        return {"k": min(3.0 * t["k"], 0.45), "node.a": t["node.a"] / 3.0}


class WongWang(Problem):
    name = "ww"
    names = ("k", "node.w_p")
    bounds = {"k": (0.01, 1.0), "node.w_p": (1.0, 1.6)}
    t1, dt, tr, sigma = 62_000.0, 1.0, 720.0, 0.01

    def __init__(self):
        self.w, self.lengths = _connectome()

    def network(self, values, key_index=0):
        import neuromass as nm

        return nm.Network(
            nm.models.ReducedWongWangExcInh(w_p=values["node.w_p"]),
            self.w,
            coupling="linear",
            k=values["k"],
            noise=nm.noise.Additive(self.sigma),
        )

    def signal(self, net, key):
        import diffrax

        import neuromass as nm

        sol = nm.simulate(
            net, t1=self.t1, dt=self.dt, save_every=self.tr, transient=2000.0,
            key=key, solver=diffrax.Euler(), variables=("S_e",),
            monitors=[nm.monitors.Bold("S_e", tr=self.tr)],
        )  # fmt: skip
        return nm.metrics.fc(sol["bold"])

    loss_for = JansenRit.loss_for

    def truth(self, i):
        ks = [0.2, 0.3, 0.4, 0.5, 0.25, 0.35, 0.45, 0.3, 0.4, 0.2]
        wp = [1.4, 1.3, 1.2, 1.4, 1.45, 1.25, 1.35, 1.5, 1.3, 1.2]
        return {"k": ks[i], "node.w_p": wp[i]}

    def start(self, i):
        t = self.truth(i)
        if i % 2 == 0:
            return {"k": 0.3 * t["k"], "node.w_p": 1.05}
        return {"k": min(2.5 * t["k"], 0.95), "node.w_p": 1.55}


PROBLEMS = {p.name: p for p in (JansenRit, Hopf, WongWang)}


# ------------------------------------------------------------------- landscapes
def landscape(model: str, which: str, points: int, lanes: int, gradient: bool):
    import jax

    import neuromass as nm

    prob = PROBLEMS[model]()
    truth = prob.truth(4)
    loss = prob.loss_for(truth, 4)
    net = prob.network(truth)
    name = prob.names[0] if which == "coarse" else which
    lo, hi = prob.bounds[name]
    if which == "fine":
        name = prob.names[0]
        lo, hi = 0.3 * truth[name], 0.3 * truth[name] + 1e-4 * (points - 1)
    t0 = time.perf_counter()
    land = nm.landscape(
        loss, net, {name: nm.GridAxis(lo, hi, points)}, gradient=gradient,
        lanes=lanes, progress=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    record = {
        "model": model,
        "scan": which,
        "axis": name,
        "values": land.coords[name].tolist(),
        "loss": land.loss.tolist(),
        "slope": land.slope.get(name, []).tolist() if gradient else None,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(C.peak_rss_mb()),
        "truth": truth,
        "jax": jax.__version__,
    }
    print(json.dumps(record), flush=True)


# ------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("landscape", help="scan the loss of problem 4")
    p.add_argument("model", choices=sorted(PROBLEMS))
    p.add_argument("which", help="coarse, fine, or a parameter path")
    p.add_argument("--points", type=int, default=31)
    p.add_argument("--lanes", type=int, default=4)
    p.add_argument("--gradient", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "landscape":
        landscape(args.model, args.which, args.points, args.lanes, args.gradient)


if __name__ == "__main__":
    main()
