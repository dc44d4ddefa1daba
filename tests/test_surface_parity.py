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


@pytest.mark.slow
def test_surface_eeg_matches_tvb(tvb_run, x64):
    """TVB's EEG monitor (`Projection` of `V` through the 65-sensor surface gain,
    average reference, no observation noise) averages `gain @ V` over windows of
    `period / dt` steps aligned to TVB's absolute step count, whose first window
    is partial (see tests/tvb_surface_reference.py). neuromass's `Projection`
    averages whole periods from the end of the transient: with the transient ending
    where TVB's second window starts, every later sample is the same."""
    ref = tvb_run
    net = _network(ref)
    steps, period = ref.raw.shape[0], ref.eeg_period_steps
    first = int(ref.eeg_steps[0] - (ref.history.shape[0] - 1))  # run steps of window 1
    eeg = nm.monitors.Projection(
        ref.eeg_gain, variable="V", every=period * ref.dt, reference="average",
        name="eeg",
    )  # fmt: skip
    sol = nm.simulate(
        net,
        t1=steps * ref.dt,
        dt=ref.dt,
        transient=first * ref.dt,
        save_every=period * ref.dt,
        history={"V": ref.history[:, 0], "W": ref.history[:, 1]},
        interpolation="nearest",
        coupling_evaluation="step",
        monitors=[eeg],
        variables=("V",),
    )
    ours = np.asarray(sol.monitors["eeg"].data)
    theirs = ref.eeg[1 : 1 + ours.shape[0]]
    assert ours.shape[0] >= 10 and ours.shape == theirs.shape
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11 * scale)


STIMULUS = dict(
    focal_triangles=[3000, 20000],
    spatial=dict(amp=1.0, sigma=8.0, midpoint=0.0, offset=0.0),
    temporal=dict(onset=2.0, T=8.0, tau=3.0, amp=0.5),
)


@pytest.mark.slow
def test_surface_stimulus_matches_tvb(x64):
    """TVB's `StimuliSurface` (a Gaussian of the geodesic distance from two focal
    triangles' first vertices, one per hemisphere, times a pulse train) on the same
    surface simulation: the spatial pattern and the trajectories to round-off, with
    `stimulus_evaluation="step"` (TVB adds `dt * S(t_n)` to both Heun stages)."""
    ref = run_tvb_surface(t1=10.0, stimulus=STIMULUS)
    net = _network(ref)
    stim = nm.stimuli.SurfaceStimulus.from_triangles(
        net.cortex,
        STIMULUS["focal_triangles"],
        nm.equations.Gaussian(**STIMULUS["spatial"]),
        nm.equations.PulseTrain(**STIMULUS["temporal"]),
    )
    np.testing.assert_allclose(
        np.asarray(stim.spatial_pattern()), ref.stimulus_pattern, rtol=1e-12, atol=0
    )
    assert ref.stimulus_pattern.max() >= 1.0 and (ref.stimulus_pattern > 0.1).sum() > 20
    steps = ref.raw.shape[0]
    sol = nm.simulate(
        net,
        t1=steps * ref.dt,
        dt=ref.dt,
        history={"V": ref.history[:, 0], "W": ref.history[:, 1]},
        interpolation="nearest",
        coupling_evaluation="step",
        stimulus=stim,
        stimulus_evaluation="step",
    )
    for i, v in enumerate(("V", "W")):
        ours, theirs = np.asarray(sol[v])[1:], ref.raw[:, i]
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11 * scale)
    # the stimulus mattered: the unstimulated run (the first test's) differs
    plain = nm.simulate(
        net,
        t1=steps * ref.dt,
        dt=ref.dt,
        history={"V": ref.history[:, 0], "W": ref.history[:, 1]},
        interpolation="nearest",
        coupling_evaluation="step",
    )
    assert float(jnp.abs(plain["V"][-1] - sol["V"][-1]).max()) > 1e-3
