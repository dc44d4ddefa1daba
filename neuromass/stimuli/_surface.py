"""`SurfaceStimulus`: a spatial pattern around focal vertices of a cortex, times a
temporal equation (TVB's `StimuliSurface`)."""

from collections.abc import Callable, Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._base import AbstractPatternStimulus, check_variables


class SurfaceStimulus(AbstractPatternStimulus):
    r"""A stimulus on a cortical surface: The Virtual Brain's `StimuliSurface`.

    $$S_v(t) = \Big(\sum_{f \in \text{foci}} g\big(d_{f v}\big)\Big)\, h(t)$$

    with $d_{fv}$ the geodesic distance (mm, along the mesh) from focal vertex $f$
    to vertex $v$ (infinite across hemispheres), $g$ a spatial equation (e.g.
    `neuromass.equations.Gaussian`) and $h$ a temporal equation, added to the
    derivative of each stimulated variable of vertex $v$. The distances are
    computed once, when the stimulus is built (tvb-gdist, TVB's own code); the
    equations' parameters (width, amplitude, onset, ...) are array leaves that can be
    swept and differentiated.

    **Arguments:**

    - `cortex`: the `neuromass.datasets.Cortex`.
    - `focal_vertices`: the focal vertex indices. TVB gives focal *triangles* and
      uses the first vertex of each: `SurfaceStimulus.from_triangles`.
    - `spatial`: the spatial equation $g$ of the distance (mm).
    - `temporal`: the temporal equation $h$ of time (ms).
    - `variables`: the stimulated variables (None: the network's coupled
      variables, TVB's `stvar` default).
    - `n_regions`: the connectome's number of regions, when some of them are not
      mapped by the cortex: their nodes (after the vertices) get zero.

    !!! example

        ```python
        # doc: no-run (needs tvb-data and tvb-gdist)
        import neuromass as nm

        cortex = nm.datasets.load_cortex()
        stim = nm.stimuli.SurfaceStimulus(
            cortex, [5000], nm.equations.Gaussian(sigma=5.0),
            nm.equations.PulseTrain(onset=10.0, T=50.0, tau=5.0),
        )
        ```
    """

    distances: Float[Array, "foci vertices"]
    may_be_infinite: ClassVar[tuple[str, ...]] = ("distances",)
    spatial: Callable
    temporal: Callable
    variables: tuple[str, ...] | None = eqx.field(static=True)
    extra_nodes: int = eqx.field(static=True)
    _nodes_argument: ClassVar[str] = "cortex"

    def __init__(
        self,
        cortex,
        focal_vertices: Int[ArrayLike, " foci"] | int,
        spatial: Callable,
        temporal: Callable,
        variables: str | tuple[str, ...] | None = None,
        n_regions: int | None = None,
    ):
        foci = np.atleast_1d(np.asarray(focal_vertices))
        n = cortex.n_vertices
        if foci.ndim != 1 or foci.size == 0 or foci.dtype.kind not in "iu":
            raise ValueError(
                "`SurfaceStimulus(focal_vertices=...)` must be one or more vertex "
                f"indices (integers); got {focal_vertices!r}."
            )
        if foci.min() < 0 or foci.max() >= n:
            raise ValueError(
                f"`SurfaceStimulus(focal_vertices=...)` must be in [0, {n}) (the "
                f"cortex's vertices); got {foci.tolist()}."
            )
        for name, fn in (("spatial", spatial), ("temporal", temporal)):
            if not callable(fn):
                raise TypeError(
                    f"`SurfaceStimulus({name}=...)` must be an equation of "
                    f"`nm.equations` or a callable; got {type(fn).__name__}."
                )
        self.distances = jnp.asarray(
            np.stack([cortex.geodesic_distance(int(f)) for f in foci]),
            dtype=jnp.result_type(float),
        )
        self.spatial = spatial
        self.temporal = temporal
        self.variables = check_variables("SurfaceStimulus", variables)
        extra = 0
        if n_regions is not None:
            extra = int(cortex.unmapped_regions(n_regions).size)
        self.extra_nodes = extra

    @classmethod
    def from_triangles(
        cls,
        cortex,
        focal_triangles: Sequence[int],
        spatial: Callable,
        temporal: Callable,
        variables=None,
        n_regions: int | None = None,
    ) -> "SurfaceStimulus":
        """TVB's form: foci given as triangles, each focal vertex the first vertex
        of its triangle (`StimuliSurface.focal_points_triangles`)."""
        tris = np.asarray(cortex.triangles)[np.atleast_1d(focal_triangles)]
        return cls(cortex, tris[:, 0], spatial, temporal, variables, n_regions)

    @property
    def n_nodes(self) -> int:
        return self.distances.shape[1] + self.extra_nodes

    @property
    def per_variable(self) -> bool:
        return False

    def spatial_pattern(self) -> Float[Array, " nodes"]:
        """$\\sum_f g(d_{fv})$ per node (zero for the unmapped regions' nodes).
        Infinite distances give $g(\\infty)$ without NaN gradients."""
        d = self.distances
        finite = jnp.isfinite(d)
        safe = jnp.where(finite, d, 0.0)
        g = jnp.where(
            finite, self.spatial(safe), jax.lax.stop_gradient(self.spatial(d))
        )
        pattern = jnp.sum(g, axis=0)
        if self.extra_nodes:
            pattern = jnp.concatenate([pattern, jnp.zeros(self.extra_nodes, g.dtype)])
        return pattern

    def values(self, t: Float[ArrayLike, "..."]) -> Float[Array, "... nodes"]:
        t = jnp.asarray(t)
        f = jnp.asarray(self.temporal(t[..., None]))
        pattern = self.spatial_pattern()
        shape = jnp.broadcast_shapes(f.shape, pattern.shape)
        return jnp.broadcast_to(pattern, shape) * jnp.broadcast_to(f, shape)

    def covers(self, t0: float, t1: float) -> bool:
        return True

    def check_covers(self, t0: float, t1: float) -> None:
        """Nothing to check: an equation is defined at every time."""
