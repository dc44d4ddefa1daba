"""Small numerical building blocks shared by node models and couplings."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def sigmoid(
    v: Float[ArrayLike, "..."],
    max_rate: Float[ArrayLike, "..."] = 1.0,
    r: Float[ArrayLike, "..."] = 1.0,
    v0: Float[ArrayLike, "..."] = 0.0,
) -> Float[Array, "..."]:
    r"""Logistic conversion of a membrane potential into a firing rate.

    $$S(v) = \frac{m}{1 + e^{r (v_0 - v)}}$$

    **Arguments:**

    - `v`: potential (mV).
    - `max_rate`: maximal rate $m$ (1/ms).
    - `r`: steepness (1/mV).
    - `v0`: midpoint (mV), where $S = m/2$.

    **Returns:** the rate, same shape as the broadcast inputs.

    !!! example

        ```python
        from neuromass.utils import sigmoid

        sigmoid(6.0, 0.005, 0.56, 6.0)  # 0.0025, half the maximal rate
        ```
    """
    return max_rate * jnp.reciprocal(1.0 + jnp.exp(r * (v0 - v)))
