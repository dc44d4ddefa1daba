"""The simulated system: a node model and the inputs to its vector field."""

import dataclasses

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import State
from ..models import AbstractNode
from ._base import AbstractInput, Contribution, Stage
from ._coupling import LongRangeCoupling


def _add(total: dict, part: dict) -> None:
    for name, value in part.items():
        total[name] = total[name] + value if name in total else value


class System(eqx.Module):
    r"""The drift and diffusion of a simulation: the node's vector field with what
    every input adds at a stage time,

    $$f(t, s) = f_\text{node}\big(t, s, \textstyle\sum c^\text{coupling},
    \sum c^\text{inputs}\big) + \sum c^\text{derivative},\qquad
    g(t, s) = \sum g^\text{input},$$

    where the state $s$ holds the node's variables (clipped to its `state_bounds`)
    and the extra variables of the inputs (coloured noise). The long-range coupling,
    if any, is `inputs[0]` (the input whose reads come from the delay history).
    """

    node: AbstractNode
    inputs: tuple[AbstractInput, ...]

    @property
    def coupling(self) -> LongRangeCoupling | None:
        """The long-range coupling (the input that reads the delay history)."""
        first = self.inputs[0] if self.inputs else None
        return first if isinstance(first, LongRangeCoupling) else None

    def extra_names(self) -> tuple[str, ...]:
        return extra_names(self.node, self.inputs)

    def bounded(self, state: State) -> State:
        """`state` with the node's `state_bounds` applied (extra variables pass)."""
        return self.node.apply_bounds(state)

    def contributions(self, t, state: State, stage: Stage) -> Contribution:
        """The sum of the inputs' contributions at time `t` (`state` bounded)."""
        coupling, inputs, derivative, local = {}, {}, {}, None
        for i, inp in enumerate(self.inputs):
            c = inp.drift(t, state, stage.for_input(i))
            _add(coupling, c.coupling)
            _add(inputs, c.inputs)
            _add(derivative, c.derivative)
            if c.local is not None:
                local = c.local if local is None else _sum_operators(local, c.local)
        return Contribution(coupling, inputs, derivative, local)

    def drift(self, t, state: State, stage: Stage) -> State:
        """The time derivative of every state variable at stage time `t`."""
        state = self.bounded(state)
        c = self.contributions(t, state, stage)
        names = self.node.state_names
        own = state if len(names) == len(state) else {v: state[v] for v in names}
        kwargs = {} if c.local is None else {"local": c.local}
        d = self.node.vector_field(t, own, c.coupling, c.inputs or None, **kwargs)
        if not c.derivative:
            return d
        d = dict(d)
        _add(d, c.derivative)
        return d

    def tabulate(self, times) -> tuple | None:
        """Each input's `AbstractInput.tabulate` at the stage times `times`
        (`(steps, offsets)`), or None when no input tabulates."""
        given = tuple(inp.tabulate(times) for inp in self.inputs)
        return None if all(g is None for g in given) else given

    def diffusion(self, t, state: State) -> State | None:
        """The diagonal diffusion of every state variable, or None without noise."""
        total = None
        for inp in self.inputs:
            g = inp.diffusion(t, state)
            if g is None:
                continue
            if total is None:
                total = dict(g)
            else:
                _add(total, g)
        return total

    def checked(self) -> "System":
        """The system with run-time checks (`eqx.error_if`) that its traced values
        are within their domains: every node parameter finite (and > 0 where it is
        declared `param(..., positive=True)`), and each input's
        own checks (`AbstractInput.checked`). The errors name the field."""
        node = self.node
        names = [
            f.name
            for f in dataclasses.fields(node)
            if eqx.is_inexact_array(getattr(node, f.name))
        ]
        if names:
            from ..models._params import positive_parameters

            cls = type(node).__name__
            positive = positive_parameters(node)

            def check(name):
                x = getattr(node, name)
                if name in positive:
                    return eqx.error_if(
                        x,
                        ~jnp.all((x > 0) & jnp.isfinite(x)),
                        f"Parameter `{name}` of {cls} is not a finite value > 0 (a "
                        "traced value, e.g. set with `eqx.tree_at`, swept or fitted); "
                        "its domain is > 0 (a time constant or rate, declared "
                        "`param(..., positive=True)`): give it a finite value > 0.",
                    )
                return eqx.error_if(
                    x,
                    ~jnp.all(jnp.isfinite(x)),
                    f"Parameter `{name}` of {cls} is NaN or infinite (a traced value, "
                    "e.g. set with `eqx.tree_at` or swept); give it a finite value.",
                )

            values = [check(name) for name in names]
            node = eqx.tree_at(lambda n: [getattr(n, x) for x in names], node, values)
        return System(node, tuple(inp.checked() for inp in self.inputs))

    def initial_extra(self, n: int, dtype, key) -> State:
        out = {}
        for inp in self.inputs:
            out.update(inp.initial_extra(self.node, n, dtype, key))
        return out


def extra_names(node, inputs) -> tuple[str, ...]:
    """The extra state variables that `inputs` carry, in order."""
    return tuple(v for inp in inputs for v in inp.extra_state(node))


class _SumOperator(eqx.Module):
    first: object
    second: object

    def __call__(self, x):
        return self.first(x) + self.second(x)


def _sum_operators(a, b):
    return _SumOperator(a, b)
