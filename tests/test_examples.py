"""Every script in `examples/` runs, in its quick mode, and writes what it promises.

Each example is run in-process with `runpy` (as `python examples/X.py ARGS` would
run it, without paying for a new interpreter and JAX import each time), with
`NEUROMASS_QUICK=1`, which every example reads to shorten its runs (fewer points,
shorter times, a few regions), in a fresh temporary folder given as its output
folder, one that does not exist yet (the example must create it). Where an
example prints a number with a known value (a Hopf node's amplitude sqrt(a), its
frequency omega / 2 pi), that number is checked too.
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


def _check_delayed_network(out: str) -> None:
    # Hopf omega = 0.25 rad/ms turns at 1000 * 0.25 / (2 pi) = 39.8 Hz; the quick
    # run's spectrum has a resolution of 1000 / 128 = 7.8 Hz.
    peak = _number(r"spectrum peak ([\d.]+) Hz", out)
    assert abs(peak - 1000 * 0.25 / (2 * np.pi)) < 7.9


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
    # Jansen-Rit with its default parameters oscillates in the alpha band; the quick
    # run's spectrum (128-sample segments of 4 ms: 2 Hz resolution) peaks near 10 Hz.
    peak = _number(r"spectral peak of the mean electrode spectrum: ([\d.]+) Hz", out)
    assert 7.0 <= peak <= 14.0


def _check_rugged(out: str) -> None:
    # The hybrid (a CMA-ES phase, then Adam) ends closer to k = 0.1 than plain Adam
    # from k = 0.03 with the same run length.
    adam = _number(r"errors: adam ([\d.]+)", out)
    hybrid = _number(r"errors: adam [\d.]+ hybrid ([\d.]+)", out)
    assert hybrid < 0.5 * adam, out


# script, arguments ({out}: the output folder), files written, extra check
CASES = [
    ("connectome_tour.py", [], [], None),
    ("custom_model.py", [], [], None),
    ("delayed_network.py", ["{out}"], ["delayed_network.png"], _check_delayed_network),
    ("fit_bold_fc.py", ["{out}/fit_bold.png"], ["fit_bold.png"], None),
    ("fit_hopf_fc.py", ["{out}/fit.png"], ["fit.png"], None),
    (
        "fit_rugged_jansen_rit.py",
        ["{out}"],
        ["fit_rugged_jansen_rit.png"],
        _check_rugged,
    ),
    ("fit_whole_brain_nearest.py", ["{out}/fit76.png"], ["fit76.png"], None),
    (
        "inference_hopf.py",
        ["{out}"],
        ["inference-pairs.png", "inference-recovery.png", "inference-sbc.png"],
        None,
    ),
    ("jansen_rit_eeg.py", ["{out}"], ["jansen_rit_eeg.png"], _check_alpha),
    ("metrics_tour.py", [], [], _check_metrics),
    ("model_gallery.py", ["--plot", "{out}/gallery.png"], ["gallery.png"], None),
    ("monitors_bold.py", ["{out}"], ["monitors_bold.png"], None),
    ("ou_noise_ensemble.py", ["{out}"], ["ou_ensemble.png"], _check_ou),
    ("sweep_toy.py", ["{out}/toy.png"], ["toy.png"], None),
    ("sweeps/coupling_vs_mean_fc.py", ["{out}"], ["k_mean_fc.png"], None),
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
    ("sweeps/noise_ensemble.py", ["{out}"], ["ensemble_fc.png"], None),
    ("sweeps/speed_sweep_nearest.py", ["{out}"], ["speed_mean_fc.png"], None),
]


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
    if check is not None:
        check(printed)
