"""Surface simulations against tvb-library's own (tests/tvb_surface_reference.py):
Generic2dOscillator on TVB's 16,384-vertex cortex with its precomputed local
connectivity, the 76-region connectome with delays, linear coupling, Heun, float64
— `nm.SurfaceNetwork` in TVB-parity mode reproduces TVB's trajectories to
round-off."""

import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


pytest.importorskip("tvb.simulator.models")
tvb_data = pytest.importorskip("tvb_data")

from tvb_surface_reference import run_tvb_surface  # noqa: E402


T1 = 20.0


@pytest.fixture(scope="module")
def tvb_run():
    import jax

    with jax.enable_x64(True):
        yield run_tvb_surface(t1=T1)


def _network(ref):
    cortex = nm.datasets.load_cortex()
    np.testing.assert_array_equal(np.asarray(cortex.region_mapping), ref.region_mapping)
    p = ref.model_parameters
    return nm.SurfaceNetwork(
        nm.models.Generic2dOscillator(**p),
        cortex,
        ref.weights,
        lengths=ref.tract_lengths,
        speed=ref.speed,
        coupling=nm.coupling.Linear(a=ref.coupling_a, b=ref.coupling_b),
        local_strength=ref.coupling_strength,
    )


@pytest.mark.slow
def test_surface_simulation_matches_tvb(tvb_run, x64):
    ref = tvb_run
    net = _network(ref)
    assert net.n_nodes == ref.n_nodes
    steps = ref.raw.shape[0]
    sol = nm.simulate(
        net,
        t1=steps * ref.dt,
        dt=ref.dt,
        history={"V": ref.history[:, 0], "W": ref.history[:, 1]},
        interpolation="nearest",
        coupling_evaluation="step",
    )
    for i, v in enumerate(("V", "W")):
        ours = np.asarray(sol[v])[1:]
        theirs = ref.raw[:, i]
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11 * scale)
    # the local coupling matters: without it the trajectories differ
    alone = nm.simulate(
        net.replace(local_strength=0.0),
        t1=steps * ref.dt,
        dt=ref.dt,
        history={"V": ref.history[:, 0], "W": ref.history[:, 1]},
        interpolation="nearest",
        coupling_evaluation="step",
    )
    assert float(jnp.abs(alone["V"][-1] - sol["V"][-1]).max()) > 1e-6
