"""DaskExecution on a local two-process cluster gives the local results."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuromass.sweeps import DaskExecution, GridAxis, Space, SweepError, sweep


distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_dask_cluster_matches_local_run(tmp_path):
    space = Space({"x": GridAxis(0.0, 1.0, 9), "z": GridAxis(1.0, 2.0, 2)})
    key = jax.random.key(3)

    def fn(p, key):  # local function: sent to the workers by value
        return {
            "y": p["x"] * p["z"] + jax.random.uniform(key),
            "v": jnp.stack([p["z"]] * 2),
        }

    def bad(p):  # raised on a worker while tracing, reported by the client
        raise ValueError("worker-side failure")

    local = sweep(fn, space, batch_size=4, key=key, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = set(client.run(lambda: __import__("os").getpid()).values())
        assert len(pids) == 2 and all(pid != __import__("os").getpid() for pid in pids)
        remote = sweep(
            fn,
            space,
            key=key,
            progress=False,
            executor=DaskExecution(client, batch_size=4),
            store=str(tmp_path / "store"),
        )
        with pytest.raises(SweepError, match="worker-side failure"):
            sweep(bad, space, progress=False, executor=DaskExecution(client, 4))
    np.testing.assert_array_equal(remote.index, local.index)
    np.testing.assert_array_equal(remote.status, local.status)
    for name in local.outputs:
        np.testing.assert_array_equal(remote.outputs[name], local.outputs[name])


def test_dask_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    space = Space({"x": GridAxis(0.0, 1.0, 3)})
    with pytest.raises(ImportError, match=r"neuromass\[distributed\]"):
        sweep(lambda p: p["x"], space, progress=False, executor=DaskExecution(None, 2))
