"""Resumable sweep stores: atomic chunks, fingerprints, checksums, kill -9."""

import glob
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass
from neuromass.sweep import GridAxis, Space, SweepError, sweep


def toy(p):
    return {"y": p["x"] * p["z"] + 0.5 * p["x"] ** 2, "v": jnp.stack([p["x"], p["z"]])}


def toy_space(n=10):
    return Space({"x": GridAxis(0.0, 1.0, n), "z": GridAxis(1.0, 2.0, 2)})


def chunk_files(store, ext):
    return sorted(glob.glob(os.path.join(store, f"chunk-*.{ext}")))


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
    assert len(chunk_files(store, "npz")) == len(chunk_files(store, "json")) == 4
    with open(os.path.join(store, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["identity"]["space"]["n_points"] == 20
    assert manifest["identity"]["function"].endswith("test_sweep_store.toy")
    for side in chunk_files(store, "json"):
        with open(side) as f:
            meta = json.load(f)
        with open(side[: -len("json")] + "npz", "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == meta["sha256"]
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


@pytest.mark.parametrize("damage", ["flip", "truncate", "pickle"])
def test_damaged_chunk_is_detected_and_recomputed(tmp_path, damage):
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    victim = chunk_files(store, "npz")[1]
    data = pathlib.Path(victim).read_bytes()
    if damage == "flip":
        i = len(data) // 2
        pathlib.Path(victim).write_bytes(
            data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        )
    elif damage == "truncate":
        pathlib.Path(victim).write_bytes(data[: len(data) // 3])
    else:  # a well-formed file whose checksum matches, but holds a pickled object
        with np.load(victim, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        arrays["o0"] = np.array([{"evil": 1}] * len(arrays["index"]), dtype=object)
        np.savez(victim, **arrays)
        side = victim[: -len("npz")] + "json"
        meta = json.loads(pathlib.Path(side).read_text())
        meta["sha256"] = hashlib.sha256(pathlib.Path(victim).read_bytes()).hexdigest()
        pathlib.Path(side).write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="recomputed"):
        again = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    assert_same(ref, again)
    assert pathlib.Path(victim).read_bytes() == data  # rewritten, identical


def test_unconfirmed_chunk_file_is_not_trusted(tmp_path):
    store = str(tmp_path / "s")
    ref = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    first_npz, first_json = chunk_files(store, "npz")[0], chunk_files(store, "json")[0]
    os.remove(first_json)  # as if killed between writing the data and its sidecar
    stray = os.path.join(store, "chunk-0000000099-0000001.npz")
    pathlib.Path(stray).write_bytes(b"garbage")
    again = sweep(toy, toy_space(), batch_size=8, store=store, progress=False)
    assert_same(ref, again)
    assert os.path.exists(first_json) and os.path.exists(first_npz)
    assert not os.path.exists(stray)


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
    assert kept == len(chunk_files(store, "json")) * 6 and kept > 0
    done = sweep(
        toy, toy_space(), batch_size=6, store=store, progress=False, fingerprint="t"
    )
    assert_same(done, sweep(toy, toy_space(), batch_size=6, progress=False))


KILLED_SCRIPT = """
import sys, time
import jax
jax.config.update("jax_enable_x64", {x64})
import jax.numpy as jnp
from neuromass.sweep import GridAxis, Space, sweep


def _sleep(x):
    time.sleep(0.1)


def toy(p):
    jax.debug.callback(_sleep, p["x"])
    return {{"y": p["x"] * p["z"] + 0.5 * p["x"] ** 2,
             "v": jnp.stack([p["x"], p["z"]])}}


space = Space({{"x": GridAxis(0.0, 1.0, 24), "z": GridAxis(1.0, 2.0, 2)}})
sweep(toy, space, batch_size=4, store=sys.argv[1], progress=False,
      fingerprint="toy-v1")
print("finished")
"""


def test_sigkill_mid_sweep_then_resume_is_identical(tmp_path):
    store = str(tmp_path / "store")
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(KILLED_SCRIPT.format(x64=jax.config.jax_enable_x64))
    )
    root = str(pathlib.Path(neuromass.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, str(script), store],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(chunk_files(store, "json")) < 2:
            if proc.poll() is not None:
                pytest.fail(
                    f"ended before it was killed: {proc.stderr.read().decode()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("no chunk was written in time")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    confirmed = [s[: -len("json")] + "npz" for s in chunk_files(store, "json")]
    assert 2 <= len(confirmed) < 12
    stamps = {p: os.stat(p).st_mtime_ns for p in confirmed}

    space = Space({"x": GridAxis(0.0, 1.0, 24), "z": GridAxis(1.0, 2.0, 2)})
    resumed = sweep(
        toy, space, batch_size=4, store=store, progress=False, fingerprint="toy-v1"
    )
    reference = sweep(toy, space, batch_size=4, progress=False)
    assert_same(resumed, reference)
    assert len(chunk_files(store, "json")) == 12
    for path, stamp in stamps.items():  # loaded, not recomputed
        assert os.stat(path).st_mtime_ns == stamp
