"""Bad inputs get an error that names the argument (or file) and the fix."""

import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm
from neuromass.sweeps import (
    DataAxis,
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


# ------------------------------------------------------------------- sweeps
def _delayed_net():
    rng = np.random.default_rng(0)
    return nm.Network(
        nm.models.Hopf(),
        rng.uniform(0.0, 1.0, (3, 3)),
        lengths=rng.uniform(10.0, 30.0, (3, 3)),
        speed=5.0,
    )


def _never(net):
    raise AssertionError("no point should run")


def test_sweep_fn_must_be_callable():
    space = Space({"k": GridAxis(0.0, 1.0, 2)})
    with pytest.raises(TypeError, match=r"`fn` must be a function.*got Space"):
        sweep(space, _never, progress=False)  # arguments swapped
    with pytest.raises(TypeError, match=r"`fn` must be a function.*got str"):
        sweep("mean_fc", space, model=_delayed_net(), progress=False)


def test_sweeping_a_static_field_names_the_path():
    space = Space({"coupled_vars": DataAxis(np.array([0.0, 1.0]))})
    with pytest.raises(
        ValueError,
        match=r"`coupled_vars`: `coupled_vars` is a static field of Network.*not an "
        r"array leaf.*Build one model per value",
    ):
        sweep(_never, space, model=_delayed_net(), progress=False)
    with pytest.raises(ValueError, match=r"`node`: it names a whole Hopf"):
        nm.apply_point(_delayed_net(), {"node": 1.0})


@pytest.mark.parametrize("bad", [0.0, -1.75, np.nan, np.inf])
def test_swept_speed_outside_its_domain_names_the_axis(bad):
    """Not "`max_delay` ... got inf" nor "`min_delay` ... got -1.75": the axis."""
    space = Space({"speed": DataAxis(np.array([5.0, bad]))})
    with pytest.raises(
        ValueError,
        match=r"The axis `speed` holds .* at point 1.*must be finite and > 0",
    ) as info:
        sweep(_never, space, model=_delayed_net(), progress=False)
    assert "max_delay" not in str(info.value) and "min_delay" not in str(info.value)


def test_swept_lengths_with_nan_name_the_axis():
    net = _delayed_net()
    lengths = np.stack([np.asarray(net.lengths)] * 2)
    lengths[1, 0, 1] = np.nan
    space = Space({"lengths": DataAxis(lengths)})
    with pytest.raises(ValueError, match=r"The axis `lengths` holds nan at point 1"):
        sweep(_never, space, model=net, progress=False)


def test_bound_widening_is_nan_safe():
    """A NaN delay from a fixed value of the space is an error, never skipped by
    the widening of `max_delay`/`min_delay` (Python's max/min skip NaN)."""
    space = Space({"k": GridAxis(0.0, 1.0, 2), "speed": float("nan")})
    with pytest.raises(ValueError, match=r"non-finite or negative delays.*`speed`"):
        sweep(_never, space, model=_delayed_net(), progress=False)


def test_core_bad_values_are_named():
    """Bad weights, an empty network, a history of the wrong shape and a bad key
    are errors naming the argument (not raw JAX/NumPy errors)."""
    with pytest.raises(TypeError, match=r"`weights` must be an \(N, N\) array.*None"):
        nm.Network(nm.models.Hopf(), None)
    with pytest.raises(TypeError, match=r"`weights` must be .*dtype <U"):
        nm.Network(nm.models.Hopf(), [["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match=r"`weights` has no regions"):
        nm.Network(nm.models.Hopf(), np.zeros((0, 0)))
    net = nm.Network(nm.models.Hopf(), np.ones((3, 3)), delays=np.full((3, 3), 1.0))
    with pytest.raises(ValueError, match=r"`history\(t\)\['x'\]` has shape \(5,\)"):
        nm.simulate(
            net,
            t1=2.0,
            dt=0.1,
            history=lambda t: {"x": jnp.zeros(5) + t, "y": jnp.zeros(3)},
        )
    with pytest.raises(TypeError, match=r"`key` must be a JAX random key"):
        nm.simulate(net.replace(noise=nm.noise.Additive(0.1)), t1=1.0, dt=0.1, key=0)
