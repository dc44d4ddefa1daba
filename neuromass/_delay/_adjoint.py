"""How reverse-mode differentiation goes back through a delayed simulation: delay
adjoints, passed as `simulate(..., delay_adjoint=...)`.

- [`neuromass.PulledDelayAdjoint`][] (default): for a coupling linear in the delayed
  value (`Linear`, `Diffusive`, ...), Euler or Heun and nearest or linear reads, a
  hand-written adjoint of the delay history that *pulls* each state's cotangent from
  the later reads that used it, through its out-edges (`_pulled`, `_blocked`): no
  scatter-add into the history, several times faster than plain AD. Reverse mode
  only. Other couplings and solvers fall back to plain AD.
- [`neuromass.AutodiffDelayAdjoint`][]: plain JAX AD through the loop, which also
  supports forward mode (`jax.jvp`, `jax.jacfwd`).

The forward solution is the same either way. Both take the options of long
gradients: `checkpoint` and `gradient_horizon`.
"""

from typing import ClassVar

import equinox as eqx


class AbstractDelayAdjoint(eqx.Module):
    """Base class of delay adjoints.

    **Arguments (fields):**

    - `checkpoint`: store the loop state only once per block of steps (the saving
      interval, or the greatest common period of the monitors) and recompute inside
      each block during the backward pass, so memory grows with the number of blocks
      instead of steps. The stored state includes the delay history, so with the
      pulled adjoint, whose steps keep no history at all, checkpointing costs memory
      rather than saving it.
    - `gradient_horizon`: truncated backpropagation through time (ms): gradients flow
      back at most this far (a multiple of the block) before being cut, which keeps
      gradients of long chaotic runs bounded. The forward solution is unchanged.
    """

    checkpoint: eqx.AbstractVar[bool]
    gradient_horizon: eqx.AbstractVar[float | None]
    pulled: ClassVar[bool]


class PulledDelayAdjoint(AbstractDelayAdjoint):
    r"""The pulled adjoint of the delay history (default; reverse mode only).

    For a linear coupling the delayed part is $C_i[q] = \sum_e w_e\,x_{j_e}[q - m_e]$
    (interpolated for linear reads). Its reverse pass stores the cotangent $g_C[q]$ of
    each read at the read's time and, when it reaches the write of state $x_j[n]$,
    pulls

    $$\frac{\partial L}{\partial x_j[n]} = \sum_{e \text{ out of } j} w_e\,
    g_{C, i_e}[n + m_e]$$

    with one gather over the out-edges (no scatter). Applies to couplings linear in
    the delayed value with Euler or Heun and nearest or linear reads; other cases use
    plain AD.

    !!! example

        ```python
        import neuromass as nm

        adjoint = nm.PulledDelayAdjoint(checkpoint=True)
        ```
    """

    checkpoint: bool = False
    gradient_horizon: float | None = None
    pulled: ClassVar[bool] = True


class AutodiffDelayAdjoint(AbstractDelayAdjoint):
    """Plain JAX autodiff through the loop; supports forward mode (`jax.jvp`,
    `jax.jacfwd`) as well as reverse mode.

    !!! example

        ```python
        import neuromass as nm

        adjoint = nm.AutodiffDelayAdjoint(gradient_horizon=100.0)
        ```
    """

    checkpoint: bool = False
    gradient_horizon: float | None = None
    pulled: ClassVar[bool] = False


DELAY_ADJOINTS = {"pulled": PulledDelayAdjoint, "autodiff": AutodiffDelayAdjoint}


def get_delay_adjoint(adjoint, checkpoint=None, gradient_horizon=None):
    """A delay-adjoint object from an object or a string alias, with the legacy
    `simulate(checkpoint=, gradient_horizon=)` keywords folded in."""
    if isinstance(adjoint, str):
        if adjoint not in DELAY_ADJOINTS:
            raise ValueError(
                f"`delay_adjoint` must be one of {tuple(DELAY_ADJOINTS)} or an "
                "`nm.AbstractDelayAdjoint` such as `nm.PulledDelayAdjoint()`; got "
                f"{adjoint!r}."
            )
        return DELAY_ADJOINTS[adjoint](
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
