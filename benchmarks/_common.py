"""Shared helpers for the benchmark scripts in ``benchmarks/``.

Everything here follows ``WORKLOADS.md`` (the standard workloads W1, W1n, W2, W3), so
that the plain-JAX reference kernel (``reference.py``) and the neuromass benchmark
scripts load the same connectome, time things the same way and print the same one-line
JSON records.

This module does **not** import JAX at import time: ``set_host_devices`` must be able to
set ``XLA_FLAGS`` before the first ``import jax``. JAX is imported lazily inside the
helpers that need it.

Public API
----------
Constants: ``DT``, ``SPEED``, ``T1``, ``N_STEPS``, ``SAVE_EVERY``, ``SAVE_STRIDE``,
``FC_T0``, ``A``, ``OMEGA``, ``K``, ``X0``, ``SIGMA``, ``NOISE_SEED``, ``K_SWEEP``,
``K_TARGET``, ``NO_YNN_FLAG``.

- ``load_connectome(path=None, *, quiet=False) -> Connectome``
- ``set_host_devices(n) -> None`` / ``apply_env_xla_options() -> list[str]`` /
  ``add_xla_flag(flag) -> None``
- ``timeit(fn, *args, repeats=5, warmup=1, **kwargs) -> Timing``
- ``peak_rss_mb() -> float``
- ``fc_window() -> slice`` (which saved samples enter the FC)
- ``report(**fields) -> dict`` (prints exactly one JSON line on stdout)
- ``environment() -> dict`` (jax version, device count, XLA_FLAGS)
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import resource
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


# --------------------------------------------------------------------------------------
# Workload constants (WORKLOADS.md). Time in ms, length in mm, speed in mm/ms.
# --------------------------------------------------------------------------------------
DT = 0.1  # ms, Heun step
SPEED = 10.0  # mm/ms, conduction speed -> tau_ij = L_ij / SPEED
T1 = 1000.0  # ms simulated
N_STEPS = 10_000  # = T1 / DT
SAVE_EVERY = 1.0  # ms between saved samples of x
SAVE_STRIDE = 10  # = SAVE_EVERY / DT steps
FC_T0 = 200.0  # ms, FC uses saved samples with t in [FC_T0, T1]
A = 0.2  # Hopf bifurcation parameter
OMEGA = 0.3  # rad/ms
K = 0.5  # global coupling
X0 = 0.3  # initial state and constant history of x and y
SIGMA = 0.01  # W1n additive noise: dz = f dt + SIGMA dW (x and y)
NOISE_SEED = 0  # jax.random key for W1n
K_SWEEP = np.linspace(0.0, 1.5, 256)  # W2
K_TARGET = 0.8  # W3 target run

#: XLA flag that turns off the CPU "YNN" fusions of jax 0.10 (see README).
NO_YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type="

_TVB76_MEMBER = "connectivity/connectivity_76.zip"
_ENV_ZIP = "NEUROMASS_TVB76_ZIP"


@dataclasses.dataclass(frozen=True)
class Connectome:
    """The prepared 76-region connectome.

    ``weights[i, j]`` is the connection *to* region i *from* region j (TVB's [to,
    from]), already normalised (``weights / weights.max()``) with the diagonal zeroed.
    ``lengths`` are tract lengths in mm; ``delays = lengths / speed`` in ms. ``source``
    says where the data came from ("tvb-data:<path>", "file:<path>" or "synthetic
    (tvb-data missing)").
    """

    weights: np.ndarray  # (N, N) float64
    lengths: np.ndarray  # (N, N) float64, mm
    speed: float  # mm/ms
    source: str

    @property
    def n(self) -> int:
        return self.weights.shape[0]

    @property
    def delays(self) -> np.ndarray:
        """Delays tau_ij = L_ij / v in ms, shape (N, N)."""
        return self.lengths / self.speed


def _tvb_data_zip() -> Path | None:
    try:
        import tvb_data  # noqa: PLC0415
    except ImportError:
        return None
    roots = list(getattr(tvb_data, "__path__", []))
    if getattr(tvb_data, "__file__", None):
        roots.append(os.path.dirname(tvb_data.__file__))
    for root in roots:
        p = Path(root) / _TVB76_MEMBER
        if p.is_file():
            return p
    return None


def _read_zip(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(path) as z:
        names = {Path(n).name: n for n in z.namelist()}
        missing = {"weights.txt", "tract_lengths.txt"} - names.keys()
        if missing:
            raise ValueError(
                f"{path} lacks {sorted(missing)}; expected the TVB zip format."
            )
        with z.open(names["weights.txt"]) as f:
            w = np.loadtxt(io.TextIOWrapper(f))
        with z.open(names["tract_lengths.txt"]) as f:
            lengths = np.loadtxt(io.TextIOWrapper(f))
    return w, lengths


def _synthetic(n: int = 76, seed: int = 76) -> tuple[np.ndarray, np.ndarray]:
    """A seeded stand-in with the same size, ~26% density and 5..150 mm tracts."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-60.0, 60.0, size=(n, 3))
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    lengths = np.clip(1.3 * dist, 5.0, 153.0)
    lengths = 0.5 * (lengths + lengths.T)
    prob = np.exp(-dist / 80.0)
    mask = rng.uniform(size=(n, n)) < 0.6 * prob
    w = np.where(mask, rng.lognormal(0.0, 1.0, size=(n, n)), 0.0)
    return w, lengths


def prepare(weights: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WORKLOADS.md preparation: ``W = weights / weights.max()``, then zero the
    diagonal."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.max()
    np.fill_diagonal(w, 0.0)
    return w, np.asarray(lengths, dtype=np.float64).copy()


def load_connectome(
    path: str | os.PathLike | None = None, *, quiet: bool = False
) -> Connectome:
    """Load TVB's 76-region connectome and prepare it as WORKLOADS.md says.

    Search order: ``path`` (a TVB-format zip with ``weights.txt`` and
    ``tract_lengths.txt``), then the environment variable ``NEUROMASS_TVB76_ZIP``, then
    the ``tvb-data`` package (``tvb_data/connectivity/connectivity_76.zip``). If none is
    found, a seeded synthetic 76-region stand-in is returned and a warning is printed on
    stderr; its ``source`` says so, and every JSON record carries that source, so such
    figures cannot be mistaken for the standard ones. Install the real data with ``pip
    install tvb-data``.
    """
    candidates: list[tuple[str, Path]] = []
    if path is not None:
        candidates.append(("file", Path(path)))
    elif os.environ.get(_ENV_ZIP):
        candidates.append(("file", Path(os.environ[_ENV_ZIP])))
    else:
        p = _tvb_data_zip()
        if p is not None:
            candidates.append(("tvb-data", p))
    for kind, p in candidates:
        if not p.is_file():
            raise FileNotFoundError(f"connectome zip not found: {p}")
        w, lengths = _read_zip(p)
        w, lengths = prepare(w, lengths)
        return Connectome(w, lengths, SPEED, f"{kind}:{p}")
    if not quiet:
        print(
            "WARNING: tvb-data is not installed, so the TVB 76-region connectome is "
            "missing; using a seeded SYNTHETIC 76-region stand-in. Figures are NOT "
            "comparable with WORKLOADS.md. Fix: `pip install tvb-data` (or set "
            "NEUROMASS_TVB76_ZIP to a TVB zip).",
            file=sys.stderr,
        )
    w, lengths = prepare(*_synthetic())
    return Connectome(w, lengths, SPEED, "synthetic (tvb-data missing)")


# --------------------------------------------------------------------------------------
# Environment: host devices and XLA flags (must run before `import jax`).
# --------------------------------------------------------------------------------------
def add_xla_flag(flag: str) -> None:
    """Append ``flag`` to ``XLA_FLAGS`` (replacing an earlier value of the same flag).
    Only effective before JAX is imported."""
    name = flag.split("=", 1)[0]
    kept = [
        f for f in os.environ.get("XLA_FLAGS", "").split() if f.split("=", 1)[0] != name
    ]
    os.environ["XLA_FLAGS"] = " ".join([*kept, flag])


_add_xla_flag = add_xla_flag  # kept for scripts that used the private name


def set_host_devices(n: int) -> None:
    """Expose ``n`` CPU host devices (``--xla_force_host_platform_device_count``).

    Must be called before JAX is imported; raises ``RuntimeError`` otherwise (re-run the
    script in a fresh process, e.g. with the scripts' ``--devices N`` option).
    """
    if n < 1:
        raise ValueError(f"need n >= 1 host devices; got {n}")
    if "jax" in sys.modules:
        raise RuntimeError("set_host_devices() must run before `import jax`.")
    add_xla_flag(f"--xla_force_host_platform_device_count={n}")


def apply_env_xla_options() -> list[str]:
    """Honour documented environment switches before ``import jax``.

    ``NEUROMASS_BENCH_NO_YNN=1`` appends ``--xla_cpu_experimental_ynn_fusion_type=``
    (turns off XLA's CPU YNN fusions). Anything already in ``XLA_FLAGS`` is kept.
    Returns the flags added.
    """
    added = []
    if os.environ.get("NEUROMASS_BENCH_NO_YNN", "") not in ("", "0"):
        if "jax" in sys.modules:
            raise RuntimeError(
                "NEUROMASS_BENCH_NO_YNN must be applied before `import jax`."
            )
        add_xla_flag(NO_YNN_FLAG)
        added.append(NO_YNN_FLAG)
    return added


def environment() -> dict[str, Any]:
    """jax version, number and kind of devices, and XLA_FLAGS seen by this process."""
    import jax  # noqa: PLC0415

    return {
        "jax": jax.__version__,
        "devices": jax.device_count(),
        "platform": jax.devices()[0].platform,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


# --------------------------------------------------------------------------------------
# Timing and memory
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Timing:
    """Result of ``timeit``.

    ``compile_s``: seconds of the first call (tracing + compilation + one run), blocked.
    ``steady_s``: median of the steady runs. ``runs``: all steady-run seconds.
    ``result``: the output of the last call (already blocked on).
    """

    compile_s: float
    steady_s: float
    runs: tuple[float, ...]
    result: Any

    @property
    def spread(self) -> float:
        """(max - min) / median of the steady runs, a noise indicator."""
        return (
            (max(self.runs) - min(self.runs)) / self.steady_s
            if self.steady_s
            else math.nan
        )


def _block(x: Any) -> Any:
    import jax  # noqa: PLC0415

    return jax.block_until_ready(x)


def timeit(
    fn: Callable[..., Any], *args: Any, repeats: int = 5, warmup: int = 1, **kwargs: Any
) -> Timing:
    """Time ``fn(*args, **kwargs)`` the WORKLOADS.md way.

    The first call (compile + run) is timed on its own, then ``warmup`` untimed calls,
    then ``repeats`` (>= 3) timed calls; each call is followed by
    ``jax.block_until_ready``. Returns a :class:`Timing` with the median of the steady
    calls.
    """
    if repeats < 3:
        raise ValueError(
            f"repeats must be >= 3 for a median of steady runs; got {repeats}"
        )
    t0 = time.perf_counter()
    out = _block(fn(*args, **kwargs))
    compile_s = time.perf_counter() - t0
    for _ in range(warmup):
        out = _block(fn(*args, **kwargs))
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = _block(fn(*args, **kwargs))
        runs.append(time.perf_counter() - t0)
    return Timing(compile_s, statistics.median(runs), tuple(runs), out)


def timeit_pair(
    fn_a: Callable[..., Any],
    fn_b: Callable[..., Any],
    *args: Any,
    repeats: int = 5,
    warmup: int = 1,
) -> tuple[Timing, Timing]:
    """``timeit`` of two functions of the same arguments, their steady calls
    alternated (a, b, a, b, ...) so that both see the same machine state: their
    ratio is the figure to quote (this machine's speed drifts between modes)."""
    if repeats < 3:
        raise ValueError(
            f"repeats must be >= 3 for a median of steady runs; got {repeats}"
        )
    fns = (fn_a, fn_b)
    compile_s, out, runs = [], [None, None], ([], [])
    for fn in fns:
        t0 = time.perf_counter()
        _block(fn(*args))
        compile_s.append(time.perf_counter() - t0)
    for i in range(warmup + repeats):
        for j, fn in enumerate(fns):
            t0 = time.perf_counter()
            out[j] = _block(fn(*args))
            if i >= warmup:
                runs[j].append(time.perf_counter() - t0)
    return tuple(
        Timing(c, statistics.median(r), tuple(r), o)
        for c, r, o in zip(compile_s, runs, out)
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``resource.getrusage``)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":  # bytes there
        kb = kb / 1024
    return kb / 1024.0


def fc_window(n_saved: int = N_STEPS // SAVE_STRIDE) -> slice:
    """Saved samples that enter the FC: sample m holds t = (m + 1) * SAVE_EVERY, and the
    FC uses t in [FC_T0, T1], i.e. samples 199..999 (801 samples) for the standard
    workloads."""
    first = int(round(FC_T0 / SAVE_EVERY)) - 1
    return slice(first, n_saved)


# --------------------------------------------------------------------------------------
# One JSON line per run
# --------------------------------------------------------------------------------------
def _clean(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return None
        return float(f"{v:.6g}")
    if isinstance(v, (list, tuple)):
        return [_clean(u) for u in v]
    if isinstance(v, dict):
        return {k: _clean(u) for k, u in v.items()}
    return v


def report(
    *,
    system: str,
    workload: str,
    interp: str | None = None,
    timing: Timing | None = None,
    n: int = 76,
    steps: int = N_STEPS,
    batch: int = 1,
    dtype: str = "float32",
    devices: int | None = None,
    file: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    """Print exactly one JSON line describing a run and return it as a dict.

    Standard fields: ``system, workload, interp, compile_s, steady_s, runs_s,
    region_steps_per_s (= n * steps * batch / steady_s), n, steps, batch, dtype,
    devices, peak_rss_mb, jax, xla_flags``; anything in ``extra`` is appended (e.g.
    ``connectome``, ``n_finite``, ``points_per_s``, ``variant``). ``devices`` defaults
    to ``jax.device_count()``.
    """
    env = environment()
    rec: dict[str, Any] = {"system": system, "workload": workload, "interp": interp}
    if timing is not None:
        rec["compile_s"] = timing.compile_s
        rec["steady_s"] = timing.steady_s
        rec["runs_s"] = list(timing.runs)
        rec["region_steps_per_s"] = n * steps * batch / timing.steady_s
    rec.update(
        n=n,
        steps=steps,
        batch=batch,
        dtype=dtype,
        devices=env["devices"] if devices is None else devices,
    )
    rec.update(extra)
    rec["peak_rss_mb"] = peak_rss_mb()
    rec["jax"] = env["jax"]
    rec["xla_flags"] = env["xla_flags"]
    rec = _clean(rec)
    print(json.dumps(rec), file=file or sys.stdout, flush=True)
    return rec
