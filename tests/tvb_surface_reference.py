"""Reference surface simulations by tvb-library itself (a test helper, not part of
neuromass): Generic2dOscillator on TVB's 16,384-vertex cortex, with its precomputed
local connectivity, the 76-region connectome with delays, linear coupling,
deterministic Heun, in float64, recorded by a Raw and an EEG monitor.

`run_tvb_surface(...)` returns the trajectories together with everything needed to
start neuromass from exactly the same state (the vertex-level history) and to
rebuild TVB's operators (weights, integer delays, the local coupling matrix, the
EEG gain and reference).

## TVB's rules, as observed here (tvb-library 2.10; `simulator.py`, `history.py`,
## `backend/ref.py`, `monitors.py`, `datatypes/cortex.py`, `models/oscillator.py`)

- **Nodes.** A surface simulation has `len(cortex.region_mapping)` nodes: every
  vertex in file order, then one node per region of the connectome that no vertex
  maps to, in ascending region index (`Cortex.region_mapping` appends
  `connectivity.unmapped_indices`). With cortex_16384 and `regionMapping_16k_76`
  every one of the 76 regions has vertices, so the nodes are exactly the 16,384
  vertices (`n_nodes` below); the local coupling would be zero-padded for extra
  nodes (`Cortex.configure`).
- **History and initial state.** Initial conditions must be given per vertex,
  `(time, state variable, vertex, mode)`; region-level ones take a path that
  crashes for surfaces. With exactly `horizon = max(idelays) + 1` samples (as here;
  other lengths get rotated in TVB's ring buffer), the last sample is the initial
  state (`current_state`), `current_step` becomes `horizon - 1`, and the delay
  buffer is filled with the **region means** of every sample (float64 means,
  stored in a float32 buffer unless patched, see below).
- **Long-range coupling is regional.** After each step TVB stores the per-region
  mean of the new vertex states (`surface_state_to_rois`: a sum per region divided
  by the number of vertices) in the delay buffer. The coupling of region `r` at the
  step from `n` to `n + 1` is `a * sum_j W[r, j] * mean_j(step n - d_rj) + b`, with
  integer delays `d = rint(lengths / speed / dt)` (`Connectivity.set_idelays`),
  computed once per step and copied to every vertex of region `r`
  (`coupling[:, region_mapping]`). It is **held for both Heun stages** (the
  corrector does not recompute it). Couplings that use the receiving node's own
  value see the region mean, not the vertex (TVB's code; the linear coupling here
  does not exercise it).
- **Local coupling is per vertex.** `local_coupling = coupling_strength * L` (a
  scalar, or a per-vertex row scaling; `Cortex.prepare_local_coupling`) multiplies
  the first state variable of the state passed to the model's `dfun`, so Heun
  evaluates `L @ V` again in the corrector from the predictor state. In
  Generic2dOscillator it enters as `d * tau * (... + gamma * (I + c) + L @ V)`:
  not multiplied by `gamma`, unlike the long-range coupling `c`.
- **Heun.** `Xp = X + dt f(X, c)`, `X1 = X + dt/2 (f(X, c) + f(Xp, c))`, with the
  same long-range `c` in both stages; no state bounds for Generic2dOscillator.
- **Time starts with the history.** Given `H` samples of initial conditions, TVB
  counts its steps from the oldest one: the initial state is step `H - 1` and
  the run's steps are `H, H + 1, ...` (`current_step += H - 1`), so every time TVB
  reports is offset by `(H - 1) * dt` (`start_time` below; 15.375 ms with
  `H = 247` at dt = 2^-4 ms and 10 mm/ms).
- **Raw monitor.** Records `model.observe(state)` (here `V` and `W`) after every
  step, at `t = step * dt` (the initial state is not recorded).
- **EEG monitor (`Projection`).** The gain is the `(65, V)` surface projection with
  NaN entries set to 0 (sensors IO1 and IO2 are NaN in tvb-data); it accumulates
  `gain @ V` at every step and emits the sum divided by `period_steps = period /
  dt` at `t = (step - period_steps / 2) * dt` when `step % period_steps == 0`,
  with TVB's absolute step count: the windows are aligned to multiples of the
  period from the history's start, so **the first sample averages only the steps
  simulated since the run began, but is still divided by the full period** (here
  10 of 16 steps: it is 10/16 of a mean), and the samples are not aligned with
  the run's start.
  With `reference="average"` the mean over **all 65 sensors** (the zeroed ones
  included) is subtracted. By default TVB then adds observation noise
  `sqrt(dt) * N(0, 1)` per sample whatever its `nsig`: this harness passes
  `obsnoise=None` so that the reference is deterministic.
- **Precision.** TVB's history buffers and edge weights are float32; the harness
  patches them to float64 (as `tests/test_tvb_parity.py` does) so that a float64
  neuromass run can match to round-off.
"""

import dataclasses
import warnings
from contextlib import ExitStack
from unittest import mock

import numpy as np


def _tvb():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.datatypes import connectivity, cortex
        from tvb.simulator import (
            coupling,
            descriptors,
            history,
            integrators,
            models,
            monitors,
            simulator,
        )
    return (
        connectivity,
        cortex,
        coupling,
        descriptors,
        history,
        integrators,
        models,
        monitors,
        simulator,
    )


@dataclasses.dataclass(frozen=True)
class TVBSurfaceRun:
    """What `run_tvb_surface` returns (float64 NumPy arrays; times in ms).

    - `raw_times`: `(S,)` TVB's times of the S steps, `start_time + k * dt`, k =
        1..S.
    - `start_time`: `(H - 1) * dt`, TVB's time of the initial state (its steps
        count from the oldest history sample); subtract it to get times from
        the start of the run.
    - `raw`: `(S, 2, V)` the states `V` and `W` of every vertex after each step.
    - `eeg_times`: `(M,)` TVB's sample times `(step - period_steps / 2) * dt`
        (absolute steps: see the module notes).
    - `eeg_steps`: `(M,)` the absolute steps at which the samples were emitted.
    - `eeg`: `(M, 65)` the average-referenced EEG of `V`, no observation noise.
    - `history`: `(H, 2, V)` the vertex-level initial history given to TVB,
        oldest first; `history[-1]` is the initial state (step 0), `history[-1 -
        k]` the state at step `-k`.
    - `region_history`: `(H, 2, 76)` its per-region means (what TVB's delay
        buffer holds at the start).
    - `region_mapping`: `(V,)` the region of every vertex.
    - `weights`: `(76, 76)` `[to, from]` weights as simulated.
    - `tract_lengths`: `(76, 76)` in mm; `speed` in mm/ms.
    - `idelays`: `(76, 76)` integer delays in steps, `rint(lengths / speed / dt)`.
    - `local_coupling`: the `(V, V)` scipy CSR matrix TVB multiplies `V` by
        (`coupling_strength * L`).
    - `eeg_gain`: `(65, V)` the gain TVB used (NaN set to 0); `eeg_reference`:
        `(65,)` the reference weights (`1 / 65` each for `"average"`);
        `eeg_period_steps`: the averaging window in steps; `eeg_labels`: the
        sensor names.
    - `model_parameters`: Generic2dOscillator's parameters (scalars).
    - `coupling_a`, `coupling_b`, `coupling_strength`, `dt`: the settings.
    """

    raw_times: np.ndarray
    start_time: float
    raw: np.ndarray
    eeg_times: np.ndarray
    eeg_steps: np.ndarray
    eeg: np.ndarray
    history: np.ndarray
    region_history: np.ndarray
    region_mapping: np.ndarray
    weights: np.ndarray
    tract_lengths: np.ndarray
    speed: float
    idelays: np.ndarray
    local_coupling: object
    eeg_gain: np.ndarray
    eeg_reference: np.ndarray
    eeg_period_steps: int
    eeg_labels: tuple[str, ...]
    model_parameters: dict
    coupling_a: float
    coupling_b: float
    coupling_strength: float
    dt: float
    stimulus_pattern: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """TVB's number of nodes: the vertices (no region is unmapped here)."""
        return self.raw.shape[-1]


def _float64_history(stack: ExitStack, descriptors, history) -> None:
    """Make TVB's history buffers and edge weights float64 (they are float32)."""
    patched = 0
    for cls in (history.BaseHistory, history.DenseHistory, history.SparseHistory):
        for attr in vars(cls).values():
            if isinstance(attr, descriptors.NDArray) and attr.dtype == "f":
                stack.enter_context(mock.patch.object(attr, "dtype", "d"))
                patched += 1
    if patched < 4:
        raise RuntimeError("TVB's history layout changed; update _float64_history.")


def _fixed_point(p: dict) -> np.ndarray:
    """The uncoupled Generic2dOscillator's fixed point (V*, W*), the real root of
    dV = 0 with W = (c V^2 + b V + a) / beta (the one of smallest V)."""
    k = p["alpha"] / p["beta"]
    poly = [
        -p["f"],
        p["e"] + k * p["c"],
        p["g"] + k * p["b"],
        k * p["a"] + p["gamma"] * p["I"],
    ]
    roots = np.roots(poly)
    v = float(np.min(roots[np.abs(roots.imag) < 1e-9].real))
    return np.array([v, (p["c"] * v**2 + p["b"] * v + p["a"]) / p["beta"]])


def run_tvb_surface(
    t1: float = 20.0,
    dt: float = 2.0**-4,
    *,
    coupling_a: float = 0.1,
    coupling_b: float = 0.0,
    coupling_strength: float = 1.0,
    speed: float = 10.0,
    eeg_period: float = 1.0,
    seed: int = 0,
    history_spread: float = 0.5,
    stimulus: dict | None = None,
) -> TVBSurfaceRun:
    """Run tvb-library's surface simulation and return its outputs and inputs.

    The setting: Generic2dOscillator (TVB's default parameters) on every vertex of
    `cortex_16384` (`regionMapping_16k_76`, `local_connectivity_16384.mat`,
    `Cortex.coupling_strength = coupling_strength`); the 76-region connectome of
    `connectivity_76.zip` with weights divided by their maximum and a zero
    diagonal (WORKLOADS.md), tract lengths in mm at `speed` mm/ms; `Linear(a, b)`
    coupling of `V`; `HeunDeterministic(dt)`; a `Raw` monitor of `V` and `W` and an
    `EEG` monitor of `V` (`eeg_brainstorm_65`, `projection_eeg_65_surface_16k`,
    `reference="average"`, `period=eeg_period` ms, no observation noise); TVB's
    history in float64.

    **Arguments:**

    - `t1`: simulated time in ms (`round(t1 / dt)` steps after the initial
        state).
    - `dt`: the step in ms.
    - `coupling_a`, `coupling_b`: the linear coupling `a * sum_j W x_j + b`.
    - `coupling_strength`: the local coupling strength (TVB's
        `Cortex.coupling_strength`, default 1).
    - `speed`: conduction speed in mm/ms.
    - `eeg_period`: EEG sampling period in ms (a multiple of `dt`).
    - `stimulus`: optional `StimuliSurface` settings, `dict(focal_triangles=[...],
        spatial={Gaussian parameters}, temporal={PulseTrain parameters})`; its
        spatial pattern is returned as `stimulus_pattern`.
    - `seed`, `history_spread`: the initial history is `V* + spread * u`, `W* +
        spread * u'` per vertex and time sample, `u` uniform in [-1, 1] (seeded),
        around the uncoupled node's fixed point `(V*, W*)`, so that the delays
        read a non-constant history.

    **Returns:**

    A [`TVBSurfaceRun`][].
    """
    (
        connectivity,
        cortex_mod,
        coupling,
        descriptors,
        history,
        integrators,
        models,
        monitors,
        simulator,
    ) = _tvb()
    n_steps = int(round(t1 / dt))
    conn = connectivity.Connectivity.from_file("connectivity_76.zip")
    w = np.array(conn.weights, dtype=np.float64)
    np.fill_diagonal(w, 0.0)
    conn.weights = w / w.max()
    conn.speed = np.array([speed])
    conn.configure()
    conn.set_idelays(dt)
    horizon = int(conn.horizon)

    cortex = cortex_mod.Cortex.from_file(
        source_file="cortex_16384.zip",
        region_mapping_file="regionMapping_16k_76.txt",
        local_connectivity_file="local_connectivity_16384.mat",
    )
    cortex.region_mapping_data.connectivity = conn
    cortex.coupling_strength = np.array([coupling_strength])
    cortex.region_mapping_data.surface.configure()  # by hand: TVB does not
    rmap = np.asarray(cortex.region_mapping_data.array_data, dtype=np.int64)
    n_vertices = rmap.size

    model = models.Generic2dOscillator(variables_of_interest=("V", "W"))
    params = {
        name: float(np.asarray(getattr(model, name)).ravel()[0])
        for name in ("tau", "I", "a", "b", "c", "d", "e", "f", "g")
        + ("alpha", "beta", "gamma")
    }
    centre = _fixed_point(params)
    rng = np.random.default_rng(seed)
    hist = centre[None, :, None] + history_spread * rng.uniform(
        -1.0, 1.0, size=(horizon, 2, n_vertices)
    )
    eeg = monitors.EEG.from_file(
        period=eeg_period,
        reference="average",
        obsnoise=None,
        variables_of_interest=np.array([0]),
    )
    stim = None
    if stimulus is not None:
        from tvb.datatypes import equations, patterns

        stim = patterns.StimuliSurface(
            surface=cortex.region_mapping_data.surface,
            focal_points_triangles=np.asarray(stimulus["focal_triangles"]),
            spatial=equations.Gaussian(parameters=dict(stimulus["spatial"])),
            temporal=equations.PulseTrain(parameters=dict(stimulus["temporal"])),
        )
    sim = simulator.Simulator(
        stimulus=stim,
        model=model,
        connectivity=conn,
        coupling=coupling.Linear(a=np.array([coupling_a]), b=np.array([coupling_b])),
        integrator=integrators.HeunDeterministic(dt=dt),
        monitors=(monitors.Raw(), eeg),
        surface=cortex,
        initial_conditions=hist[..., None].copy(),
        simulation_length=n_steps * dt,
    )
    with ExitStack() as stack:
        _float64_history(stack, descriptors, history)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim.configure()
            (raw_t, raw_y), (eeg_t, eeg_y) = sim.run()
        if sim.history.buffer.dtype != np.float64:
            raise RuntimeError("TVB's history is not float64; the patch failed.")
    if sim.number_of_nodes != n_vertices:
        raise RuntimeError("unexpected extra (unmapped) nodes in TVB's simulation")
    counts = np.bincount(rmap, minlength=conn.number_of_regions)
    region_hist = np.zeros((horizon, 2, conn.number_of_regions))
    np.add.at(region_hist.transpose(2, 0, 1), rmap, hist.transpose(2, 0, 1))
    region_hist /= counts
    return TVBSurfaceRun(
        raw_times=np.asarray(raw_t, dtype=np.float64),
        start_time=(horizon - 1) * dt,
        raw=np.asarray(raw_y[..., 0], dtype=np.float64),
        eeg_times=np.asarray(eeg_t, dtype=np.float64),
        eeg_steps=np.rint(np.asarray(eeg_t) / dt + eeg._period_in_steps / 2).astype(
            int
        ),
        eeg=np.asarray(eeg_y[:, 0, :, 0], dtype=np.float64),
        history=hist,
        region_history=region_hist,
        region_mapping=rmap,
        weights=np.asarray(conn.weights, dtype=np.float64),
        tract_lengths=np.asarray(conn.tract_lengths, dtype=np.float64),
        speed=float(speed),
        idelays=np.asarray(conn.idelays),
        local_coupling=sim._prepare_local_coupling().tocsr(),
        eeg_gain=np.asarray(eeg.gain, dtype=np.float64),
        eeg_reference=np.asarray(eeg._ref_vec, dtype=np.float64),
        eeg_period_steps=int(eeg._period_in_steps),
        eeg_labels=tuple(str(s) for s in eeg.sensors.labels),
        model_parameters=params,
        coupling_a=float(coupling_a),
        coupling_b=float(coupling_b),
        coupling_strength=float(coupling_strength),
        dt=float(dt),
        stimulus_pattern=None
        if stim is None
        else np.asarray(stim.spatial_pattern, dtype=np.float64).ravel(),
    )
