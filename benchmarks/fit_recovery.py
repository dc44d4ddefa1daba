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

Usage (one JSON line per fit, then a summary line; numbers in
benchmarks/README.md and docs/fitting.md):

    python benchmarks/fit_recovery.py study jr hybrid            # 10 problems
    python benchmarks/fit_recovery.py study hopf adam --problems 3 --quick
    python benchmarks/fit_recovery.py all --out results.jsonl    # every study, one
                                                                 # process each
    python benchmarks/fit_recovery.py grid jr                    # grid vs CMA-ES

Measurements of the landscapes behind the choice of settings (one JSON line each):

    python benchmarks/fit_recovery.py landscape jr coarse        # loss along k
    python benchmarks/fit_recovery.py ripples --t1 2000 --seed 0 # gradient vs slope
    python benchmarks/fit_recovery.py ripples --n 4 --seed 0     # noise-averaged
    python benchmarks/fit_recovery.py loglik                     # FC log-likelihood
    python benchmarks/fit_recovery.py noise-floor                # FC: noise vs k
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
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

    def quick(self):  # shorter runs, for a smoke test of the script
        self.t1 = self.quick_t1


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
    quick_t1 = 200.0

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
    bounds = {"k": (0.001, 0.4), "node.a": (-0.2, -0.001)}
    t1, dt, transient, sigma, omega = 2500.0, 0.2, 500.0, 0.02, 0.06
    quick_t1 = 700.0

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
        return {"k": min(3.0 * t["k"], 0.38), "node.a": t["node.a"] / 3.0}


class WongWang(Problem):
    name = "ww"
    names = ("k", "node.w_p")
    bounds = {"k": (0.01, 0.5), "node.w_p": (1.0, 1.6)}
    t1, dt, tr, sigma = 32_000.0, 1.0, 720.0, 0.01
    quick_t1 = 6000.0

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
        ks = [0.06, 0.08, 0.1, 0.12, 0.15, 0.07, 0.09, 0.11, 0.13, 0.14]
        wp = [1.4, 1.3, 1.2, 1.45, 1.35, 1.25, 1.5, 1.3, 1.4, 1.2]
        return {"k": ks[i], "node.w_p": wp[i]}

    def start(self, i):
        t = self.truth(i)
        if i % 2 == 0:
            return {"k": 0.3 * t["k"], "node.w_p": 1.05}
        return {"k": min(3.0 * t["k"], 0.45), "node.w_p": 1.55}


PROBLEMS = {p.name: p for p in (JansenRit, Hopf, WongWang)}


# ------------------------------------------------------------------- landscapes
def landscape(model: str, which: str, points: int, lanes: int, gradient: bool):
    import jax

    import neuromass as nm

    prob = PROBLEMS[model]()
    truth = prob.truth(4)
    loss = prob.loss_for(truth, 4)
    net = prob.network(truth)
    if which in ("coarse", "fine", "truth"):
        name = prob.names[0]
    else:
        name = which
    lo, hi = prob.bounds[name]
    if which == "fine":  # steps of 1e-4 from the far start of problem 4
        lo, hi = 0.3 * truth[name], 0.3 * truth[name] + 1e-4 * (points - 1)
    if which == "truth":  # steps of 1e-4 across the truth of problem 4
        name = prob.names[0]
        half = 0.5e-4 * (points - 1)
        lo, hi = truth[name] - half, truth[name] + half
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


def ripples(
    t1: float,
    n: int,
    dt: float,
    points: int,
    lanes: int,
    regions: int,
    seed: int,
    stat: str = "fc",
):
    """How rugged the Jansen-Rit loss is at a run length `t1` (ms) averaged over
    `n` noise realisations: at `points` values of k away from the truth (0.1),
    the loss's gradient against the secant slope over +-0.004 (the landscape at the
    scale of a few Adam steps). `stat`: `"fc"` (`fc_mse`) or `"psd"` (mean squared
    difference of the log power spectra, 2-40 Hz, Welch segments of 500 ms). One
    JSON line."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import neuromass as nm

    prob = JansenRit()
    prob.t1, prob.dt = t1, dt
    if regions < len(prob.w):
        w = prob.w[:regions, :regions]
        prob.w, prob.lengths = w / w.max(), prob.lengths[:regions, :regions]
    truth = {"k": 0.1}
    key = jax.random.key(seed)
    import equinox as eqx

    if stat == "psd":

        def signal(net, k):
            sol = nm.simulate(
                net, t1=prob.t1, dt=prob.dt, save_every=1.0, key=k,
                variables=("y1", "y2"),
            )  # fmt: skip
            _, power = nm.metrics.psd(sol["y1"] - sol["y2"], dt=1.0, nperseg=500)
            return jnp.log(power[1:21] + 1e-12)  # 2-40 Hz in steps of 2 Hz

        def compare(a, b):
            return jnp.mean((a - b) ** 2)
    else:
        signal, compare = prob.signal, nm.metrics.fc_mse
    target = eqx.filter_jit(signal)(prob.network(truth), key)

    def noisy(net, k):
        return compare(signal(net, k), target)

    if n == 1:

        def loss(net):
            return noisy(net, key)

    else:
        # one realisation at a time (`batch_size=1`): the memory of one gradient
        loss = nm.ensemble_loss(noisy, n, key=jax.random.key(77), batch_size=1)
    ks = np.linspace(0.03, 0.18, points)
    ks = ks[np.abs(ks - 0.1) > 0.015]
    net = prob.network(truth)
    t0 = time.perf_counter()
    at = nm.landscape(
        loss, net, nm.Space({"k": nm.DataAxis(ks)}, mode="zip"), gradient=True,
        lanes=lanes, progress=False,
    )  # fmt: skip
    side = nm.landscape(
        loss, net, nm.Space({"k": nm.DataAxis(np.concatenate([ks - 0.004,
        ks + 0.004]))}, mode="zip"), lanes=8, progress=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    lo, hi = np.split(np.asarray(side.loss), 2)
    secant = (hi - lo) / 0.008
    g = np.asarray(at.slope["k"])
    record = {
        "ripples": True,
        "stat": stat,
        "regions": regions,
        "seed": seed,
        "t1": t1,
        "dt": dt,
        "n": n,
        "k": ks.tolist(),
        "loss": np.asarray(at.loss).tolist(),
        "gradient": g.tolist(),
        "secant": secant.tolist(),
        "wrong_sign": int(np.sum(np.sign(g) != np.sign(secant))),
        "points": len(ks),
        "median_rel_error": float(np.median(np.abs(g - secant) / np.abs(secant))),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(C.peak_rss_mb()),
    }
    print(json.dumps(record), flush=True)


def loglik_scan(regions: int, t1: float, points: int, spacing: float, seed: int):
    """The Gaussian FC log-likelihood of `neuromass.inference` (Fisher z,
    sigma = 1 / sqrt(T - 3) for T one-ms samples) of the Jansen-Rit problem along k
    across its truth (0.1), at `points` values `spacing` apart: how many local
    maxima a sampler's chain meets, and how deep the valleys between them are (in
    nats). One JSON line."""
    import equinox as eqx
    import jax
    import numpy as np

    import neuromass as nm
    import neuromass.inference as nmi

    prob = JansenRit()
    prob.t1 = t1
    if regions < len(prob.w):
        w = prob.w[:regions, :regions]
        prob.w, prob.lengths = w / w.max(), prob.lengths[:regions, :regions]
    key = jax.random.key(seed)

    def observe(net):
        sol = nm.simulate(
            net, t1=prob.t1, dt=prob.dt, save_every=1.0, key=key,
            variables=("y1", "y2"),
        )  # fmt: skip
        return sol["y1"] - sol["y2"]

    truth = prob.network({"k": 0.1})
    observed = nm.metrics.fc(eqx.filter_jit(observe)(truth))
    n_samples = int(round(t1))
    lik = nmi.GaussianFC(observed, observe, sigma=1.0 / np.sqrt(n_samples - 3))

    def neg_loglik(net):
        return -lik(net)

    half = 0.5 * spacing * (points - 1)
    t0 = time.perf_counter()
    land = nm.landscape(
        neg_loglik, truth, {"k": nm.GridAxis(0.1 - half, 0.1 + half, points)},
        lanes=8, progress=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    ll = -np.asarray(land.loss, dtype=float)
    interior = (ll[1:-1] > ll[:-2]) & (ll[1:-1] > ll[2:])
    maxima = np.flatnonzero(interior) + 1
    # the deepest dip between neighbouring local maxima (nats)
    dips = [
        float(min(ll[a], ll[b]) - ll[a : b + 1].min())
        for a, b in zip(maxima[:-1], maxima[1:])
    ]
    record = {
        "loglik_scan": True,
        "regions": regions,
        "t1": t1,
        "seed": seed,
        "k": land.coords["k"].tolist(),
        "loglik": ll.tolist(),
        "local_maxima": int(len(maxima)),
        "deepest_dip_nats": max(dips) if dips else 0.0,
        "median_dip_nats": float(np.median(dips)) if dips else 0.0,
        "range_nats": float(ll.max() - ll.min()),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(C.peak_rss_mb()),
    }
    print(json.dumps(record), flush=True)


def noise_floor(t1s: list[float], realisations: int, save_every: float):
    """How much of the Jansen-Rit FC is the noise realisation and how much the
    coupling: FCs of `realisations` noise keys at k = 0.05, 0.1, 0.15 for each run
    length in `t1s` (ms, samples every `save_every` ms). `within`: the mean
    `fc_mse` between two realisations at the same k (what a fit against data from
    another realisation cannot remove); `between`: `fc_mse` between the
    realisation-averaged FCs at 0.1 and at 0.05 / 0.15 (what k changes). One JSON
    line per run length."""
    import itertools

    import equinox as eqx
    import jax
    import numpy as np

    import neuromass as nm

    prob = JansenRit()
    base = prob.network({"k": 0.1})
    ks = [0.05, 0.1, 0.15]
    for t1 in t1s:

        def fc(point, t1=t1):
            net = eqx.tree_at(lambda n: n.k, base, point["k"])
            sol = nm.simulate(
                net, t1=t1, dt=prob.dt, save_every=save_every,
                key=jax.random.key(point["r"]), variables=("y1", "y2"),
            )  # fmt: skip
            return {"fc": nm.metrics.fc(sol["y1"] - sol["y2"])}

        space = nm.Space(
            {"k": nm.DataAxis(ks), "r": nm.DataAxis(np.arange(realisations))},
            mode="product",
        )
        t0 = time.perf_counter()
        res = nm.sweep(fc, space, lanes=6, progress=False)
        wall = time.perf_counter() - t0
        fcs = np.asarray(res.grid("fc"))  # (k, r, N, N)
        iu = np.triu_indices(fcs.shape[-1], 1)
        u = fcs[..., iu[0], iu[1]]  # (k, r, pairs)
        within = np.mean(
            [
                np.mean((u[i, a] - u[i, b]) ** 2)
                for i in range(len(ks))
                for a, b in itertools.combinations(range(realisations), 2)
            ]
        )
        mean = u.mean(axis=1)
        between = [float(np.mean((mean[1] - mean[j]) ** 2)) for j in (0, 2)]
        record = {
            "noise_floor": True,
            "t1": t1,
            "save_every": save_every,
            "realisations": realisations,
            "within": float(within),
            "between_0.05": between[0],
            "between_0.15": between[1],
            "ratio": float(min(between) / within),
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(C.peak_rss_mb()),
        }
        print(json.dumps(record), flush=True)


# ------------------------------------------------------------------- strategies
#: Per model and strategy: the keywords of `nm.fit` (besides model, loss, params
#: and constraints). Chosen from the landscape scans and the per-evaluation costs
#: (see benchmarks/README.md, "Recovery studies").
def settings(model: str, strategy: str, quick: bool) -> dict:
    import optax

    import neuromass as nm

    s = dict(SETTINGS[model][strategy])
    if quick:  # a smoke test of the machinery, not a measurement
        s = {k: v for k, v in QUICK_SETTINGS[strategy].items()}
    kw = {}
    if "lr" in s:
        kw["optimizer"] = optax.adam(s["lr"])
        kw["steps"] = s["steps"]
    if "population" in s:
        kw["strategy"] = nm.CMAES(
            population_size=s["population"],
            generations=s["generations"],
            sigma=s["sigma"],
        )
    if "starts" in s:
        kw["starts"] = s["starts"]
    if "lanes" in s:
        kw["lanes"] = s["lanes"]
    return kw


SETTINGS = {
    "jr": {
        "adam": dict(lr=0.2, steps=20),
        "multistart": dict(lr=0.2, steps=8, starts=4, lanes=2),
        "cmaes": dict(population=8, generations=8, sigma=1.0),
        "hybrid": dict(
            population=8,
            generations=5,
            sigma=1.0,
            lr=0.05,
            steps=4,
            starts=2,
            lanes=2,
        ),
    },
    "hopf": {
        "adam": dict(lr=0.1, steps=25),
        "multistart": dict(lr=0.1, steps=15, starts=4, lanes=2),
        "cmaes": dict(population=12, generations=10, sigma=1.0),
        "hybrid": dict(
            population=12,
            generations=6,
            sigma=1.0,
            lr=0.05,
            steps=12,
            starts=2,
            lanes=2,
        ),
    },
    "ww": {
        "adam": dict(lr=0.1, steps=25),
        "multistart": dict(lr=0.1, steps=12, starts=4, lanes=2),
        "cmaes": dict(population=12, generations=10, sigma=1.0),
        "hybrid": dict(
            population=12,
            generations=8,
            sigma=1.0,
            lr=0.05,
            steps=30,  # 12 left k 10.4-10.5 % off in 2 of 10 (the k-w_p ridge)
            starts=2,
            lanes=2,
        ),
    },
}

QUICK_SETTINGS = {
    "adam": dict(lr=0.2, steps=3),
    "multistart": dict(lr=0.2, steps=2, starts=2, lanes=2),
    "cmaes": dict(population=4, generations=2, sigma=1.0),
    "hybrid": dict(
        population=4, generations=2, sigma=1.0, lr=0.05, steps=2, starts=2, lanes=2
    ),
}

STRATEGIES = ("adam", "multistart", "cmaes", "hybrid")


def _getter(path: str):
    from neuromass.sweeps._space import _getter as getter

    return getter(path)


def study(model: str, strategy: str, problems: int, quick: bool, first: int = 0):
    """Fit problems `first` .. `first + problems - 1`; one JSON line each, then a
    summary line."""
    import jax
    import numpy as np

    import neuromass as nm

    prob = PROBLEMS[model]()
    if quick:
        prob.quick()
    getters = [_getter(n) for n in prob.names]
    constraints = {g: nm.Bounded(*prob.bounds[n]) for g, n in zip(getters, prob.names)}

    def params(net):
        return tuple(g(net) for g in getters)

    rows = []
    for i in range(first, first + problems):
        truth, start = prob.truth(i), prob.start(i)
        t_target = time.perf_counter()
        loss = prob.loss_for(truth, i)
        t_target = time.perf_counter() - t_target
        kw = settings(model, strategy, quick)
        t0 = time.perf_counter()
        if "strategy" in kw or "starts" in kw:
            kw["search_key"] = jax.random.key(i)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nm.RuggedLossWarning)
            fitted, trace = nm.fit(
                prob.network(start), loss, params=params, constraints=constraints,
                progress=False, **kw,
            )  # fmt: skip
        wall = time.perf_counter() - t0
        rugged = any(issubclass(w.category, nm.RuggedLossWarning) for w in caught)
        got = {n: float(np.asarray(g(fitted))) for n, g in zip(prob.names, getters)}
        rel = {n: abs(got[n] - truth[n]) / abs(truth[n]) for n in prob.names}
        evaluations = _evaluations(trace)
        row = {
            "model": model,
            "strategy": strategy,
            "problem": i,
            "truth": truth,
            "start": start,
            "fitted": got,
            "rel_error": {n: round(v, 4) for n, v in rel.items()},
            "success": bool(max(rel.values()) <= 0.1),
            "best_loss": float(trace.best_loss),
            "evaluations": evaluations,
            "rugged_warning": rugged,
            "wall_s": round(wall, 1),
            "target_s": round(t_target, 1),
            "peak_rss_mb": round(C.peak_rss_mb()),
            "quick": quick,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    walls = [r["wall_s"] for r in rows]
    print(
        json.dumps(
            {
                "summary": True,
                "model": model,
                "strategy": strategy,
                "settings": (
                    QUICK_SETTINGS[strategy] if quick else SETTINGS[model][strategy]
                ),
                "success": sum(r["success"] for r in rows),
                "problems": len(rows),
                "wall_s_median": round(float(np.median(walls)), 1),
                "wall_s_max": round(float(np.max(walls)), 1),
                "wall_s_total": round(float(np.sum(walls)), 1),
                "peak_rss_mb": round(C.peak_rss_mb()),
                "environment": C.environment(),
            }
        ),
        flush=True,
    )


def _evaluations(trace) -> dict:
    import neuromass as nm

    out = {}
    if isinstance(trace, nm.GlobalTrace):
        out["loss"] = trace.evaluations
    elif isinstance(trace, nm.MultiStartTrace):
        out["value_and_grad"] = int(trace.loss.size)
        if trace.global_phase is not None:
            out["loss"] = trace.global_phase.evaluations
    else:
        out["value_and_grad"] = int(trace.steps)
    return out


def grid(model: str, points: int, problems: int):
    """A grid sweep of the loss over the first parameter's box (the others at their
    truth would be cheating: for a 1-parameter problem only), best grid point as
    the estimate; the same JSON lines as `study`."""
    import numpy as np

    import neuromass as nm

    prob = PROBLEMS[model]()
    if len(prob.names) != 1:
        raise SystemExit("`grid` compares on one-parameter problems (jr).")
    name = prob.names[0]
    lo, hi = prob.bounds[name]
    rows = []
    for i in range(problems):
        truth = prob.truth(i)
        loss = prob.loss_for(truth, i)
        t0 = time.perf_counter()
        land = nm.landscape(
            loss, prob.network(prob.start(i)), {name: nm.GridAxis(lo, hi, points)},
            lanes=8, progress=False,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        got = float(land.argmin()[name])
        rel = abs(got - truth[name]) / abs(truth[name])
        row = {
            "model": model,
            "strategy": f"grid{points}",
            "problem": i,
            "truth": truth,
            "fitted": {name: got},
            "rel_error": {name: round(rel, 4)},
            "success": bool(rel <= 0.1),
            "best_loss": float(np.nanmin(land.loss)),
            "evaluations": {"loss": points},
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(C.peak_rss_mb()),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(
        json.dumps(
            {
                "summary": True,
                "model": model,
                "strategy": f"grid{points}",
                "success": sum(r["success"] for r in rows),
                "problems": len(rows),
                "wall_s_median": round(
                    float(np.median([r["wall_s"] for r in rows])), 1
                ),
                "peak_rss_mb": round(C.peak_rss_mb()),
            }
        ),
        flush=True,
    )


def run_all(models, strategies, out: Path, problems: int):
    """Every model x strategy in its own process (peak memory is per process),
    appending to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for model in models:
        for strategy in strategies:
            cmd = [sys.executable, __file__, "study", model, strategy,
                   "--problems", str(problems)]  # fmt: skip
            t0 = time.perf_counter()
            with open(out, "a") as f:
                subprocess.run(cmd, stdout=f, check=True)
            print(f"{model} {strategy}: {time.perf_counter() - t0:.0f} s", flush=True)


# ------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("landscape", help="scan the loss of problem 4")
    p.add_argument("model", choices=sorted(PROBLEMS))
    p.add_argument("which", help="coarse, fine, truth, or a parameter path")
    p.add_argument("--points", type=int, default=31)
    p.add_argument("--lanes", type=int, default=4)
    p.add_argument("--gradient", action="store_true")
    p = sub.add_parser("study", help="one model x strategy over the problems")
    p.add_argument("model", choices=sorted(PROBLEMS))
    p.add_argument("strategy", choices=STRATEGIES)
    p.add_argument("--problems", type=int, default=10)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny settings (smoke test)")
    p = sub.add_parser("grid", help="a grid sweep of the same budget as CMA-ES")
    p.add_argument("model", choices=sorted(PROBLEMS))
    p.add_argument("--points", type=int, default=64)
    p.add_argument("--problems", type=int, default=10)
    p = sub.add_parser("ripples", help="gradient vs secant slope of the jr loss")
    p.add_argument("--t1", type=float, default=2000.0)
    p.add_argument("--dt", type=float, default=0.1)
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--points", type=int, default=12)
    p.add_argument("--lanes", type=int, default=2)
    p.add_argument("--regions", type=int, default=76)
    p.add_argument("--seed", type=int, default=1004, help="noise key of the runs")
    p.add_argument("--stat", choices=("fc", "psd"), default="fc")
    p = sub.add_parser("loglik", help="the FC log-likelihood along k (jr)")
    p.add_argument("--regions", type=int, default=76)
    p.add_argument("--t1", type=float, default=2000.0)
    p.add_argument("--points", type=int, default=41)
    p.add_argument("--spacing", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=1004)
    p = sub.add_parser("noise-floor", help="jr FC: realisation vs coupling")
    p.add_argument("--t1", type=float, nargs="+", default=[2000.0, 8000.0, 32000.0])
    p.add_argument("--realisations", type=int, default=4)
    p.add_argument("--save-every", type=float, default=2.0)
    p = sub.add_parser("all", help="every study, one process each")
    p.add_argument("--models", nargs="+", default=["jr", "hopf", "ww"])
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    p.add_argument("--problems", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("fit_recovery.jsonl"))
    args = parser.parse_args(argv)
    if args.command == "landscape":
        landscape(args.model, args.which, args.points, args.lanes, args.gradient)
    elif args.command == "study":
        study(args.model, args.strategy, args.problems, args.quick or QUICK, args.first)
    elif args.command == "ripples":
        ripples(
            args.t1, args.n, args.dt, args.points, args.lanes, args.regions,
            args.seed, args.stat,
        )  # fmt: skip
    elif args.command == "loglik":
        loglik_scan(args.regions, args.t1, args.points, args.spacing, args.seed)
    elif args.command == "noise-floor":
        noise_floor(args.t1, args.realisations, args.save_every)
    elif args.command == "grid":
        grid(args.model, args.points, args.problems)
    else:
        run_all(args.models, args.strategies, args.out, args.problems)


if __name__ == "__main__":
    main()
