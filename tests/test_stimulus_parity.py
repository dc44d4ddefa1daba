"""Region stimuli against tvb-library's `StimuliRegion`: the same delayed 76-region
network (TVB's connectome), Heun, a pulse train on a few regions, in float64 —
`nm.simulate(..., stimulus=..., stimulus_evaluation="step")` reproduces TVB's
trajectory to round-off."""

import warnings

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pytest.importorskip("tvb.simulator.models")
    from tvb.datatypes import equations as tvb_equations, patterns
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import (
        coupling,
        descriptors,
        history,
        integrators,
        models,
        monitors as tvb_monitors,
    )
    from tvb.simulator.simulator import Simulator


@pytest.fixture
def tvb_float64_history(monkeypatch):
    """TVB's history buffers in float64 (they are float32), for round-off parity."""
    for cls in (history.BaseHistory, history.DenseHistory, history.SparseHistory):
        for attr in vars(cls).values():
            if isinstance(attr, descriptors.NDArray) and attr.dtype == "f":
                monkeypatch.setattr(attr, "dtype", "d")


DT, SPEED, STEPS = 0.1, 6.0, 300
PULSE = dict(onset=5.0, T=12.0, tau=4.0, amp=0.8)
STIMULATED = [3, 20, 41]


def _connectome():
    conn = nm.datasets.load_connectome("tvb76")
    w = np.asarray(conn.weights, float)
    w = w / w.max()
    np.fill_diagonal(w, 0.0)
    return w, np.asarray(conn.lengths, float)


def _history(n, horizon):
    rng = np.random.default_rng(11)
    v = rng.uniform(-1.0, 1.0, (horizon, n))
    w = rng.uniform(-1.0, 1.0, (horizon, n))
    return np.stack([v, w], axis=1)  # (horizon, 2, n), oldest first


def _tvb(w, lengths, hist, weight):
    n = w.shape[0]
    conn = Connectivity(
        weights=w,
        tract_lengths=lengths,
        speed=np.array([SPEED]),
        centres=np.zeros((n, 3)),
        region_labels=np.array([f"r{i}" for i in range(n)]),
    )
    conn.configure()
    stim = patterns.StimuliRegion(
        temporal=tvb_equations.PulseTrain(
            parameters={k: float(v) for k, v in PULSE.items()}
        ),
        connectivity=conn,
        weight=weight,
    )
    sim = Simulator(
        model=models.Generic2dOscillator(variables_of_interest=("V", "W")),
        connectivity=conn,
        coupling=coupling.Linear(a=np.array([0.02])),
        integrator=integrators.HeunDeterministic(dt=DT),
        monitors=[tvb_monitors.Raw()],
        initial_conditions=hist[..., None],
        simulation_length=STEPS * DT,
        stimulus=stim,
    )
    sim.configure()
    ((_, ys),) = sim.run()
    return ys[..., 0]  # (steps, 2, n)


def _ours(w, lengths, hist, weight, evaluation, dt=DT):
    net = nm.Network(
        nm.models.Generic2dOscillator(),
        w,
        lengths=lengths,
        speed=SPEED,
        coupling=nm.coupling.Linear(a=0.02),
    )
    stim = nm.stimuli.RegionStimulus(
        jnp.asarray(weight), nm.equations.PulseTrain(**PULSE)
    )
    return nm.simulate(
        net,
        t1=STEPS * DT,
        dt=dt,
        history={"V": hist[:, 0], "W": hist[:, 1]},
        solver=diffrax.Heun(),
        interpolation="nearest",
        coupling_evaluation="step",
        stimulus=stim,
        stimulus_evaluation=evaluation,
    )


def test_region_stimulus_matches_tvb(x64, tvb_float64_history):
    w, lengths = _connectome()
    n = w.shape[0]
    horizon = int(np.rint(lengths / SPEED / DT).max()) + 1
    hist = _history(n, horizon)
    weight = np.zeros(n)
    weight[STIMULATED] = [1.0, 0.5, 2.0]
    theirs = _tvb(w, lengths, hist, weight)
    sol = _ours(w, lengths, hist, weight, "step")
    for i, v in enumerate(("V", "W")):
        ours = np.asarray(sol[v])[1:]
        scale = np.abs(theirs[:, i]).max()
        np.testing.assert_allclose(ours, theirs[:, i], rtol=1e-9, atol=1e-11 * scale)
    # the stimulus mattered: without it the stimulated regions differ
    unstimulated = np.asarray(_ours(w, lengths, hist, 0.0 * weight, "step")["V"])[1:]
    assert np.abs(unstimulated[:, STIMULATED] - theirs[:, 0, STIMULATED]).max() > 0.1
