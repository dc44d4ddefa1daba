"""`Network`: a node model coupled through a connectome, with conduction delays."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._custom_types import CouplingInput, State
from .coupling import AbstractCoupling, get_coupling
from .models import AbstractNode
from .noise import AbstractNoise


class _EdgePattern:
    """Static sparsity pattern of the connectome, in padded per-region ("ELL")
    layout, edge-major: `idx[e, i]` is the source region of the e-th afferent edge of
    region i, `valid[e, i]` marks real edges (padding has weight zero)."""

    def __init__(self, idx: np.ndarray, valid: np.ndarray, has_zero_delay: bool):
        self.idx = np.asarray(idx, dtype=np.int32)
        self.valid = np.asarray(valid, dtype=bool)
        self.has_zero_delay = bool(has_zero_delay)

    @property
    def n_edges(self) -> int:
        return int(self.valid.sum())

    def __hash__(self):
        return hash((self.idx.shape, self.idx.tobytes(), self.valid.tobytes()))

    def __eq__(self, other):
        return (
            isinstance(other, _EdgePattern)
            and self.idx.shape == other.idx.shape
            and bool(np.array_equal(self.idx, other.idx))
            and bool(np.array_equal(self.valid, other.valid))
            and self.has_zero_delay == other.has_zero_delay
        )

    def __repr__(self):
        k, n = self.idx.shape
        return f"EdgePattern(regions={n}, max_in_degree={k}, edges={self.n_edges})"


def _concrete(x) -> np.ndarray | None:
    """`x` as a numpy array, or None when it is traced (inside jit/vmap/grad)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _as_matrix(name: str, x, n: int | None) -> Float[Array, "nodes nodes"]:
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(
            f"`{name}` must be a square (N, N) matrix [to, from]; got shape {x.shape}."
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


class Network(eqx.Module):
    r"""A network of identical node models coupled through a connectome.

    For region $i$ with state $\mathbf{s}_i$ and coupled variables $x_i$:

    $$\frac{d\mathbf{s}_i}{dt} = f\Big(t, \mathbf{s}_i,\;
      k\,\mathrm{post}\big(\textstyle\sum_j w_{ij}\,
      \mathrm{pre}(x_j(t - \tau_{ij}), x_i(t))\big),\; u_i(t)\Big)
      \;[+\; g(t, \mathbf{s}_i)\,\xi_i(t)]$$

    where `weights[i, j]` $= w_{ij}$ is the connection *to* region $i$ *from* region
    $j$ (TVB's `[to, from]` convention) and $\tau_{ij}$ the conduction delay (ms).

    A `Network` is pure data: it defines the vector field; [`neuromass.simulate`][]
    integrates it. Change a parameter with `eqx.tree_at(lambda n: n.k, net, 0.8)` or
    `net.replace(k=0.8)`.

    **Arguments:**

    - `node`: the node model ([`neuromass.models.AbstractNode`][]); its parameters may
      be scalars or `(N,)` arrays.
    - `weights`: `(N, N)` structural connectivity `[to, from]`, finite.
    - `delays`: `(N, N)` conduction delays in ms (>= 0). Or give both
    - `lengths`: `(N, N)` tract lengths in mm (>= 0) and
    - `speed`: conduction speed in mm/ms (= m/s), > 0; then $\tau = L / v$.
      With neither `delays` nor `lengths`, coupling is instantaneous.
    - `coupling`: an [`neuromass.coupling.AbstractCoupling`][] or a string shorthand
      (`"linear"` (default), `"diffusive"`, ...).
    - `k`: global coupling strength (scalar, or `(N,)` per target region).
    - `coupled_vars`: the state variables sent through the connectome (default: the
      node's `coupled_vars`).
    - `self_connection`: if False (default) the diagonal of `weights` is set to zero.
    - `noise`: optional [`neuromass.noise.AbstractNoise`][] (simulations then need a
      `key`).
    - `inputs`: optional callable `inputs(t) -> {name: (N,) array}` of external
      inputs; valid names are the node's `input_names`.
    - `max_delay`: size of the delay history to reserve, in ms. Inferred from the
      delays; only needed when the delays are traced (e.g. a network built inside a
      vmapped function sweeping `speed`).
    - `min_delay`: a lower bound (ms) on every non-zero delay. Inferred from the
      delays; give it when the delays will later be set shorter with `eqx.tree_at`
      (e.g. a sweep of `speed` up to faster speeds than this network's): nearest
      reads are planned in blocks of steps no longer than the shortest delay.

    Only non-zero weights are simulated: the sparsity pattern is fixed when the network
    is built. To change the weights, build a new network with `net.replace(weights=W)`
    rather than `eqx.tree_at` (which would keep the old pattern).

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(a=0.2, omega=0.3), conn.weights,
                         lengths=conn.lengths, speed=10.0,
                         coupling=nm.coupling.Diffusive(), k=0.5)
        sol = nm.simulate(net, t1=100.0, dt=0.1, save_every=1.0)
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
    pattern: _EdgePattern = eqx.field(static=True)

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
    ):
        if not isinstance(node, AbstractNode):
            raise TypeError(
                "`node` must be a node model (an `nm.models.AbstractNode`), e.g. "
                f"`nm.models.Hopf()`; got {type(node).__name__}."
            )
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
            if speed.ndim != 0:
                raise ValueError(
                    f"`speed` must be a scalar (mm/ms); got {speed.shape}."
                )
            s = _concrete(speed)
            if s is not None and not (np.isfinite(s) and s > 0):
                raise ValueError(
                    f"`speed` must be a finite positive conduction speed in mm/ms "
                    f"(= m/s); got {float(s)}."
                )
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
                f"Unknown coupled variable(s) {unknown or coupled_vars} for "
                f"{type(node).__name__}; its state variables are {node.state_names}."
            )
        _check_node_params(node, n)
        k = jnp.asarray(k, dtype=weights.dtype)
        if k.shape not in ((), (1,), (n,)):
            raise ValueError(
                f"`k` must be a scalar or an ({n},) array of per-region coupling "
                f"strengths; got shape {k.shape}."
            )
        if noise is not None:
            if not isinstance(noise, AbstractNoise):
                raise TypeError(
                    "`noise` must be an `nm.noise.AbstractNoise`, e.g. "
                    f"`nm.noise.Additive(0.01)`; got {type(noise).__name__}."
                )
            _check_noise_vars(noise, node)
        if inputs is not None and not callable(inputs):
            raise TypeError("`inputs` must be a callable `inputs(t) -> dict`.")

        self.node = node
        self.weights = weights
        self.lengths = lengths
        self.speed = speed
        self.explicit_delays = delays
        self.coupling = get_coupling(coupling)
        self.k = k
        self.noise = noise
        self.inputs = inputs
        self.coupled_vars = coupled_vars
        self.self_connection = bool(self_connection)
        self.pattern, self.max_delay, self.min_delay = _build_pattern(
            weights, self.delays, max_delay, min_delay
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_regions(self) -> int:
        """Number of regions N."""
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
        """Whether any edge has a non-zero conduction delay."""
        return self.max_delay > 0.0

    def replace(self, **changes) -> "Network":
        """A new network with some constructor arguments changed (re-validated), e.g.
        `net.replace(k=0.3, weights=W2)`."""
        args = dict(
            node=self.node,
            weights=self.weights,
            coupling=self.coupling,
            k=self.k,
            coupled_vars=self.coupled_vars,
            self_connection=self.self_connection,
            noise=self.noise,
            inputs=self.inputs,
        )
        if self.explicit_delays is not None:
            args["delays"] = self.explicit_delays
        elif self.lengths is not None:
            args["lengths"], args["speed"] = self.lengths, self.speed
        if "delays" in changes:
            args.pop("lengths", None), args.pop("speed", None)
        if "lengths" in changes or "speed" in changes:
            args.pop("delays", None)
        unknown = set(changes) - set(args)
        unknown -= {"delays", "lengths", "speed", "max_delay", "min_delay"}
        if unknown:
            raise ValueError(f"Unknown Network argument(s) {sorted(unknown)}.")
        args.update(changes)
        node, weights = args.pop("node"), args.pop("weights")
        return Network(node, weights, **args)

    # ---------------------------------------------------------------- vector field
    def edge_weights(self) -> Float[Array, "edges nodes"]:
        """Weights of the afferent edges in the padded layout `(K, N)`: entry
        `[e, i]` is the weight of the e-th afferent edge of region i."""
        rows = np.arange(self.n_regions)[None, :]
        return self.weights[rows, self.pattern.idx] * self.pattern.valid

    def edge_delays(self) -> Float[Array, "edges nodes"] | None:
        """Delays (ms) of the afferent edges in the padded layout `(K, N)`, or None."""
        d = self.delays
        if d is None:
            return None
        rows = np.arange(self.n_regions)[None, :]
        return jnp.where(self.pattern.valid, d[rows, self.pattern.idx], 0.0)

    def afferent(
        self,
        x_j: Float[Array, "edges nodes cvars"],
        x_i: Float[Array, "nodes cvars"],
        w_edges: Float[Array, "edges nodes"],
    ) -> CouplingInput:
        """The coupling input of every region, from the source values on each edge."""
        return self._deliver(self.coupling(x_j, x_i[None], w_edges))

    def afferent_from_sums(
        self,
        sums: Float[Array, "nodes cvars"],
        x_i: Float[Array, "nodes cvars"],
        row_sums: Float[Array, "nodes 1"],
    ) -> CouplingInput:
        """The coupling input for an `AbstractLinearCoupling`, from the weighted sums
        of the delayed source values `sum_j w_ij x_j(t - tau_ij)`."""
        local = self.coupling.local
        c = sums - local * x_i * row_sums if local else sums
        return self._deliver(self.coupling.post(c))

    def _deliver(self, c) -> CouplingInput:
        k = self.k if self.k.ndim == 0 else self.k.reshape(-1, 1)
        c = k * c
        if c.shape[-1] > len(self.coupled_vars):
            raise ValueError(
                f"The coupling returned {c.shape[-1]} outputs for "
                f"{len(self.coupled_vars)} coupled variables."
            )
        return {
            name: c[:, m] for m, name in enumerate(self.coupled_vars[: c.shape[-1]])
        }

    def local_vector_field(self, t, state: State, coupling: CouplingInput) -> State:
        """The node's vector field with this network's external inputs applied (and
        the node's `state_bounds` applied to the state it sees)."""
        state = self.node.apply_bounds(state)
        inputs = None
        if self.inputs is not None:
            inputs = self.inputs(t)
            unknown = set(inputs) - set(self.node.input_names)
            if unknown:
                raise ValueError(
                    f"`inputs(t)` returned unknown key(s) {sorted(unknown)}; "
                    f"{type(self.node).__name__} accepts {self.node.input_names}."
                )
        return self.node.vector_field(t, state, coupling, inputs)

    def vector_field(self, t, state: State, args=None) -> State:
        """The drift with instantaneous coupling (delays ignored): Diffrax's
        `ODETerm` signature `(t, y, args)`."""
        xc = jnp.stack([state[v] for v in self.coupled_vars], axis=-1)
        x_j = xc[self.pattern.idx]
        return self.local_vector_field(
            t, state, self.afferent(x_j, xc, self.edge_weights())
        )


def _check_node_params(node: AbstractNode, n: int):
    for name, value in node.parameters().items():
        if not eqx.is_array(value):
            continue
        if value.shape not in ((), (1,), (n,)):
            raise ValueError(
                f"Parameter `{name}` of {type(node).__name__} has shape {value.shape}, "
                f"which does not broadcast to {n} regions: use a scalar or an ({n},) "
                "array."
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


def _build_pattern(weights, delays, max_delay, min_delay=None):
    n = weights.shape[0]
    w = _concrete(weights)
    if w is None:  # traced weights: every edge may be non-zero
        mask = np.ones((n, n), dtype=bool)
    else:
        mask = w != 0
    degree = mask.sum(axis=1)
    kmax = max(int(degree.max()), 1)
    idx = np.zeros((kmax, n), dtype=np.int32)
    valid = np.zeros((kmax, n), dtype=bool)
    for i in range(n):
        src = np.flatnonzero(mask[i])
        idx[: src.size, i] = src
        idx[src.size :, i] = i
        valid[: src.size, i] = True
    if delays is None:
        return _EdgePattern(idx, valid, False), 0.0, 0.0
    d = _concrete(delays)
    if d is None:
        if max_delay is None:
            raise ValueError(
                "The delays are traced (the network is built inside jit/vmap), so the "
                "history size cannot be inferred: pass `max_delay=` (ms), an upper "
                "bound on every delay."
            )
        return _EdgePattern(idx, valid, True), float(max_delay), 0.0
    d_edges = d[np.arange(n)[None, :], idx][valid]
    dmax = float(d_edges.max()) if d_edges.size else 0.0
    if max_delay is not None:
        if float(max_delay) < dmax:
            raise ValueError(
                f"`max_delay`={max_delay} ms is shorter than the longest delay "
                f"{dmax:g} ms."
            )
        dmax = float(max_delay)
    has_zero = bool(np.any(d_edges == 0))
    positive = d_edges[d_edges > 0]
    dmin = float(positive.min()) if positive.size else 0.0
    if min_delay is not None:
        if not 0 < float(min_delay) <= dmin * (1 + 1e-5):
            raise ValueError(
                f"`min_delay`={min_delay} ms must be positive and at most the "
                f"shortest non-zero delay {dmin:g} ms."
            )
        dmin = min(dmin, float(min_delay))
    return _EdgePattern(idx, valid, has_zero), dmax, dmin
