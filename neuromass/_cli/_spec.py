"""Specs for `neuromass simulate` and `neuromass sweep`: TOML files, validated.

A spec is a TOML file with the tables `[model]`, `[network]`, `[simulation]`,
`[sweep]`, `[axes.<path>]` and `[output]` (see `docs/cli.md`). `read_spec` parses
it and applies `--set KEY=VALUE` overrides; `parse_spec` validates it into a
`Spec`, which builds the network, the sweep space and the per-point summary.

Every problem is a `SpecError` whose message names the key at fault and the fix.
"""

import dataclasses
import difflib
import hashlib
import inspect
import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class SpecError(ValueError):
    """A problem in a spec: the message names the key at fault and how to fix it;
    `origin` says where the faulty value comes from (the spec file's name, or the
    `--set KEY=VALUE` override that brought it), when known."""

    def __init__(self, message: str, origin: str | None = None):
        super().__init__(message)
        self.origin = origin

    def where(self, source: str, overrides: Sequence[str] = ()) -> str:
        """Where to report the error: its `origin`, else the spec file `source`
        (with the overrides, which may be part of the problem)."""
        if self.origin is not None:
            return self.origin
        if overrides:
            return f"{source} with " + " ".join(f"--set {o}" for o in overrides)
        return source


#: The keys of every table of a spec, in documentation order. `[model]` also takes
#: the parameters of the chosen model, and `[axes]` one table per swept path.
SPEC_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("name",),
    "network": (
        "connectome",
        "normalisation",
        "speed",
        "delays",
        "coupling",
        "k",
        "coupled_vars",
        "noise",
        "self_connection",
    ),
    "simulation": (
        "t1",
        "dt",
        "save_every",
        "transient",
        "solver",
        "interpolation",
        "coupling_evaluation",
        "seed",
        "variables",
    ),
    "sweep": ("outputs", "variable", "mode", "batch_size", "lanes", "store"),
    "axes": ("grid", "log", "uniform", "values"),
    "output": ("folder", "plot"),
}
_NOISE_KEYS = ("kind", "sigma", "variables")
_NORMALISATIONS = ("none", "max", "row_sum", "log")
_INTERPOLATIONS = ("nearest", "linear", "cubic")
_COUPLING_EVALUATIONS = ("stage", "step")
_MODES = ("product", "zip")


# ----------------------------------------------------------------------- outputs
def _fc_values(x: jax.Array) -> jax.Array:
    import neuromass as nm

    return nm.metrics.upper_triangle(nm.metrics.fc(x))


def _mean_fc(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(_fc_values(x))


def _fc_std(x: jax.Array, dt: float) -> jax.Array:
    return jnp.std(_fc_values(x))


def _mean(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(x)


def _amplitude(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(jnp.max(x, axis=0) - jnp.min(x, axis=0)) / 2


def _peak_frequency(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return jnp.mean(nm.metrics.peak_frequency(x, dt=dt))


def _metastability(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return nm.metrics.metastability(x, kind="signal")


def _synchrony(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return jnp.mean(nm.metrics.kuramoto_order_from_signal(x))


class _Output(NamedTuple):
    description: str
    fn: Callable[[jax.Array, float], jax.Array]
    min_regions: int = 1
    min_samples: int = 2


#: The per-point summaries a sweep can record: name -> description and function of
#: the saved trajectory `(time, regions)` of the chosen variable.
OUTPUTS: dict[str, _Output] = {
    "mean_fc": _Output(
        "mean functional connectivity: the average Pearson correlation over all "
        "pairs of regions",
        _mean_fc,
        min_regions=3,
        min_samples=3,
    ),
    "fc_std": _Output(
        "standard deviation of the functional connectivity over pairs of regions",
        _fc_std,
        min_regions=3,
        min_samples=3,
    ),
    "mean": _Output("the variable's average over time and regions", _mean),
    "amplitude": _Output(
        "half the peak-to-peak range over time, averaged over regions", _amplitude
    ),
    "peak_frequency": _Output(
        "frequency (Hz) of the largest peak of the Welch spectrum, averaged over "
        "regions",
        _peak_frequency,
        min_samples=4,
    ),
    "metastability": _Output(
        "standard deviation over time of the Kuramoto order parameter (phases from "
        "the Hilbert transform of each region's signal)",
        _metastability,
        min_regions=2,
        min_samples=4,
    ),
    "synchrony": _Output(
        "time average of the Kuramoto order parameter (Hilbert phases)",
        _synchrony,
        min_regions=2,
        min_samples=4,
    ),
}


class PointSummary(eqx.Module):
    """Simulate one network and reduce the trajectory of `variable` to scalars.

    Its configuration is static, so two sweeps of equal specs share one compiled
    program.
    """

    outputs: tuple[str, ...] = eqx.field(static=True)
    variable: str = eqx.field(static=True)
    settings: tuple[tuple[str, Any], ...] = eqx.field(static=True)
    solver: str = eqx.field(static=True)

    def __call__(self, net: Any, key: jax.Array | None = None) -> dict[str, jax.Array]:
        import diffrax

        import neuromass as nm

        settings = dict(self.settings)
        sol = nm.simulate(
            net,
            solver=getattr(diffrax, self.solver)(),
            variables=(self.variable,),
            key=key,
            **settings,
        )
        x = sol[self.variable]
        dt = settings["save_every"]
        return {name: OUTPUTS[name].fn(x, dt) for name in self.outputs}


# --------------------------------------------------------------------- messages
def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" Did you mean {close[0]!r}?" if close else ""


def _choices(choices: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in choices)


def _quote(key: str) -> str:
    simple = key.replace("_", "").replace("-", "").isalnum()
    return key if simple else json.dumps(key)


# ------------------------------------------------------------------ table reader
_REQUIRED = object()


class _Table:
    """Reads and type-checks the keys of one TOML table; refuses unknown keys."""

    def __init__(self, data: Any, path: str, allowed: Sequence[str] | None = None):
        self.path = path
        if not isinstance(data, dict):
            raise SpecError(
                f"`{path}` must be a table ([{path}] or {path} = {{...}}); got "
                f"{_type_name(data)}."
            )
        self.data = data
        if allowed is not None:
            self.refuse_unknown(allowed)

    def key(self, name: str) -> str:
        return f"{self.path}.{_quote(name)}" if self.path else _quote(name)

    def refuse_unknown(self, allowed: Sequence[str], what: str = "key") -> None:
        for name in self.data:
            if name not in allowed:
                raise SpecError(
                    f"Unknown {what} `{self.key(name)}`.{_suggest(name, allowed)} "
                    f"Valid {what}s of [{self.path}] are: {_choices(allowed)}."
                )

    def get(self, name: str, default: Any) -> Any:
        if name in self.data:
            return self.data[name]
        if default is _REQUIRED:
            raise SpecError(f"Missing `{self.key(name)}` in [{self.path}].")
        return default

    def number(
        self,
        name: str,
        default: Any = _REQUIRED,
        *,
        unit: str = "",
        positive: bool = False,
        nonnegative: bool = False,
    ) -> Any:
        value = self.get(name, default)
        if value is None or value is default and default is not _REQUIRED:
            return value
        return _check_number(self.key(name), value, unit, positive, nonnegative)

    def integer(self, name: str, default: Any = _REQUIRED, *, minimum: int = 0) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(
                f"`{self.key(name)}` must be a whole number; got {_fmt(value)} "
                f"({_type_name(value)})."
            )
        if value < minimum:
            raise SpecError(f"`{self.key(name)}` must be >= {minimum}; got {value}.")
        return value

    def boolean(self, name: str, default: Any = _REQUIRED) -> bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise SpecError(
                f"`{self.key(name)}` must be true or false; got {_fmt(value)}."
            )
        return value

    def string(
        self,
        name: str,
        default: Any = _REQUIRED,
        choices: Sequence[str] | None = None,
    ) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, str):
            hint = f" one of {_choices(choices)}" if choices else " a string"
            raise SpecError(
                f"`{self.key(name)}` must be{hint}; got {_fmt(value)} "
                f"({_type_name(value)}). Strings are quoted in TOML: "
                f'{name} = "...".'
            )
        if choices is not None and value not in choices:
            raise SpecError(
                f"`{self.key(name)}` must be one of {_choices(choices)}; got "
                f"{value!r}.{_suggest(value, choices)}"
            )
        return value

    def strings(self, name: str, default: Any = _REQUIRED) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) for v in value)
        ):
            raise SpecError(
                f"`{self.key(name)}` must be a non-empty list of strings, e.g. "
                f'{name} = ["x"]; got {_fmt(value)}.'
            )
        return tuple(value)


def _check_number(
    key: str, value: Any, unit: str = "", positive=False, nonnegative=False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        quoted = isinstance(value, str)
        raise SpecError(
            f"`{key}` must be a number{' in ' + unit if unit else ''}; got "
            f"{_fmt(value)} ({_type_name(value)})."
            + (" Remove the quotes." if quoted else "")
        )
    value = float(value)
    if not math.isfinite(value):
        raise SpecError(f"`{key}` must be finite; got {value}.")
    if positive and value <= 0:
        unit = f" {unit}" if unit else ""
        raise SpecError(f"`{key}` must be > 0{unit}; got {value}.")
    if nonnegative and value < 0:
        raise SpecError(f"`{key}` must be >= 0; got {value}.")
    return value


def _parameter(key: str, value: Any) -> float | tuple[float, ...]:
    """A model/coupling parameter: a number, or a list with one number per region."""
    if isinstance(value, list):
        if not value:
            raise SpecError(
                f"`{key}` is an empty list; give a number or one per region."
            )
        return tuple(_check_number(f"{key}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(
            f"`{key}` must be a number or a list of numbers (one per region); got "
            f"{_fmt(value)} ({_type_name(value)})."
        )
    return _check_number(key, value)


# ------------------------------------------------------------------- registries
def model_names() -> list[str]:
    """The names of the model catalogue (`neuromass models`), sorted, without
    aliases."""
    import neuromass as nm

    return sorted(nm.models.list_models().names())


def model_classes() -> dict[str, type]:
    """The node models of `neuromass.models`, by class name (aliases such as
    `KIonExchange` included, so that a spec may use them)."""
    import neuromass as nm

    out = {}
    for name in dir(nm.models):
        cls = getattr(nm.models, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, nm.models.AbstractNode)
            and not inspect.isabstract(cls)
        ):
            out[name] = cls
    return dict(sorted(out.items()))


def solver_names() -> list[str]:
    """The Diffrax solvers that can be built without arguments."""
    import diffrax

    names = []
    for name in dir(diffrax):
        cls = getattr(diffrax, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, diffrax.AbstractSolver)
            and not inspect.isabstract(cls)
        ):
            try:
                cls()
            except Exception:  # needs arguments (e.g. HalfSolver wraps a solver)
                continue
            names.append(name)
    return sorted(names)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


# ------------------------------------------------------------------ parsed spec
@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    parameters: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    connectome: str | None
    normalisation: str
    speed: float | None
    delays: float | None
    coupling: str
    coupling_parameters: dict[str, Any]
    k: Any
    coupled_vars: tuple[str, ...] | None
    noise_kind: str | None
    noise_sigma: Any
    noise_variables: tuple[str, ...] | None
    self_connection: bool


@dataclasses.dataclass(frozen=True)
class SimulationSpec:
    t1: float
    dt: float
    save_every: float
    transient: float
    solver: str
    interpolation: str
    coupling_evaluation: str
    seed: int
    variables: tuple[str, ...] | None


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    outputs: tuple[str, ...]
    variable: str | None
    mode: str
    batch_size: int
    store: str | None
    lanes: int | None = None


@dataclasses.dataclass(frozen=True)
class AxisSpec:
    kind: str
    args: tuple[Any, ...]

    @property
    def size(self) -> int:
        return len(self.args) if self.kind == "values" else int(self.args[2])


@dataclasses.dataclass(frozen=True)
class Spec:
    """A validated spec. Build its pieces with the methods."""

    source: str
    model: ModelSpec
    network: NetworkSpec
    simulation: SimulationSpec
    sweep: SweepSpec | None
    axes: dict[str, AxisSpec]
    folder: str
    plot: bool

    # ------------------------------------------------------------ description
    def as_dict(self) -> dict[str, Any]:
        """The resolved spec (defaults filled in), JSON-serialisable."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def fingerprint(self) -> str:
        """Identifies what each sweep point computes (for resumable stores): the
        model, network and simulation settings and the recorded outputs; not the
        axes (the store fingerprints the space itself), batch size or folders."""
        what = {
            "model": dataclasses.asdict(self.model),
            "network": dataclasses.asdict(self.network),
            "simulation": dataclasses.asdict(self.simulation),
            "outputs": list(self.sweep.outputs) if self.sweep else None,
            "variable": self.sweep_variable() if self.sweep else None,
        }
        text = json.dumps(what, sort_keys=True, default=str)
        return "neuromass-cli-spec-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    # ------------------------------------------------------------- building
    def build_network(
        self, max_delay: float | None = None, min_delay: float | None = None
    ):
        """The `nm.Network` of `[model]` and `[network]`."""
        import neuromass as nm

        cls = model_classes()[self.model.name]
        try:
            node = cls(**self.model.parameters)
        except (TypeError, ValueError) as e:
            raise SpecError(f"Cannot build [model] {self.model.name}: {e}") from None
        net = self.network
        if net.connectome is None:
            conn = None
            weights = np.zeros((1, 1))
        else:
            conn = _load_connectome(net.connectome, net.normalisation)
            weights = conn.weights
        n = weights.shape[0]
        kwargs: dict[str, Any] = {}
        if net.speed is not None:
            kwargs.update(lengths=conn.lengths, speed=net.speed)
        elif net.delays is not None:
            kwargs.update(delays=np.full((n, n), net.delays))
        if max_delay is not None:
            kwargs["max_delay"] = max_delay
        if min_delay is not None:
            kwargs["min_delay"] = min_delay
        noise = None
        if net.noise_kind is not None:
            cls_noise = {
                "additive": nm.noise.Additive,
                "multiplicative": nm.noise.Multiplicative,
            }[net.noise_kind]
            try:
                noise = cls_noise(
                    _array(net.noise_sigma), variables=net.noise_variables
                )
            except (TypeError, ValueError) as e:
                raise SpecError(f"`network.noise`: {e}") from None
        try:
            coupling = _build_coupling(net.coupling, net.coupling_parameters)
            return nm.Network(
                node,
                weights,
                coupling=coupling,
                k=_array(net.k),
                coupled_vars=net.coupled_vars,
                self_connection=net.self_connection,
                noise=noise,
                **kwargs,
            )
        except (TypeError, ValueError) as e:
            if isinstance(e, SpecError):
                raise
            raise SpecError(
                f"Cannot build the network from [model] and [network]: {e}"
            ) from None

    def axis_paths(self, net: Any) -> list[str]:
        """The paths a `[axes.<path>]` table may sweep for this network."""
        paths = ["k"]
        paths += [f"node.{p}" for p in _fields(type(net.node))]
        paths += [
            f"coupling.{p}"
            for p in _fields(type(net.coupling))
            if eqx.is_array(getattr(net.coupling, p))
        ]
        if net.noise is not None and eqx.is_array(getattr(net.noise, "sigma", None)):
            paths.append("noise.sigma")
        if net.lengths is not None:
            paths.append("speed")
        return paths

    def build_sweep_network(self):
        """The network to sweep: with the delay history sized for the slowest
        swept `speed` when `speed` is an axis."""
        net = self.build_network()
        valid = self.axis_paths(net)
        for path in self.axes:
            if path not in valid:
                hint = ""
                if path.startswith("model."):
                    hint = f" Model parameters are swept as {'node.' + path[6:]!r}."
                raise SpecError(
                    f"Cannot sweep `axes.{_quote(path)}`: it is not a parameter of "
                    f"this network.{hint or _suggest(path, valid)} Valid paths are: "
                    f"{_choices(valid)}."
                )
        if "speed" in self.axes:
            speeds = self.axis_values("speed")
            slowest, fastest = float(np.min(speeds)), float(np.max(speeds))
            if slowest <= 0:
                raise SpecError(
                    "`axes.speed` must only hold positive speeds (mm/ms); got "
                    f"{slowest}."
                )
            lengths = np.asarray(net.lengths)[np.asarray(net.weights) != 0]
            longest = float(np.max(np.asarray(net.lengths)))
            shortest = lengths[lengths > 0]
            shortest = float(shortest.min()) if shortest.size else None
            net = self.build_network(
                max_delay=longest / slowest,
                min_delay=None
                if shortest is None
                else min(shortest / fastest, shortest / float(net.speed)),
            )
        self.check_delays(net)
        return net

    def check_delays(self, net: Any) -> None:
        """Refuse delays strictly between 0 and `dt` (they cannot be integrated),
        for the network's speed and the fastest swept speed."""
        if net.delays is None:
            return
        w = np.asarray(net.weights)
        delays = np.asarray(net.delays)[w != 0]
        if "speed" in self.axes:
            fastest = float(np.max(self.axis_values("speed")))
            delays = np.concatenate([delays, np.asarray(net.lengths)[w != 0] / fastest])
        dt = self.simulation.dt
        short = delays[(delays > 0) & (delays < dt * (1 - 1e-4))]
        if short.size:
            where = (
                "`network.delays`"
                if self.network.delays is not None
                else "the tract lengths / `network.speed` (or a swept speed)"
            )
            raise SpecError(
                f"{where} give delays of {short.min():.3g} ms, shorter than "
                f"`simulation.dt` = {dt:g} ms but not zero, which cannot be "
                f"integrated. Use `dt` <= {short.min():.3g} ms, or a slower speed."
            )

    def axis_values(self, path: str) -> np.ndarray:
        axis = self.build_axis(path)
        key = jax.random.fold_in(jax.random.key(self.simulation.seed), 1)
        return np.asarray(axis.values(key))

    def build_axis(self, path: str):
        import neuromass as nm

        spec = self.axes[path]
        if spec.kind == "grid":
            return nm.GridAxis(*spec.args)
        if spec.kind == "log":
            return nm.LogGridAxis(*spec.args)
        if spec.kind == "uniform":
            return nm.UniformAxis(*spec.args)
        return nm.DataAxis(np.asarray(spec.args, dtype=float))

    def build_space(self):
        """The `nm.Space` of `[axes]` in the mode of `[sweep]`."""
        import neuromass as nm

        if not self.axes:
            raise SpecError(
                "A sweep needs at least one axis: add a table such as\n"
                "  [axes.k]\n  grid = [0.0, 1.0, 8]"
            )
        mode = self.sweep.mode if self.sweep else "product"
        if mode == "zip":
            sizes = {p: a.size for p, a in self.axes.items()}
            if len(set(sizes.values())) > 1:
                raise SpecError(
                    'With `sweep.mode = "zip"` every axis must have the same number '
                    f"of values; got {sizes}. Make them equal, or use "
                    '`mode = "product"`.'
                )
        axes = {path: self.build_axis(path) for path in self.axes}
        key = jax.random.fold_in(jax.random.key(self.simulation.seed), 1)
        return nm.Space(axes, mode=mode, key=key)

    def sweep_variable(self) -> str:
        if self.sweep is not None and self.sweep.variable is not None:
            return self.sweep.variable
        cls = model_classes()[self.model.name]
        coupled = self.network.coupled_vars or cls.coupled_vars
        return coupled[0]

    def simulate_settings(self) -> dict[str, Any]:
        """Keyword arguments of `nm.simulate` (except `solver`, `key`, `variables`)."""
        sim = self.simulation
        return {
            "t1": sim.t1,
            "dt": sim.dt,
            "save_every": sim.save_every,
            "transient": sim.transient,
            "interpolation": sim.interpolation,
            "coupling_evaluation": sim.coupling_evaluation,
        }

    def point_summary(self, net: Any) -> PointSummary:
        """The per-point function of the sweep, after checking that the chosen
        variable exists and that the network and run are large enough."""
        assert self.sweep is not None
        variable = self.sweep_variable()
        names = net.node.state_names
        if variable not in names:
            key = "sweep.variable" if self.sweep.variable else "network.coupled_vars"
            raise SpecError(
                f"`{key}`: {variable!r} is not a state variable of "
                f"{self.model.name}; choose one of {_choices(names)}."
                + _suggest(variable, names)
            )
        n_saved = (
            round(
                (self.simulation.t1 - self.simulation.transient)
                / self.simulation.save_every
            )
            + 1
        )
        for name in self.sweep.outputs:
            out = OUTPUTS[name]
            if net.n_regions < out.min_regions:
                raise SpecError(
                    f"`sweep.outputs`: {name!r} needs a network of at least "
                    f"{out.min_regions} regions; this one has {net.n_regions}. Set "
                    "`network.connectome`, or choose another output."
                )
            if n_saved < out.min_samples:
                raise SpecError(
                    f"`sweep.outputs`: {name!r} needs at least {out.min_samples} "
                    f"saved samples; (t1 - transient) / save_every gives {n_saved}. "
                    "Lengthen `simulation.t1` or shorten `simulation.save_every`."
                )
        return PointSummary(
            outputs=self.sweep.outputs,
            variable=variable,
            settings=tuple(sorted(self.simulate_settings().items())),
            solver=self.simulation.solver,
        )

    def region_labels(self, n_regions: int) -> tuple[str, ...]:
        """The region labels of the connectome (`("0",)` without one)."""
        if self.network.connectome is None:
            return tuple(str(i) for i in range(n_regions))
        return _load_connectome(self.network.connectome, "none").labels

    def key(self) -> jax.Array:
        return jax.random.key(self.simulation.seed)


def _array(value: Any) -> Any:
    return np.asarray(value, dtype=float) if isinstance(value, tuple) else value


def _load_connectome(name: str, normalisation: str):
    import neuromass as nm

    try:
        conn = nm.datasets.load_connectome(name)
    except FileNotFoundError as e:
        raise SpecError(
            f"`network.connectome`: {e} Give a connectome name "
            f"({_choices(nm.datasets.available_connectomes())}) or the path of a "
            "TVB-format .zip or a .npz file (relative to the current directory)."
        ) from None
    except (ImportError, ValueError, OSError) as e:
        raise SpecError(f"`network.connectome`: {e}") from None
    if normalisation != "none":
        conn = conn.normalised(normalisation)
    return conn


def _build_coupling(name: str, parameters: dict[str, Any]):
    import neuromass as nm

    try:
        base = nm.coupling.get_coupling(name)
    except ValueError as e:
        raise SpecError(f"`network.coupling`: {e}") from None
    if not parameters:
        return base
    cls = type(base)
    valid = _fields(cls)
    for p in parameters:
        if p not in valid:
            raise SpecError(
                f"Unknown parameter `network.coupling.{_quote(p)}` of the {name!r} "
                f"coupling ({cls.__name__}).{_suggest(p, valid)} Valid parameters "
                f"are: {_choices(valid) or 'none'}."
            )
    try:
        return cls(**{k: _array(v) for k, v in parameters.items()})
    except (TypeError, ValueError) as e:
        raise SpecError(f"`network.coupling`: {e}") from None


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
        first = 0
        for k, data in enumerate(stages[:-1]):
            try:
                parse_spec(data, source=source, command=command)
            except SpecError as earlier:
                if str(earlier) == str(e):
                    first = k
                    break
        else:
            first = len(stages) - 1
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
    valid = _fields(classes[name])
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
    normalisation = t.string("normalisation", "none", _NORMALISATIONS)
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
            nt = _Table(raw, "network.noise", _NOISE_KEYS)
            noise_kind = nt.string("kind", "additive", ("additive", "multiplicative"))
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
    interpolation = t.string("interpolation", "linear", _INTERPOLATIONS)
    evaluation = t.string("coupling_evaluation", "stage", _COUPLING_EVALUATIONS)
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
    mode = t.string("mode", "product", _MODES)
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
