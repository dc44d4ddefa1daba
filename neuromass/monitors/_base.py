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

    **To implement:** `name` (a field), `variables` used, and the methods
    `period(dt)`, `init(y0, dt)`, `update(state, t, y, dt)`, `emit(state)` (periodic
    monitors) and `finalize(state)` (streaming monitors). Set the class attribute
    `warm_through_transient = True` for monitors whose state must evolve during the
    transient (e.g. hemodynamics); others restart when the transient ends.
    """

    name: eqx.AbstractVar[str]
    warm_through_transient: ClassVar[bool] = False

    @abc.abstractmethod
    def period(self, dt: float) -> float | None:
        """Sampling period in ms, or None for a streaming monitor."""

    @abc.abstractmethod
    def init(self, y0: State, dt: float):
        """The monitor's state at the start."""

    @abc.abstractmethod
    def update(self, state, t, y: State, dt: float):
        """Advance the monitor's state with the network state after a step."""

    def emit(self, state):
        """Return `(new_state, sample)` at the end of a sampling period."""
        raise TypeError(
            f"{type(self).__name__} is a streaming monitor: it does not emit."
        )

    def finalize(self, state):
        """The result of a streaming monitor at the end of the run."""
        raise TypeError(f"{type(self).__name__} is a periodic monitor: no final value.")


class MonitorOutput(eqx.Module):
    """What a monitor recorded: `ts` (ms; None for streaming monitors) and `data`
    (an array with time leading, or a dict of arrays)."""

    ts: object
    data: object
