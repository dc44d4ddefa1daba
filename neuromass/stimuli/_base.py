"""The stimulus contract: `AbstractStimulus`, patterns on variables, and sums."""

import abc
from collections.abc import Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def check_variables(cls_name: str, variables) -> tuple[str, ...] | None:
    """`variables` as a tuple of names (or None), or a `ValueError` naming the fix."""
    if variables is None:
        return None
    if isinstance(variables, str):
        variables = (variables,)
    try:
        variables = tuple(variables)
    except TypeError:
        variables = (variables,)
    if not variables or not all(isinstance(v, str) for v in variables):
        raise ValueError(
            f"`{cls_name}(variables=...)` must be a state-variable name, a non-empty "
            "tuple of names, or None for the model's coupled variables (The Virtual "
            f"Brain's `stvar` default); got {variables!r}."
        )
    if len(set(variables)) != len(variables):
        raise ValueError(
            f"`{cls_name}(variables=...)` names a variable twice: {variables!r}. "
            "List each stimulated variable once."
        )
    return variables


class AbstractStimulus(eqx.Module):
    r"""Base class of stimuli: inputs added to some state variables of a network.

    A stimulus $S(t)$ is a known function of time with one value per node (region or
    vertex) for each variable it stimulates. A simulation adds it to the
    derivatives of those variables,

    $$\frac{ds_v}{dt} = f_v(t, \mathbf{s}, \ldots) + S_v(t),$$

    evaluated at every solver stage time $t$. Stimuli are pytrees (their weights,
    samples and equation parameters are array leaves), so they can be swept with
    `vmap` and differentiated. Stimuli add: `stim_a + stim_b` is a
    `neuromass.stimuli.SumStimulus`, and `sum([...])` works too.

    **Methods to implement:**

    - `n_nodes`: the number of nodes the stimulus has a value for (a property).
    - `by_variable(t, default_variables)`: the stimulus at time `t` (ms) as a dict
      `{variable: (N,) array}`; variables left unnamed by the stimulus
      (`variables=None`) resolve to `default_variables` (a simulation passes the
      network's coupled variables).
    - `check(model, n_nodes, default_variables=None)`: raise a `ValueError` naming
      the fix if the stimulus does not fit a network of `n_nodes` nodes of `model`.
    - `covers(t0, t1)` and `check_covers(t0, t1)`: whether the stimulus is defined
      on the interval $[t_0, t_1]$ (ms), and a `ValueError` if it is not.
    """

    @property
    @abc.abstractmethod
    def n_nodes(self) -> int:
        """The number of nodes (regions or vertices) the stimulus has values for."""

    @abc.abstractmethod
    def by_variable(
        self, t: Float[ArrayLike, ""], default_variables: Sequence[str]
    ) -> dict[str, Float[Array, " nodes"]]:
        """The stimulus at time `t` (ms): `{variable: (N,) array}` to add to the
        derivative of each stimulated variable."""

    @abc.abstractmethod
    def check(
        self, model, n_nodes: int, default_variables: Sequence[str] | None = None
    ) -> None:
        """Raise a `ValueError` if the stimulus does not fit a network of `n_nodes`
        nodes of `model` (unknown variables, wrong number of nodes)."""

    @abc.abstractmethod
    def covers(self, t0: float, t1: float) -> bool:
        """Whether the stimulus is defined over the whole interval `[t0, t1]` (ms)."""

    @abc.abstractmethod
    def check_covers(self, t0: float, t1: float) -> None:
        """Raise a `ValueError` naming the fix if the stimulus does not cover
        `[t0, t1]` (ms)."""

    #: Fields whose values may be infinite (e.g. the distance to an unreachable
    #: vertex); `checked` refuses only NaN there.
    may_be_infinite: ClassVar[tuple[str, ...]] = ()

    @property
    def tabulated(self) -> bool:
        """Whether the stimulus is a table of samples, which a simulation reads
        for a stretch of steps at once (cheaper to differentiate; see
        `neuromass.AbstractInput.tabulate`). Default False."""
        return False

    def checked(self, t0, t1) -> "AbstractStimulus":
        """This stimulus with run-time checks (`eqx.error_if`) of its traced values,
        for values set inside `jit`/`vmap`/`grad` where the constructor's checks
        cannot see them: every weight, sample and parameter finite, each equation's
        own rules (`neuromass.equations.AbstractEquation.checked`), and the
        coverage of `[t0, t1]` (ms; not checked when None). The errors name the
        field."""
        from ..equations import AbstractEquation

        def is_equation(x):
            return isinstance(x, AbstractEquation)

        out = jax.tree.map(
            lambda x: x.checked() if is_equation(x) else x,
            self,
            is_leaf=is_equation,
        )
        cls = type(self).__name__

        def finite(path, x):
            if not eqx.is_inexact_array(x):
                return x
            name = jax.tree_util.keystr(path)[1:]
            if name in self.may_be_infinite:
                bad, what = jnp.isnan(x), "NaN"
            else:
                bad, what = ~jnp.isfinite(x), "NaN or infinite"
            return eqx.error_if(
                x,
                jnp.any(bad),
                f"A value of the {cls} (`{name}`) is {what} (a traced value, e.g. "
                "set with `eqx.tree_at` or swept); give it finite values.",
            )

        out = jax.tree_util.tree_map_with_path(finite, out, is_leaf=is_equation)
        covered = True if t0 is None else out.covers(t0, t1)
        if isinstance(covered, bool):
            return out
        leaves, treedef = jax.tree.flatten(out)
        first = next(i for i, x in enumerate(leaves) if eqx.is_array(x))
        leaves[first] = eqx.error_if(
            leaves[first],
            ~covered,
            f"The {cls} does not cover the simulated interval (its traced times "
            "were set, e.g. with `eqx.tree_at`, or swept); give samples over the "
            "whole interval from the start to `t1`.",
        )
        return jax.tree.unflatten(treedef, leaves)

    def __add__(self, other):
        if not isinstance(other, AbstractStimulus):
            return NotImplemented
        return SumStimulus((self, other))

    def __radd__(self, other):
        if isinstance(other, int | float) and other == 0:  # sum([...]) starts at 0
            return self
        return NotImplemented


class AbstractPatternStimulus(AbstractStimulus):
    r"""A stimulus given by one pattern `values(t)` applied to a set of variables.

    `values(t)` has shape `(N,)` (the same values for every stimulated variable) or,
    when `per_variable` is true, `(N, V)` (one column per entry of `variables`); for
    an array of times of shape `S` it has shape `S + (N,)` or `S + (N, V)`.

    **Fields and methods to define:** `variables` (a tuple of state-variable names,
    or None for the network's coupled variables), `values(t)`, `n_nodes`,
    `per_variable`, and the coverage methods of
    `neuromass.stimuli.AbstractStimulus`.
    """

    variables: eqx.AbstractVar[tuple[str, ...] | None]
    _nodes_argument: eqx.AbstractClassVar[str]  # the argument that fixes N

    @abc.abstractmethod
    def values(self, t: Float[ArrayLike, "..."]) -> Float[Array, "... nodes"]:
        """The stimulus pattern at time(s) `t` (ms)."""

    @property
    @abc.abstractmethod
    def per_variable(self) -> bool:
        """Whether `values(t)` has one column per stimulated variable."""

    def variables_for(self, default_variables: Sequence[str]) -> tuple[str, ...]:
        """The stimulated variables: `variables`, or `default_variables` if None."""
        if self.variables is not None:
            return self.variables
        return tuple(default_variables)

    def by_variable(self, t, default_variables):
        names = self.variables_for(default_variables)
        values = self.values(t)
        if not self.per_variable:
            return {name: values for name in names}
        if values.shape[-1] != len(names):
            raise ValueError(self._columns_message(values.shape[-1], names))
        return {name: values[..., j] for j, name in enumerate(names)}

    def check(self, model, n_nodes, default_variables=None):
        cls = type(self).__name__
        if default_variables is None:
            default_variables = model.coupled_vars
        names = self.variables_for(default_variables)
        unknown = [v for v in names if v not in model.state_names]
        if unknown:
            origin = (
                f"`{cls}(variables=...)` names"
                if self.variables is not None
                else f"`{cls}` stimulates by default the coupled variables"
            )
            raise ValueError(
                f"{origin} {', '.join(map(repr, unknown))}, which "
                f"{type(model).__name__} does not have; its state variables are "
                f"{', '.join(model.state_names)}. Pass `variables=` with some of them."
            )
        if self.n_nodes != n_nodes:
            raise ValueError(
                f"`{cls}({self._nodes_argument}=...)` has values for {self.n_nodes} "
                f"nodes, but the network has {n_nodes}; give one value per node "
                "(region, or vertex of a surface), in the connectome's order."
            )
        if self.per_variable:
            columns = jax.eval_shape(self.values, 0.0).shape[-1]
            if columns != len(names):
                raise ValueError(self._columns_message(columns, names))

    def _columns_message(self, columns, names):
        return (
            f"`{type(self).__name__}({self._nodes_argument}=...)` has {columns} "
            f"columns (one per variable), but it stimulates {len(names)} variables "
            f"{names}; give `variables=` with {columns} names, in column order."
        )


class SumStimulus(AbstractStimulus):
    r"""The sum of several stimuli, made by `stim_a + stim_b` (or `sum([...])`).

    Each stimulus acts on its own variables: `by_variable(t, ...)` adds, variable by
    variable, the contributions of every term, so a sum may stimulate `x` in some
    regions with a pulse train and `y` in others with a sine. `values(t)`, the
    summed pattern, exists when all terms stimulate the same variables.

    **Arguments:**

    - `stimuli`: the stimuli to add (nested sums are flattened), all with values for
      the same number of nodes.

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        pulses = nm.stimuli.RegionStimulus(jnp.array([1.0, 0.0, 0.0]),
                                           nm.equations.PulseTrain(onset=20.0))
        tacs = nm.stimuli.RegionStimulus(jnp.array([0.0, 0.5, 0.5]),
                                         nm.equations.Sinusoid(frequency=0.01))
        both = pulses + tacs
        print(both.values(25.0))  # [1.  0.5 0.5]: a pulse and a sine peak
        ```
    """

    stimuli: tuple[AbstractStimulus, ...]

    def __init__(self, stimuli: Sequence[AbstractStimulus]):
        flat = []
        for stim in stimuli:
            if not isinstance(stim, AbstractStimulus):
                raise TypeError(
                    "`SumStimulus(stimuli=...)` adds stimuli (`nm.stimuli.*`); got "
                    f"{type(stim).__name__}."
                )
            flat.extend(stim.stimuli if isinstance(stim, SumStimulus) else [stim])
        if not flat:
            raise ValueError("`SumStimulus(stimuli=...)` needs at least one stimulus.")
        sizes = sorted({s.n_nodes for s in flat})
        if len(sizes) > 1:
            raise ValueError(
                "`SumStimulus(stimuli=...)`: the stimuli have values for different "
                f"numbers of nodes ({sizes}); each must give one value per node of "
                "the same network."
            )
        self.stimuli = tuple(flat)

    @property
    def n_nodes(self) -> int:
        return self.stimuli[0].n_nodes

    def values(self, t: Float[ArrayLike, "..."]) -> Float[Array, "... nodes"]:
        """The summed pattern at time(s) `t` (ms), when every term is a pattern
        stimulus on the same `variables`."""
        if not all(isinstance(s, AbstractPatternStimulus) for s in self.stimuli):
            raise ValueError(
                "`SumStimulus.values(t)` needs every term to have `values(t)`; use "
                "`by_variable(t, default_variables)`."
            )
        variables = {s.variables for s in self.stimuli}
        if len(variables) > 1:
            raise ValueError(
                "The terms of this sum stimulate different variables "
                f"({sorted(map(str, variables))}), so their patterns do not add; use "
                "`by_variable(t, default_variables)`, which adds each term to its own "
                "variables."
            )
        terms = [s.values(t) for s in self.stimuli]
        if any(s.per_variable for s in self.stimuli):
            terms = [
                v if s.per_variable else v[..., None]
                for s, v in zip(self.stimuli, terms)
            ]
        return sum(terms[1:], terms[0])

    def by_variable(self, t, default_variables):
        out = {}
        for stim in self.stimuli:
            for name, value in stim.by_variable(t, default_variables).items():
                out[name] = out[name] + value if name in out else value
        return out

    def check(self, model, n_nodes, default_variables=None):
        for stim in self.stimuli:
            stim.check(model, n_nodes, default_variables)

    def covers(self, t0, t1):
        covered = [stim.covers(t0, t1) for stim in self.stimuli]
        if all(isinstance(c, bool) for c in covered):
            return all(covered)
        return jnp.all(jnp.stack([jnp.asarray(c) for c in covered]))

    @property
    def tabulated(self) -> bool:
        return any(stim.tabulated for stim in self.stimuli)

    def check_covers(self, t0, t1):
        for stim in self.stimuli:
            stim.check_covers(t0, t1)
