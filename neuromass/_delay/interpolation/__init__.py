"""Interpolations of the delay history, one per file."""

from ._base import (
    AbstractInterpolation as AbstractInterpolation,
    read_window as read_window,
    window_values as window_values,
)
from ._cubic import CubicInterpolation as CubicInterpolation
from ._linear import LinearInterpolation as LinearInterpolation
from ._nearest import NearestInterpolation as NearestInterpolation


# String aliases accepted by `simulate(interpolation=...)`.
INTERPOLATIONS = {
    "nearest": NearestInterpolation,
    "linear": LinearInterpolation,
    "cubic": CubicInterpolation,
}


def get_interpolation(interpolation) -> AbstractInterpolation:
    """An interpolation object from an object or a string alias."""
    if isinstance(interpolation, AbstractInterpolation):
        return interpolation
    if isinstance(interpolation, str) and interpolation in INTERPOLATIONS:
        return INTERPOLATIONS[interpolation]()
    raise ValueError(
        f"`interpolation` must be one of {tuple(INTERPOLATIONS)} or an "
        "`nm.AbstractInterpolation` such as `nm.LinearInterpolation()`; got "
        f"{interpolation!r}."
    )
