"""Every script in `examples/` runs, in its quick mode, writes what it promises, and
prints a number that is checked against theory or a reference.

Each example is run in-process with `runpy` (as `python examples/X.py ARGS` would
run it, without paying for a new interpreter and JAX import each time), with
`NEUROMASS_QUICK=1`, which every example reads to shorten its runs (fewer points,
shorter times, a few regions). One argument convention: an example that writes
files takes one optional argument, the output folder (default `./out`); here a
fresh temporary folder that does not exist yet (the example must create it).
Each example's check (below) compares a printed number with theory (a Hopf node's
amplitude sqrt(a), its frequency omega / 2 pi, an OU variance sigma^2) or with a
reference computed another way (a finite difference, a plain `simulate` of one
sweep point, the mean of saved samples).
"""

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# Each example compiles its own programs (one to four), so the module as a whole
# costs minutes of CPU even in quick mode.
pytestmark = pytest.mark.slow


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in the output:\n{text}"
    return float(match.group(1))


def _check_amplitude(out: str) -> None:
    # Above the bifurcation the limit cycle has radius sqrt(a).
    assert _number(r"above the bifurcation: ([\d.e+-]+)", out) < 0.02


def _check_peak(out: str) -> None:
    # The spectral peak sits at omega / 2 pi, within the 2 Hz resolution.
    assert _number(r"max error ([\d.]+) Hz", out) <= 2.0


def _check_metrics(out: str) -> None:
    # Kuramoto oscillators: the order parameter grows with the coupling.
    rows = re.findall(
        r"^\s*([\d.]+)\s+(-?[\d.]+)\s+[\d.]+\s+[\d.]+\s+([\d.]+)", out, re.M
    )
    order = [float(r[2]) for r in rows]
    assert len(order) == 3 and order[0] < order[2], out


def _check_ou(out: str) -> None:
    # The stationary variance of an OU process is sigma^2 (16 members x 8 regions x
    # 1000 ms of a 20 ms correlation time: a few per cent of sampling error).
    got = _number(r"OU variance ([\d.]+)", out)
    theory = _number(r"theory sigma\^2 = ([\d.]+)", out)
    assert abs(got / theory - 1) < 0.15


def _check_alpha(out: str) -> None:
    # Jansen-Rit with Jansen & Rit's threshold v0 = 6 mV oscillates in the alpha band
    # (10.7 Hz in the full run); with TVB's v0 = 5.52 mV the peak leaves it (7.3 Hz).
    # The quick run's spectrum has 128-sample segments of 2 ms: 3.9 Hz bins.
    alpha = _number(r"v0 = 6.0 mV: spectral peak [^:]*: ([\d.]+) Hz", out)
    assert 8.0 <= alpha <= 13.0
    assert _number(r"v0 = 5.52 mV: spectral peak [^:]*: ([\d.]+) Hz", out) < 8.0
    assert "parcellation tvb76" in out and "connectome: tvb76" in out


def _numbers(pattern: str, text: str) -> tuple[float, ...]:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in the output:\n{text}"
    return tuple(float(g) for g in match.groups())


_FLOAT = r"(-?[\d.]+(?:e[+-]?\d+)?)"


def _check_connectome_tour(out: str) -> None:
    assert "regenerated default identical: True" in out
    assert "save/load round trip equal: True" in out
    assert _number(r"normalised\('max'\): max ([\d.]+)", out) == 1.0
    assert _number(
        r"normalised\('row_sum'\): max [\d.]+, mean row sum ([\d.]+)", out
    ) == (1.0)


def _check_custom_model(out: str) -> None:
    # the autodiff derivative against a central finite difference
    grad, fd = _numbers(
        rf"d\(mean rate\)/dw = {_FLOAT} \(finite difference {_FLOAT}\)", out
    )
    assert abs(grad - fd) <= 0.05 * abs(fd) + 1e-4
    rates = [float(r) for r in re.findall(r"w = [\d.]+: mean rate ([\d.]+)", out)]
    assert len(rates) == 6 and rates == sorted(rates)  # more recurrence, more rate


def _check_delayed_network(out: str) -> None:
    # Hopf omega = 0.25 rad/ms turns at 1000 * 0.25 / (2 pi) = 39.8 Hz; the quick
    # run's spectrum has a resolution of 1000 / 128 = 7.8 Hz.
    peak = _number(r"spectrum peak ([\d.]+) Hz", out)
    assert abs(peak - 1000 * 0.25 / (2 * np.pi)) < 7.9
    # the interpolations differ where the solver's step error does not hide them
    heun = _numbers(rf"Heun : nearest {_FLOAT}  linear {_FLOAT}  cubic {_FLOAT}", out)
    tsit = _numbers(rf"Tsit5: nearest {_FLOAT}  linear {_FLOAT}  cubic {_FLOAT}", out)
    assert max(heun) < 1.05 * min(heun)  # Heun: the same error for all three
    assert tsit[0] > 10 * tsit[1] and tsit[2] < 2 * tsit[1]  # nearest >> linear
    assert tsit[1] < heun[1] / 10


def _check_fit(out: str) -> None:
    # the fit lowers the loss, and its first step goes downhill: against the sign
    # of the loss's slope at the start, by a central finite difference (the quick
    # runs are too short for the minimum to sit at the true k)
    first, best = _numbers(rf"loss {_FLOAT} at the start, best {_FLOAT}", out)
    assert best < first
    slope, move = _numbers(rf"finite-difference dL/dk at the start {_FLOAT}; the "
                           rf"first step moves k by \+?{_FLOAT}", out)  # fmt: skip
    assert slope * move < 0, out


def _check_fit_hopf(out: str) -> None:
    first, best = _numbers(rf"loss {_FLOAT} at the start, best {_FLOAT}", out)
    assert best < first
    fitted = _number(r"fitted k = ([\d.]+)", out)
    assert abs(fitted - 0.3) < abs(0.05 - 0.3)  # towards the true k
    grad, fd = _numbers(
        rf"dL/dk at k = 0.05: {_FLOAT} \(finite difference {_FLOAT}\)", out
    )
    assert grad < 0 and abs(grad - fd) <= 0.02 * abs(fd)  # k must grow


def _check_inference(out: str) -> None:
    n, sd = _numbers(rf"data: (\d+) values, residual standard deviation around the "
                     rf"true run {_FLOAT}", out)  # fmt: skip
    assert abs(sd / 0.05 - 1) < 4 / np.sqrt(2 * n)  # sampling error of an sd
    at_truth, at_start = _numbers(rf"log-likelihood at the truth {_FLOAT}, at the "
                                  rf"sampler's start {_FLOAT}", out)  # fmt: skip
    assert at_truth > at_start


def _check_gallery(out: str) -> None:
    # Hopf (a = 0.2, omega = 0.3): radius sqrt(a), 47.7 Hz; Kuramoto at 10.0 Hz
    amp, amp_th, f, f_th = _numbers(
        rf"Hopf: amplitude {_FLOAT} \(theory sqrt\(a\) = {_FLOAT}\), frequency "
        rf"{_FLOAT} Hz \(theory omega / 2 pi = {_FLOAT} Hz\)", out
    )  # fmt: skip
    assert abs(amp / amp_th - 1) < 0.01 and abs(f / f_th - 1) < 0.02
    f, f_th = _numbers(rf"Kuramoto: frequency {_FLOAT} Hz \(theory omega / 2 pi = "
                       rf"{_FLOAT} Hz\)", out)  # fmt: skip
    assert abs(f / f_th - 1) < 0.02


def _check_bold(out: str) -> None:
    diff, scale = _numbers(rf"max difference {_FLOAT} \(x up to {_FLOAT}\)", out)
    assert diff < 1e-5 * max(scale, 1.0)


def _check_toy(out: str) -> None:
    amp, theory = _numbers(rf"amplitude {_FLOAT} \(theory sqrt\(a\) = {_FLOAT}\)", out)
    assert abs(amp / theory - 1) < 0.02


def _check_k_sweep(out: str) -> None:
    fcs = [float(v) for v in re.findall(r"k = [\d.]+: mean FC (-?[\d.]+) \(ok\)", out)]
    assert len(fcs) == 3 and abs(fcs[0]) < 0.1 and fcs[-1] > fcs[0] + 0.1
    alone, swept = _numbers(
        rf"simulated alone: mean FC {_FLOAT} \(in the sweep {_FLOAT}\)", out
    )
    assert abs(alone - swept) < 1e-4


def _check_ensemble(out: str) -> None:
    diff, scale = _numbers(rf"alone: max difference {_FLOAT} \(x up to {_FLOAT}\)", out)
    assert diff < 1e-4 * max(scale, 1.0)


def _check_speed_sweep(out: str) -> None:
    alone, swept = _numbers(rf"alone: mean FC {_FLOAT} \(in the sweep {_FLOAT}\)", out)
    assert abs(alone - swept) < 1e-4


# script, arguments ({out}: the output folder), files written, check of the output


def _check_stimulus_shapes(out: str) -> None:
    g, theory = _numbers(rf"midpoint: {_FLOAT} \(exp\(-1/2\) = {_FLOAT}\)", out)
    assert abs(g - theory) < 1e-6
    values = _numbers(rf"250 ms: {_FLOAT} {_FLOAT} {_FLOAT} \(by hand", out)
    np.testing.assert_allclose(values, [0.5, 0.6, 0.0], atol=1e-6)


def _check_spread(out: str) -> None:
    # TVB's precomputed local connectivity averages mesh neighbours: repeated
    # averaging reaches more vertices at every frame.
    match = re.search(r"vertices above 1e-3 per frame: ([\d ]+)", out)
    assert match, out
    reached = [int(r) for r in match.group(1).split()]
    assert len(reached) >= 4 and all(b > a for a, b in zip(reached, reached[1:]))


def _check_surface_activity(printed):
    """The patch is excited by the pulse and the activity spreads."""
    match = re.search(r"above rest per frame: ([\d ]+)", printed)
    active = [int(a) for a in match.group(1).split()]
    assert active[0] == 0 and active[1] > 10
    assert active[-1] > active[1]


def _check_control(out: str) -> None:
    # both switches of the bistable Wilson-Cowan node: the cost falls by a factor
    # (83 and 16 in the quick run) and the node stays in the goal state on its own
    found = re.findall(
        r"fell by a factor of (\d+)\); E settles at (-?[\d.]+) after the control "
        r"\(goal ([\d.]+)\), without control it stays at ([\d.]+)",
        out,
    )
    assert len(found) == 2, out
    for factor, settled, goal, free in found:
        assert float(factor) >= 10
        assert abs(float(settled) - float(goal)) < 0.01
        assert abs(float(free) - float(goal)) > 0.4  # no control: no switch


def _check_resonance(out: str) -> None:
    # a damped oscillator's gain peaks at its natural frequency omega / 2 pi
    match = re.search(
        r"resonance of the stimulated regions at ([\d.]+) Hz \(natural frequency "
        r"omega / 2 pi = ([\d.]+) Hz, sweep spacing ([\d.]+) Hz\)",
        out,
    )
    assert match, out
    peak, natural, spacing = map(float, match.groups())
    assert abs(peak - natural) <= spacing


def _check_rugged(out: str) -> None:
    # The hybrid (a CMA-ES phase, then Adam) ends closer to k = 0.1 than plain Adam
    # from k = 0.03 with the same run length.
    adam = _number(r"errors: adam ([\d.]+)", out)
    hybrid = _number(r"errors: adam [\d.]+ hybrid ([\d.]+)", out)
    assert hybrid < 0.5 * adam, out


# script, arguments ({out}: the output folder), files written, extra check
CASES = [
    ("connectome_tour.py", [], [], _check_connectome_tour),
    ("custom_model.py", [], [], _check_custom_model),
    ("delayed_network.py", ["{out}"], ["delayed_network.png"], _check_delayed_network),
    ("fit_bold_fc.py", ["{out}"], ["fit_bold_fc.png"], _check_fit),
    ("fit_hopf_fc.py", ["{out}"], ["fit_hopf_fc.png"], _check_fit_hopf),
    (
        "fit_rugged_jansen_rit.py",
        ["{out}"],
        ["fit_rugged_jansen_rit.png"],
        _check_rugged,
    ),
    (
        "fit_whole_brain_nearest.py",
        ["{out}"],
        ["fit_whole_brain_nearest.png"],
        _check_fit,
    ),
    (
        "inference_hopf.py",
        ["{out}"],
        ["inference-pairs.png", "inference-recovery.png", "inference-sbc.png"],
        _check_inference,
    ),
    ("jansen_rit_eeg.py", ["{out}"], ["jansen_rit_eeg.png"], _check_alpha),
    ("metrics_tour.py", [], [], _check_metrics),
    ("model_gallery.py", ["{out}"], ["model_gallery.png"], _check_gallery),
    ("monitors_bold.py", ["{out}"], ["monitors_bold.png"], _check_bold),
    ("optimal_control.py", ["{out}"], ["optimal_control.png"], _check_control),
    ("ou_noise_ensemble.py", ["{out}"], ["ou_ensemble.png"], _check_ou),
    ("stimulus_resonance.py", ["{out}"], ["stimulus_resonance.png"], _check_resonance),
    ("stimulus_shapes.py", ["{out}"], ["stimulus_shapes.png"], _check_stimulus_shapes),
    (
        "surface_data.py",
        ["{out}"],
        ["surface_regions.png", "surface_spread.png"],
        _check_spread,
    ),
    (
        "surface_simulation.py",
        ["{out}"],
        ["surface_activity.png"],
        _check_surface_activity,
    ),
    ("sweep_toy.py", ["{out}"], ["sweep_toy.png"], _check_toy),
    ("sweeps/coupling_vs_mean_fc.py", ["{out}"], ["k_mean_fc.png"], _check_k_sweep),
    (
        "sweeps/hopf_a_omega_heatmap.py",
        ["{out}"],
        ["hopf_a_omega.png", "hopf_a_omega.csv"],
        _check_peak,
    ),
    (
        "sweeps/hopf_amplitude_vs_a.py",
        ["{out}"],
        ["hopf_amplitude.png"],
        _check_amplitude,
    ),
    ("sweeps/noise_ensemble.py", ["{out}"], ["ensemble_fc.png"], _check_ensemble),
    (
        "sweeps/speed_sweep_nearest.py",
        ["{out}"],
        ["speed_mean_fc.png"],
        _check_speed_sweep,
    ),
]


def test_every_example_is_checked():
    """Every example has a check of a printed number, and the examples that write
    files all take the output folder as their one argument."""
    assert all(check is not None for *_, check in CASES)
    for script, args, files, _ in CASES:
        assert args == (["{out}"] if files else []), script


def test_every_example_is_tested():
    scripts = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py")}
    assert scripts == {case[0] for case in CASES}


@pytest.mark.parametrize("script, args, files, check", CASES, ids=[c[0] for c in CASES])
def test_example_runs(script, args, files, check, tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = tmp_path / "out" / "nested"  # does not exist: the example creates it
    monkeypatch.setenv("NEUROMASS_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    argv = [str(EXAMPLES / script)] + [a.format(out=out) for a in args]
    monkeypatch.setattr(sys, "argv", argv)
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    finally:
        plt.close("all")
    printed = capsys.readouterr().out
    for name in files:
        path = out / name
        assert path.is_file(), f"{script} did not write {path}"
        if name.endswith(".png"):
            image = plt.imread(path)
            assert image.shape[0] > 100 and image.shape[1] > 100
            assert image[..., :3].std() > 0.05, f"{path} looks blank"
    check(printed)
