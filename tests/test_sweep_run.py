"""`sweep`: chunked vmap, executors, keys, failures and `SweepResult`."""

import sys

import equinox as eqx
import jax
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
    SweepError,
    SweepResult,
    sweep,
)


class Node(eqx.Module):
    a: float


class Net(eqx.Module):
    k: float
    node: Node

    def drive(self):
        return self.k * self.node.a


def grid_space():
    return Space({"x": GridAxis(0.0, 1.0, 5), "y": GridAxis(1.0, 2.0, 2)})


def test_values_table_and_vector_outputs():
    space = grid_space()

    def fn(p):
        return {"s": p["x"] * p["y"], "vec": jnp.arange(3.0) + p["x"]}

    res = sweep(fn, space, batch_size=3, progress=False)
    assert len(res) == 10
    st = space.stacked()
    np.testing.assert_allclose(res.table["s"], st["x"] * st["y"], rtol=1e-6)
    assert list(res.table) == ["index", "x", "y", "s", "status"]
    np.testing.assert_array_equal(res.table["index"], np.arange(10))
    assert res.outputs["vec"].shape == (10, 3)
    np.testing.assert_allclose(res.outputs["vec"][:, 0], st["x"], rtol=1e-6)
    assert (res.status == "ok").all() and res.ok.all()
    assert res.grid("s").shape == (5, 2)
    np.testing.assert_allclose(res.grid("s")[4, 1], 2.0, rtol=1e-6)
    assert res.grid("vec").shape == (5, 2, 3)


def test_compiled_once_across_chunks_and_padding():
    traces = []

    def fn(p):
        traces.append(1)  # runs only while tracing
        return {"y": p["x"] ** 2}

    space = Space({"x": GridAxis(0.0, 1.0, 10)})
    res = sweep(fn, space, batch_size=4, lanes=2, progress=False)  # 4 + 4 + 2
    assert len(traces) == 1
    assert len(res) == 10
    np.testing.assert_allclose(res.table["y"], np.linspace(0, 1, 10) ** 2, rtol=1e-6)


def test_chunks_are_whole_calls(monkeypatch):
    """A chunk is rounded up to a whole number of compiled calls (lanes x devices
    points), so that no call runs partly empty: 10 points with 4 lanes and
    `batch_size=3` are 3 calls (4 + 4 + 2 points), not 4 (3 + 3 + 3 + 1, two of
    them repeating a call of the same lanes)."""
    from neuromass.sweeps import _job

    calls = []
    run_batch = _job.run_batch

    def spy(job, values, indices, mesh):
        calls.append(len(set(np.asarray(indices).tolist())))
        return run_batch(job, values, indices, mesh)

    monkeypatch.setattr(_job, "run_batch", spy)
    space = Space({"x": GridAxis(0.0, 1.0, 10)})
    res = sweep(lambda p: {"y": p["x"] ** 2}, space, batch_size=3, lanes=4)
    assert calls == [4, 4, 2]
    ref = sweep(lambda p: {"y": p["x"] ** 2}, space, batch_size=1, lanes=4)
    np.testing.assert_array_equal(res.table["y"], ref.table["y"])
    assert ParallelExecution().points_per_call(4) == 4 * len(jax.devices())
    assert SequentialExecution().points_per_call(4) == 1


def test_keys_do_not_depend_on_batching_executor_or_slicing():
    space = Space({"x": GridAxis(0.0, 1.0, 7), "w": DataAxis([1.0, -1.0])})
    key = jax.random.key(42)

    def fn(p, key):
        return {"y": p["x"] * p["w"] + jax.random.normal(key)}

    # 2 lanes per call, so that the batch sizes give different chunkings (chunks
    # are rounded up to whole calls: 3 -> 4)
    runs = [
        sweep(fn, space, batch_size=3, key=key, lanes=2, progress=False),
        sweep(fn, space, batch_size=14, key=key, lanes=2, progress=False),
        sweep(
            fn, space, key=key, lanes=2, progress=False, executor=SequentialExecution()
        ),
        sweep(
            fn,
            space,
            key=key,
            lanes=2,
            progress=False,
            executor=SequentialExecution(batch_size=5, jit=False),
        ),
        sweep(
            fn, space, key=key, lanes=2, progress=False, executor=ParallelExecution(2)
        ),
    ]
    for r in runs[1:]:
        np.testing.assert_allclose(r.table["y"], runs[0].table["y"], rtol=1e-6)
    for r in runs[1:3] + runs[4:]:  # compiled: the same bytes
        np.testing.assert_array_equal(r.table["y"], runs[0].table["y"])
    assert len(np.unique(runs[0].table["y"])) == 14  # the noise differs per point
    sub = sweep(fn, space[3:9], batch_size=4, key=key, lanes=2, progress=False)
    np.testing.assert_array_equal(sub.index, np.arange(3, 9))
    np.testing.assert_array_equal(sub.table["y"], runs[0].table["y"][3:9])
    other = sweep(fn, space, key=jax.random.key(1), progress=False)
    assert not np.allclose(other.table["y"], runs[0].table["y"])


def test_vectorized_function_gets_whole_batches():
    space = Space({"x": GridAxis(0.0, 1.0, 7), "w": DataAxis([1.0, -1.0])})
    key = jax.random.key(5)
    shapes = []

    def batched(p, key):
        shapes.append((p["x"].shape, key.shape))
        noise = jax.vmap(jax.random.normal)(key)
        return {"y": p["x"] * p["w"] + noise}

    def single(p, key):
        return {"y": p["x"] * p["w"] + jax.random.normal(key)}

    vec = sweep(
        batched, space, batch_size=4, key=key, vectorized=True, lanes=4, progress=False
    )
    assert shapes == [((4,), (4,))]  # one compiled call of `lanes` points
    ref = sweep(single, space, batch_size=4, key=key, progress=False)
    np.testing.assert_allclose(vec.table["y"], ref.table["y"], rtol=1e-6)
    seq = sweep(
        batched,
        space,
        key=key,
        vectorized=True,
        lanes=4,
        progress=False,
        executor=SequentialExecution(),
    )
    np.testing.assert_allclose(seq.table["y"], ref.table["y"], rtol=1e-6)
    with pytest.raises(SweepError, match="leading axis"):
        sweep(lambda p: {"y": p["x"].sum()}, space, vectorized=True, progress=False)


def test_key_required_but_missing():
    def fn(p, key):
        return {"y": p["x"]}

    with pytest.raises(ValueError, match="key="):
        sweep(fn, Space({"x": GridAxis(0.0, 1.0, 3)}), progress=False)


def test_model_path_targeting_without_builder():
    net = Net(k=0.0, node=Node(a=0.0))
    space = Space({"k": GridAxis(0.0, 1.0, 3), "node.a": GridAxis(1.0, 3.0, 2)})
    res = sweep(lambda m: {"d": m.drive()}, space, model=net, progress=False)
    st = space.stacked()
    np.testing.assert_allclose(res.table["d"], st["k"] * st["node.a"], rtol=1e-6)
    assert res.axis_names == ("k", "node.a")
    bad = Space({"node.b": GridAxis(0.0, 1.0, 3)})
    with pytest.raises(ValueError, match="`node.b`"):
        sweep(lambda m: {"d": m.drive()}, bad, model=net, progress=False)


def test_nonfinite_points_are_flagged_and_kept():
    space = Space({"x": GridAxis(-1.0, 1.0, 5)})
    res = sweep(lambda p: {"l": jnp.log(p["x"]), "x2": p["x"] ** 2}, space)
    assert res.status.tolist() == ["nonfinite"] * 3 + ["ok"] * 2
    np.testing.assert_allclose(res.table["x2"], np.linspace(-1, 1, 5) ** 2, rtol=1e-6)
    good = res[res.ok]
    assert len(good) == 2 and np.isfinite(good.table["l"]).all()
    np.testing.assert_array_equal(good.index, [3, 4])


def _failing(p):
    x = eqx.error_if(p["x"], p["x"] > 0.7, "x too large")
    return {"y": 2 * x}


def test_chunk_exception_raises_sweep_error_with_partial_result():
    space = Space({"x": GridAxis(0.0, 1.0, 10)})
    with pytest.raises(SweepError, match=r"chunk 1 of 3 .*x in \[") as info:
        sweep(_failing, space, batch_size=4, lanes=2, progress=False)  # 4 + 4 + 2
    err = info.value
    assert err.chunk == 1
    np.testing.assert_array_equal(err.indices, [4, 5, 6, 7])
    assert "0.777778" in str(err)  # the failing chunk's parameter values are named
    assert err.__cause__ is not None
    part = err.partial
    assert isinstance(part, SweepResult) and len(part) == 4
    np.testing.assert_allclose(
        part.table["y"], 2 * np.linspace(0, 1, 10)[:4], rtol=1e-6
    )


def test_chunk_exception_recorded_when_asked():
    """Only the failing points are marked: the failing chunk is re-run point by
    point (x > 0.7 fails: points 7, 8, 9 of chunks 1 and 2)."""
    space = Space({"x": GridAxis(0.0, 1.0, 10)})
    with pytest.warns(UserWarning, match="chunk [12] of 3.*x too large") as rec:
        res = sweep(
            _failing, space, batch_size=4, lanes=2, progress=False, on_error="record"
        )
    assert len(rec) == 2
    assert "1 of 4 points failed" in str(rec[0].message)
    assert "7 (x in [0.777778])" in str(rec[0].message)
    assert "2 of 2 points failed" in str(rec[1].message)
    assert len(res) == 10
    assert res.status.tolist() == ["ok"] * 7 + ["error"] * 3
    assert np.isnan(res.table["y"][7:]).all()
    np.testing.assert_allclose(res.table["y"][:7], 2 * np.linspace(0, 1, 10)[:7])
    alone = sweep(_failing, space[:7], batch_size=4, lanes=2, progress=False)
    assert res.table["y"][:7].tobytes() == alone.table["y"].tobytes()


def test_trace_error_is_reported_for_the_first_chunk():
    def broken(p):
        return {"y": p["missing"]}

    with pytest.raises(SweepError, match="chunk 0 of 1.*KeyError") as info:
        sweep(broken, Space({"x": GridAxis(0.0, 1.0, 3)}), progress=False)
    assert len(info.value.partial) == 0


def test_sequential_eager_runs_non_traceable_functions():
    def numpy_only(p):
        return {"y": float(np.sin(float(p["x"])))}  # needs concrete values

    space = Space({"x": GridAxis(0.0, 1.0, 4)})
    res = sweep(numpy_only, space, executor=SequentialExecution(jit=False))
    np.testing.assert_allclose(res.table["y"], np.sin(np.linspace(0, 1, 4)), rtol=1e-6)


def test_progress_bar(capsys):
    space = Space({"x": GridAxis(0.0, 1.0, 6)})
    sweep(lambda p: {"y": p["x"]}, space, batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "pt/s" in err
    sweep(lambda p: {"y": p["x"]}, space, batch_size=2, progress=False)
    assert capsys.readouterr().err == ""


def test_batch_size_conflict_and_bad_values():
    space = Space({"x": GridAxis(0.0, 1.0, 3)})
    with pytest.raises(ValueError, match="disagrees"):
        sweep(
            lambda p: p["x"],
            space,
            batch_size=2,
            executor=ParallelExecution(batch_size=3),
        )
    with pytest.raises(ValueError, match="batch_size"):
        ParallelExecution(batch_size=0)
    res = sweep(lambda p: p["x"], space, progress=False)  # bare output -> "value"
    assert list(res.outputs) == ["value"]


def test_sweep_is_a_function():
    """`nm.sweep` is the function; the axes, spaces and executors are importable from
    the top level and from `neuromass.sweep`."""
    from neuromass.sweeps import GridAxis, Space, sweep as sweep_fn

    assert nm.sweep is sweep_fn and callable(nm.sweep)
    assert nm.Space is Space and nm.SequentialExecution is not None
    res = nm.sweep(lambda p: {"y": p["x"] + 1}, Space({"x": GridAxis(0.0, 1.0, 3)}))
    np.testing.assert_allclose(res.table["y"], [1.0, 1.5, 2.0])


# ------------------------------------------------------------------------- results
def test_result_indexing_and_grid_of_partial():
    res = sweep(lambda p: {"s": p["x"] + p["y"]}, grid_space(), progress=False)
    last = res[-1]
    assert len(last) == 1 and last.index.tolist() == [9]
    mid = res[2:5]
    assert len(mid) == 3 and mid.index.tolist() == [2, 3, 4]
    g = mid.grid("s")
    assert g.shape == (5, 2)
    assert np.isfinite(g).sum() == 3 and g[1, 0] == res.grid("s")[1, 0]
    assert res[np.array([0, 9])].index.tolist() == [0, 9]
    with pytest.raises(IndexError):
        res[10]
    with pytest.raises(KeyError, match="outputs"):
        res.grid("nope")
    zipped = sweep(
        lambda p: {"s": p["x"]},
        Space({"x": GridAxis(0.0, 1.0, 3)}, mode="zip"),
        progress=False,
    )
    with pytest.raises(ValueError, match="product"):
        zipped.grid("s")


def test_to_pandas_and_to_xarray():
    res = sweep(
        lambda p: {"s": p["x"] * p["y"], "v": jnp.ones(2) * p["x"]},
        grid_space(),
        progress=False,
    )
    df = res.to_pandas()
    assert list(df.columns) == ["index", "x", "y", "s", "status"] and len(df) == 10
    ds = res.to_xarray()
    assert ds["s"].dims == ("x", "y") and ds["v"].dims == ("x", "y", "v_dim_0")
    np.testing.assert_allclose(ds["x"].values, np.linspace(0.0, 1.0, 5), rtol=1e-6)
    np.testing.assert_allclose(ds["y"].values, [1.0, 2.0])
    np.testing.assert_allclose(ds["s"].sel(x=1.0, y=2.0).values, 2.0, rtol=1e-6)
    assert (ds["status"].values == "ok").all()
    zipped = sweep(
        lambda p: {"s": p["x"]},
        Space({"x": GridAxis(0.0, 1.0, 3), "w": DataAxis([4, 5, 6])}, mode="zip"),
        progress=False,
    )
    zds = zipped.to_xarray()
    assert zds["s"].dims == ("point",)
    np.testing.assert_array_equal(zds["w"].values, [4, 5, 6])


def test_missing_table_extras_give_install_hint(monkeypatch):
    res = sweep(lambda p: {"s": p["x"]}, grid_space(), progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r"neuromass\[tables\]"):
        res.to_pandas()
    with pytest.raises(ImportError, match=r"neuromass\[tables\]"):
        res.to_xarray()


def test_save_and_load_roundtrip(tmp_path):
    space = Space(
        {"x": GridAxis(0.0, 1.0, 3), "m": DataAxis(np.stack([np.eye(2)] * 2))}
    )
    res = sweep(
        lambda p: {"t": p["m"].sum() * p["x"], "v": p["m"][0]}, space, progress=False
    )
    path = tmp_path / "res.npz"
    res.save(path)
    back = SweepResult.load(path)
    assert back.grid_shape == res.grid_shape == (2, 3)  # axes ("m", "x")
    np.testing.assert_array_equal(back.index, res.index)
    np.testing.assert_array_equal(back.status, res.status)
    for name in res.outputs:
        np.testing.assert_array_equal(back.outputs[name], res.outputs[name])
    for name in res.params:
        np.testing.assert_array_equal(back.params[name], res.params[name])
    np.testing.assert_array_equal(back.coords["m"], res.coords["m"])
    with np.load(path, allow_pickle=False) as f:  # plain arrays only
        assert "meta" in f.files
    bad = tmp_path / "other.npz"
    np.savez(bad, meta=np.array('{"format": "x"}'))
    with pytest.raises(ValueError, match="not a saved SweepResult"):
        SweepResult.load(bad)


# ------------------------------------------------------------------- determinism
def _noisy_network():
    import neuromass as nm

    rng = np.random.default_rng(0)
    weights = rng.uniform(0.0, 1.0, (4, 4))
    np.fill_diagonal(weights, 0.0)
    lengths = rng.uniform(10.0, 40.0, (4, 4))
    return nm.Network(
        nm.models.Hopf(a=-0.05, omega=0.3),
        weights,
        lengths=(lengths + lengths.T) / 2,
        speed=5.0,
        coupling=nm.coupling.Diffusive(),
        k=0.5,
        coupled_vars=("x", "y"),
        noise=nm.noise.Additive(0.02),
    )


def _noisy_point(net, key):
    import neuromass as nm

    x = nm.simulate(net, t1=100.0, dt=0.2, save_every=1.0, key=key)["x"]
    return {
        "mean_fc": nm.metrics.fc(x).mean(),
        "x_mean": x.mean(axis=0),  # a reduction over 100 samples
        "x": x,
        "log_amp": jnp.log(jnp.abs(x[-1]).sum()),  # -inf or NaN once diverged
    }


@pytest.mark.slow
def test_bit_identical_across_batch_sizes_and_executors():
    """The same point gives the same bytes whatever the batch size (1, 3, 16) and
    the executor, with noise and a diverging point. XLA compiles a vmapped mean
    over time differently for different widths: `x_mean` differed at every point
    between batch sizes 3 and 16 before every executor ran the one program of
    `lanes` rows."""

    net = _noisy_network()
    space = Space({"k": DataAxis([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1e4])})
    key = jax.random.key(7)
    runs = {
        b: sweep(_noisy_point, space, model=net, batch_size=b, key=key, progress=False)
        for b in (1, 3, 16)
    }
    runs["sequential"] = sweep(
        _noisy_point,
        space,
        model=net,
        key=key,
        progress=False,
        executor=SequentialExecution(batch_size=5),
    )
    ref = runs[16]
    assert ref.status.tolist() == ["ok"] * 7 + ["nonfinite"]
    for name, res in runs.items():
        assert res.status.tolist() == ref.status.tolist(), name
        for out in ref.outputs:
            assert res.outputs[out].tobytes() == ref.outputs[out].tobytes(), (name, out)
    # The reductions against NumPy (float64) on the returned trajectories.
    x = ref.outputs["x"][:7].astype(np.float64)
    np.testing.assert_allclose(ref.outputs["x_mean"][:7], x.mean(axis=1), atol=1e-6)
    fc = [np.corrcoef(xi.T).mean() for xi in x]
    np.testing.assert_allclose(ref.outputs["mean_fc"][:7], fc, rtol=1e-4)
    assert len(np.unique(ref.outputs["x_mean"][:7, 0])) == 7  # the noise differs
