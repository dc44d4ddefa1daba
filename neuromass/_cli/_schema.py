"""The schema of a spec: one frozen dataclass per table, and `SPEC_KEYS`, the keys
each table accepts, derived from those dataclasses.

A field is the key of the same name unless its metadata says otherwise:
`key=None` for a field filled from another key (the parameters of a
`coupling = {name = ..., ...}` table, the parts of `noise`), `key="noise"` for the
field that a key of another name fills.
"""

import dataclasses
import hashlib
import json
from typing import Any, ClassVar

import jax

from ._registry import model_classes


def _part_of(key: str | None) -> dict[str, Any]:
    return {"key": key}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    parameters: dict[str, Any] = dataclasses.field(metadata=_part_of(None))


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    connectome: str | None
    normalisation: str
    speed: float | None
    delays: float | None
    coupling: str
    coupling_parameters: dict[str, Any] = dataclasses.field(metadata=_part_of(None))
    k: Any = dataclasses.field()
    coupled_vars: tuple[str, ...] | None = dataclasses.field()
    noise_kind: str | None = dataclasses.field(metadata=_part_of("noise"))
    noise_sigma: Any = dataclasses.field(metadata=_part_of(None))
    noise_variables: tuple[str, ...] | None = dataclasses.field(metadata=_part_of(None))
    self_connection: bool = dataclasses.field()


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
class StimulusSpec:
    """`[stimulus]`: a region stimulus (TVB's `StimuliRegion`)."""

    temporal: str
    temporal_parameters: dict[str, Any] = dataclasses.field(metadata=_part_of(None))
    regions: tuple[int | str, ...] | None = dataclasses.field()
    weights: Any = dataclasses.field()
    variables: tuple[str, ...] | None = dataclasses.field()
    evaluation: str = dataclasses.field()


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
    """One `[axes.<path>]` table: exactly one of the keys `KINDS`."""

    KINDS: ClassVar[tuple[str, ...]] = ("grid", "log", "uniform", "values")

    kind: str
    args: tuple[Any, ...]

    @property
    def size(self) -> int:
        return len(self.args) if self.kind == "values" else int(self.args[2])


def _table(name: str | None, schema: Any = None) -> dict[str, Any]:
    """Metadata of a `Spec` field: the table it comes from, and that table's
    dataclass (or its tuple of keys); a plain field is the key of its own name."""
    return {"table": name, "schema": schema}


@dataclasses.dataclass(frozen=True)
class Spec:
    """A validated spec; `neuromass._cli._build` builds its pieces."""

    source: str = dataclasses.field(metadata=_table(None))
    model: ModelSpec = dataclasses.field(metadata=_table("model", ModelSpec))
    network: NetworkSpec = dataclasses.field(metadata=_table("network", NetworkSpec))
    simulation: SimulationSpec = dataclasses.field(
        metadata=_table("simulation", SimulationSpec)
    )
    stimulus: StimulusSpec | None = dataclasses.field(
        metadata=_table("stimulus", StimulusSpec)
    )
    sweep: SweepSpec | None = dataclasses.field(metadata=_table("sweep", SweepSpec))
    axes: dict[str, AxisSpec] = dataclasses.field(
        metadata=_table("axes", AxisSpec.KINDS)
    )
    folder: str = dataclasses.field(metadata=_table("output"))
    plot: bool = dataclasses.field(metadata=_table("output"))

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
        if self.stimulus is not None:  # (absent: the fingerprints of before)
            what["stimulus"] = dataclasses.asdict(self.stimulus)
        text = json.dumps(what, sort_keys=True, default=str)
        return "neuromass-cli-spec-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def sweep_variable(self) -> str:
        """The variable a sweep's outputs summarise (default: the first coupled)."""
        if self.sweep is not None and self.sweep.variable is not None:
            return self.sweep.variable
        cls = model_classes()[self.model.name]
        coupled = self.network.coupled_vars or cls.coupled_vars
        return coupled[0]

    def simulate_settings(self) -> dict[str, Any]:
        """Keyword arguments of `nm.simulate` (except `solver`, `key`, `variables`,
        `stimulus`)."""
        sim = self.simulation
        extra = {}
        if self.stimulus is not None:
            extra["stimulus_evaluation"] = self.stimulus.evaluation
        return extra | {
            "t1": sim.t1,
            "dt": sim.dt,
            "save_every": sim.save_every,
            "transient": sim.transient,
            "interpolation": sim.interpolation,
            "coupling_evaluation": sim.coupling_evaluation,
        }

    def key(self) -> jax.Array:
        return jax.random.key(self.simulation.seed)


def _keys(cls: type) -> tuple[str, ...]:
    """The keys of the table of `cls`: its fields' keys, in order, once each."""
    keys = [f.metadata.get("key", f.name) for f in dataclasses.fields(cls)]
    return tuple(dict.fromkeys(k for k in keys if k is not None))


def _spec_keys() -> dict[str, tuple[str, ...]]:
    tables: dict[str, tuple[str, ...]] = {}
    for f in dataclasses.fields(Spec):
        table, schema = f.metadata["table"], f.metadata["schema"]
        if table is None:
            continue
        if dataclasses.is_dataclass(schema):
            keys = _keys(schema)
        else:
            keys = tuple(schema) if schema is not None else (f.name,)
        tables[table] = tuple(dict.fromkeys(tables.get(table, ()) + keys))
    return tables


#: The keys of every table of a spec, in documentation order. `[model]` also takes
#: the parameters of the chosen model, and `[axes]` one table per swept path.
SPEC_KEYS: dict[str, tuple[str, ...]] = _spec_keys()
