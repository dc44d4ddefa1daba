"""External inputs given as a Python callable of time."""

from collections.abc import Callable

import equinox as eqx

from ._base import AbstractInput, Contribution


class CallableInput(AbstractInput):
    """The inputs `fn(t) -> {input name: (N,) array}` of a network (`Network(inputs=
    ...)`), delivered to the node's `inputs` argument (the names must be among the
    node's `input_names`)."""

    fn: Callable
    names: tuple[str, ...] = eqx.field(static=True)

    def drift(self, t, state, stage) -> Contribution:
        inputs = self.fn(t)
        if not isinstance(inputs, dict):
            raise TypeError(
                "`inputs(t)` must return a dict {input name: (N,) array}; got "
                f"{type(inputs).__name__}."
            )
        unknown = set(inputs) - set(self.names)
        if unknown:
            raise ValueError(
                f"`inputs(t)` returned unknown key(s) {sorted(unknown)}; the node "
                f"accepts {self.names}."
            )
        return Contribution(inputs=inputs)
