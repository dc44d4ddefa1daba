"""`Network`: a node model coupled through a connectome, with conduction delays."""

import abc
import copy
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._custom_types import State
from ._delay._plan import check_no_delays, check_weights
from ._delay._structure import (
    DelayStructure,
    EdgeMask,
    allowed_edges,
    concrete,
    concrete_delays,
    edge_pattern,
)
from ._inputs._base import Stage
from ._inputs._coupling import LongRangeCoupling
from ._inputs._external import CallableInput
from ._inputs._system import System
from .coupling import AbstractCoupling, get_coupling
from .coupling._base import AbstractLinearCoupling
from .models import AbstractNode
from .noise import AbstractNoise


def _concrete(x) -> np.ndarray | None:
    """`x` as a numpy array, or None when it is traced (inside jit/vmap/grad)."""
    return concrete(x)


def _as_matrix(name: str, x, n: int | None) -> Float[Array, "nodes nodes"]:
    if x is None:
        raise TypeError(
            f"`{name}` must be an (N, N) array of numbers [to, from]; got None."
        )
    if not isinstance(x, jax.Array) or not jnp.issubdtype(x.dtype, jnp.floating):
        try:
            a = np.asarray(x)
        except Exception as e:  # ragged lists and the like
            raise TypeError(
                f"`{name}` must be an (N, N) array of numbers [to, from]; got "
                f"{type(x).__name__} ({e})."
            ) from None
        if a.dtype.kind not in "biuf":
            raise TypeError(
                f"`{name}` must be an (N, N) array of numbers [to, from]; got an "
                f"array of dtype {a.dtype} ({type(x).__name__})."
            )
        x = jnp.asarray(a, dtype=jnp.result_type(float))
    if x.ndim == 1 and n is None and round(math.isqrt(x.shape[0])) ** 2 == x.shape[0]:
        m = math.isqrt(x.shape[0])  # a flattened (N * N,) matrix, row-major
        x = x.reshape(m, m)
    elif x.ndim == 1 and n is not None and x.shape[0] == n * n:
        x = x.reshape(n, n)
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(
            f"`{name}` must be a square (N, N) matrix [to, from] (or its (N * N,) "
            f"flattening, row-major); got shape {x.shape}."
        )
    if x.shape[0] == 0:
        raise ValueError(
            f"`{name}` has no regions (shape {x.shape}); a network needs at least one."
        )
    if n is not None and x.shape[0] != n:
        raise ValueError(
            f"`{name}` has shape {x.shape} but `weights` has {n} regions; both must "
            f"be ({n}, {n})."
        )
    c = _concrete(x)
    if c is not None:
        if not np.all(np.isfinite(c)):
            raise ValueError(
                f"`{name}` contains NaN or inf values; all must be finite."
            )
        if name != "weights" and np.any(c < 0):
            raise ValueError(
                f"`{name}` contains negative values (min {c.min():g}); "
                f"{name} must be >= 0."
            )
    return x


class AbstractNetwork(eqx.Module):
    """Base class of networks: node models coupled through a connectome of regions
    (`weights[to, from]`, conduction delays), with optional noise and external
    inputs. `neuromass.Network` puts one node on every region;
    `neuromass.SurfaceNetwork` one on every vertex of a cortical surface, the
    long-range coupling staying at region level.

    A network is pure data: it defines the simulated system (`system`), which
    `neuromass.simulate` integrates.
    """

    node: eqx.AbstractVar[AbstractNode]
    weights: eqx.AbstractVar[Float[Array, "regions regions"]]
    lengths: eqx.AbstractVar[Float[Array, "regions regions"] | None]
    speed: eqx.AbstractVar[Float[Array, ""] | None]
    explicit_delays: eqx.AbstractVar[Float[Array, "regions regions"] | None]
    coupling: eqx.AbstractVar[AbstractCoupling]
    k: eqx.AbstractVar[Float[Array, "..."]]
    noise: eqx.AbstractVar[AbstractNoise | None]
    inputs: eqx.AbstractVar[Callable | None]
    coupled_vars: eqx.AbstractVar[tuple[str, ...]]
    self_connection: eqx.AbstractVar[bool]
    max_delay: eqx.AbstractVar[float]
    min_delay: eqx.AbstractVar[float]
    edge_mask: eqx.AbstractVar[EdgeMask]

    @property
    @abc.abstractmethod
    def n_nodes(self) -> int:
        """The number of nodes (the length of every state variable)."""

    def _replaced(self, args: dict, changes: dict) -> dict:
        """The constructor arguments of `replace`: `args` (this network's, the
        delays aside) with its delays (explicit, or lengths and speed) and
        `changes` merged; new delays replace the old ones of either kind, and the
        bounds `max_delay`, `min_delay`, `edge_mask` are kept only where given."""
        if self.explicit_delays is not None:
            args["delays"] = self.explicit_delays
        elif self.lengths is not None:
            args["lengths"], args["speed"] = self.lengths, self.speed
        if "delays" in changes:
            args.pop("lengths", None), args.pop("speed", None)
        if "lengths" in changes or "speed" in changes:
            args.pop("delays", None)
        unknown = set(changes) - set(args)
        unknown -= {"delays", "lengths", "speed", "max_delay", "min_delay", "edge_mask"}
        if unknown:
            raise ValueError(
                f"Unknown {type(self).__name__} argument(s) {sorted(unknown)}."
            )
        args.update(changes)
        return args

    @abc.abstractmethod
    def system(self, structure: DelayStructure | None = None, inputs=(), nodes=None):
        """The simulated system: the node with its inputs (see
        `neuromass.AbstractInput`); `structure`: the static structure of the delay
        history; `nodes`: the static `NodeMap` of a surface network."""

    @abc.abstractmethod
    def check(self) -> None:
        """Validate the current values, as the constructor does."""

    @property
    def n_regions(self) -> int:
        """Number of regions N (of the connectome)."""
        return self.weights.shape[0]

    @property
    def delays(self) -> Float[Array, "nodes nodes"] | None:
        """Conduction delays in ms: explicit `delays`, or `lengths / speed`, or None."""
        if self.explicit_delays is not None:
            return self.explicit_delays
        if self.lengths is not None:
            return self.lengths / self.speed
        return None

    @property
    def has_delays(self) -> bool:
        """Whether any edge has a non-zero conduction delay (from the values when
        they are concrete, else from the `max_delay` bound)."""
        d = self.delays
        if d is None:
            return False
        pattern, _ = edge_pattern(self)
        dc = concrete_delays(self)
        if dc is None:
            return self.max_delay > 0
        return bool(np.any(pattern.gather(dc)[pattern.valid] > 0))

    @property
    def n_edges(self) -> int:
        """Number of edges simulated (non-zero weights, or the `edge_mask` bound when
        the weights are traced)."""
        return edge_pattern(self)[0].n_edges

    @property
    def coupling_is_linear(self) -> bool:
        """Whether the coupling is linear in the delayed value."""
        return isinstance(self.coupling, AbstractLinearCoupling)

    def canonical(self, structure: DelayStructure) -> "Network":
        """This network with the bounds that `structure` does not use (the delay
        bounds when the delays are concrete, the edge mask when the weights are)
        set to fixed values, so that networks that differ only there share one
        compiled program."""
        changes = {}
        if structure.bounds is None and (self.max_delay, self.min_delay) != (0.0, 0.0):
            changes.update(max_delay=0.0, min_delay=0.0)
        if not structure.check_edges and self.edge_mask != _NO_MASK:
            changes["edge_mask"] = _NO_MASK
        if not changes:
            return self
        new = copy.copy(self)
        for name, value in changes.items():
            object.__setattr__(new, name, value)
        return new

    def edge_weights(self) -> Float[Array, "edges nodes"]:
        """Weights of the afferent edges in the padded layout `(K, N)` of this
        network's edge pattern: entry `[e, i]` is the weight of the e-th afferent
        edge of region i (padding: 0)."""
        return self.system().coupling.edge_weights()

    def edge_delays(self) -> Float[Array, "edges nodes"] | None:
        """Delays (ms) of the afferent edges in the padded layout `(K, N)`, or None."""
        return self.system().coupling.edge_delays()

    def vector_field(self, t, state: State, args=None) -> State:
        """The drift with instantaneous coupling (delays ignored), with Diffrax's
        `ODETerm` signature `(t, y, args)` (`args` unused)."""
        return self.system().drift(t, state, Stage.free(t))


class Network(AbstractNetwork):
    r"""A network of identical node models coupled through a connectome.

    For region $i$ with state $\mathbf{s}_i$ and coupled variables $x_i$:

    $$\frac{d\mathbf{s}_i}{dt} = f\Big(t, \mathbf{s}_i,\;
      k\,\mathrm{post}\big(\textstyle\sum_j w_{ij}\,
      \mathrm{pre}(x_j(t - \tau_{ij}), x_i(t))\big),\; u_i(t)\Big)
      \;[+\; g(t, \mathbf{s}_i)\,\xi_i(t)]$$

    where `weights[i, j]` $= w_{ij}$ is the connection *to* region $i$ *from* region
    $j$ (TVB's `[to, from]` convention) and $\tau_{ij}$ the conduction delay (ms).

    A `Network` is pure data: it defines the vector field; `neuromass.simulate`
    integrates it. Change a parameter with `eqx.tree_at(lambda n: n.k, net, 0.8)` or
    `net.replace(k=0.8)`.

    **Arguments:**

    - `node`: the node model (`neuromass.models.AbstractNode`); its parameters may
      be scalars or `(N,)` arrays.
    - `weights`: `(N, N)` structural connectivity `[to, from]`, finite (negative
      entries allowed: inhibitory connections), or its `(N * N,)` row-major
      flattening (as brainmass accepts); `lengths` and `delays` likewise.
    - `delays`: `(N, N)` conduction delays in ms (>= 0). Or give both
    - `lengths`: `(N, N)` tract lengths in mm (>= 0) and
    - `speed`: conduction speed in mm/ms (= m/s), > 0; then $\tau = L / v$.
      With neither `delays` nor `lengths`, coupling is instantaneous.
    - `coupling`: an `neuromass.coupling.AbstractCoupling` or a string shorthand
      (`"linear"` (default), `"diffusive"`, ...).
    - `k`: global coupling strength (scalar, or `(N,)` per target region).
    - `coupled_vars`: the state variables sent through the connectome (default: the
      node's `coupled_vars`).
    - `self_connection`: if False (default) the diagonal of `weights` is set to zero.
    - `noise`: optional `neuromass.noise.AbstractNoise` (simulations then need a
      `key`).
    - `inputs`: optional callable `inputs(t) -> {name: (N,) array}` of external
      inputs; valid names are the node's `input_names`.
    - `max_delay`, `min_delay`, `edge_mask`: bounds on the values, used only when
      `simulate` sees them **traced** (inside `jit`, `vmap` or `grad` of a function
      that takes the network or its delays/weights as an argument). With concrete
      values `simulate` derives the loop's structure (edge pattern, history length,
      shortest lag) exactly from the values, each call, so a network changed with
      `eqx.tree_at` runs as a freshly built one. With traced values it cannot, and
      uses these bounds instead, checking at run time that the values stay within
      them (an error names the bound to widen):
        - `max_delay`: an upper bound (ms) on every delay; it sizes the history.
        - `min_delay`: a lower bound (ms) on every delay; 0 allows zero delays
          (instantaneous coupling). Nearest reads are computed in blocks of steps
          no longer than it.
        - `edge_mask`: `(N, N)` booleans `[to, from]`, the edges whose weight may be
          non-zero.
      Each defaults to the values the network is built with (longest delay,
      shortest delay, non-zero weights). Declare wider bounds to trace wider
      values, e.g. `max_delay` for the slowest `speed` of a sweep (`nm.sweep(...,
      model=net)` widens them itself from its axis values). Gradients with respect
      to `weights` under tracing cover the edges of `edge_mask`: to differentiate
      with respect to absent edges, pass `edge_mask=np.ones((N, N), bool)`.
    - `labels`: optional region labels, one per region (e.g. a connectome's
      `labels`; `Network.from_connectome` passes them). Monitors that project
      through a lead field check them against the lead field's parcellation.

    `net.summary()` prints the model, parameters and values as a table.

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(a=0.2, omega=0.3), conn.weights,
                         lengths=conn.lengths, speed=10.0,
                         coupling=nm.coupling.Diffusive(), k=0.5)
        sol = nm.simulate(net, t1=100.0, dt=0.1, save_every=1.0)
        net = nm.Network.from_connectome(nm.models.Hopf(), conn, speed=10.0, k=0.5)
        net.labels[:3]   # ('L01', 'L02', 'L03')
        ```
    """

    node: AbstractNode
    weights: Float[Array, "nodes nodes"]
    lengths: Float[Array, "nodes nodes"] | None
    speed: Float[Array, ""] | None
    explicit_delays: Float[Array, "nodes nodes"] | None
    coupling: AbstractCoupling
    k: Float[Array, "..."]
    noise: AbstractNoise | None
    inputs: Callable | None
    coupled_vars: tuple[str, ...] = eqx.field(static=True)
    self_connection: bool = eqx.field(static=True)
    max_delay: float = eqx.field(static=True)
    min_delay: float = eqx.field(static=True)
    edge_mask: EdgeMask = eqx.field(static=True)
    labels: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        node: AbstractNode,
        weights: Float[ArrayLike, "nodes nodes"],
        *,
        delays: Float[ArrayLike, "nodes nodes"] | None = None,
        lengths: Float[ArrayLike, "nodes nodes"] | None = None,
        speed: float | None = None,
        coupling: AbstractCoupling | str = "linear",
        k: float | Float[ArrayLike, " nodes"] = 1.0,
        coupled_vars: tuple[str, ...] | None = None,
        self_connection: bool = False,
        noise: AbstractNoise | None = None,
        inputs: Callable | None = None,
        max_delay: float | None = None,
        min_delay: float | None = None,
        edge_mask: ArrayLike | None = None,
        labels: tuple[str, ...] | None = None,
    ):
        if not isinstance(node, AbstractNode):
            raise TypeError(
                "`node` must be a node model (an `nm.models.AbstractNode`), e.g. "
                f"`nm.models.Hopf()`; got {type(node).__name__}."
            )
        fields = long_range_fields(
            node,
            weights,
            delays=delays,
            lengths=lengths,
            speed=speed,
            coupling=coupling,
            k=k,
            coupled_vars=coupled_vars,
            self_connection=self_connection,
            noise=noise,
            inputs=inputs,
            max_delay=max_delay,
            min_delay=min_delay,
            edge_mask=edge_mask,
        )
        _check_node_params(node, fields["weights"].shape[0])
        self.node = node
        for name, value in fields.items():
            setattr(self, name, value)
        self.labels = _region_labels(labels, fields["weights"].shape[0])

    @property
    def n_nodes(self) -> int:
        """Number of nodes: one per region."""
        return self.weights.shape[0]

    def replace(self, **changes) -> "Network":
        """A new network with some constructor arguments changed (re-validated), e.g.
        `net.replace(k=0.3, weights=W2)`. The bounds `max_delay`, `min_delay` and
        `edge_mask` are kept only where given again (otherwise they are those of the
        new values)."""
        args = dict(
            node=self.node,
            weights=self.weights,
            coupling=self.coupling,
            k=self.k,
            coupled_vars=self.coupled_vars,
            self_connection=self.self_connection,
            noise=self.noise,
            inputs=self.inputs,
            labels=self.labels,
        )
        args = self._replaced(args, changes)
        node, weights = args.pop("node"), args.pop("weights")
        return Network(node, weights, **args)

    def check(self) -> None:
        """Validate the current values, as the constructor does (`simulate` calls
        this, so values set with `eqx.tree_at` get the same clear errors as those
        given to the constructor). Value checks apply to concrete values; shapes are
        always checked."""
        n = self.n_regions
        _as_matrix("weights", self.weights, None)
        if self.lengths is not None:
            _as_matrix("lengths", self.lengths, n)
            _check_speed(self.speed)
        if self.explicit_delays is not None:
            _as_matrix("delays", self.explicit_delays, n)
        _check_k(self.k, n)
        _check_node_params(self.node, n)

    # ------------------------------------ labels, construction from a Connectome
    @classmethod
    def from_connectome(
        cls,
        node: AbstractNode,
        connectome,
        *,
        speed: float | None = None,
        **kwargs,
    ) -> "Network":
        """A network on a `neuromass.datasets.Connectome`: its `weights`, its tract
        `lengths` with `speed` (mm/ms) when `speed` is given (otherwise the coupling
        is instantaneous), and its region `labels`.

        **Arguments:**

        - `node`: the node model.
        - `connectome`: a `neuromass.datasets.Connectome`, e.g.
          `nm.datasets.load_connectome("tvb76")`.
        - `speed`: conduction speed in mm/ms (= m/s); delays are `lengths / speed`.
        - `**kwargs`: any other argument of `Network` (`coupling`, `k`, `noise`...).

        !!! example

            ```python
            import neuromass as nm

            conn = nm.datasets.load_connectome()
            net = nm.Network.from_connectome(
                nm.models.Hopf(a=0.1), conn.normalised("max"), speed=10.0, k=0.3
            )
            net.labels[:2], net.has_delays   # ('L01', 'L02'), True
            ```
        """
        for name in ("weights", "lengths", "delays", "labels"):
            if name in kwargs:
                raise TypeError(
                    f"`Network.from_connectome` takes `{name}` from the connectome; "
                    f"build `Network(node, weights, ...)` to give `{name}` yourself."
                )
        from .datasets import Connectome

        if not isinstance(connectome, Connectome):
            raise TypeError(
                "`connectome` must be a `nm.datasets.Connectome` (e.g. "
                "`nm.datasets.load_connectome()`); got "
                f"{type(connectome).__name__}."
            )
        if speed is not None:
            kwargs.update(lengths=connectome.lengths, speed=speed)
        return cls(node, connectome.weights, labels=connectome.labels, **kwargs)

    def summary(self) -> str:
        """A readable table of the network: the node model and its parameters with
        their values (a per-region parameter as its range), the coupling, `k`,
        delays, noise and labels, as TVB's `summary_info`. `print(net.summary())`.
        """
        from ._summary import network_summary

        return network_summary(self)

    def __pdoc__(self, **kwargs):
        # `repr` shows the values of scalar parameters (`k=0.5`), not `f32[]`.
        from ._summary import pdoc_with_values

        return pdoc_with_values(self, **kwargs)

    # ------------------------------------------------------- the simulated system
    def system(self, structure: DelayStructure | None = None, inputs=(), nodes=None):
        """The simulated system of this network (see `neuromass.AbstractInput`):
        the node with its inputs, the long-range coupling through the edges of
        `structure` (default: derived from the values, without delays), the
        external `inputs` callable, then `inputs`."""
        if structure is None:
            structure = DelayStructure(edge_pattern(self)[0], False, 0, 0)
        coupling = LongRangeCoupling(
            coupling=self.coupling,
            k=self.k,
            weights=self.weights,
            delays=self.delays,
            coupled_vars=self.coupled_vars,
            pattern=structure.pattern,
        )
        coupling = check_weights(coupling, structure, self.self_connection)
        if not structure.has_delays:
            coupling = check_no_delays(coupling, structure)
        own = [coupling]
        if self.inputs is not None:
            own.append(CallableInput(self.inputs, self.node.input_names))
        return System(self.node, tuple(own) + tuple(inputs))


def long_range_fields(
    node,
    weights,
    *,
    delays,
    lengths,
    speed,
    coupling,
    k,
    coupled_vars,
    self_connection,
    noise,
    inputs,
    max_delay,
    min_delay,
    edge_mask,
) -> dict:
    """The validated fields of a network's long-range part (everything but the
    node), as the constructors of `Network` and `SurfaceNetwork` store them."""
    weights = _as_matrix("weights", weights, None)
    n = weights.shape[0]
    if not self_connection:
        weights = weights * (1.0 - jnp.eye(n, dtype=weights.dtype))
    if delays is not None and (lengths is not None or speed is not None):
        raise ValueError(
            "Give either `delays` (ms) or `lengths` (mm) with `speed` (mm/ms), "
            "not both."
        )
    if (lengths is None) != (speed is None):
        raise ValueError(
            "`lengths` (mm) and `speed` (mm/ms) must be given together; got only "
            + ("`lengths`." if lengths is not None else "`speed`.")
        )
    if lengths is not None:
        lengths = _as_matrix("lengths", lengths, n)
        speed = jnp.asarray(speed, dtype=weights.dtype)
        _check_speed(speed)
    if delays is not None:
        delays = _as_matrix("delays", delays, n)

    if coupled_vars is None:
        coupled_vars = node.coupled_vars
    if isinstance(coupled_vars, str):
        coupled_vars = (coupled_vars,)
    coupled_vars = tuple(coupled_vars)
    unknown = [v for v in coupled_vars if v not in node.state_names]
    if not coupled_vars or unknown:
        raise ValueError(
            f"`coupled_vars` names unknown variable(s) {unknown or coupled_vars} for "
            f"{type(node).__name__}; its state variables are {node.state_names}: "
            "pass some of them (or None for the node's default coupled variables)."
        )
    k = jnp.asarray(k, dtype=weights.dtype)
    _check_k(k, n)
    if noise is not None:
        if not isinstance(noise, AbstractNoise):
            raise TypeError(
                "`noise` must be an `nm.noise.AbstractNoise`, e.g. "
                f"`nm.noise.Additive(0.01)`; got {type(noise).__name__}."
            )
        _check_noise_vars(noise, node)
    if inputs is not None and not callable(inputs):
        raise TypeError("`inputs` must be a callable `inputs(t) -> dict`.")

    self_connection = bool(self_connection)
    explicit = delays
    concrete_d = None
    if explicit is not None:
        concrete_d = concrete(explicit)
    elif lengths is not None:
        cl, cs = concrete(lengths), concrete(speed)
        concrete_d = None if cl is None or cs is None else cl / cs
    max_delay, min_delay = _delay_bounds(
        explicit is not None or lengths is not None,
        concrete_d,
        weights,
        max_delay,
        min_delay,
    )
    return dict(
        weights=weights,
        lengths=lengths,
        speed=speed,
        explicit_delays=explicit,
        coupling=get_coupling(coupling),
        k=k,
        noise=noise,
        inputs=inputs,
        coupled_vars=coupled_vars,
        self_connection=self_connection,
        max_delay=max_delay,
        min_delay=min_delay,
        edge_mask=_edge_mask(weights, edge_mask, self_connection),
    )


def _region_labels(labels, n: int) -> tuple[str, ...] | None:
    if labels is None:
        return None
    if isinstance(labels, str):
        raise ValueError(
            f"`labels` must be a sequence of {n} region names; got the single string "
            f"{labels!r}."
        )
    labels = tuple(str(x) for x in labels)
    if len(labels) != n:
        raise ValueError(
            f"`labels` names {len(labels)} regions but `weights` has {n}; give one "
            "label per region."
        )
    return labels


def _check_speed(speed):
    if np.ndim(speed) != 0:
        raise ValueError(
            f"`speed` must be a scalar (mm/ms); got shape {np.shape(speed)}."
        )
    c = _concrete(speed)
    if c is not None and not (np.isfinite(c) and c > 0):
        raise ValueError(
            f"`speed` must be a finite positive conduction speed in mm/ms (= m/s); "
            f"got {float(c)}."
        )


def _check_k(k, n: int):
    if np.shape(k) not in ((), (1,), (n,)):
        raise ValueError(
            f"`k` must be a scalar or an ({n},) array of per-region coupling "
            f"strengths; got shape {np.shape(k)}."
        )
    c = _concrete(k)
    if c is not None and not np.all(np.isfinite(c)):
        raise ValueError("`k` contains NaN or inf.")


def _check_node_params(node: AbstractNode, n: int, nodes: int | None = None):
    """Parameters numbers or arrays that broadcast to `n` regions (or, on a
    surface, one per node: `nodes`), finite where concrete."""
    for name, value in node.parameters().items():
        if isinstance(value, str) or (
            not eqx.is_array(value)
            and not isinstance(value, int | float | bool | np.number | np.bool_)
            and value is not None
            and not callable(value)
            and not isinstance(value, eqx.Module)
        ):
            raise TypeError(
                f"Parameter `{name}` of {type(node).__name__} must be a number or an "
                f"array of numbers (one per region); got {value!r}."
            )
        if not eqx.is_array(value):
            continue
        allowed = ((), (1,), (n,)) + (() if nodes is None else ((nodes,),))
        if value.shape not in allowed:
            per_node = "" if nodes is None else f" or one per node ({nodes},)"
            raise ValueError(
                f"Parameter `{name}` of {type(node).__name__} has shape {value.shape}, "
                f"which does not broadcast to {n} regions: use a scalar, an ({n},) "
                f"array{per_node}."
            )
        c = _concrete(value)
        if c is not None and not np.all(np.isfinite(c)):
            raise ValueError(
                f"Parameter `{name}` of {type(node).__name__} contains NaN or inf."
            )


def _check_noise_vars(noise: AbstractNoise, node: AbstractNode):
    variables = getattr(noise, "variables", None)
    if variables is None:
        return
    unknown = [v for v in variables if v not in node.state_names]
    if unknown:
        raise ValueError(
            f"Noise on unknown variable(s) {unknown}; {type(node).__name__} has "
            f"state variables {node.state_names}."
        )


def _delay_bounds(has, d, weights, max_delay, min_delay) -> tuple[float, float]:
    """The `(max_delay, min_delay)` bounds (ms): as declared, else the longest and
    shortest delay of the edges with a non-zero weight (0 without delays)."""
    for name, v in (("max_delay", max_delay), ("min_delay", min_delay)):
        if v is not None and not (
            isinstance(v, int | float | np.floating | np.integer)
            and math.isfinite(v)
            and v >= 0
        ):
            raise ValueError(
                f"`{name}` must be a finite number of ms >= 0 (a bound on the "
                f"delays); got {v!r}."
            )
    if not has:
        return float(max_delay or 0.0), float(min_delay or 0.0)
    w = _concrete(weights)
    if d is None:
        if max_delay is None:
            raise ValueError(
                "The delays are traced (the network is built inside jit/vmap/grad), "
                "so the history size cannot be inferred: pass `max_delay=` (ms), an "
                "upper bound on every delay."
            )
        return float(max_delay), float(min_delay or 0.0)
    edges = d[w != 0] if w is not None else d.ravel()
    dmax = float(edges.max()) if edges.size else 0.0
    positive = edges[edges > 0]
    dmin = (
        0.0
        if edges.size and np.any(edges == 0)
        else (float(positive.min()) if positive.size else 0.0)
    )
    if max_delay is not None:
        if float(max_delay) < dmax * (1 - 1e-6):
            raise ValueError(
                f"`max_delay`={max_delay} ms is shorter than the longest delay "
                f"{dmax:g} ms; it must bound every delay."
            )
        dmax = float(max_delay)
    if min_delay is not None:
        if float(min_delay) > dmin * (1 + 1e-5):
            raise ValueError(
                f"`min_delay`={min_delay} ms is longer than the shortest delay "
                f"{dmin:g} ms; it must be at most every delay."
            )
        dmin = float(min_delay)
    return dmax, dmin


def _edge_mask(weights, edge_mask, self_connection: bool) -> EdgeMask:
    """The `edge_mask` bound: as declared (validated), else the non-zero weights (all
    edges when the weights are traced)."""
    n = weights.shape[0]
    allowed = allowed_edges(n, self_connection)
    w = _concrete(weights)
    if edge_mask is None:
        return EdgeMask((w != 0) & allowed if w is not None else allowed)
    m = np.asarray(edge_mask)
    if m.shape != (n, n):
        raise ValueError(
            f"`edge_mask` must be an ({n}, {n}) boolean array [to, from]; got shape "
            f"{m.shape}."
        )
    m = m.astype(bool)
    if w is not None and np.any((w != 0) & allowed & ~m):
        i, j = np.argwhere((w != 0) & allowed & ~m)[0]
        raise ValueError(
            f"`weights[{i}, {j}]` is non-zero but `edge_mask[{i}, {j}]` is False; the "
            "mask must include every non-zero weight."
        )
    return EdgeMask(m & allowed)


# The edge mask of a network whose weights are concrete (unused: the edges are
# those of the values): one value, so that it does not split the compile cache.
_NO_MASK = EdgeMask(np.zeros((0, 0), bool))
