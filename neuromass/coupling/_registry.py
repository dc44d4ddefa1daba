"""String shorthands for couplings."""

from ._base import AbstractCoupling
from ._kuramoto import Kuramoto
from ._laplacian import Laplacian
from ._linear import Diffusive, Linear, Scaling
from ._sigmoidal import PreSigmoidal, Sigmoidal, SigmoidalJansenRit, Tanh


_SHORTHANDS = {
    "linear": Linear,
    "additive": Linear,
    "diffusive": Diffusive,
    "difference": Diffusive,
    "laplacian": Laplacian,
    "sigmoidal": Sigmoidal,
    "tanh": Tanh,
    "hyperbolic_tangent": Tanh,
    "sigmoidal_jansen_rit": SigmoidalJansenRit,
    "kuramoto": Kuramoto,
    "scaling": Scaling,
    "pre_sigmoidal": PreSigmoidal,
    "presigmoidal": PreSigmoidal,
}


def get_coupling(coupling: "AbstractCoupling | str") -> AbstractCoupling:
    """Return `coupling` itself, or the default instance named by a string shorthand:
    `"linear"` (also `"additive"`), `"diffusive"` (also `"difference"`),
    `"laplacian"`, `"sigmoidal"`, `"tanh"` (also `"hyperbolic_tangent"`),
    `"sigmoidal_jansen_rit"`, `"kuramoto"`, `"scaling"`, `"pre_sigmoidal"` (also
    `"presigmoidal"`). Names are case-insensitive."""
    if isinstance(coupling, AbstractCoupling):
        return coupling
    if isinstance(coupling, str):
        try:
            return _SHORTHANDS[coupling.lower()]()
        except KeyError:
            raise ValueError(
                f"Unknown coupling {coupling!r}; valid names are {sorted(_SHORTHANDS)}."
            ) from None
    raise TypeError(
        "`coupling` must be an `AbstractCoupling` instance or one of "
        f"{sorted(_SHORTHANDS)}; got {type(coupling).__name__}."
    )
