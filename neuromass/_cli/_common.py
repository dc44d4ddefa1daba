"""Helpers shared by the commands: errors, compile announcements, checks."""

import sys
from pathlib import Path


def _announce_compile(what: str) -> None:
    print(f"compiling {what} (once per new program)...", flush=True)


def _warn_in_strength(command: str, net, model_name: str) -> None:
    """Print `check_in_strength`'s warning (if any) as one line on stderr."""
    import warnings

    import numpy as np

    import neuromass as nm

    if net.n_regions < 2:
        return
    k = np.asarray(net.k)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nm.datasets.check_in_strength(
            net.weights, model=model_name, k=float(k) if k.ndim == 0 else None
        )
    for w in caught:
        print(f"neuromass {command}: warning: {w.message}", file=sys.stderr)


def _error(command: str, message: str, code: int) -> int:
    print(f"neuromass {command}: error: {message}", file=sys.stderr)
    return code


def _blame(error, prepare, path, overrides) -> str:
    """Where to report a `SpecError` of a run prepared by `prepare(overrides)`:
    the `--set` override after which the error first appears (found by preparing
    the run again with fewer overrides, silently), else the spec file."""
    import warnings
    from pathlib import Path

    from ._spec import SpecError

    source = Path(path).name
    overrides = list(overrides or ())
    if error.origin is not None or not overrides:
        return error.where(source, overrides)
    for k in range(len(overrides)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the run was reported once already
            try:
                prepare(overrides[:k])
            except SpecError as earlier:
                if str(earlier) == str(error):
                    return source if k == 0 else f"--set {overrides[k - 1]}"
            except Exception:  # another problem of the shorter spec: not this one
                continue
    return f"--set {overrides[-1]}"


SYMMETRIC_START = (
    "every region starts in the same state and nothing breaks the symmetry (no "
    "noise, no stimulus, equal parameters, a coupling that gives every region the "
    "same input): all regions follow one trajectory (FC = 1). Add noise "
    "(`network.noise = 0.001`) or a stimulus ([stimulus])."
)


def _check_traceable(spec, fn, *args) -> bool:
    """Trace `fn(*args)` without running it: `simulate`'s checks of the settings
    (time grid, delays against `dt`, solver, interpolation) raise here. The
    arguments are closed over, so that checks of concrete values run too. Returns
    whether the run starts symmetric (`neuromass.SymmetricStartWarning`, which
    the commands print as `SYMMETRIC_START`)."""
    import warnings

    import jax

    import neuromass as nm

    from ._spec import SpecError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nm.SymmetricStartWarning)
            jax.eval_shape(lambda: fn(*args))
        symmetric = False
        for w in caught:
            if issubclass(w.category, nm.SymmetricStartWarning):
                symmetric = True
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return symmetric
    except (TypeError, ValueError) as e:
        sim = spec.simulation
        raise SpecError(
            f"The simulation cannot run with these [simulation] settings (solver "
            f"{sim.solver!r}, dt {sim.dt:g} ms, interpolation {sim.interpolation!r})"
            f": {e}"
        ) from None


def _describe_stimulus(spec, stimulus) -> str:
    """One line: the stimulus's equation, regions, variables and evaluation."""
    import numpy as np

    stim = spec.stimulus
    params = ", ".join(f"{k} = {v}" for k, v in stim.temporal_parameters.items())
    n = int(np.count_nonzero(np.asarray(stimulus.weights)))
    variables = ", ".join(stim.variables) if stim.variables else "the coupled ones"
    return (
        f"stimulus: {stim.temporal}({params}) on {n} region{'s' * (n != 1)}, "
        f"variables {variables}, evaluated per {stim.evaluation}"
    )


def _describe_network(spec, net) -> str:
    noise = f", {spec.network.noise_kind} noise" if net.noise is not None else ""
    if spec.network.connectome is None:
        where = f"as a single region{noise}"
    else:
        delays = (
            f"delays up to {net.max_delay:.3g} ms" if net.max_delay > 0 else "no delays"
        )
        where = (
            f"on {spec.network.connectome} ({net.n_regions} regions, {delays}{noise})"
        )
    return (
        f"{spec.model.name} {where}, {spec.simulation.t1:g} ms at dt = "
        f"{spec.simulation.dt:g} ms with {spec.simulation.solver}"
    )


def _stored_points(store: Path) -> int:
    """Points already in a sweep store (from its chunk file names)."""
    from ..sweeps._store import stored_points

    return stored_points(store)
