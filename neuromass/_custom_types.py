"""Array type aliases used across neuromass (jaxtyping).

Dimension names are used consistently: `"nodes"` (regions, N), `"edges"` (padded
in-edges per region, K), `"cvars"` (coupled variables), `"times"` (saved samples).
"""

from typing import Any

from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray


ParamLike = float | Float[ArrayLike, ""] | Float[ArrayLike, " nodes"]
"""A scalar or a per-region parameter: shape `()` or `(N,)`."""
State = dict[str, Float[Array, " nodes"]]
"""The state of a network: `{variable: (N,) array}`, e.g. a node's
`vector_field` argument and result."""
CouplingInput = dict[str, Float[Array, " nodes"]]
"""The afferent coupling of a node: `{coupled variable: (N,) array}`."""
Trajectory = dict[str, Float[Array, "times nodes"]]
"""A trajectory: `{variable: (T, N) array}`."""
Key = PRNGKeyArray
"""A JAX random key (`jax.random.key(0)`)."""
Args = Any
"""Extra arguments passed through unchanged."""

__all__ = ["ParamLike", "State", "CouplingInput", "Trajectory", "Key", "Args"]
