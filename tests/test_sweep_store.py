"""Resumable sweep stores: atomic chunks, fingerprints, checksums, kill -9."""

import glob
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass
from neuromass.sweeps import GridAxis, Space, SweepError, _store, sweep as _sweep


def sweep(*args, lanes=2, **kwargs):
    """`neuromass.sweep` with 2 lanes per compiled call unless given: sweep
    rounds chunks up to whole calls (lanes x devices), and these tests count
    chunks of 4 to 8 points."""
    return _sweep(*args, lanes=lanes, **kwargs)


def toy(p):
    return {"y": p["x"] * p["z"] + 0.5 * p["x"] ** 2, "v": jnp.stack([p["x"], p["z"]])}


def toy_space(n=10):
    return Space({"x": GridAxis(0.0, 1.0, n), "z": GridAxis(1.0, 2.0, 2)})


def chunk_files(store):
    return sorted(glob.glob(os.path.join(store, "chunk-*.npz")))


def assert_same(a, b):
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_array_equal(a.status, b.status)
    assert list(a.outputs) == list(b.outputs)
    for name in a.outputs:
        np.testing.assert_array_equal(a.outputs[name], b.outputs[name])


def never_called(p):
    raise AssertionError("every chunk should have come from the store")


def test_store_writes_chunks_and_reuses_them(tmp_path):
    store = str(tmp_path / "s")
    first = sweep(toy, toy_space(), batch_size=6, store=store, progress=False)
    files = chunk_files(store)
    assert len(files) == 4
    assert sorted(os.listdir(store)) == sorted(
        ["manifest.json", "lock"] + [os.path.basename(f) for f in files]
    )
    with open(os.path.join(store, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["version"] == 3
    assert manifest["identity"]["space"]["n_points"] == 20
    assert manifest["identity"]["function"].endswith("test_sweep_store.toy")
    assert (
        manifest["sha256"]
        == hashlib.sha256(
            json.dumps(manifest["identity"], sort_keys=True).encode()
        ).hexdigest()
    )
    for path in files:  # each file's name carries its SHA-256
        digest = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
        assert path.endswith(f"-{digest[:32]}.npz")
    again = sweep(
        never_called,
        toy_space(),
        batch_size=6,
        store=store,
        progress=False,
        fingerprint="test_sweep_store.toy",
    )
    assert_same(first, again)
    # A different batch size reuses the same chunks: results do not depend on it.
    other = sweep(
        never_called,
        toy_space(),
        batch_size=5,
        store=store,
        progress=False,
        fingerprint="test_sweep_store.toy",
    )
    assert_same(first, other)


def test_store_refuses_a_different_sweep(tmp_path):
    store = str(tmp_path / "s")
    sweep(toy, toy_space(), store=store, progress=False, fingerprint="v1")
    with pytest.raises(ValueError, match="different sweep.*space"):
        sweep(toy, toy_space(12), store=store, progress=False, fingerprint="v1")
    with pytest.raises(ValueError, match="different sweep.*function"):
        sweep(toy, toy_space(), store=store, progress=False, fingerprint="v2")
    with pytest.raises(ValueError, match="different sweep.*function"):
        sweep(toy, toy_space(), store=store, progress=False)  # qualified name
    with pytest.raises(ValueError, match="different sweep.*space"):
        sweep(toy, toy_space()[1:], store=store, progress=False, fingerprint="v1")

    def keyed(p, key):
        return toy(p)

    keyed_store = str(tmp_path / "k")
    sweep(keyed, toy_space(), store=keyed_store, key=jax.random.key(0), progress=False)
    with pytest.raises(ValueError, match="different sweep.*key"):
        sweep(
            keyed, toy_space(), store=keyed_store, key=jax.random.key(1), progress=False
        )

    class M(eqx.Module):
        x: float
        z: jax.Array

    model_store = str(tmp_path / "m")
    fn = lambda m: {"y": m.x * m.z}
    space = Space({"x": GridAxis(0.0, 1.0, 3)})
    sweep(fn, space, model=M(0.0, jnp.ones(2)), store=model_store, progress=False)
    with pytest.raises(ValueError, match="different sweep.*model"):
        sweep(fn, space, model=M(0.0, jnp.zeros(2)), store=model_store, progress=False)

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a neuromass sweep store"):
        sweep(toy, toy_space(), store=str(plain), progress=False)


def _flip(path):
    data = pathlib.Path(path).read_bytes()
    i = len(data) // 2
    pathlib.Path(path).write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])


def _rewrite_chunk(path, change):
    """Rewrite a chunk with `change(arrays)` applied, under its old name."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _swap_names(arrays):
    meta = json.loads(str(arrays["meta"][()]))
    meta["outputs"] = meta["outputs"][::-1]
    arrays["meta"] = np.array(json.dumps(meta))


def _pickled(arrays):
    arrays["o0"] = np.array([{"evil": 1}] * len(arrays["index"]), dtype=object)


CHUNK_DAMAGE = {
    "flip": _flip,
    "truncate": lambda p: pathlib.Path(p).write_bytes(
        pathlib.Path(p).read_bytes()[:100]
    ),
    "empty": lambda p: pathlib.Path(p).write_bytes(b""),
    "swap-output-names": lambda p: _rewrite_chunk(p, _swap_names),
    "pickled-object": lambda p: _rewrite_chunk(p, _pickled),
    "renamed": lambda p: os.rename(
        p, p.replace("chunk-0000000008", "chunk-0000000009")
    ),
    "delete": os.remove,
}


@pytest.mark.parametrize("damage", list(CHUNK_DAMAGE))
def test_damaged_chunk_is_named_and_recomputed(tmp_path, damage):
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    victim = chunk_files(store)[1]
    data = pathlib.Path(victim).read_bytes()
    CHUNK_DAMAGE[damage](victim)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        again = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    messages = [str(w.message) for w in rec]
    if damage == "delete":
        assert messages == []
    else:
        assert len(messages) == 1, messages
        assert "chunk file" in messages[0] and "recomputed" in messages[0]
        assert os.path.basename(victim).split("-")[0] in messages[0]
    assert_same(ref, again)
    # Recomputed to the same bytes, under the same name.
    assert pathlib.Path(chunk_files(store)[1]).read_bytes() == data
    assert chunk_files(store)[1] == victim and len(chunk_files(store)) == 3


MANIFEST_DAMAGE = {
    "flip-to-invalid-utf8": lambda p: pathlib.Path(p).write_bytes(
        b"\xff" + pathlib.Path(p).read_bytes()[1:]
    ),
    "truncate": lambda p: pathlib.Path(p).write_bytes(
        pathlib.Path(p).read_bytes()[:40]
    ),
    "valid-json-edited": lambda p: pathlib.Path(p).write_text(
        pathlib.Path(p).read_text().replace('"lanes": 2', '"lanes": 3')
    ),
    "delete": os.remove,
}


@pytest.mark.parametrize("damage", list(MANIFEST_DAMAGE))
def test_damaged_manifest_is_named_and_rewritten(tmp_path, damage):
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    manifest = os.path.join(store, "manifest.json")
    good = pathlib.Path(manifest).read_bytes()
    MANIFEST_DAMAGE[damage](manifest)
    with pytest.warns(UserWarning, match="manifest.json.*(damaged|missing).*rewritten"):
        again = sweep(
            never_called,
            toy_space(),
            batch_size=8,
            store=store,
            progress=False,
            fingerprint="test_sweep_store.toy",
        )
    assert_same(ref, again)  # every chunk was kept
    rewritten = json.loads(pathlib.Path(manifest).read_text())
    assert rewritten["identity"]["function"] == "test_sweep_store.toy"
    assert json.loads(good)["identity"]["space"] == rewritten["identity"]["space"]


def test_damaged_manifest_with_chunks_of_another_sweep_is_refused(tmp_path):
    store = str(tmp_path / "s")
    sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    _flip(os.path.join(store, "manifest.json"))
    before = sorted(os.listdir(store))
    with pytest.raises(ValueError, match=r"manifest.json.*damaged.*different sweep.*"):
        sweep(toy, toy_space(12), store=store, progress=False)
    assert sorted(os.listdir(store)) == before  # nothing deleted


def test_lock_and_temporary_files(tmp_path):
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    lock = os.path.join(store, "lock")
    assert f"pid {os.getpid()} " in pathlib.Path(lock).read_text()
    pathlib.Path(lock).write_bytes(b"\xff\x00garbage")  # damage: no effect
    host = _store._host()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    stale = os.path.join(store, f".tmp-{host}-{dead}-abc")
    live = os.path.join(store, f".tmp-{host}-{os.getpid()}-abc")
    other_host = os.path.join(store, f".tmp-elsewhere-{dead}-abc")
    for path in (stale, live, other_host):
        pathlib.Path(path).write_bytes(b"partial")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = sweep(
            never_called,
            toy_space(),
            batch_size=8,
            store=store,
            progress=False,
            fingerprint="test_sweep_store.toy",
        )
    assert_same(ref, again)
    assert not os.path.exists(stale)  # a dead writer's, on this host
    assert os.path.exists(live) and os.path.exists(other_host)  # not ours to remove
    os.remove(lock)  # deleted between runs: recreated
    assert_same(ref, sweep(toy, toy_space(), batch_size=5, store=store, progress=False))


def test_store_of_an_older_format_is_refused(tmp_path):
    store = tmp_path / "s"
    store.mkdir()
    (store / "manifest.json").write_text(
        json.dumps({"format": "neuromass-sweep-store", "version": 1, "identity": {}})
    )
    with pytest.raises(ValueError, match="store format 1.*Delete it"):
        sweep(toy, toy_space(), store=str(store), progress=False)


def test_points_are_counted_once_whatever_the_chunks(tmp_path):
    """Chunks of different batch sizes over the same points (e.g. copied from
    another store) count each point once; differing copies are reported."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    ref = sweep(toy, toy_space(), batch_size=6, store=a, progress=False)
    sweep(toy, toy_space(), batch_size=4, store=b, progress=False)
    for path in chunk_files(b):
        shutil.copy(path, a)
    assert len(chunk_files(a)) == 4 + 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # identical copies: silent
        again = sweep(
            never_called,
            toy_space(),
            store=a,
            progress=False,
            fingerprint="test_sweep_store.toy",
        )
    assert_same(ref, again)
    assert len(again) == 20
    # A valid chunk whose values differ from the stored ones: the first is used.
    from neuromass.sweeps._store import ChunkStore

    with open(os.path.join(a, "manifest.json")) as f:
        identity = json.load(f)["identity"]
    writer = ChunkStore(a, identity)
    try:
        writer.write(
            np.array([19]),
            np.array(["ok"]),
            {"y": np.array([-1.0], np.float32), "v": np.zeros((1, 2), np.float32)},
        )
    finally:
        writer.close()
    with pytest.warns(UserWarning, match="point 19 is stored twice with different"):
        again = sweep(
            never_called,
            toy_space(),
            store=a,
            progress=False,
            fingerprint="test_sweep_store.toy",
        )
    assert_same(ref, again)


def test_resume_after_sweep_error(tmp_path):
    store = str(tmp_path / "s")

    def flaky(p):
        x = eqx.error_if(p["x"], p["x"] > 0.5, "transient failure")
        return toy({"x": x, "z": p["z"]})

    with pytest.raises(SweepError) as info:
        sweep(
            flaky,
            toy_space(),
            batch_size=6,
            store=store,
            progress=False,
            fingerprint="t",
        )
    kept = len(info.value.partial)
    assert kept == len(chunk_files(store)) * 6 and kept > 0
    done = sweep(
        toy, toy_space(), batch_size=6, store=store, progress=False, fingerprint="t"
    )
    assert_same(done, sweep(toy, toy_space(), batch_size=6, progress=False))


KILLED_SCRIPT = """
import os, sys, time
import jax
jax.config.update("jax_enable_x64", {x64})
import jax.numpy as jnp
from neuromass.sweeps import GridAxis, Space, sweep

HOLD = sys.argv[3] if len(sys.argv) > 3 else None


def _sleep(x):  # called once per lane
    if HOLD is None:
        time.sleep(0.1)
    while HOLD is not None and os.path.exists(HOLD):
        time.sleep(0.01)


def toy(p):
    jax.debug.callback(_sleep, p["x"])
    return {{"y": p["x"] * p["z"] + 0.5 * p["x"] ** 2,
             "v": jnp.stack([p["x"], p["z"]])}}


space = Space({{"x": GridAxis(0.0, 1.0, 24), "z": GridAxis(1.0, 2.0, 2)}})
sweep(toy, space, batch_size=int(sys.argv[2]), store=sys.argv[1], progress=False,
      fingerprint="toy-v1", lanes=4)
print("finished")
"""


def _start(tmp_path, *args):
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(KILLED_SCRIPT.format(x64=jax.config.jax_enable_x64))
    )
    root = str(pathlib.Path(neuromass.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()


def _wait_for(condition, proc, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"ended before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_is_identical(tmp_path):
    store = str(tmp_path / "store")
    proc = _start(tmp_path, store, 4)
    try:
        _wait_for(lambda: len(chunk_files(store)) >= 2, proc, "two chunks")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _stop(proc)
    assert proc.returncode == -signal.SIGKILL
    confirmed = chunk_files(store)
    assert 2 <= len(confirmed) < 12
    stamps = {p: os.stat(p).st_mtime_ns for p in confirmed}

    space = Space({"x": GridAxis(0.0, 1.0, 24), "z": GridAxis(1.0, 2.0, 2)})
    resumed = sweep(  # the killed writer's lock was released by the kernel
        toy,
        space,
        batch_size=4,
        store=store,
        progress=False,
        fingerprint="toy-v1",
        lanes=4,
    )
    reference = sweep(toy, space, batch_size=4, progress=False, lanes=4)
    assert_same(resumed, reference)
    assert len(chunk_files(store)) == 12
    for path, stamp in stamps.items():  # loaded, not recomputed
        assert os.stat(path).st_mtime_ns == stamp
    assert not [n for n in os.listdir(store) if n.startswith(".tmp-")]


@pytest.mark.slow
def test_second_writer_is_refused_while_the_first_runs(tmp_path):
    """Two processes on one store, batch sizes 4 and 1: the second is refused with
    a message naming the first; the store then holds each point once."""
    store = str(tmp_path / "store")
    hold = tmp_path / "hold"
    hold.write_text("")
    first = _start(tmp_path, store, 4, hold)
    try:
        lock = os.path.join(store, "lock")
        _wait_for(
            lambda: (
                os.path.exists(lock)
                and f"pid {first.pid} " in pathlib.Path(lock).read_text()
            ),
            first,
            "the first writer's lock",
        )
        second = _start(tmp_path, store, 1)
        try:
            assert second.wait(timeout=120) != 0
            err = second.stderr.read()
        finally:
            _stop(second)
        assert f"is in use by another process (pid {first.pid} " in err
        assert "Wait for it to finish" in err
        hold.unlink()
        assert first.wait(timeout=120) == 0
        assert first.stdout.read().strip() == "finished"
    finally:
        _stop(first)
    files = chunk_files(store)
    assert len(files) == 12  # 48 points in chunks of 4, from the first writer only
    space = Space({"x": GridAxis(0.0, 1.0, 24), "z": GridAxis(1.0, 2.0, 2)})
    again = sweep(
        never_called,
        space,
        batch_size=1,
        store=store,
        progress=False,
        fingerprint="toy-v1",
        lanes=4,
    )
    assert_same(again, sweep(toy, space, batch_size=1, progress=False, lanes=4))


# ------------------------------------------------------- a store knows its model
def _net(**changes):
    import neuromass as nm

    rng = np.random.default_rng(0)
    w = rng.uniform(0.0, 1.0, (3, 3))
    kw = dict(
        coupling=nm.coupling.Diffusive(),
        k=0.3,
        coupled_vars=("x",),
        noise=nm.noise.Additive(0.02),
    )
    kw.update(changes)
    return nm.Network(nm.models.Hopf(a=-0.05, omega=0.3), w, **kw)


def _mean_x(net, key):
    import neuromass as nm

    return {"m": nm.simulate(net, t1=5.0, dt=0.5, key=key)["x"].mean()}


def _model_sweep(store, net, fn=_mean_x, **kw):
    space = Space({"k": GridAxis(0.0, 0.5, 4)})
    return sweep(
        fn,
        space,
        model=net,
        store=store,
        key=jax.random.key(0),
        progress=False,
        lanes=2,
        batch_size=2,
        **kw,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda nm: {"noise": nm.noise.Multiplicative(0.02)},
            r"the model's `noise` class differs: stored Additive, now Multiplicative",
        ),
        (
            lambda nm: {"coupled_vars": ("x", "y")},
            r"the model's `coupled_vars` differs: stored \('x',\), now \('x', 'y'\)",
        ),
        (
            lambda nm: {"coupling": nm.coupling.Linear()},
            r"the model's `coupling` class differs: stored Diffusive, now Linear",
        ),
        (
            lambda nm: {"self_connection": True},
            r"the model's `self_connection` differs: stored False, now True",
        ),
    ],
)
def test_store_refuses_another_model_structure(tmp_path, change, message):
    """Classes and static fields are part of the store's identity, not only the
    array values: a resume with another model is refused, saying what differs."""
    import neuromass as nm

    store = str(tmp_path / "s")
    _model_sweep(store, _net())
    files = chunk_files(store)
    with pytest.raises(ValueError, match="different sweep: .*" + message):
        _model_sweep(store, _net(**change(nm)))
    assert chunk_files(store) == files  # nothing mixed in


def _double(p):
    return {"y": 2.0 * p["x"]}


def _triple(p):
    return {"y": 3.0 * p["x"]}


def _scaled(c):
    def fn(p):
        return {"y": c * p["x"]}

    return fn


def test_store_refuses_another_function_code(tmp_path):
    """The function's code (bytecode, constants, closure) is part of the identity;
    a `fingerprint=` vouches for the function instead."""
    space = Space({"x": GridAxis(0.0, 1.0, 4)})
    store = str(tmp_path / "s")
    sweep(_double, space, store=store, progress=False)
    impostor = _triple
    impostor.__qualname__ = _double.__qualname__  # same name, other code
    try:
        with pytest.raises(ValueError, match=r"the function's code differs"):
            sweep(impostor, space, store=store, progress=False)
    finally:
        impostor.__qualname__ = "_triple"
    closure = str(tmp_path / "c")
    sweep(_scaled(2.0), space, store=closure, progress=False)
    with pytest.raises(ValueError, match=r"the function's code differs"):
        sweep(_scaled(3.0), space, store=closure, progress=False)
    again = sweep(_scaled(2.0), space, store=closure, progress=False)  # same closure
    np.testing.assert_array_equal(again.outputs["y"], 2.0 * space.coords["x"])
    named = str(tmp_path / "n")
    sweep(_double, space, store=named, progress=False, fingerprint="double")
    with pytest.raises(ValueError, match=r"the function differs: stored 'double'"):
        sweep(_double, space, store=named, progress=False, fingerprint="twice")


RESUME_SCRIPT = """
import sys
import jax
import numpy as np
import neuromass as nm
sys.path.insert(0, {tests!r})
import test_sweep_store as t

res = t._model_sweep(sys.argv[1], t._net(inputs=t._drive))
np.save(sys.argv[2], res.outputs["m"])
"""


def _drive(t):
    return {"x": 0.01 * np.ones(3)}


@pytest.mark.slow
def test_identical_resume_in_another_process_is_byte_identical(tmp_path):
    """The identity is the same in every process (no addresses, no hash seeds):
    a store written by another process, with a model holding a function, is
    resumed without recomputing, to the same bytes."""
    store, out = str(tmp_path / "s"), str(tmp_path / "m.npy")
    script = tmp_path / "first.py"
    script.write_text(
        RESUME_SCRIPT.format(tests=str(pathlib.Path(__file__).resolve().parent))
    )
    root = str(pathlib.Path(neuromass.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env["PYTHONHASHSEED"] = "12345"  # another hash seed than this process's
    proc = subprocess.run(
        [sys.executable, str(script), store, out],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stamps = {p: os.stat(p).st_mtime_ns for p in chunk_files(store)}
    assert len(stamps) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = _model_sweep(store, _net(inputs=_drive))
    assert {p: os.stat(p).st_mtime_ns for p in chunk_files(store)} == stamps
    first = np.load(out)
    assert resumed.outputs["m"].tobytes() == first.tobytes()
    fresh = _model_sweep(None, _net(inputs=_drive))
    assert fresh.outputs["m"].tobytes() == first.tobytes()


@pytest.mark.parametrize("renamed_to", ["manifest.json.bak", None])
def test_store_without_its_manifest(tmp_path, renamed_to):
    """A store whose manifest was renamed or deleted but whose chunks are valid:
    resumed by the same sweep (the chunks carry its fingerprint), with a warning
    saying so; another sweep is told how to recover, and nothing is changed."""
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    manifest = os.path.join(store, "manifest.json")
    if renamed_to:
        os.rename(manifest, os.path.join(store, renamed_to))
    else:
        os.remove(manifest)
    before = sorted(os.listdir(store))
    with pytest.raises(
        ValueError,
        match=r"manifest.json.* is missing.*holds 3 valid chunk\(s\) of a different "
        r"sweep.*If you renamed or moved 'manifest.json'.*put it back",
    ) as info:
        sweep(toy, toy_space(12), store=store, progress=False)
    assert ("manifest.json.bak" in str(info.value)) == bool(renamed_to)
    assert "not a neuromass sweep store" not in str(info.value)
    assert sorted(os.listdir(store)) == before
    with pytest.warns(UserWarning, match=r"is missing.*3 valid chunk.*rewritten"):
        again = sweep(
            never_called,
            toy_space(),
            store=store,
            progress=False,
            fingerprint="test_sweep_store.toy",
        )
    assert_same(ref, again)


def test_store_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match=r"results\.csv'` is a file, not a directory"):
        sweep(toy, toy_space(), store=str(path), progress=False)
    assert path.read_text() == "a,b\n"
