"""The Epileptor codimension-3 models (Saggio et al. 2017): bursters moving on the
unfolding of the degenerate Takens-Bogdanov singularity."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import AbstractNode
from ._epileptor import _flag
from ._params import leading, param


def _unit(v):
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def _arc(start, stop):
    """The unit vectors (E, F) of the great circle from `start` towards `stop`."""
    e = _unit(start)
    f = _unit(jnp.cross(jnp.cross(start, stop), start))
    return e, f


def _point(mu1, mu2, nu):
    """A point of parameter space as TVB orders it: (mu2, -mu1, nu)."""
    return jnp.stack(jnp.broadcast_arrays(mu2, -mu1, nu), axis=-1)


def _cube_root_branch(mu1, mu2, n_branch: int):
    """TVB's `x_s`: branch `n_branch` (1, 2 or 3) of the roots of
    $x^3 - \\mu_2 x - \\mu_1 = 0$ by Cardano's formula (principal complex roots)."""
    ctype = jnp.result_type(mu1.dtype, jnp.complex64)
    disc = (mu1**2 / 4.0 - mu2**3 / 27.0).astype(ctype)
    sq = jnp.sqrt(disc)
    half = (mu1 / 2.0).astype(ctype)
    p = (half + sq) ** (1.0 / 3.0)
    m = (half - sq) ** (1.0 / 3.0)
    s3 = 1j * 3**0.5
    if n_branch == 1:
        xs = p + m
    elif n_branch == 2:
        xs = -0.5 * (1.0 - s3) * p - 0.5 * (1.0 + s3) * m
    else:
        xs = -0.5 * (1.0 + s3) * p - 0.5 * (1.0 - s3) * m
    return jnp.real(xs)


def _burster(node, x, y, z, e, f, coupling):
    """The fast subsystem and the slow z of both codim-3 models, on the arc (e, f)."""
    cz, sz = jnp.cos(z), jnp.sin(z)
    mu2 = node.R * (e[..., 0] * cz + f[..., 0] * sz)
    mu1 = -node.R * (e[..., 1] * cz + f[..., 1] * sz)
    nu = node.R * (e[..., 2] * cz + f[..., 2] * sz)
    xs = _cube_root_branch(mu1, mu2, node.N)
    dx = -y
    dy = x**3 - mu2 * x - mu1 - y * (nu + node.b * x + x**2)
    mod = jnp.where(node.modification, 0.1 * (z - 0.5) ** 7, 0.0)
    dz = -node.c * (
        jnp.sqrt((x - xs) ** 2 + y**2) - node.dstar + mod + node.Ks * coupling
    )
    return dx, dy, dz


def _check_n(n):
    if n not in (1, 2, 3):
        raise ValueError(f"`N` must be 1, 2 or 3 (the branch of x_s); got {n}.")


class EpileptorCodim3(AbstractNode):
    r"""Epileptor codimension-3 burster (Saggio et al. 2017), as in The Virtual
    Brain (`EpileptorCodim3`): a fast planar system on the unfolding of the
    degenerate Takens-Bogdanov singularity, whose parameters $(\mu_2, -\mu_1, \nu)$
    travel on a great circle of radius $R$ driven by the slow variable $z$.

    With the unit vectors $E$ (towards the start point) and $F$ (in the plane of the
    start and stop points) of the arc, and afferent coupling $C_i$ (on `x`):

    $$
    \begin{aligned}
    (\mu_2, -\mu_1, \nu) &= R\,(E\cos z + F\sin z) \\
    \dot x &= -y \\
    \dot y &= x^3 - \mu_2 x - \mu_1 - y(\nu + b x + x^2) \\
    \dot z &= -c\Big(\sqrt{(x - x_s)^2 + y^2} - d^* + 0.1 (z - 0.5)^7 + K_s C_i\Big)
    \end{aligned}
    $$

    $x_s$ is branch `N` of the roots of $x^3 - \mu_2 x - \mu_1$ (Cardano); the
    $(z - 0.5)^7$ term, which keeps $z$ bounded, is dropped with
    `modification=False`. The default arc is the SN/SH (saddle-node onset,
    saddle-homoclinic offset) class.

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `mu1_start`, `mu2_start`, `nu_start` | -0.02285, 0.3448, 0.2014 | arc start |
    | `mu1_stop`, `mu2_stop`, `nu_stop` | -0.07465, 0.3351, 0.2053 | arc end |
    | `b` | 1.0 | focus/node separation |
    | `R` | 0.4 | radius of the sphere in parameter space |
    | `c` | 0.001 | slow time scale |
    | `dstar` | 0.3 | threshold of the slow variable |
    | `Ks` | 0.0 | coupling strength on $z$ |
    | `N` | 1 | branch of $x_s$ (1, 2 or 3; a static integer) |
    | `modification` | True | add the $(z - 0.5)^7$ term |

    **State variables:** `x`, `y`, `z` (ranges [0.4, 0.6], [-0.1, 0.1],
    [0, 0.15]). Coupled by default: `("x",)`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.EpileptorCodim3(), t1=500.0, dt=0.05)
        ```

    ??? cite "Reference"

        Saggio, M. L., Spiegler, A., Bernard, C. & Jirsa, V. K. (2017). Fast-slow
        bursters in the unfolding of a high codimension singularity and the
        ultra-slow transitions of classes. *J. Math. Neurosci.* 7, 7.
    """

    mu1_start: jnp.ndarray = param(-0.02285)
    mu2_start: jnp.ndarray = param(0.3448)
    nu_start: jnp.ndarray = param(0.2014)
    mu1_stop: jnp.ndarray = param(-0.07465)
    mu2_stop: jnp.ndarray = param(0.3351)
    nu_stop: jnp.ndarray = param(0.2053)
    b: jnp.ndarray = param(1.0)
    R: jnp.ndarray = param(0.4)
    c: jnp.ndarray = param(0.001)
    dstar: jnp.ndarray = param(0.3)
    Ks: jnp.ndarray = param(0.0)
    N: int = eqx.field(default=1, static=True, converter=int)
    modification: jnp.ndarray = _flag(True)

    state_names: ClassVar[tuple[str, ...]] = ("x", "y", "z")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x",)
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {"x": 0.5, "y": 0.0, "z": 0.05}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x": (0.4, 0.6),
        "y": (-0.1, 0.1),
        "z": (0.0, 0.15),
    }

    def __check_init__(self):
        _check_n(self.N)

    def vector_field(self, t, state, coupling, inputs=None):
        e, f = _arc(
            _point(self.mu1_start, self.mu2_start, self.nu_start),
            _point(self.mu1_stop, self.mu2_stop, self.nu_stop),
        )
        dx, dy, dz = _burster(
            self, state["x"], state["y"], state["z"], e, f, coupling.get("x", 0.0)
        )
        return {"x": dx, "y": dy, "z": dz}


class EpileptorCodim3SlowMod(AbstractNode):
    r"""Epileptor codimension-3 burster with slow modulation of its path (Saggio et
    al. 2017), as in The Virtual Brain (`EpileptorCodim3SlowMod`): the arc on which
    `neuromass.models.EpileptorCodim3` bursts itself drifts, its two ends moving
    on great circles driven by two ultra-slow variables $u_A$, $u_B$.

    $$
    \begin{aligned}
    A &= R\,(G\cos u_A + H\sin u_A), \qquad B = R\,(L\cos u_B + M\sin u_B) \\
    E &= A / \lVert A\rVert, \qquad F \propto (A \times B) \times A \\
    \dot u_A &= c_A, \qquad \dot u_B = c_B
    \end{aligned}
    $$

    with $(G, H)$ the arc from `*_Ain` towards `*_Aend` and $(L, M)$ the arc from
    `*_Bin` towards `*_Bend`; $x$, $y$, $z$ then follow the equations of
    `neuromass.models.EpileptorCodim3` on the arc $(E, F)$.

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `mu1_Ain`, `mu2_Ain`, `nu_Ain` | 0.05494, 0.2731, 0.287 | start A, initial |
    | `mu1_Aend`, `mu2_Aend`, `nu_Aend` | 0.06485, 0.07337, -0.3878 | start A, final |
    | `mu1_Bin`, `mu2_Bin`, `nu_Bin` | -0.0461, 0.243, 0.3144 | end B, initial |
    | `mu1_Bend`, `mu2_Bend`, `nu_Bend` | 0.03676, -0.02792, -0.3973 | end B, final |
    | `b`, `R`, `c` | 1.0, 0.4, 0.002 | as in `EpileptorCodim3` |
    | `cA`, `cB` | 0.0001, 0.00012 | ultra-slow rates of $u_A$, $u_B$ |
    | `dstar`, `Ks` | 0.3, 0.0 | as in `EpileptorCodim3` |
    | `N`, `modification` | 1, True | as in `EpileptorCodim3` |

    **State variables:** `x`, `y`, `z`, `uA`, `uB` (ranges [0.4, 0.6], [-0.1, 0.1],
    [0, 0.1], [0, 0], [0, 0]). Coupled by default: `("x",)`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.EpileptorCodim3SlowMod(), t1=500.0, dt=0.05)
        ```

    ??? cite "Reference"

        Saggio, M. L., Spiegler, A., Bernard, C. & Jirsa, V. K. (2017). Fast-slow
        bursters in the unfolding of a high codimension singularity and the
        ultra-slow transitions of classes. *J. Math. Neurosci.* 7, 7.
    """

    mu1_Ain: jnp.ndarray = param(0.05494)
    mu2_Ain: jnp.ndarray = param(0.2731)
    nu_Ain: jnp.ndarray = param(0.287)
    mu1_Bin: jnp.ndarray = param(-0.0461)
    mu2_Bin: jnp.ndarray = param(0.243)
    nu_Bin: jnp.ndarray = param(0.3144)
    mu1_Aend: jnp.ndarray = param(0.06485)
    mu2_Aend: jnp.ndarray = param(0.07337)
    nu_Aend: jnp.ndarray = param(-0.3878)
    mu1_Bend: jnp.ndarray = param(0.03676)
    mu2_Bend: jnp.ndarray = param(-0.02792)
    nu_Bend: jnp.ndarray = param(-0.3973)
    b: jnp.ndarray = param(1.0)
    R: jnp.ndarray = param(0.4)
    c: jnp.ndarray = param(0.002)
    cA: jnp.ndarray = param(0.0001)
    cB: jnp.ndarray = param(0.00012)
    dstar: jnp.ndarray = param(0.3)
    Ks: jnp.ndarray = param(0.0)
    N: int = eqx.field(default=1, static=True, converter=int)
    modification: jnp.ndarray = _flag(True)

    state_names: ClassVar[tuple[str, ...]] = ("x", "y", "z", "uA", "uB")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x",)
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {
        "x": 0.5, "y": 0.0, "z": 0.05, "uA": 0.0, "uB": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x": (0.4, 0.6),
        "y": (-0.1, 0.1),
        "z": (0.0, 0.1),
        "uA": (0.0, 0.0),
        "uB": (0.0, 0.0),
    }

    def __check_init__(self):
        _check_n(self.N)

    def vector_field(self, t, state, coupling, inputs=None):
        g, h = _arc(
            _point(self.mu1_Ain, self.mu2_Ain, self.nu_Ain),
            _point(self.mu1_Aend, self.mu2_Aend, self.nu_Aend),
        )
        l_, m_ = _arc(
            _point(self.mu1_Bin, self.mu2_Bin, self.nu_Bin),
            _point(self.mu1_Bend, self.mu2_Bend, self.nu_Bend),
        )
        ua, ub = state["uA"][..., None], state["uB"][..., None]  # (N, 1)
        # the points g, h, l, m ((3,) or per region (N, 3)) and R (scalar or (N,))
        # against each region's angle, with explicit leading axes: (N, 3)
        g, h, l_, m_ = (leading(v, ua.ndim) for v in (g, h, l_, m_))
        R = leading(jnp.asarray(self.R)[..., None], ua.ndim)
        a = R * (g * jnp.cos(ua) + h * jnp.sin(ua))
        b = R * (l_ * jnp.cos(ub) + m_ * jnp.sin(ub))
        e, f = _arc(a, b)
        dx, dy, dz = _burster(
            self, state["x"], state["y"], state["z"], e, f, coupling.get("x", 0.0)
        )
        ones = jnp.ones_like(state["uA"])
        return {"x": dx, "y": dy, "z": dz, "uA": self.cA * ones, "uB": self.cB * ones}
