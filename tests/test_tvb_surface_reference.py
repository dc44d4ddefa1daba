"""The TVB surface reference harness (`tests/tvb_surface_reference.py`) runs
tvb-library's own surface simulation and returns consistent outputs and inputs."""

import numpy as np
import pytest


pytest.importorskip("tvb.simulator")
pytest.importorskip("tvb_data")

from tvb_surface_reference import run_tvb_surface  # noqa: E402


@pytest.fixture(scope="module")
def run():
    return run_tvb_surface(t1=5.0, eeg_period=1.0)


def test_shapes_times_and_finite(run):
    dt = 2.0**-4
    n_steps = 80
    assert run.raw.shape == (n_steps, 2, 16384) and run.n_nodes == 16384
    horizon = run.idelays.max() + 1
    # TVB counts steps from the oldest history sample
    assert run.start_time == (horizon - 1) * dt
    np.testing.assert_allclose(
        run.raw_times, run.start_time + dt * np.arange(1, n_steps + 1)
    )
    assert run.eeg_period_steps == 16
    first = horizon - 1 + 1
    emitted = [s for s in range(first, first + n_steps) if s % 16 == 0]
    np.testing.assert_array_equal(run.eeg_steps, emitted)
    np.testing.assert_allclose(run.eeg_times, (np.array(emitted) - 8) * dt)
    assert run.eeg.shape == (len(emitted), 65)
    assert np.isfinite(run.raw).all() and np.isfinite(run.eeg).all()
    assert run.history.shape == (horizon, 2, 16384)
    assert run.region_history.shape == (horizon, 2, 76)
    assert run.weights.shape == (76, 76) and run.weights.max() == 1.0
    np.testing.assert_array_equal(
        run.idelays, np.rint(run.tract_lengths / run.speed / dt).astype(int)
    )
    assert run.local_coupling.shape == (16384, 16384)
    assert run.local_coupling.nnz == 98280
    assert run.eeg_gain.shape == (65, 16384) and np.isfinite(run.eeg_gain).all()
    np.testing.assert_allclose(run.eeg_reference, 1.0 / 65)
    assert "Fp1" in run.eeg_labels


def test_first_step_follows_the_documented_rules(run):
    """One Heun step recomputed in NumPy from the returned inputs: regional,
    delayed, held linear coupling; per-vertex local coupling re-evaluated in the
    corrector; Generic2dOscillator's equations. Agrees to round-off."""
    p, dt, rmap = run.model_parameters, run.dt, run.region_mapping
    hist = run.region_history  # (H, 2, 76) oldest first; last = step 0
    n_regions = 76
    delayed = hist[-1 - run.idelays, 0, np.arange(n_regions)[None, :]]  # (to, from)
    c_region = run.coupling_a * np.sum(run.weights * delayed, axis=1) + run.coupling_b
    c = c_region[rmap]
    L = run.local_coupling

    def f(v, w):
        dv = p["d"] * p["tau"] * (
            p["alpha"] * w - p["f"] * v**3 + p["e"] * v**2 + p["g"] * v
            + p["gamma"] * p["I"] + p["gamma"] * c + L @ v
        )  # fmt: skip
        dw = p["d"] * (p["a"] + p["b"] * v + p["c"] * v**2 - p["beta"] * w) / p["tau"]
        return dv, dw

    v0, w0 = run.history[-1]
    dv0, dw0 = f(v0, w0)
    dv1, dw1 = f(v0 + dt * dv0, w0 + dt * dw0)
    v1, w1 = v0 + dt / 2 * (dv0 + dv1), w0 + dt / 2 * (dw0 + dw1)
    np.testing.assert_allclose(run.raw[0, 0], v1, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(run.raw[0, 1], w1, rtol=1e-12, atol=1e-13)


def test_eeg_is_the_referenced_period_average_of_the_raw_trajectory(run):
    """Windows aligned to TVB's absolute steps; the first one holds only the steps
    simulated since the start, still divided by the full period."""
    g, period = run.eeg_gain, run.eeg_period_steps
    v = run.raw[:, 0]  # (S, V), absolute steps H .. H + S - 1
    first = int(round(run.start_time / run.dt)) + 1
    steps = np.arange(first, first + len(v))
    windows = np.stack(
        [
            v[(steps > s - period) & (steps <= s)].sum(axis=0) / period
            for s in run.eeg_steps
        ]
    )
    assert (
        np.sum((steps > run.eeg_steps[0] - period) & (steps <= run.eeg_steps[0]))
        < period
    )
    sensors = windows @ g.T
    expected = sensors - (sensors @ run.eeg_reference)[:, None]
    np.testing.assert_allclose(run.eeg, expected, rtol=1e-10, atol=1e-12)
