"""The monitor contract: observation models stepped inside the simulation loop."""

import abc
from typing import ClassVar

import equinox as eqx

from .._custom_types import State


class AbstractMonitor(eqx.Module):
    """Base class of monitors (observation models).

    A monitor observes the simulation from inside the integration loop, so its memory
    grows with the samples it emits, not with the number of steps. After every
    integration step the loop calls `update`; every `period` ms (after the transient)
    it calls `emit`, which returns one sample. A *streaming* monitor (`period` None)
    never emits during the run: `finalize` turns its state into one result at the end
    (e.g. a running mean or an online FC matrix, O(N²) memory for any duration).

    **To implement:** `name` and `variables` (the state variables read, or None for
    all: fields or properties), `period(dt)`, `init(y0, dt)` and
    `update(state, t, y, dt)`, then

    - a *periodic* monitor (`period` returns ms): `emit(state)`;
    - a *streaming* monitor (`period` returns None): `sample_every(dt)` (ms between
      the samples it takes), `observe(state, y)` (take one sample) and
      `finalize(state)`.

    Set the class attribute `warm_through_transient = True` for monitors whose state
    must evolve during the transient (e.g. hemodynamics); others restart when the
    transient ends. A monitor of the afferent (long-range) coupling rather than of
    the state sets `observes = "coupling"`: its `init` and `update` then receive
    the coupling input `{coupled variable: (N,)}` instead of the state.
    """

    name: eqx.AbstractVar[str]
    variables: eqx.AbstractVar[tuple[str, ...] | None]
    warm_through_transient: ClassVar[bool] = False
    observes: ClassVar[str] = "state"

    @abc.abstractmethod
    def period(self, dt: float) -> float | None:
        """Sampling period in ms, or None for a streaming monitor."""

    @abc.abstractmethod
    def init(self, y0: State, dt: float):
        """The monitor's state at the start."""

    @abc.abstractmethod
    def update(self, state, t, y: State, dt: float):
        """Advance the monitor's state with the network state after a step."""

    def bind(self, network) -> "AbstractMonitor":
        """This monitor checked against `network` and ready for it: `simulate`
        calls it on every monitor before the run. Monitors whose defaults depend on
        the model (a projection's observable) fill them in; monitors tied to a
        parcellation (a lead field's regions) raise a `ValueError` for a network of
        another one. The default returns the monitor unchanged."""
        del network
        return self

    def emit(self, state):
        """Return `(new_state, sample)` at the end of a sampling period."""
        raise TypeError(
            f"{type(self).__name__} is a streaming monitor: it does not emit."
        )

    def sample_every(self, dt: float) -> float:
        """Streaming monitors: the interval (ms) between the samples they take."""
        raise TypeError(
            f"{type(self).__name__} is a periodic monitor: it samples every "
            "`period(dt)` ms."
        )

    def observe(self, state, y: State):
        """Streaming monitors: take one sample of the state `y`."""
        raise TypeError(
            f"{type(self).__name__} is a periodic monitor: it does not observe."
        )

    def finalize(self, state):
        """The result of a streaming monitor at the end of the run."""
        raise TypeError(f"{type(self).__name__} is a periodic monitor: no final value.")


class MonitorOutput(eqx.Module):
    """What a monitor recorded: `ts` (ms; None for streaming monitors) and `data`
    (an array with time leading, or a dict of arrays)."""

    ts: object
    data: object
