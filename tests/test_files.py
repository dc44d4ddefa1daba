"""Files that cannot lie: every file neuromass writes to read back (Solution
`.npz`/`.nc`, Connectome `.npz`, SweepResult `.npz`) is written atomically and
checksummed; a damaged or wrong file is an error naming it, never altered data,
never a hang."""

import collections
import io
import json
import os
import pathlib
import subprocess
import sys
import zipfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass._io import DamagedFileError
from neuromass.sweeps import GridAxis, Space, SweepResult, sweep


W = np.array([[0.0, 1.0, 0.5], [0.3, 0.0, 0.0], [0.0, 0.8, 0.0]])
NET = nm.Network(nm.models.Hopf(a=0.1, omega=np.array([0.2, 0.3, 0.4])), W, k=0.2)
MONITORS = [
    nm.monitors.TemporalAverage(2.0, variables="x"),
    nm.monitors.RunningStats(variable="x"),
]


def _run(k=0.2):
    net = eqx.tree_at(lambda n: n.k, NET, k)
    return nm.simulate(net, t1=10.0, dt=0.1, save_every=1.0, monitors=MONITORS)


@pytest.fixture(scope="module")
def sol():
    return _run()


def _leaves(sol):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(sol, eqx.is_array))]


def _assert_bit_identical(a, b):
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()
    assert jax.tree.structure(a.monitors) == jax.tree.structure(b.monitors)


def _has_netcdf():
    try:
        import h5netcdf  # noqa: F401
        import xarray  # noqa: F401
    except ImportError:
        return False
    return True


SUFFIXES = [".npz"] + ([".nc"] if _has_netcdf() else [])


# ----------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_batched_solution_round_trip(tmp_path, suffix):
    """A vmapped Solution (leading batch axis everywhere) saves and loads, bit for
    bit, with its attributes in `attrs` (not hidden in `stats`)."""
    batch = eqx.filter_vmap(_run)(jnp.array([0.1, 0.2, 0.3]))
    assert batch.ts.shape == (3, 11) and batch.ys["x"].shape == (3, 11, 3)
    path = batch.save(tmp_path / f"batch{suffix}", model=NET, attrs={"note": [1, 2]})
    assert path == tmp_path / f"batch{suffix}"
    back = nm.Solution.load(path)
    _assert_bit_identical(batch, back)
    assert back.stats == batch.stats and "attrs" not in back.stats
    assert back.attrs["note"] == [1, 2]
    assert back.attrs["model"] == "Network(Hopf, Linear)"
    # saved again without arguments, a loaded solution keeps its attributes
    again = nm.Solution.load(back.save(tmp_path / f"again{suffix}"))
    assert again.attrs == back.attrs
    _assert_bit_identical(batch, again)


def test_netcdf_file_opens_with_xarray_as_usual(sol, tmp_path):
    """The checksum follows the HDF5 data: xarray finds and reads the file."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    path = sol.save(tmp_path / "run.nc", model=NET)
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(ds["x"].values, np.asarray(sol["x"]))
        assert ds.attrs["format"] == "neuromass.Solution/2"


def test_npz_files_open_with_numpy_as_usual(sol, tmp_path):
    """The checksum is the archive's comment: `numpy.load` reads the file."""
    path = sol.save(tmp_path / "run.npz")
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["ys/x"], np.asarray(sol["x"]))
    with zipfile.ZipFile(path) as z:
        assert z.comment.startswith(b"neuromass-sha256:")


# -------------------------------------------------------------------- suffixes
def test_unknown_suffixes_are_refused(sol, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"'s\.h5': unknown file type '\.h5'.*\.npz"):
        sol.save("s.h5")
    assert os.listdir(tmp_path) == []  # neither s.h5 nor s.h5.npz
    with pytest.raises(ValueError, match=r"load a Solution from 's\.h5'"):
        nm.Solution.load("s.h5")
    assert sol.save("plain") == pathlib.Path("plain.npz")  # no suffix: .npz
    with pytest.raises(ValueError, match=r"'plain': unknown file type '\(no suffix\)'"):
        nm.Solution.load("plain")


# ---------------------------------------------------------------- wrong files
def _npy_bytes():
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    return buf.getvalue()


def _npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


WRONG = {
    "empty": b"",
    "text": b"time,x\n0,1\n",
    "random": bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)),
    "npy": _npy_bytes(),
    "pickled": _npz_bytes(x=np.array([{"a": 1}], dtype=object)),
    "foreign-npz": _npz_bytes(ts=np.zeros(2), __attrs__=np.array("{}")),
    "no-attrs-npz": _npz_bytes(ts=np.zeros(2)),
}


@pytest.mark.parametrize("name", list(WRONG))
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_wrong_files_name_the_path(tmp_path, name, suffix):
    """Never a bare BadZipFile, EOFError, KeyError or "pickled data"."""
    path = tmp_path / f"{name}{suffix}"
    path.write_bytes(WRONG[name])
    with pytest.raises(DamagedFileError) as info:
        nm.Solution.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_files_name_the_path_for_connectomes_and_results(tmp_path, name):
    path = tmp_path / f"{name}.npz"
    path.write_bytes(WRONG[name])
    for load in (nm.datasets.load_connectome, SweepResult.load):
        with pytest.raises(ValueError) as info:
            load(path)
        assert str(path) in str(info.value), (load, info.value)


def test_other_neuromass_files_are_not_solutions(sol, tmp_path):
    conn = nm.datasets.generate_edr_connectome(2).save(tmp_path / "conn.npz")
    with pytest.raises(ValueError, match=r"conn\.npz' is not a saved neuromass Sol"):
        nm.Solution.load(conn)
    run = sol.save(tmp_path / "run.npz")
    with pytest.raises(ValueError, match=r"run\.npz.*lacks the array\(s\)"):
        nm.datasets.load_connectome(run)
    with pytest.raises(ValueError, match=r"run\.npz' is not a saved SweepResult"):
        SweepResult.load(run)
    with pytest.raises(FileNotFoundError, match=r"No Solution file at .*absent\.npz"):
        nm.Solution.load(tmp_path / "absent.npz")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ValueError, match=r"dir\.npz' is a directory"):
        nm.Solution.load(tmp_path / "dir.npz")


def test_plain_netcdf_without_checksum_is_not_parsed(sol, tmp_path):
    pytest.importorskip("h5netcdf")
    path = tmp_path / "plain.nc"
    sol.to_xarray().to_netcdf(path, engine="h5netcdf")  # no checksum
    with pytest.raises(ValueError, match=r"plain\.nc' does not end with a valid"):
        nm.Solution.load(path)


def _write_format_1(sol, path):
    """A `.npz` as neuromass wrote Solutions before checksums (format 1)."""
    meta = {
        "format": "neuromass.Solution/1",
        "time_units": "ms",
        "variables": json.dumps(list(sol.ys)),
        "units": "{}",
        "model": "null",
        "parameters": "{}",
        "stats": json.dumps(sol.stats),
        "num_steps": json.dumps(np.asarray(sol.num_steps).tolist()),
    }
    arrays = {"ts": np.asarray(sol.ts)}
    for v, x in sol.ys.items():
        arrays[f"ys/{v}"] = np.asarray(x)
    for v, x in sol.y_final.items():
        arrays[f"y_final/{v}"] = np.asarray(x)
    arrays["__attrs__"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)


def test_format_1_files_are_read_with_a_warning(sol, tmp_path):
    path = tmp_path / "old.npz"
    _write_format_1(sol, path)
    with pytest.warns(UserWarning, match=r"old\.npz.*without a checksum"):
        back = nm.Solution.load(path)
    np.testing.assert_array_equal(back["x"], sol["x"])


# ------------------------------------------------------------------ atomicity
def test_one_atomic_writer_for_every_file(sol, tmp_path, monkeypatch):
    """Every writer goes through `neuromass._io.atomic_write`: when the final
    rename fails, the previous file is intact and no temporary file is left."""
    import neuromass._io._atomic as atomic

    space = Space({"x": GridAxis(0.0, 1.0, 3)})
    result = sweep(lambda p: {"y": p["x"] ** 2}, space, progress=False)
    conn = nm.datasets.generate_edr_connectome(2)
    writers = {
        "run.npz": lambda p: sol.save(p),
        "conn.npz": lambda p: conn.save(p),
        "result.npz": lambda p: result.save(p),
    }
    if ".nc" in SUFFIXES:
        writers["run.nc"] = lambda p: sol.save(p)
    for name, write in writers.items():
        write(tmp_path / name)
    before = {n: (tmp_path / n).read_bytes() for n in writers}

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", fail)
    for name, write in writers.items():
        with pytest.raises(OSError, match="disk full"):
            write(tmp_path / name)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == sorted(writers)  # no .tmp-* left
    for name in writers:
        assert (tmp_path / name).read_bytes() == before[name]
    store = tmp_path / "store"
    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):  # the store's manifest
        sweep(lambda p: {"y": p["x"]}, space, store=str(store), progress=False)
    monkeypatch.undo()
    assert not [n for n in os.listdir(store) if n.startswith(".tmp-")]


# ----------------------------------------------------------------------- fuzz
WORKER = pathlib.Path(__file__).with_name("_fuzz_worker.py")


@pytest.mark.slow
def test_flipped_bytes_are_caught(sol, tmp_path):
    """Flip one byte (every 37th, and the first 64 and last 160 bytes) of a saved
    Solution (.npz and .nc), a Connectome and a SweepResult: each load raises an
    error naming the file or returns the same bytes, within 2 s (the loads run in
    a worker process, so that a hang fails the test instead of stalling it)."""
    files = [("solution-npz", sol.save(tmp_path / "s.npz", model=NET))]
    if ".nc" in SUFFIXES:
        files.append(("solution-nc", sol.save(tmp_path / "s.nc", model=NET)))
    files.append(
        ("connectome", nm.datasets.generate_edr_connectome(3).save(tmp_path / "c.npz"))
    )
    space = Space({"x": GridAxis(0.0, 1.0, 5)})
    res = sweep(lambda p: {"y": jnp.sin(p["x"])}, space, progress=False)
    res.save(tmp_path / "r.npz")
    files.append(("sweep-result", tmp_path / "r.npz"))
    out = tmp_path / "out"
    out.mkdir()
    root = str(pathlib.Path(nm.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    args = [sys.executable, str(WORKER), str(out), "37"]
    for kind, path in files:
        args += [kind, str(path)]
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=240, env=env
        )
    except subprocess.TimeoutExpired as e:
        last = (e.stdout or b"").decode().strip().splitlines()[-1:]
        pytest.fail(f"a load hung; the last finished: {last}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    counts = collections.Counter((kind, outcome) for kind, _, outcome, _, _ in rows)
    bad = [r for r in rows if r[2] not in ("error", "identical")]
    assert not bad, bad[:5]
    slow = [r for r in rows if r[3] > 2.0]
    assert not slow, slow[:5]
    for kind, _ in files:
        assert counts[(kind, "error")] > 60, counts
