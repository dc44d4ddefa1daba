"""Reading and parsing a spec: TOML, `--set KEY=VALUE` overrides, and the
validation of every table into the dataclasses of `_schema`.

Every problem is a `SpecError` whose message names the key at fault and the fix.
"""

import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._build import _build_coupling, _build_temporal
from ._registry import (
    COUPLING_EVALUATIONS,
    INTERPOLATIONS,
    MODES,
    NOISE_KEYS,
    NOISE_KINDS,
    NORMALISATIONS,
    STIMULUS_EVALUATIONS,
    equation_classes,
    fields_of,
    model_classes,
    model_names,
    solver_names,
)
from ._schema import (
    SPEC_KEYS,
    AxisSpec,
    ModelSpec,
    NetworkSpec,
    SimulationSpec,
    Spec,
    StimulusSpec,
    SweepSpec,
)
from ._summary import OUTPUTS
from ._table import (
    _REQUIRED,
    SpecError,
    _check_number,
    _choices,
    _fmt,
    _parameter,
    _quote,
    _suggest,
    _Table,
    _type_name,
)


# --------------------------------------------------------------------- reading
def _merge(base: dict, extra: Mapping) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_override(text: str) -> dict:
    """`KEY=VALUE` (a TOML key path and a TOML value, or a bare string) as a
    nested dict, e.g. `simulation.t1=500` -> `{"simulation": {"t1": 500}}`."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key:
        raise SpecError(
            "expected KEY=VALUE, e.g. --set simulation.t1=500 or "
            "--set 'axes.k.grid=[0, 1, 8]'.",
            origin=f"--set {text}",
        )
    try:
        return tomllib.loads(f"{key} = {value}")
    except tomllib.TOMLDecodeError:
        pass
    try:
        return tomllib.loads(f"{key} = {json.dumps(value)}")
    except tomllib.TOMLDecodeError:
        raise SpecError(
            f"{key!r} is not a valid key path; write it as in the spec file, dotted, "
            "with quoted parts for names containing dots, e.g. "
            "'axes.\"node.a\".grid=[0, 1, 4]'.",
            origin=f"--set {text}",
        ) from None


def read_spec(path: str | os.PathLike, overrides: Sequence[str] = ()) -> dict:
    """Read a TOML spec and apply `--set` overrides (raw tables, not validated).
    Errors of the file have the file's name as their `origin`."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(f"No spec file at {str(path)!r}.", path.name) from None
    except IsADirectoryError:
        raise SpecError(
            f"{str(path)!r} is a directory, not a spec file.", path.name
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"not valid TOML: {e}.", path.name) from None
    except UnicodeDecodeError:
        raise SpecError("not a UTF-8 text (TOML) file.", path.name) from None
    for text in overrides:
        data = _merge(data, parse_override(text))
    return data


def load_spec(
    path: str | os.PathLike, overrides: Sequence[str] = (), *, command: str = "sweep"
) -> Spec:
    """Read, override and validate a spec file; `SpecError` on any problem, whose
    `origin` is the `--set` override that brought the faulty value (the first one
    after which the error appears) or else the spec file."""
    source = Path(path).name
    stages = [read_spec(path)]
    changes = [(text, parse_override(text)) for text in overrides]
    for _, change in changes:
        stages.append(_merge(stages[-1], change))
    try:
        return parse_spec(stages[-1], source=source, command=command)
    except SpecError as e:
        first = len(stages) - 1
        for k, data in enumerate(stages[:-1]):
            try:
                parse_spec(data, source=source, command=command)
            except SpecError as earlier:
                if str(earlier) == str(e):
                    first = k
                    break
        e.origin = source if first == 0 else f"--set {changes[first - 1][0]}"
        raise


# --------------------------------------------------------------------- parsing
def parse_spec(data: dict, *, source: str = "spec", command: str = "sweep") -> Spec:
    """Validate the tables of a spec (see `SPEC_KEYS`).

    `command` is `"sweep"` (then `[sweep]` and `[axes]` are required) or
    `"simulate"` (they are checked if present, and not used).
    """
    for name in data:
        if name not in SPEC_KEYS:
            raise SpecError(
                f"Unknown table [{name}].{_suggest(name, list(SPEC_KEYS))} A spec has "
                f"the tables {', '.join('[' + s + ']' for s in SPEC_KEYS)}."
            )
    model = _parse_model(data.get("model", _REQUIRED))
    network = _parse_network(data.get("network"), model)
    simulation = _parse_simulation(data.get("simulation", _REQUIRED))
    stimulus = _parse_stimulus(data["stimulus"], model) if "stimulus" in data else None
    sweep = None
    if "sweep" in data or command == "sweep":
        if "sweep" not in data:
            raise SpecError(
                "A sweep spec needs a [sweep] table naming what to record, e.g.\n"
                '  [sweep]\n  outputs = ["mean_fc"]\n'
                f"Available outputs: {_choices(list(OUTPUTS))}."
            )
        sweep = _parse_sweep(data["sweep"])
    axes = _parse_axes(data.get("axes", {}))
    if command == "sweep" and not axes:
        raise SpecError(
            "A sweep spec needs at least one axis: add a table such as\n"
            "  [axes.k]\n  grid = [0.0, 1.0, 8]   # low, high, number of values"
        )
    out = _Table(data.get("output", {}), "output", SPEC_KEYS["output"])
    folder = out.string("folder", Path(source).stem)
    if not folder:
        raise SpecError("`output.folder` must not be empty.")
    plot = out.boolean("plot", True)
    return Spec(
        source=source,
        model=model,
        network=network,
        simulation=simulation,
        stimulus=stimulus,
        sweep=sweep,
        axes=axes,
        folder=folder,
        plot=plot,
    )


def _parse_model(data: Any) -> ModelSpec:
    if data is _REQUIRED:
        raise SpecError(
            "Missing [model] table: name the node model, e.g.\n"
            '  [model]\n  name = "Hopf"\n'
            "Run `neuromass models` for the catalogue."
        )
    _Table(data, "model")  # a table, not a value
    classes = model_classes()
    names = model_names()
    if "name" not in data:
        raise SpecError(
            f"Missing `model.name`: one of {_choices(names)}. Run "
            "`neuromass models` for the catalogue."
        )
    name = data["name"]
    if not isinstance(name, str) or name not in classes:
        shown = name if isinstance(name, str) else _fmt(name)
        hint = _suggest(shown, names) if isinstance(name, str) else ""
        raise SpecError(
            f"Unknown model `model.name = {_fmt(name)}`.{hint} Valid models are: "
            f"{_choices(names)} (see `neuromass models`)."
        )
    valid = fields_of(classes[name])
    for key in data:
        if key != "name" and key not in valid:
            raise SpecError(
                f"Unknown parameter `model.{_quote(key)}` of {name}."
                f"{_suggest(key, valid)} Valid parameters of {name} are: "
                f"{_choices(valid)} (besides `name`)."
            )
    params = {k: _parameter(f"model.{k}", v) for k, v in data.items() if k != "name"}
    return ModelSpec(name=name, parameters=params)


def _parse_network(data: Any, model: ModelSpec) -> NetworkSpec:
    single = data is None  # no [network]: the model alone, as one region
    t = _Table({} if single else data, "network", SPEC_KEYS["network"])
    data = t.data
    connectome = None if single else t.string("connectome", "default")
    normalisation = t.string("normalisation", "none", NORMALISATIONS)
    speed = t.number("speed", None, unit="mm/ms", positive=True)
    delays = t.number("delays", None, unit="ms", nonnegative=True)
    if speed is not None and delays is not None:
        raise SpecError(
            "Give either `network.speed` (mm/ms; delays = tract lengths / speed) or "
            "`network.delays` (one delay in ms for every connection), not both."
        )
    if (speed is not None or delays is not None) and connectome is None:
        raise SpecError("`network.speed` and `network.delays` need a connectome.")
    coupling, coupling_params = "linear", {}
    if "coupling" in data:
        raw = data["coupling"]
        if isinstance(raw, dict):
            if "name" not in raw or not isinstance(raw["name"], str):
                raise SpecError(
                    "`network.coupling` as a table needs a `name`, e.g. "
                    'coupling = { name = "sigmoidal", a = 1.0 }.'
                )
            coupling = raw["name"]
            coupling_params = {
                k: _parameter(f"network.coupling.{k}", v)
                for k, v in raw.items()
                if k != "name"
            }
        elif isinstance(raw, str):
            coupling = raw
        else:
            raise SpecError(
                '`network.coupling` must be a name such as "diffusive", or a table '
                'such as { name = "sigmoidal", a = 1.0 }; got '
                f"{_fmt(raw)} ({_type_name(raw)})."
            )
        _build_coupling(coupling, coupling_params)  # validate names now
    k = _parameter("network.k", data["k"]) if "k" in data else 1.0
    coupled_vars = t.strings("coupled_vars", None)
    cls = model_classes()[model.name]
    for group, key in ((coupled_vars, "network.coupled_vars"),):
        for v in group or ():
            if v not in cls.state_names:
                raise SpecError(
                    f"`{key}`: {v!r} is not a state variable of {model.name}; its "
                    f"variables are {_choices(cls.state_names)}."
                    + _suggest(v, cls.state_names)
                )
    noise_kind = noise_sigma = noise_vars = None
    if "noise" in data:
        raw = data["noise"]
        if isinstance(raw, dict):
            nt = _Table(raw, "network.noise", NOISE_KEYS)
            noise_kind = nt.string("kind", "additive", NOISE_KINDS)
            if "sigma" not in raw:
                raise SpecError("Missing `network.noise.sigma` (the noise intensity).")
            noise_sigma = _parameter("network.noise.sigma", raw["sigma"])
            noise_vars = nt.strings("variables", None)
            for v in noise_vars or ():
                if v not in cls.state_names:
                    raise SpecError(
                        f"`network.noise.variables`: {v!r} is not a state variable "
                        f"of {model.name}; its variables are "
                        f"{_choices(cls.state_names)}."
                    )
        else:
            noise_kind = "additive"
            noise_sigma = _parameter("network.noise", raw)
        sig = np.atleast_1d(noise_sigma)
        if np.any(sig < 0):
            raise SpecError("The noise intensity `network.noise` must be >= 0.")
    self_connection = t.boolean("self_connection", False)
    return NetworkSpec(
        connectome=connectome,
        normalisation=normalisation,
        speed=speed,
        delays=delays,
        coupling=coupling,
        coupling_parameters=coupling_params,
        k=k,
        coupled_vars=coupled_vars,
        noise_kind=noise_kind,
        noise_sigma=noise_sigma,
        noise_variables=noise_vars,
        self_connection=self_connection,
    )


def _parse_simulation(data: Any) -> SimulationSpec:
    if data is _REQUIRED:
        raise SpecError(
            "Missing [simulation] table: give at least the duration, e.g.\n"
            "  [simulation]\n  t1 = 1000.0   # ms\n  dt = 0.1"
        )
    t = _Table(data, "simulation", SPEC_KEYS["simulation"])
    t1 = t.number("t1", unit="ms", positive=True)
    dt = t.number("dt", 0.1, unit="ms", positive=True)
    if dt >= t1:
        raise SpecError(f"`simulation.dt` ({dt} ms) must be shorter than t1 ({t1} ms).")
    save_every = t.number("save_every", dt, unit="ms", positive=True)
    stride = round(save_every / dt)
    if stride < 1 or abs(stride * dt - save_every) > 1e-6 * save_every:
        raise SpecError(
            f"`simulation.save_every` ({save_every} ms) must be a whole multiple of "
            f"`simulation.dt` ({dt} ms), e.g. {max(stride, 1) * dt:g}."
        )
    transient = t.number("transient", 0.0, unit="ms", nonnegative=True)
    if transient >= t1:
        raise SpecError(
            f"`simulation.transient` ({transient} ms) must be shorter than "
            f"`simulation.t1` ({t1} ms): nothing would be saved."
        )
    solvers = solver_names()
    solver = t.get("solver", "Heun")
    if not isinstance(solver, str) or solver not in solvers:
        hint = _suggest(solver, solvers) if isinstance(solver, str) else ""
        raise SpecError(
            f"Unknown solver `simulation.solver = {_fmt(solver)}`.{hint} Give the "
            "name of a Diffrax solver class, e.g. 'Euler', 'Heun', 'Tsit5'; valid "
            f"names are: {_choices(solvers)}."
        )
    interpolation = t.string("interpolation", "linear", INTERPOLATIONS)
    evaluation = t.string("coupling_evaluation", "stage", COUPLING_EVALUATIONS)
    seed = t.integer("seed", 0)
    variables = t.strings("variables", None)
    return SimulationSpec(
        t1=t1,
        dt=dt,
        save_every=save_every,
        transient=transient,
        solver=solver,
        interpolation=interpolation,
        coupling_evaluation=evaluation,
        seed=seed,
        variables=variables,
    )


_TEMPORAL_EXAMPLE = (
    'temporal = { name = "PulseTrain", onset = 20.0, T = 50.0, tau = 10.0, amp = 0.5 }'
)


def _parse_stimulus(data: Any, model: ModelSpec) -> StimulusSpec:
    t = _Table(data, "stimulus", SPEC_KEYS["stimulus"])
    equations = list(equation_classes())
    if "temporal" not in data:
        raise SpecError(
            "Missing `stimulus.temporal`: the stimulus's time course, e.g. "
            f"{_TEMPORAL_EXAMPLE}; equations: {_choices(equations)}."
        )
    raw = data["temporal"]
    if isinstance(raw, str):
        name, params = raw, {}
    elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
        name = raw["name"]
        params = {
            k: _parameter(f"stimulus.temporal.{_quote(k)}", v)
            for k, v in raw.items()
            if k != "name"
        }
    else:
        raise SpecError(
            '`stimulus.temporal` must be an equation name such as "Sinusoid", or '
            f"a table with `name` and parameters, e.g. {_TEMPORAL_EXAMPLE}; got "
            f"{_fmt(raw)}."
        )
    _build_temporal(name, params)  # validate the name, parameters and values now
    regions = None
    if "regions" in data:
        raw = data["regions"]
        if (
            not isinstance(raw, list)
            or not raw
            or not all(
                isinstance(r, str) or (isinstance(r, int) and not isinstance(r, bool))
                for r in raw
            )
        ):
            raise SpecError(
                "`stimulus.regions` must be a non-empty list of region indices "
                f'(from 0) or labels, e.g. regions = [10, "rV1"]; got {_fmt(raw)}.'
            )
        for i, r in enumerate(raw):
            if isinstance(r, int) and r < 0:
                raise SpecError(
                    f"`stimulus.regions[{i}]` = {r}: region indices start at 0."
                )
        if len(set(raw)) != len(raw):
            raise SpecError(f"`stimulus.regions` names a region twice: {raw}.")
        regions = tuple(raw)
    weights = None
    if "weights" in data:
        weights = _parameter("stimulus.weights", data["weights"])
    if regions is None and weights is None:
        raise SpecError(
            "[stimulus] needs `regions` (indices or labels of the stimulated "
            "regions) or `weights` (one per region of the network), e.g. "
            "regions = [10, 48]."
        )
    if regions is not None and isinstance(weights, tuple):
        if len(weights) != len(regions):
            raise SpecError(
                f"`stimulus.weights` has {len(weights)} values but "
                f"`stimulus.regions` names {len(regions)} regions; give one weight "
                "per listed region, or one number for all of them."
            )
    variables = t.strings("variables", None)
    cls = model_classes()[model.name]
    for v in variables or ():
        if v not in cls.state_names:
            raise SpecError(
                f"`stimulus.variables`: {v!r} is not a state variable of "
                f"{model.name}; its variables are {_choices(cls.state_names)}."
                + _suggest(v, cls.state_names)
            )
    evaluation = t.string("evaluation", "stage", STIMULUS_EVALUATIONS)
    return StimulusSpec(
        temporal=name,
        temporal_parameters=params,
        regions=regions,
        weights=1.0 if weights is None else weights,
        variables=variables,
        evaluation=evaluation,
    )


def _parse_sweep(data: Any) -> SweepSpec:
    t = _Table(data, "sweep", SPEC_KEYS["sweep"])
    if "outputs" not in data:
        raise SpecError(
            "Missing `sweep.outputs`: what to record at every point, e.g. "
            f'outputs = ["mean_fc"]. Available: {_choices(list(OUTPUTS))}.'
        )
    outputs = t.strings("outputs")
    for name in outputs:
        if name not in OUTPUTS:
            raise SpecError(
                f"Unknown output {name!r} in `sweep.outputs`.{_suggest(name, OUTPUTS)}"
                f" Available outputs are: {_choices(list(OUTPUTS))}."
            )
    if len(set(outputs)) != len(outputs):
        raise SpecError(f"`sweep.outputs` lists an output twice: {list(outputs)}.")
    variable = t.string("variable", None)
    mode = t.string("mode", "product", MODES)
    batch_size = t.integer("batch_size", 16, minimum=1)
    lanes = t.integer("lanes", None, minimum=1)
    store = t.get("store", True)
    if store is True:
        store = ""  # the default: <folder>/store
    elif store is False:
        store = None
    elif not isinstance(store, str) or not store:
        raise SpecError(
            "`sweep.store` must be a folder path (a string), true (the default: "
            f"<output folder>/store) or false (no store); got {_fmt(store)}."
        )
    return SweepSpec(
        outputs=outputs,
        variable=variable,
        mode=mode,
        batch_size=batch_size,
        store=store,
        lanes=lanes,
    )


def _parse_axes(data: Any) -> dict[str, AxisSpec]:
    if not isinstance(data, dict):
        raise SpecError(
            "`axes` must hold one table per swept parameter, e.g.\n"
            "  [axes.k]\n  grid = [0.0, 1.0, 8]"
        )
    axes = {}
    for path, raw in data.items():
        key = f"axes.{_quote(path)}"
        if not isinstance(raw, dict):
            raise SpecError(
                f"`{key}` must be a table with one of {_choices(SPEC_KEYS['axes'])}, "
                f"e.g. [{key}] grid = [0.0, 1.0, 8]; got {_fmt(raw)}."
            )
        t = _Table(raw, key, SPEC_KEYS["axes"])
        kinds = [k for k in SPEC_KEYS["axes"] if k in raw]
        if len(kinds) != 1:
            raise SpecError(
                f"`{key}` must have exactly one of {_choices(SPEC_KEYS['axes'])}; "
                f"got {_choices(kinds) if kinds else 'none'}."
            )
        kind = kinds[0]
        value = raw[kind]
        where = t.key(kind)
        if kind == "values":
            if not isinstance(value, list) or not value:
                raise SpecError(
                    f"`{where}` must be a non-empty list of numbers, e.g. "
                    f"values = [0.1, 0.2, 0.5]; got {_fmt(value)}."
                )
            args = tuple(_check_number(f"{where}[{i}]", v) for i, v in enumerate(value))
        else:
            if not isinstance(value, list) or len(value) != 3:
                raise SpecError(
                    f"`{where}` must be [low, high, n], e.g. {kind} = [0.1, 1.0, 8]; "
                    f"got {_fmt(value)}."
                )
            low = _check_number(f"{where}[0] (low)", value[0])
            high = _check_number(f"{where}[1] (high)", value[1])
            n = value[2]
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise SpecError(
                    f"`{where}[2]` (the number of values) must be a whole number "
                    f">= 1; got {_fmt(n)}."
                )
            if low >= high:
                raise SpecError(
                    f"`{where}`: low ({low:g}) must be smaller than high ({high:g})."
                )
            if kind == "log" and low <= 0:
                raise SpecError(
                    f"`{where}`: a log-spaced axis needs 0 < low; got low = {low:g}. "
                    "Use `grid` for ranges that include 0 or negative values."
                )
            args = (low, high, n)
        axes[path] = AxisSpec(kind=kind, args=args)
    return axes
