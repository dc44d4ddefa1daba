"""Specs for `neuromass simulate` and `neuromass sweep`: TOML files, validated.

A spec is a TOML file with the tables `[model]`, `[network]`, `[simulation]`,
`[sweep]`, `[axes.<path>]` and `[output]` (see `docs/cli.md`). Its five concepts
live in one module each:

- `_table`: the table validator (`SpecError`, type-checked keys, messages);
- `_registry`: what a spec may name (models, solvers, interpolations, ...);
- `_schema`: the dataclasses of a validated spec, and `SPEC_KEYS` derived from
  them;
- `_parse`: `read_spec` (TOML and `--set KEY=VALUE` overrides), `parse_spec`;
- `_build`: the network, the stimulus, the sweep space and the per-point summary
  of a spec;
- `_summary`: the per-point summaries (`OUTPUTS`) and the point runner.

This module gathers the names the commands use.
"""

from ._build import (
    build_network as build_network,
    build_space as build_space,
    build_stimulus as build_stimulus,
    build_sweep_network as build_sweep_network,
    check_delays as check_delays,
    point_summary as point_summary,
    region_labels as region_labels,
)
from ._parse import (
    load_spec as load_spec,
    parse_override as parse_override,
    parse_spec as parse_spec,
    read_spec as read_spec,
)
from ._schema import SPEC_KEYS as SPEC_KEYS, Spec as Spec
from ._summary import OUTPUTS as OUTPUTS, PointSummary as PointSummary
from ._table import SpecError as SpecError
