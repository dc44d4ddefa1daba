"""String shorthands for couplings."""

from ._base import AbstractCoupling
from ._linear import Diffusive, Linear
from ._sigmoidal import SigmoidalJansenRit


_SHORTHANDS = {
    "linear": Linear,
    "additive": Linear,
    "diffusive": Diffusive,
    "difference": Diffusive,
    "sigmoidal_jansen_rit": SigmoidalJansenRit,
}


def get_coupling(coupling: "AbstractCoupling | str") -> AbstractCoupling:
    """Return `coupling` itself, or the default instance named by a string shorthand
    (`"linear"`, `"additive"`, `"diffusive"`, `"difference"`,
    `"sigmoidal_jansen_rit"`)."""
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
