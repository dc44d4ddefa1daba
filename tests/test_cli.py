"""The `neuromass` command line: `simulate` and `sweep` from TOML specs.

The example specs of `examples/specs/` run end to end, shrunk with `--set` to a
6-region connectome and a few tens of milliseconds.
"""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

import neuromass as nm
from neuromass._cli import main
from neuromass._cli._output import _axis_label, _csv_cells
from neuromass._cli._spec import OUTPUTS, SPEC_KEYS, SpecError, parse_override


ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "examples" / "specs"
SWEEP_SPEC = SPECS / "hopf_sweep.toml"
SIMULATE_SPEC = SPECS / "jansen_rit.toml"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory holding a 6-region connectome, `tiny.npz`."""
    monkeypatch.chdir(tmp_path)
    nm.datasets.generate_edr_connectome(3).save(tmp_path / "tiny.npz")
    return tmp_path


TINY = ["--set", "network.connectome=tiny.npz"]
TINY_SWEEP = TINY + [
    "--set",
    "simulation.t1=40",
    "--set",
    "simulation.transient=10",
    "--set",
    "axes.k.grid=[0.0, 1.0, 3]",
    "--set",
    'axes."node.a".grid=[-0.1, 0.1, 2]',
    "--set",
    "sweep.batch_size=4",
    "--set",
    "sweep.lanes=2",  # chunks are whole calls: 4 points are 2 calls of 2 lanes
    "--quiet",
]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [[], ["demo"], ["models"], ["simulate"], ["sweep"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main(command + ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: neuromass")
    if command in (["simulate"], ["sweep"]):
        assert "SPEC.toml" in out and "--set KEY=VALUE" in out and "[model]" in out
    if command == []:
        for name in ("demo", "models", "simulate", "sweep"):
            assert name in out
    if command == ["demo"]:  # every option with a default shows it
        for option, default in (("--t1", "600.0"), ("--n-k", "8"), ("--seed", "0")):
            assert re.search(rf"{option} \S+\s+[^\n]*\(default: {default}\)", out)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"neuromass {nm.__version__}"


def test_csv_cells_at_the_dtype_precision():
    values = np.array([-0.2, 0.1 + 0.2, 1e-8, 3e20, 0.0, np.nan, 12.5], np.float32)
    cells = _csv_cells(values)
    assert cells[:3] == ["-0.2", "0.3", "1e-08"]
    # each cell is the shortest text that reads back to the same float32
    np.testing.assert_array_equal(np.array(cells, dtype=np.float32), values)
    assert all(len(c) <= 7 for c in cells)
    doubles = _csv_cells(np.array([0.1 + 0.2]))  # float64 keeps its digits
    assert doubles == ["0.30000000000000004"]
    assert _csv_cells(np.array([3, 4])) == ["3", "4"]
    assert _csv_cells(np.array(["ok", "nonfinite"])) == ["ok", "nonfinite"]


def test_axis_labels_name_the_model_and_unit():
    assert _axis_label("node.a", nm.models.Hopf, "Hopf") == "Hopf a (1/ms)"
    assert _axis_label("node.omega", nm.models.Hopf, "Hopf") == "Hopf omega (rad/ms)"
    assert _axis_label("speed", nm.models.Hopf, "Hopf") == "conduction speed (mm/ms)"
    assert _axis_label("k", nm.models.Hopf, "Hopf") == "global coupling k"


def test_models_lists_the_catalogue(capsys):
    code, out, _ = _run(capsys, "models")
    assert code == 0
    for name in nm.models.list_models().names():
        assert name in out


@pytest.mark.slow
def test_simulate_example(workdir, capsys, monkeypatch):
    import matplotlib.figure

    drawn = {}  # file name -> (image shape, axis labels, colorbar label)
    save = matplotlib.figure.Figure.savefig

    def record(fig, path, *args, **kwargs):
        ax, bar = fig.axes[0], fig.axes[-1]
        image = ax.images[0].get_array().shape if ax.images else None
        labels = (ax.get_xlabel(), ax.get_ylabel(), bar.get_ylabel())
        drawn[Path(path).name] = (image, labels)
        return save(fig, path, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    code, out, err = _run(
        capsys,
        "simulate",
        SIMULATE_SPEC,
        *TINY,
        "--set",
        "simulation.t1=30",
        "--set",
        "simulation.transient=10",
    )
    assert code == 0, err
    folder = workdir / "jansen_rit"
    assert "wrote" in out and "simulation.npz" in out
    with np.load(folder / "simulation.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["labels", "spec", "ts", "y1", "y2"]
        np.testing.assert_allclose(f["ts"], np.arange(10.0, 30.5, 1.0), atol=1e-4)
        assert f["y1"].shape == f["y2"].shape == (21, 6)
        assert np.all(np.isfinite(f["y1"]))
        assert f["labels"].shape == (6,)
        spec = json.loads(str(f["spec"]))
    assert spec["model"]["name"] == "JansenRit"
    assert spec["simulation"]["t1"] == 30.0
    assert spec["network"]["coupling"] == "sigmoidal_jansen_rit"
    assert (folder / "timeseries.png").stat().st_size > 0
    assert (folder / "fc.png").stat().st_size > 0
    # a carpet plot of regions x time (not overlaid traces) and a labelled FC
    assert drawn["timeseries.png"] == ((6, 21), ("time (ms)", "region", "y1"))
    assert drawn["fc.png"] == ((6, 6), ("region", "region", "Pearson FC"))
    assert "compiling the simulation" in out and "warning" not in err


@pytest.mark.slow
def test_in_strength_warning(workdir, capsys):
    """A connectome whose in-strength is above 10 (here 20 for every region, the
    row sums of the weights) is reported with the fixes; the same weights
    normalised to in-strength 1 are not."""
    w = np.full((4, 4), 20.0 / 3.0) * (1 - np.eye(4))
    nm.datasets.Connectome(w, np.full((4, 4), 10.0)).save(workdir / "dense.npz")
    argv = ["simulate", SIMULATE_SPEC, "--set", "network.connectome=dense.npz"]
    code, out, err = _run(capsys, *argv, "--check")
    assert code == 0
    assert err.count("warning:") == 1
    assert "in-strength" in err and "is 20," in err and "JansenRit" in err
    assert "k = 10" in err and 'normalised("row_sum")' in err
    code, out, err = _run(
        capsys, *argv, "--check", "--set", 'network.normalisation="row_sum"'
    )
    assert code == 0 and "warning" not in err
    assert nm.datasets.check_in_strength(w / 20.0) == pytest.approx(1.0)


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_sweep_example_resumes(workdir, capsys):
    code, out, err = _run(capsys, "sweep", SWEEP_SPEC, *TINY_SWEEP)
    assert code == 0, err
    folder = workdir / "hopf_sweep"
    rows = _read_csv(folder / "results.csv")
    assert len(rows) == 6
    outputs = ["mean_fc", "fc_std", "metastability", "amplitude"]
    assert set(rows[0]) == {"index", "k", "node.a", "status", *outputs}
    assert [float(r["k"]) for r in rows] == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    assert [r["node.a"] for r in rows[:2]] == ["-0.1", "0.1"]  # not -0.10000000149
    assert all(r["status"] == "ok" for r in rows)
    for name in outputs:
        assert (folder / f"{name}.png").stat().st_size > 0
    res = nm.SweepResult.load(folder / "results.npz")
    assert res.grid("mean_fc").shape == (3, 2)  # sorted paths: k, node.a
    assert np.all(np.abs(res.outputs["mean_fc"]) <= 1.0)

    # Two chunks of 4 and 2 points. Drop the second; a re-run computes only it.
    store = folder / "store"
    first, second = sorted(store.glob("chunk-*.npz"))
    sizes = [
        int(re.fullmatch(r"chunk-\d+-(\d+)-\w+", p.stem)[1]) for p in [first, second]
    ]
    assert sizes == [4, 2]
    kept = first.stat().st_mtime_ns
    second.unlink()
    code, out, err = _run(capsys, "sweep", SWEEP_SPEC, *TINY_SWEEP)
    assert code == 0, err
    assert "(holds 4 finished points)" in out
    assert first.stat().st_mtime_ns == kept
    assert second.exists()
    assert _read_csv(folder / "results.csv") == rows

    # Same store, different simulation: refused, naming the store.
    code, out, err = _run(
        capsys, "sweep", SWEEP_SPEC, *TINY_SWEEP, "--set", "simulation.t1=50"
    )
    assert code == 2
    assert "store" in err and "Traceback" not in err


def test_check_runs_nothing(workdir, capsys):
    code, out, err = _run(capsys, "sweep", SWEEP_SPEC, *TINY, "--check")
    assert code == 0, err
    assert "48 points (product: k (8 grid) x node.a (6 grid))" in out
    assert "spec OK" in out
    # `simulate` accepts a sweep spec: it runs the base point, ignoring the axes.
    code, out, err = _run(capsys, "simulate", SWEEP_SPEC, *TINY, "--check")
    assert code == 0, err
    assert not (workdir / "hopf_sweep").exists()
    # Without [network], the model is simulated as a single region.
    (workdir / "node.toml").write_text("[model]\nname = 'Hopf'\n[simulation]\nt1 = 5.0")
    code, out, err = _run(capsys, "simulate", "node.toml", "--check")
    assert code == 0, err
    assert "Hopf as a single region, 5 ms at dt = 0.1 ms with Heun" in out


BASE = """
[model]
name = "Hopf"
[network]
connectome = "tiny.npz"
coupling = "diffusive"
[simulation]
t1 = 20.0
dt = 0.1
[sweep]
outputs = ["mean_fc"]
[axes.k]
grid = [0.0, 1.0, 3]
"""


@pytest.mark.parametrize(
    "override, message",
    [
        ("simulation.dtt=0.1", "Unknown key `simulation.dtt`. Did you mean 'dt'?"),
        ("model.name=Hopff", "Unknown model `model.name = 'Hopff'`. Did you mean"),
        ("model.b=1.0", "Unknown parameter `model.b` of Hopf. Valid parameters"),
        ("model.a=[0.1, 0.2]", "does not broadcast to 6 regions"),
        ("network.coupling=difusive", "Unknown coupling 'difusive'; valid names"),
        ("network.coupling={name='tanh', c=1}", "`network.coupling.c` of the"),
        ("network.k=true", "`network.k` must be a number or a list"),
        ("network.speed=-1", "`network.speed` must be > 0 mm/ms; got -1.0"),
        ("simulation.solver=heun", "Unknown solver `simulation.solver = 'heun'`"),
        ("simulation.t1='20'", "`simulation.t1` must be a number in ms; got '20'"),
        ("simulation.save_every=0.25", "must be a whole multiple of `simulation.dt`"),
        ("simulation.transient=30", "must be shorter than `simulation.t1`"),
        ("simulation.interpolation=cubik", "Did you mean 'cubic'?"),
        ("sweep.outputs=['mean_fcc']", "Unknown output 'mean_fcc' in `sweep.outputs`"),
        ("sweep.mode=random", "`sweep.mode` must be one of 'product', 'zip'"),
        ("sweep.variable=z", "'z' is not a state variable of Hopf"),
        ("axes.k.grid=[1.0, 0.0, 3]", "low (1) must be smaller than high (0)"),
        ("axes.k.grid=[0.0, 1.0, 2.5]", "`axes.k.grid[2]` (the number of values)"),
        ("axes.k.log=[0.0, 1.0, 3]", "must have exactly one of"),
        ("axes.weights.values=[1, 2]", "Cannot sweep `axes.weights`"),
        ("axes.'model.a'.values=[1, 2]", "Model parameters are swept as 'node.a'"),
        ("axes.'node.a'.values=[1, 2]", "every axis must have the same number"),
        ("networks.k=1", "Unknown table [networks]. Did you mean 'network'?"),
        ("network.connectome=missing.npz", "No connectome file at 'missing.npz'"),
        ("network.delays=0.05", "shorter than `simulation.dt` = 0.1 ms but not zero"),
        ("simulation.solver=SemiImplicitEuler", "cannot run with these [simulation]"),
    ],
)
def test_bad_spec(workdir, capsys, override, message):
    spec = workdir / "spec.toml"
    spec.write_text(BASE)
    extra = ["--set", "sweep.mode=zip"] if "same number" in message else []
    code, out, err = _run(capsys, "sweep", spec, "--set", override, *extra, "--check")
    assert code == 2
    # blamed on the override after which the error appears (the spec file alone is
    # valid; with `sweep.mode=zip`, the axes of different lengths are at fault only
    # then), whether found in the spec's tables or when the run is built
    culprit = extra[-1] if extra else override
    assert err.startswith(f"neuromass sweep: error: --set {culprit}: "), err
    assert message in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("[model\nname = 'Hopf'", "not valid TOML"),
        ("[simulation]\nt1 = 10.0", "Missing [model] table"),
        ("[model]\nname = 'Hopf'", "Missing [simulation] table"),
        ("[model]\nname = 'Hopf'\n[simulation]\nt1 = 10.0", "needs a [sweep] table"),
    ],
)
def test_bad_spec_file(workdir, capsys, text, message):
    (workdir / "spec.toml").write_text(text)
    code, out, err = _run(capsys, "sweep", "spec.toml")
    assert code == 2
    assert message in err and "Traceback" not in err
    code, out, err = _run(capsys, "sweep", "absent.toml")
    assert code == 2 and "No spec file at 'absent.toml'" in err


def test_parse_override():
    assert parse_override("simulation.t1=500") == {"simulation": {"t1": 500}}
    assert parse_override("network.connectome=my conn.npz") == {
        "network": {"connectome": "my conn.npz"}
    }
    assert parse_override('axes."node.a".grid = [0, 1, 4]') == {
        "axes": {"node.a": {"grid": [0, 1, 4]}}
    }
    for bad in ("simulation.t1", "=3", "a..b=1"):
        with pytest.raises(SpecError, match="KEY=VALUE|key path") as info:
            parse_override(bad)
        assert info.value.origin == f"--set {bad}"


def test_set_errors_are_blamed_on_set(workdir, capsys):
    """A mistyped `--set` is reported as an error of `--set` (with "did you mean"),
    not of the spec file; an error of the file itself names the file."""
    spec = workdir / "spec.toml"
    spec.write_text(BASE)
    code, _, err = _run(capsys, "sweep", spec, "--set", "model.omeg=0.3", "--check")
    assert code == 2
    assert err.startswith("neuromass sweep: error: --set model.omeg=0.3: Unknown ")
    assert "Did you mean 'omega'?" in err
    code, _, err = _run(capsys, "simulate", spec, "--set", "simulation.t1", "--check")
    assert err.startswith("neuromass simulate: error: --set simulation.t1: expected")
    spec.write_text(BASE.replace("[model]", "[model]\nomeg = 0.3"))
    code, _, err = _run(
        capsys, "sweep", spec, "--set", "simulation.t1=30", "--check"
    )  # the file's own error, whatever the overrides
    assert code == 2 and err.startswith("neuromass sweep: error: spec.toml: Unknown")


def test_outputs_on_known_signals():
    t = np.arange(1000.0)  # ms, sampled every 1 ms
    phase = 2 * np.pi * 0.010 * t  # 10 Hz
    same = np.stack([np.sin(phase)] * 4, axis=1)  # (time, 4) identical
    shifted = np.stack([2 * np.sin(phase + p) for p in (0, 1, 2, 3)], axis=1)
    assert float(OUTPUTS["mean_fc"].fn(same, 1.0)) == pytest.approx(1.0, abs=1e-5)
    assert float(OUTPUTS["fc_std"].fn(same, 1.0)) == pytest.approx(0.0, abs=1e-5)
    assert float(OUTPUTS["amplitude"].fn(shifted, 1.0)) == pytest.approx(2.0, rel=1e-3)
    assert float(OUTPUTS["mean"].fn(shifted + 3.0, 1.0)) == pytest.approx(3.0, abs=1e-2)
    freq = float(OUTPUTS["peak_frequency"].fn(shifted, 1.0))
    assert freq == pytest.approx(10.0, abs=4.0)  # Welch grid: 1000/256 Hz
    assert float(OUTPUTS["synchrony"].fn(same, 1.0)) == pytest.approx(1.0, abs=1e-3)
    assert float(OUTPUTS["synchrony"].fn(shifted, 1.0)) < 0.5
    assert float(OUTPUTS["metastability"].fn(same, 1.0)) == pytest.approx(0, abs=1e-3)


def test_cli_page_documents_every_key():
    page = (ROOT / "docs" / "cli.md").read_text()
    for table, keys in SPEC_KEYS.items():
        assert f"[{table}" in page
        for key in keys:
            assert re.search(rf"`{key}`", page), f"docs/cli.md lacks `{key}`"
    for name in OUTPUTS:
        assert f"`{name}`" in page, f"docs/cli.md lacks the output `{name}`"


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_connectome_is_a_one_line_error(workdir, capsys, how):
    path = workdir / "tiny.npz"
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        i = len(data) // 3
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    code, out, err = _run(capsys, "sweep", SWEEP_SPEC, *TINY, "--check")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "`network.connectome`" in err and "'tiny.npz'" in err
    assert "damaged" in err and "Restore the file from a copy" in err


def test_store_in_use_is_a_one_line_error(workdir, capsys):
    from neuromass.sweeps._store import ChunkStore

    holder = ChunkStore(workdir / "busy", {"other": "sweep"})  # holds the lock
    try:
        code, out, err = _run(
            capsys, "sweep", SWEEP_SPEC, *TINY_SWEEP, "--set", "sweep.store='busy'"
        )
    finally:
        holder.close()
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is in use by another process (pid " in err
    assert "Wait for it to finish" in err and "delete it" not in err


def test_model_names_are_the_catalogue(workdir, capsys):
    """Errors list the 29 models of the catalogue (`neuromass models`), not the
    alias `KIonExchange`, which a spec may still use."""
    spec = workdir / "spec.toml"
    spec.write_text(BASE)
    code, _, err = _run(capsys, "sweep", spec, "--set", "model.name=Hopff", "--check")
    assert code == 2 and "'KIonEx'" in err and "KIonExchange" not in err
    listed = re.findall(r"'(\w+)'", err.split("Valid models are:")[1])
    assert listed == sorted(nm.models.list_models().names()) and len(listed) == 29
    alias = ["--set", "model.name=KIonExchange", "--set", "network.noise=0.001"]
    code, out, err = _run(capsys, "sweep", spec, *alias, "--check")
    assert code == 0, err


def test_store_that_is_a_file_is_a_one_line_error(workdir, capsys):
    (workdir / "results.csv").write_text("a,b\n")
    for extra in ([], ["--check"]):
        code, out, err = _run(
            capsys,
            "sweep",
            SWEEP_SPEC,
            *TINY_SWEEP,
            "--set",
            "sweep.store='results.csv'",
            *extra,
        )
        assert code == 2, err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "`sweep.store` = 'results.csv' is a file, not a directory" in err
    assert (workdir / "results.csv").read_text() == "a,b\n"


@pytest.mark.parametrize(
    "network, axis, message",
    [
        (
            "network.noise=0.01",
            "axes.'noise.sigma'.values=[-0.01, 0.01]",
            '`axes."noise.sigma"` must only hold noise intensities >= 0; got -0.01',
        ),
        (
            "network.speed=5.0",
            "axes.speed.values=[0.0, 5.0]",
            "`axes.speed` must only hold positive speeds (mm/ms); got 0",
        ),
        (
            "network.speed=5.0",
            "axes.speed.grid=[-2.0, 5.0, 3]",
            "`axes.speed` must only hold positive speeds (mm/ms); got -2",
        ),
    ],
)
def test_swept_values_are_refused_as_the_network_key_is(
    workdir, capsys, network, axis, message
):
    """`network.noise = -0.01` is refused, so is a negative value of its axis."""
    spec = workdir / "spec.toml"
    spec.write_text(BASE)
    code, out, err = _run(
        capsys, "sweep", spec, "--set", network, "--set", axis, "--check"
    )
    assert code == 2, err
    assert message in err and "Traceback" not in err and out == ""
    assert "max_delay" not in err and "min_delay" not in err


def test_swept_speed_bounds_are_the_library_rule(workdir):
    """The CLI widens the bounds for a swept speed with `neuromass.sweep`'s rule
    (one owner), so a sweep's network is the one `nm.sweep(model=...)` runs."""
    from neuromass._cli._spec import (
        build_network,
        build_space,
        build_sweep_network,
        parse_spec,
        read_spec,
    )
    from neuromass.sweeps._bounds import widen_bounds

    spec_file = workdir / "spec.toml"
    spec_file.write_text(BASE)
    data = read_spec(
        spec_file,
        ["network.speed=5.0", "axes.speed.values=[2.0, 8.0]", "simulation.dt=0.05"],
    )
    spec = parse_spec(data, source="spec.toml")
    net = build_sweep_network(spec)
    expected = widen_bounds(build_network(spec), build_space(spec))
    assert net.max_delay == expected.max_delay and net.min_delay == expected.min_delay
    assert net.edge_mask == expected.edge_mask
    edges = np.asarray(net.weights) != 0
    lengths = np.asarray(net.lengths)[edges]
    assert net.max_delay == pytest.approx(lengths.max() / 2.0)
    assert net.min_delay == pytest.approx(lengths[lengths > 0].min() / 8.0)


def test_interpolations_come_from_the_library():
    from neuromass._cli._registry import INTERPOLATIONS
    from neuromass._delay.interpolation import INTERPOLATIONS as LIBRARY

    assert INTERPOLATIONS == tuple(LIBRARY)


STIMULATED = """
[stimulus]
temporal = { name = "PulseTrain", onset = 5.0, T = 10.0, tau = 3.0, amp = 0.5 }
regions = [1, "R02"]
weights = [1.0, 2.0]
variables = ["x"]
"""


@pytest.mark.slow
def test_simulate_with_a_stimulus(workdir, capsys):
    spec = workdir / "spec.toml"
    spec.write_text(BASE + STIMULATED)
    code, out, err = _run(capsys, "simulate", spec, "--set", "output.plot=false")
    assert code == 0, err
    assert (
        "stimulus: PulseTrain(onset = 5.0, T = 10.0, tau = 3.0, amp = 0.5) on 2 " in out
    )
    with np.load(workdir / "spec" / "simulation.npz", allow_pickle=False) as f:
        x = f["x"]
        assert json.loads(str(f["spec"]))["stimulus"]["regions"] == [1, "R02"]
    # the same run from Python
    net = nm.Network(nm.models.Hopf(), nm.datasets.load_connectome("tiny.npz").weights,
                     coupling="diffusive")  # fmt: skip
    weights = np.zeros(6)
    weights[[1, 4]] = [1.0, 2.0]
    stim = nm.stimuli.RegionStimulus(
        weights, nm.equations.PulseTrain(onset=5.0, T=10.0, tau=3.0, amp=0.5), "x"
    )
    sol = nm.simulate(net, t1=20.0, dt=0.1, stimulus=stim)
    np.testing.assert_allclose(x, sol["x"], rtol=1e-6, atol=1e-7)
    with pytest.warns(nm.SymmetricStartWarning):  # as the CLI printed for `free`
        free = np.asarray(nm.simulate(net, t1=20.0, dt=0.1)["x"])
    assert np.abs(x - free)[:, [1, 4]].max() > 0.1
    # TVB's evaluation, and a sweep with the stimulus at every point
    code, out, err = _run(capsys, "simulate", spec, "--set", "stimulus.evaluation=step",
                          "--set", "output.plot=false")  # fmt: skip
    assert code == 0, err
    assert "evaluated per step" in out
    with np.load(workdir / "spec" / "simulation.npz", allow_pickle=False) as f:
        assert 0 < np.abs(f["x"] - x).max() < 0.1
    no_files = ["--set", "output.plot=false", "--set", "sweep.store=false"]
    code, out, err = _run(capsys, "sweep", spec, "--quiet", *no_files)
    assert code == 0, err
    assert "stimulus: PulseTrain" in out and "3 points" in out


@pytest.mark.parametrize(
    "override, message",
    [
        ("stimulus.temporal=Pulsetrain", "Unknown equation `stimulus.temporal = "
         "'Pulsetrain'`. Did you mean 'PulseTrain'?"),
        ("stimulus.temporal.ampl=0.5", "Unknown parameter `stimulus.temporal.ampl` "
         "of PulseTrain. Did you mean 'amp'?"),
        ("stimulus.temporal={name='PulseTrain', T=-5.0}", "`stimulus.temporal`: "
         "`PulseTrain(T=...)` must be"),
        ("stimulus.temporal=3", "`stimulus.temporal` must be an equation name"),
        ("stimulus.regions=['R9', 0]", "`stimulus.regions[0]` = 'R9' is not a region "
         "label of the connectome."),
        ("stimulus.regions=[0, 6]", "`stimulus.regions[1]` = 6, but the network has 6"
         " regions (indices 0 to 5)"),
        ("stimulus.regions=[0, 0]", "`stimulus.regions` names a region twice"),
        ("stimulus.regions=[-1, 0]", "`stimulus.regions[0]` = -1: region indices"),
        ("stimulus.regions=[3, 'R01']", "names a region twice (by index and by label)"),
        ("stimulus.weights=[1, 2, 3]", "`stimulus.weights` has 3 values but "
         "`stimulus.regions` names 2 regions"),
        ("stimulus.variables=['z']", "`stimulus.variables`: 'z' is not a state "
         "variable of Hopf"),
        ("stimulus.evaluation=steps", "`stimulus.evaluation` must be one of 'stage', "
         "'step'; got 'steps'. Did you mean 'step'?"),
        ("stimulus.onset=3", "Unknown key `stimulus.onset`."),
    ],
)  # fmt: skip
def test_bad_stimulus_is_a_one_line_error(workdir, capsys, override, message):
    spec = workdir / "spec.toml"
    spec.write_text(BASE + STIMULATED)
    code, out, err = _run(capsys, "simulate", spec, "--set", override, "--check")
    assert code == 2, out
    assert err.startswith(f"neuromass simulate: error: --set {override}: ")
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "table, message",
    [
        ("[stimulus]\nregions = [1]", "Missing `stimulus.temporal`"),
        ("[stimulus]\ntemporal = 'Sinusoid'", "[stimulus] needs `regions`"),
        ("[stimulus]\ntemporal = 'Sinusoid'\nweights = [1.0, 2.0]",
         "`stimulus.weights` has 2 values, but the network has 6 regions"),
    ],
)  # fmt: skip
def test_incomplete_stimulus_table(workdir, capsys, table, message):
    (workdir / "spec.toml").write_text(BASE + table)
    code, out, err = _run(capsys, "simulate", "spec.toml", "--check")
    assert code == 2 and message in err and "Traceback" not in err
