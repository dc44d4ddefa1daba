"""ParallelExecution over several devices (two CPU host devices, in a subprocess)."""

import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

import neuromass


SCRIPT = """
import json, os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import jax
jax.config.update("jax_enable_x64", {x64})
import jax.numpy as jnp
import numpy as np
from neuromass.sweeps import (
    GridAxis, ParallelExecution, SequentialExecution, Space, sweep)
from neuromass.sweeps import _job as executors

assert len(jax.devices()) == 2, jax.devices()
seen = []
_run_batch = executors.run_batch


calls = []  # (devices, distinct points) of every compiled call


def spy(job, values, indices, mesh):
    out = _run_batch(job, values, indices, mesh)
    seen.append(len(out["y"].sharding.device_set))
    calls.append((seen[-1], len(set(np.asarray(indices).tolist()))))
    return out


executors.run_batch = spy
space = Space({{"x": GridAxis(0.0, 1.0, 7), "z": GridAxis(1.0, 2.0, 2)}})


def fn(p, key):
    noise = jax.random.normal(key, (3,))
    return {{"y": p["x"] * p["z"] + noise.sum(), "v": noise * p["x"]}}


key = jax.random.key(0)
# 14 points, 4 lanes x 2 devices per call: batch_size 3 is rounded up to 8, so
# the 14 points take 2 calls (8 + 6 points), not 4 half-empty ones
par = sweep(fn, space, key=key, progress=False, lanes=4,
            executor=ParallelExecution(batch_size=3))
par_calls = list(calls)
one = sweep(fn, space, key=key, progress=False, lanes=4,
            executor=ParallelExecution(batch_size=4, devices=jax.devices()[:1]))
seq = sweep(fn, space, key=key, progress=False, lanes=4,
            executor=SequentialExecution())
del calls[:]
wide = sweep(fn, space, key=key, progress=False, batch_size=2)  # 16 lanes x 2
out = {{
    "per_call": ParallelExecution().points_per_call(16),
    "par_calls": par_calls,
    "wide_calls": list(calls),
    "wide_chunk": len(wide.table["y"]),
    "par_y": par.table["y"].tolist(),
    "one_y": one.table["y"].tolist(),
    "seq_y": seq.table["y"].tolist(),
    "par_v": par.outputs["v"].tolist(),
    "seq_v": seq.outputs["v"].tolist(),
    "status": par.status.tolist(),
}}
print("RESULT" + json.dumps(out))
"""


@pytest.mark.slow
def test_parallel_execution_on_two_host_devices(tmp_path):
    script = tmp_path / "devices.py"
    script.write_text(SCRIPT.format(x64=jax.config.jax_enable_x64))
    root = str(pathlib.Path(neuromass.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    out = json.loads(line[len("RESULT") :])
    assert out["per_call"] == 32  # 16 lanes on each of 2 devices
    # full calls: chunks rounded up to lanes x devices (8), each call on 2 devices
    assert out["par_calls"] == [[2, 8], [2, 6]]
    assert out["wide_calls"] == [[2, 14]]  # batch_size 2 -> one call of 32 rows
    assert len(out["par_y"]) == 14 and out["status"] == ["ok"] * 14
    # The same bytes on two devices, one device and one point at a time.
    assert out["par_y"] == out["seq_y"] and out["one_y"] == out["seq_y"]
    assert out["par_v"] == out["seq_v"]
    x = np.repeat(np.linspace(0.0, 1.0, 7), 2)
    z = np.tile([1.0, 2.0], 7)
    noise = np.asarray(out["par_v"]) / np.maximum(x, 1e-30)[:, None]
    np.testing.assert_allclose(out["par_y"][2:], (x * z + noise.sum(1))[2:], rtol=1e-5)
