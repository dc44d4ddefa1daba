"""The node-model contract: `AbstractNode`."""

import abc
import dataclasses
import functools
import inspect
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._arguments import check_arguments
from .._custom_types import CouplingInput, Key, State
from .._expression import parse_expression


@functools.cache
def _init_parameters(cls: type) -> tuple[tuple[str, ...], bool, dict]:
    """(names `__init__` takes, whether it takes `**kwargs`, converter per field
    for the fields `__init__` sets directly)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = tuple(
        p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    converters = {}
    if set(names) == set(fields):  # the generated `__init__`: values go to fields
        for name, f in fields.items():
            if f.metadata.get("converter") is not None:
                converters[name] = f.metadata["converter"]
    return names, var_kw, converters


def _check_arguments(cls: type, args: tuple, kwargs: dict) -> None:
    names, var_kw, converters = _init_parameters(cls)
    check_arguments(cls, args, kwargs, names, converters, var_kw=var_kw)


def _check_positive(node) -> None:
    """A `ValueError` naming the parameter when a concrete value of a parameter
    declared `param(..., positive=True)` is not > 0."""
    from ._params import positive_parameters

    for name in positive_parameters(node):
        value = getattr(node, name)
        if isinstance(value, jax.core.Tracer):
            continue
        bad = ~(np.asarray(value) > 0)
        if np.any(bad):
            shown = np.asarray(value)[bad].ravel()[0]
            raise ValueError(
                f"`{type(node).__name__}({name}=...)` must be > 0 (a time constant "
                f"or rate, declared `param(..., positive=True)`); got {shown}. Give a "
                "positive value."
            )


def observable_of(node) -> str:
    """The observable expression of a node model (or class): its `observable`, or
    its first state variable."""
    return node.observable or node.state_names[0]


class AbstractNode(eqx.Module):
    r"""Base class of every region (node) model.

    A node model is an immutable `eqx.Module` whose fields are its parameters (each a
    scalar or a per-region `(N,)` array) and whose class-level metadata names its
    state variables. It defines the vector field of one region's local dynamics, given
    the afferent coupling computed by the network:

    $$\frac{d\mathbf{s}_i}{dt} = f(t, \mathbf{s}_i, c_i; \theta_i)$$

    **Class attributes to define in a subclass:**

    - `state_names`: the state variables, e.g. `("x", "y")`.
    - `coupled_vars`: the variables that are, by default, sent through the connectome.
    - `default_state`: `{name: float}`, the default (homogeneous) initial state.
    - `state_ranges`: `{name: (low, high)}`, the typical range of each variable, used
      for random initial states.
    - `input_names`: the keys an external `inputs(t)` dict may provide.
    - `state_bounds` (optional): `{name: (low, high)}` hard bounds of a variable (either
      side may be None), e.g. a gating variable in [0, 1]. As in The Virtual Brain,
      the state is clipped to them at every solver stage (the vector field sees the
      clipped state) and after every step.
    - `observable` (optional): what an EEG/MEG/sEEG sensor sees of a region, an
      arithmetic expression of the state variables such as `"y1 - y2"` (The
      Virtual Brain's default `variables_of_interest`); default: the first state
      variable. `neuromass.monitors.Projection` (and `EEG`, `MEG`, `iEEG`) project it
      unless given another `variable`; `observe(state)` evaluates it.

    **Method to implement:** `vector_field(t, state, coupling, inputs=None)`, with
    `state` a dict of `(N,)` arrays, `coupling` a dict mapping each coupled variable to
    its afferent input `(N,)`, and `inputs` an optional dict of external inputs.

    **Local coupling (cortical surfaces).** A node that takes the instantaneous local
    coupling of a surface (`neuromass.SurfaceNetwork`) sets the class attribute
    `local_coupling = True` and accepts a keyword `local` in `vector_field`: an
    operator `local(x) = s L x` (the local connectivity `L` scaled by the coupling
    strength `s`) that it applies where The Virtual Brain's model applies its
    `local_coupling` (e.g. `lc_0 = local(V)`); `local` is None in region networks.

    !!! example "Writing your own node"

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        class Leaky(nm.models.AbstractNode):
            tau: float = 10.0  # ms
            state_names = ("v",)
            coupled_vars = ("v",)
            default_state = {"v": 0.0}
            state_ranges = {"v": (-1.0, 1.0)}
            input_names = ("v",)

            def vector_field(self, t, state, coupling, inputs=None):
                dv = -state["v"] / self.tau + coupling.get("v", 0.0)
                if inputs is not None and "v" in inputs:
                    dv = dv + inputs["v"]
                return {"v": dv}

        dstate = Leaky().vector_field(0.0, {"v": jnp.ones(3)}, {"v": jnp.zeros(3)})
        ```
    """

    state_names: ClassVar[tuple[str, ...]]
    coupled_vars: ClassVar[tuple[str, ...]]
    default_state: ClassVar[dict[str, float]]
    state_ranges: ClassVar[dict[str, tuple[float, float]]]
    input_names: ClassVar[tuple[str, ...]] = ()
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {}
    observable: ClassVar[str | None] = None
    local_coupling: ClassVar[bool] = False

    def __new__(cls, *args, **kwargs):
        # Name the parameter and the fix for a wrong keyword or value (otherwise a
        # bare TypeError from the generated `__init__` or a ValueError from a
        # converter that knows no parameter name).
        if args or kwargs:
            _check_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def __check_init__(self):
        # Parameters declared `param(..., positive=True)` (time constants, rates):
        # a concrete value out of the domain is refused here and in `replace`;
        # traced values are checked at run time (`System.checked`).
        _check_positive(self)

    @abc.abstractmethod
    def vector_field(
        self,
        t: Float[Array, ""],
        state: State,
        coupling: CouplingInput,
        inputs: dict[str, Float[Array, " nodes"]] | None = None,
    ) -> State:
        """Time derivative of every state variable, a dict of `(N,)` arrays."""

    def initial_state(self, n_regions: int = 1, key: Key | None = None) -> State:
        """An initial state for `n_regions` regions.

        **Arguments:**

        - `n_regions`: number of regions N.
        - `key`: if given, each variable is drawn uniformly from its `state_ranges`
          (independently per region); otherwise `default_state` is used everywhere.

        **Returns:** a dict `{name: array of shape (N,)}`.
        """
        if int(n_regions) < 1:
            raise ValueError(f"`n_regions` must be >= 1; got {n_regions}.")
        dtype = jnp.result_type(float)
        if key is None:
            return {
                name: jnp.full((n_regions,), self.default_state[name], dtype)
                for name in self.state_names
            }
        keys = jax.random.split(key, len(self.state_names))
        out = {}
        for k, name in zip(keys, self.state_names):
            lo, hi = self.state_ranges[name]
            out[name] = jax.random.uniform(
                k, (n_regions,), dtype=dtype, minval=lo, maxval=hi
            )
        return out

    def observe(self, state: State) -> Float[Array, " nodes"]:
        """The model's observable (`observable`, default the first state variable)
        evaluated on a state dict, e.g. $y_1 - y_2$ for `JansenRit`: what EEG, MEG
        and sEEG monitors project by default."""
        return parse_expression(observable_of(self))[0](state)

    def apply_bounds(self, state: State) -> State:
        """Clip the variables that have `state_bounds` (others pass through)."""
        if not self.state_bounds:
            return state
        out = dict(state)
        for name, (lo, hi) in self.state_bounds.items():
            out[name] = jnp.clip(state[name], lo, hi)
        return out

    def __pdoc__(self, **kwargs):
        # `repr` shows the values of scalar parameters (`Hopf(a=0.2, omega=0.3)`),
        # not Equinox's `f32[]`.
        from .._summary import pdoc_with_values

        return pdoc_with_values(self, **kwargs)

    def replace(self, **changes) -> "AbstractNode":
        """A copy with some parameters changed, e.g. `node.replace(a=0.1)`."""
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - valid
        if unknown:
            raise ValueError(
                f"Unknown parameter(s) {sorted(unknown)} for {type(self).__name__}; "
                f"valid parameters are {sorted(valid)}."
            )
        names = list(changes)
        out = eqx.tree_at(
            lambda m: [getattr(m, n) for n in names],
            self,
            [changes[n] for n in names],
            is_leaf=lambda x: x is None,
        )
        _check_positive(out)
        return out

    def parameters(self) -> dict[str, object]:
        """The parameters of this node as a `{name: value}` dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
