"""The delay adjoint a `simulate` call uses, from an object or a string alias."""

from ._autodiff import AutodiffDelayAdjoint
from ._base import AbstractDelayAdjoint
from ._pulled import PulledDelayAdjoint


def get_delay_adjoint(adjoint, checkpoint=None, gradient_horizon=None):
    """A delay-adjoint object from an object or a string alias, with the legacy
    `simulate(checkpoint=, gradient_horizon=)` keywords folded in."""
    adjoints = {"pulled": PulledDelayAdjoint, "autodiff": AutodiffDelayAdjoint}
    if isinstance(adjoint, str):
        if adjoint not in adjoints:
            raise ValueError(
                f"`delay_adjoint` must be one of {tuple(adjoints)} or an "
                "`nm.AbstractDelayAdjoint` such as `nm.PulledDelayAdjoint()`; got "
                f"{adjoint!r}."
            )
        return adjoints[adjoint](
            checkpoint=bool(checkpoint), gradient_horizon=gradient_horizon
        )
    if not isinstance(adjoint, AbstractDelayAdjoint):
        raise ValueError(
            "`delay_adjoint` must be 'pulled', 'autodiff' or an "
            f"`nm.AbstractDelayAdjoint`; got {adjoint!r}."
        )
    if checkpoint is not None or gradient_horizon is not None:
        raise ValueError(
            "Give `checkpoint` and `gradient_horizon` to the delay adjoint object "
            f"(`{type(adjoint).__name__}(checkpoint=..., gradient_horizon=...)`), not "
            "to `simulate` as well."
        )
    return adjoint
