"""A gallery of the built-in node models: simulate each one alone and summarise its
dynamics.

Run it with `python examples/model_gallery.py [OUT_DIR]`: it prints a table ("-"
marks models that do not oscillate) and writes OUT_DIR/model_gallery.png, one panel
per model (default OUT_DIR: ./out; headless). Each model runs with the parameters of
its documented regime (mostly the defaults). Two rows are checked against theory:
Hopf's limit cycle has radius sqrt(a) and frequency omega / 2 pi, Kuramoto's phase
turns at omega / 2 pi. With the environment variable `NEUROMASS_QUICK=1` only four
models run (a smoke test).
"""

import os
import sys
from pathlib import Path

import numpy as np

import neuromass as nm


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
# Quick runs: four models (single nodes: their full runs take seconds)
QUICK_MODELS = ("Hopf", "Kuramoto", "JansenRit", "WilsonCowan")

# model, parameters, initial state (None: defaults), duration, step, variable shown
GALLERY = {
    "Hopf": ({}, None, 300.0, 0.1, "x"),
    "Generic2dOscillator": ({"a": 2.0}, None, 1000.0, 0.1, "V"),
    "FitzHughNagumo": ({"I": 0.5}, None, 300.0, 0.05, "V"),
    "Kuramoto": ({"omega": 0.0628}, None, 1000.0, 0.1, "theta"),
    "Linear": ({"gamma": -0.05}, {"x": 1.0}, 100.0, 0.1, "x"),
    "Epileptor": ({}, None, 5000.0, 0.1, "x1"),
    "Epileptor2D": ({}, None, 5000.0, 0.1, "x1"),
    "JansenRit": ({"v0": 6.0}, None, 1000.0, 0.1, "y1-y2"),
    "WilsonCowan": (
        dict(
            c_ee=16.0,
            c_ei=12.0,
            c_ie=15.0,
            c_ii=3.0,
            a_e=1.3,
            b_e=4.0,
            a_i=2.0,
            b_i=3.7,
            P=1.25,
        ),
        None,
        400.0,
        0.1,
        "E",
    ),  # fmt: skip
    "ReducedWongWang": (
        {"w": 0.9, "J_N": 0.35, "I_o": 0.3},
        {"S": 0.9},
        1000.0,
        0.5,
        "S",
    ),
    "ReducedWongWangExcInh": ({}, None, 1000.0, 0.1, "S_e"),
    "MontbrioPazoRoxin": ({}, {"r": 1.0, "V": -0.2}, 50.0, 0.01, "r"),
    "CoombesByrne": ({}, None, 50.0, 0.01, "r"),
    "LarterBreakspear": ({}, None, 500.0, 0.1, "V"),
    # The Virtual Brain's further models
    "EpileptorRestingState": ({}, None, 3000.0, 0.05, "x_rs"),
    "EpileptorCodim3": ({}, None, 5000.0, 0.05, "x"),
    "EpileptorCodim3SlowMod": ({}, None, 5000.0, 0.05, "x"),
    "Hopfield": ({}, {"x": 1.5, "theta": 0.5}, 20.0, 0.01, "x"),
    "ReducedSetFitzHughNagumo": ({}, None, 300.0, 0.05, "xi_0"),
    "ReducedSetHindmarshRose": ({}, None, 500.0, 0.01, "xi_0"),
    "ZetterbergJansen": ({}, None, 1000.0, 0.1, "v6"),
    "DecoBalancedExcInh": ({}, None, 1000.0, 0.1, "S_e"),
    "CoombesByrne2D": ({}, None, 50.0, 0.01, "r"),
    "GastSchmidtKnosche_SD": ({}, None, 200.0, 0.01, "r"),
    "GastSchmidtKnosche_SF": ({}, None, 200.0, 0.01, "r"),
    "DumontGutkin": ({}, None, 200.0, 0.01, "r_e"),
    "KIonEx": ({}, None, 1000.0, 0.01, "V"),
    "ZerlautAdaptationFirstOrder": (
        {"external_input_ex_ex": 0.0025, "external_input_in_ex": 0.0025},
        None,
        1000.0,
        0.1,
        "E",
    ),
    "ZerlautAdaptationSecondOrder": (
        {"external_input_ex_ex": 0.0025, "external_input_in_ex": 0.0025},
        None,
        1000.0,
        0.1,
        "E",
    ),
}


def oscillation_frequency(x: np.ndarray, dt_ms: float) -> float:
    """Frequency (Hz) from the mean interval between upward mean-crossings, or NaN
    when the signal does not oscillate (fewer than 3 crossings or no amplitude)."""
    if np.ptp(x) < 1e-3 * (1.0 + abs(x.mean())):
        return float("nan")
    x = x - x.mean()
    ups = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    if ups.size < 3:
        return float("nan")
    return 1000.0 / (np.diff(ups).mean() * dt_ms)


def run_all():
    results = {}
    for info in nm.models.list_models():
        if QUICK and info.name not in QUICK_MODELS:
            continue
        default = ({}, None, 500.0, 0.1, info.cls.state_names[0])
        params, y0, t1, dt, var = GALLERY.get(info.name, default)
        print(f"  {info.name}...", end=" ", flush=True)
        node = info.cls(**params)
        save = max(dt, t1 / 2000.0)
        save = dt * round(save / dt)
        sol = nm.simulate(node, t1=t1, dt=dt, y0=y0, save_every=save)
        if var == "y1-y2":  # Jansen-Rit pyramidal potential
            x = np.asarray(sol["y1"] - sol["y2"])[:, 0]
        else:
            x = np.asarray(sol[var])[:, 0]
        if var == "theta":
            x = np.sin(x)
        second_half = x[x.size // 2 :]
        print("done", flush=True)
        results[info.name] = dict(
            ts=np.asarray(sol.ts),
            x=x,
            var=var,
            category=info.category,
            low=float(second_half.min()),
            high=float(second_half.max()),
            freq=oscillation_frequency(second_half, save),
        )
    return results


def main(out_dir="out") -> None:
    print("simulating each model alone (each compiles once):", flush=True)
    results = run_all()
    print(f"{'model':<29} {'category':<17} {'shown':<6} {'range (2nd half)':>22} "
          f"{'freq Hz':>8}")  # fmt: skip
    for name, r in results.items():
        span = f"[{r['low']:.3g}, {r['high']:.3g}]"
        freq = f"{r['freq']:8.2f}" if np.isfinite(r["freq"]) else f"{'-':>8}"
        print(f"{name:<29} {r['category']:<17} {r['var']:<6} {span:>22} {freq}")
    # theory: Hopf's limit cycle (radius sqrt(a), frequency omega / 2 pi) and the
    # uncoupled Kuramoto phase (frequency omega / 2 pi)
    hopf, node = results["Hopf"], nm.models.Hopf()
    print(
        f"Hopf: amplitude {hopf['high']:.4f} (theory sqrt(a) = "
        f"{float(np.sqrt(node.a)):.4f}), frequency {hopf['freq']:.2f} Hz (theory "
        f"omega / 2 pi = {1000 * float(node.omega) / (2 * np.pi):.2f} Hz)"
    )
    omega = GALLERY["Kuramoto"][0]["omega"]
    print(f"Kuramoto: frequency {results['Kuramoto']['freq']:.2f} Hz (theory "
          f"omega / 2 pi = {1000 * omega / (2 * np.pi):.2f} Hz)")  # fmt: skip

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 5
    nrows = -(-len(results) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, 2.3 * nrows), layout="constrained"
    )
    for ax, (name, r) in zip(np.ravel(axes), results.items()):
        ax.plot(r["ts"], r["x"], lw=0.8)
        label = "sin(theta)" if r["var"] == "theta" else r["var"]
        ax.set_title(f"{name}\n({label})", fontsize=8)
        ax.set_xlabel("time (ms)", fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in np.ravel(axes)[len(results) :]:
        ax.axis("off")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model_gallery.png"
    fig.savefig(path, dpi=70)
    plt.close(fig)
    print(f"saved {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
