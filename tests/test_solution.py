"""Saving a simulation: `Solution.save` / `Solution.load` round trips (npz and
netCDF) and `Solution.to_xarray`."""

import json

import numpy as np
import pytest

import neuromass as nm


W = np.array([[0.0, 1.0, 0.5], [0.3, 0.0, 0.0], [0.0, 0.8, 0.0]])


@pytest.fixture(scope="module")
def run():
    net = nm.Network(nm.models.Hopf(a=0.1, omega=np.array([0.2, 0.3, 0.4])), W, k=0.2)
    sol = nm.simulate(
        net,
        t1=20.0,
        dt=0.1,
        save_every=1.0,
        monitors=[
            nm.monitors.TemporalAverage(2.0, variables="x"),
            nm.monitors.RunningStats(variable="x"),
        ],
    )
    return net, sol


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _check_round_trip(sol, back, net):
    _same(back.ts, sol.ts)
    assert back.variables == sol.variables
    for v in sol.variables:
        _same(back[v], sol[v])
        _same(back.y_final[v], sol.y_final[v])
    _same(back.num_steps, sol.num_steps)
    tavg = back.monitors["tavg"]
    _same(tavg.ts, sol.monitors["tavg"].ts)
    _same(tavg.data["x"], sol.monitors["tavg"].data["x"])
    attrs = back.attrs
    assert attrs["time_units"] == "ms" and attrs["units"] == {"x": "a.u."}
    assert attrs["variables"] == ["x", "y"] and attrs["note"] == {"run": 1}
    assert attrs["model"] == "Network(Hopf, Linear)"
    params = attrs["parameters"]
    np.testing.assert_allclose(params["node.omega"], [0.2, 0.3, 0.4], rtol=1e-6)
    np.testing.assert_allclose(params["node.a"], 0.1, rtol=1e-6)
    np.testing.assert_allclose(params["k"], 0.2, rtol=1e-6)
    assert attrs["stats"]["dt"] == sol.stats["dt"]


def test_npz_round_trip(run, tmp_path):
    net, sol = run
    path = tmp_path / "run.npz"
    sol.save(path, model=net, units={"x": "a.u."}, attrs={"note": {"run": 1}})
    back = nm.Solution.load(path)
    _check_round_trip(sol, back, net)
    # streaming monitors (dict outputs without times) are kept in npz
    for k, x in sol.monitors["stats"].data.items():
        _same(back.monitors["stats"].data[k], x)
    assert back.monitors["stats"].ts is None
    # a path without suffix gets .npz; a foreign npz is refused
    sol.save(tmp_path / "plain")
    assert (tmp_path / "plain.npz").is_file()
    np.savez(tmp_path / "other.npz", ts=np.zeros(2), __attrs__=np.array("{}"))
    with pytest.raises(ValueError, match="not a saved neuromass Solution"):
        nm.Solution.load(tmp_path / "other.npz")


def test_netcdf_round_trip_and_xarray(run, tmp_path):
    pytest.importorskip("xarray")
    pytest.importorskip("scipy")  # netCDF3 writer
    net, sol = run
    ds = sol.to_xarray(model=net, units={"x": "a.u."}, attrs={"note": {"run": 1}})
    assert ds["x"].dims == ("time", "region") and ds["x"].attrs["units"] == "a.u."
    np.testing.assert_array_equal(ds["time"].values, np.asarray(sol.ts))
    np.testing.assert_array_equal(ds["y"].values, np.asarray(sol["y"]))
    assert ds["tavg__x"].dims == ("tavg_time", "tavg__x_dim1")
    assert json.loads(ds.attrs["parameters"])["node.a"] == pytest.approx(0.1)
    path = tmp_path / "run.nc"
    sol.save(path, model=net, units={"x": "a.u."}, attrs={"note": {"run": 1}})
    _check_round_trip(sol, nm.Solution.load(path), net)


def test_save_refuses_other_models(run, tmp_path):
    _, sol = run
    with pytest.raises(TypeError, match="node model or the `nm.Network`"):
        sol.save(tmp_path / "x.npz", model="Hopf")
