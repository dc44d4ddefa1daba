"""`SurfaceNetwork`: a neural mass on every vertex of a cortical surface."""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._delay._plan import check_no_delays, check_weights
from ._delay._structure import DelayStructure, EdgeMask, concrete, edge_pattern
from ._inputs._coupling import LongRangeCoupling, NodeMap
from ._inputs._external import CallableInput
from ._inputs._local import LocalCoupling, LocalOperator
from ._inputs._system import System
from ._network import AbstractNetwork, long_range_fields
from .coupling import AbstractCoupling
from .datasets._cortex import Cortex
from .models import AbstractNode
from .noise import AbstractNoise


class SurfaceNetwork(AbstractNetwork):
    r"""A neural mass on every vertex of a cortical surface, coupled locally through
    the surface and at long range through the connectome of its regions (The
    Virtual Brain's surface simulation).

    The nodes are the vertices of the `cortex` in file order, then one node per
    region that no vertex maps to (e.g. subcortical regions), in ascending region
    index, as in TVB. For node $v$ of region $r(v)$,

    $$\frac{d\mathbf{s}_v}{dt} = f\Big(t, \mathbf{s}_v,\;
      c_{r(v)}(t),\; \ell_v\Big),\qquad
      c_r = k_r\,\mathrm{post}\Big(\sum_j w_{rj}\,\mathrm{pre}\big(\bar x_j(t -
      \tau_{rj}), \bar x_r(t)\big)\Big),\qquad
      \ell_v = s_v \sum_u L_{vu}\, x_u(t),$$

    where $\bar x_r$ is the mean over region $r$'s nodes (the delay history keeps
    region means only), $L$ the surface's sparse local connectivity (row = target)
    and $s$ its strength. The long-range input $c_r$ is computed at region level and
    copied to every node of the region; the node model applies the local operator
    $\ell$ where TVB's model applies its `local_coupling` (see
    `AbstractNode.local_coupling`: e.g. Generic2dOscillator adds $\ell$ to the
    drive of $V$, not multiplied by $\gamma$). The Virtual Brain's parity mode is
    `simulate(..., interpolation="nearest", coupling_evaluation="step")`: TVB holds
    the long-range coupling over a Heun step and evaluates the local coupling at
    both stages.

    **Arguments:**

    - `node`: the node model; parameters are scalars, one value per region `(N,)`
      (copied to the region's nodes, as TVB does), or one value per node.
    - `cortex`: a `neuromass.datasets.Cortex` whose `region_mapping` indexes
      the connectome's regions; its `local_connectivity` (or None) is $L$.
    - `weights`, `delays` or `lengths` and `speed`, `coupling`, `k`,
      `coupled_vars`, `self_connection`, `max_delay`, `min_delay`, `edge_mask`:
      the long-range coupling between the `N` regions, as for
      `neuromass.Network`.
    - `local_strength`: the local coupling strength $s$ (TVB's
      `Cortex.coupling_strength`): a scalar or one value per vertex (default 1).
    - `noise`, `inputs`: as for `Network`, per node.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        # a tetrahedron of 4 vertices in 2 regions, neighbours coupled locally
        v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10.0]])
        t = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        L = (np.ones((4, 4)) - np.eye(4)) / 3
        lc = nm.datasets.LocalConnectivity.from_matrix(L)
        cortex = nm.datasets.Cortex(v, t, region_mapping=[0, 0, 1, 1],
                                    local_connectivity=lc)
        w = [[0.0, 1.0], [1.0, 0.0]]
        net = nm.SurfaceNetwork(nm.models.Generic2dOscillator(), cortex, w,
                                lengths=[[0, 20.0], [20.0, 0]], speed=4.0, k=0.1)
        sol = nm.simulate(net, t1=20.0, dt=0.1)
        sol["V"].shape   # (201, 4): one column per vertex
        ```
    """

    node: AbstractNode
    cortex: Cortex
    local_strength: Float[Array, "..."]
    weights: Float[Array, "regions regions"]
    lengths: Float[Array, "regions regions"] | None
    speed: Float[Array, ""] | None
    explicit_delays: Float[Array, "regions regions"] | None
    coupling: AbstractCoupling
    k: Float[Array, "..."]
    noise: AbstractNoise | None
    inputs: Callable | None
    coupled_vars: tuple[str, ...] = eqx.field(static=True)
    self_connection: bool = eqx.field(static=True)
    max_delay: float = eqx.field(static=True)
    min_delay: float = eqx.field(static=True)
    edge_mask: EdgeMask = eqx.field(static=True)

    def __init__(
        self,
        node: AbstractNode,
        cortex: Cortex,
        weights: Float[ArrayLike, "regions regions"],
        *,
        delays: Float[ArrayLike, "regions regions"] | None = None,
        lengths: Float[ArrayLike, "regions regions"] | None = None,
        speed: float | None = None,
        coupling: AbstractCoupling | str = "linear",
        k: float | Float[ArrayLike, " regions"] = 1.0,
        coupled_vars: tuple[str, ...] | None = None,
        self_connection: bool = False,
        local_strength: float | Float[ArrayLike, " vertices"] = 1.0,
        noise: AbstractNoise | None = None,
        inputs: Callable | None = None,
        max_delay: float | None = None,
        min_delay: float | None = None,
        edge_mask: ArrayLike | None = None,
    ):
        if not isinstance(node, AbstractNode):
            raise TypeError(
                "`node` must be a node model (an `nm.models.AbstractNode`), e.g. "
                f"`nm.models.Generic2dOscillator()`; got {type(node).__name__}."
            )
        if not isinstance(cortex, Cortex):
            raise TypeError(
                "`cortex` must be an `nm.datasets.Cortex`, e.g. "
                f"`nm.datasets.load_cortex()`; got {type(cortex).__name__}."
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
        self.node = node
        self.cortex = cortex
        self.local_strength = jnp.asarray(local_strength, fields["weights"].dtype)
        for name, value in fields.items():
            setattr(self, name, value)
        self.check()

    @property
    def n_vertices(self) -> int:
        """The number of vertices V of the cortex."""
        return self.cortex.n_vertices

    @property
    def n_nodes(self) -> int:
        """The number of nodes: the vertices, then one per unmapped region."""
        return self.node_map().n_nodes

    def node_map(self) -> NodeMap:
        """The region of every node (the vertices' `region_mapping`, then the
        unmapped regions), from the cortex's current mapping."""
        rmap = concrete(self.cortex.region_mapping)
        if rmap is None:
            raise ValueError(
                "The cortex's `region_mapping` is traced (inside jit/vmap/grad): "
                "the nodes of a surface network must be known when `simulate` is "
                "called. Build the network outside the traced function and change "
                "its other fields with `eqx.tree_at` inside it."
            )
        n = self.n_regions
        rmap = np.asarray(rmap).astype(np.int64)
        if rmap.ndim != 1 or rmap.size == 0:
            raise ValueError(
                f"`cortex.region_mapping` must be a (V,) array of region indices; got "
                f"shape {rmap.shape}."
            )
        if rmap.min() < 0 or rmap.max() >= n:
            raise ValueError(
                f"`cortex.region_mapping` has labels outside [0, {n}) (min "
                f"{int(rmap.min())}, max {int(rmap.max())}) for a connectome of {n} "
                "regions: use the connectome the mapping was made for, or remap the "
                "labels."
            )
        unmapped = np.flatnonzero(np.bincount(rmap, minlength=n) == 0)
        return NodeMap(np.concatenate([rmap, unmapped]), n)

    def check(self) -> None:
        """Validate the current values, as the constructor does (`simulate` calls
        this, so values set with `eqx.tree_at` get the same clear errors)."""
        from ._network import _as_matrix, _check_k, _check_node_params, _check_speed

        n = self.n_regions
        _as_matrix("weights", self.weights, None)
        if self.lengths is not None:
            _as_matrix("lengths", self.lengths, n)
            _check_speed(self.speed)
        if self.explicit_delays is not None:
            _as_matrix("delays", self.explicit_delays, n)
        _check_k(self.k, n)
        nodes = self.node_map()
        _check_node_params(self.node, n, nodes.n_nodes)
        s = np.shape(self.local_strength)
        if s not in ((), (1,), (self.n_vertices,)):
            raise ValueError(
                f"`local_strength` has shape {s}; give a scalar or one value per "
                f"vertex ({self.n_vertices},)."
            )
        c = concrete(self.local_strength)
        if c is not None and not np.all(np.isfinite(c)):
            raise ValueError("`local_strength` contains NaN or inf.")
        lc = self.cortex.local_connectivity
        if lc is not None:
            if lc.shape != (self.n_vertices, self.n_vertices):
                raise ValueError(
                    f"The cortex's local connectivity has shape {lc.shape}, but the "
                    f"cortex has {self.n_vertices} vertices: build it for this "
                    "surface (`LocalConnectivity.from_kernel(cortex, ...)`)."
                )
            if not self.node.local_coupling and not _is_zero(self.local_strength):
                raise ValueError(
                    f"{type(self.node).__name__} takes no local coupling (The Virtual "
                    "Brain's model ignores it too), but the cortex has a local "
                    "connectivity: use `cortex.with_local_connectivity(None)` or "
                    "`local_strength=0.0` to simulate without it, or a model that "
                    "takes it (e.g. Generic2dOscillator)."
                )

    def replace(self, **changes) -> "SurfaceNetwork":
        """A new surface network with some constructor arguments changed
        (re-validated), e.g. `net.replace(k=0.3, local_strength=0.5)`. The bounds
        `max_delay`, `min_delay` and `edge_mask` are kept only where given again."""
        args = dict(
            node=self.node,
            cortex=self.cortex,
            weights=self.weights,
            coupling=self.coupling,
            k=self.k,
            coupled_vars=self.coupled_vars,
            self_connection=self.self_connection,
            local_strength=self.local_strength,
            noise=self.noise,
            inputs=self.inputs,
        )
        args = self._replaced(args, changes)
        node, cortex, weights = (
            args.pop("node"),
            args.pop("cortex"),
            args.pop("weights"),
        )
        return SurfaceNetwork(node, cortex, weights, **args)

    def system(self, structure: DelayStructure | None = None, inputs=(), nodes=None):
        """The simulated system: the node on every vertex (region parameters copied
        to their nodes), the long-range coupling at region level (`nodes`: the
        static `NodeMap`, default from the cortex), the local coupling, the
        external `inputs` callable, then `inputs`."""
        nodes = self.node_map() if nodes is None else nodes
        if structure is None:
            structure = DelayStructure(edge_pattern(self)[0], False, 0, 0)
        coupling = LongRangeCoupling(
            coupling=self.coupling,
            k=self.k,
            weights=self.weights,
            delays=self.delays,
            coupled_vars=self.coupled_vars,
            pattern=structure.pattern,
            nodes=nodes,
        )
        coupling = check_weights(coupling, structure, self.self_connection)
        if not structure.has_delays:
            coupling = check_no_delays(coupling, structure)
        own = [coupling]
        lc = self.cortex.local_connectivity
        if lc is not None and self.node.local_coupling:
            op = LocalOperator.of(lc, self.local_strength, nodes.n_nodes)
            own.append(LocalCoupling(op))
        if self.inputs is not None:
            own.append(CallableInput(self.inputs, self.node.input_names))
        node = _to_nodes(self.node, nodes)
        return System(node, tuple(own) + tuple(inputs))


def _to_nodes(node: AbstractNode, nodes: NodeMap) -> AbstractNode:
    """`node` with its per-region parameters `(N,)` copied to their nodes."""
    names = [
        name
        for name, value in node.parameters().items()
        if eqx.is_array(value)
        and value.shape == (nodes.n_regions,)
        and nodes.n_regions != nodes.n_nodes
    ]
    if not names:
        return node
    return eqx.tree_at(
        lambda m: [getattr(m, n) for n in names],
        node,
        [getattr(node, n)[nodes.regions] for n in names],
    )


def _is_zero(x) -> bool:
    c = concrete(x)
    return c is not None and bool(np.all(c == 0))
