"""Bad inputs get an error that names the argument (or file) and the fix."""

import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass.sweep import (
    GridAxis,
    ParallelExecution,
    SequentialExecution,
    Space,
    SweepResult,
    sweep,
)


def test_node_parameters_are_named():
    with pytest.raises(
        TypeError,
        match=r"Hopf has no parameter 'b'; its parameters "
        r"are a, omega\.",
    ):
        nm.models.Hopf(b=1.0)
    with pytest.raises(
        TypeError,
        match=r"`Hopf\(a=\.\.\.\)` must be a number or an "
        r"array of numbers \(one per region\); got 'x'",
    ):
        nm.models.Hopf(a="x")
    with pytest.raises(TypeError, match=r"at most 2 parameters \(a, omega\)"):
        nm.models.Hopf(0.1, 0.2, 0.3)
    # Valid inputs are converted as before (the checks do not change values).
    node = nm.models.Hopf(0.1, omega=[0.2, 0.3])
    assert node.a.shape == () and float(node.a) == pytest.approx(0.1)
    np.testing.assert_allclose(node.omega, [0.2, 0.3], rtol=1e-6)


def _damage(path, how):
    data = pathlib.Path(path).read_bytes()
    if how == "truncate":
        pathlib.Path(path).write_bytes(data[: len(data) // 2])
    else:
        i = len(data) // 3
        pathlib.Path(path).write_bytes(
            data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        )


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_connectome_names_the_file(tmp_path, how):
    path = tmp_path / "conn.npz"
    nm.datasets.generate_edr_connectome(3).save(path)
    _damage(path, how)
    with pytest.raises(ValueError, match=r"conn\.npz.*damaged.*Restore the file"):
        nm.datasets.load_connectome(path)


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_sweep_result_names_the_file(tmp_path, how):
    space = Space({"x": GridAxis(0.0, 1.0, 200)})
    res = sweep(lambda p: {"y": jnp.sin(p["x"])}, space, progress=False)
    path = tmp_path / "res.npz"
    res.save(path)
    np.testing.assert_array_equal(SweepResult.load(path).outputs["y"], res.outputs["y"])
    _damage(path, how)
    with pytest.raises(ValueError, match=r"res\.npz.*damaged.*run the sweep again"):
        SweepResult.load(path)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_batch_size_must_be_a_positive_integer(bad):
    space = Space({"x": GridAxis(0.0, 1.0, 3)})
    with pytest.raises(
        ValueError,
        match=r"`sweep\(batch_size=\.\.\.\)` must be an "
        "integer >= 1",
    ):
        sweep(lambda p: p["x"], space, batch_size=bad, progress=False)
    for executor in (ParallelExecution, SequentialExecution):
        with pytest.raises(ValueError, match=f"`{executor.__name__}"):
            executor(batch_size=bad)
    with pytest.raises(ValueError, match=r"`sweep\(lanes=\.\.\.\)` must be"):
        sweep(lambda p: p["x"], space, lanes=0, progress=False)
