"""Graph-Laplacian (diffusive) coupling, optionally normalised by in-strength."""

import equinox as eqx
import jax.numpy as jnp

from ..models._params import param
from ._base import AbstractCoupling


class Laplacian(AbstractCoupling):
    r"""Graph-Laplacian coupling: diffusion of the coupled variables along the
    connectome, optionally normalised by each region's in-strength.

    With the in-strength $s_i = \sum_j w_{ij}$ and the graph Laplacian
    $L = D - W$, $D = \mathrm{diag}(s)$ (rows are targets, TVB's `[to, from]`):

    $$c_i = -\frac{a}{s_i}\,(L x)_i
        = \frac{a}{s_i}\sum_j w_{ij}\,\big(x_j(t - \tau_{ij}) - x_i(t)\big)
        \qquad (\texttt{normalize=True}, \text{default})$$

    i.e. $-a$ times the random-walk Laplacian $L_{rw} = I - D^{-1} W$: each region
    relaxes towards the weighted *mean* of its (delayed) afferents, at a rate $a$
    that does not depend on how many or how strong its connections are. Regions
    without afferents ($s_i = 0$) receive 0. With `normalize=False` it is the plain
    Laplacian, $c_i = -a (L x)_i = a \sum_j w_{ij} (x_j - x_i)$, identical to
    `neuromass.coupling.Diffusive` (the diffusive form weights the relaxation by
    the in-strength).

    Both forms vanish when all regions are equal (synchronous solutions are
    unaffected by the coupling, without delays), and are negative semi-definite
    for symmetric weights. The delays (if any) apply to the source values $x_j$,
    the local value $x_i$ is the current one, as in the diffusive coupling.

    How it is computed: the pre/post form only gives `post` the weighted sum, so
    `pre` appends a constant channel of ones to the differences; its weighted sum is
    $s_i$, which `post` divides out (and drops). This works with any weights,
    including traced ones (differentiating through the normalisation).

    **Arguments:**

    - `a`: rate (dimensionless scale, default 1.0).
    - `normalize`: divide by the in-strength (default True).

    String shorthand: `"laplacian"` (normalised).

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Laplacian(a=0.5)
        ```
    """

    a: jnp.ndarray = param(1.0)
    normalize: bool = eqx.field(default=True, static=True)

    def pre(self, x_j, x_i):
        diff = x_j - x_i
        if not self.normalize:
            return diff
        return jnp.concatenate([diff, jnp.ones_like(diff[..., :1])], axis=-1)

    def post(self, gx):
        if not self.normalize:
            return self.a * gx
        total, strength = gx[..., :-1], gx[..., -1:]
        nonzero = strength != 0
        safe = jnp.where(nonzero, strength, 1.0)
        return jnp.where(nonzero, self.a * total / safe, 0.0)
