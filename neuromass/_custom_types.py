"""Array type aliases used across neuromass (jaxtyping).

Dimension names are used consistently: `"nodes"` (regions, N), `"edges"` (padded
in-edges per region, K), `"cvars"` (coupled variables), `"times"` (saved samples).
"""

from typing import Any

from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray


#: A scalar or a per-region parameter: shape `()` or `(N,)`.
ParamLike = float | Float[ArrayLike, ""] | Float[ArrayLike, " nodes"]
#: The state of a network: one `(N,)` array per state variable.
State = dict[str, Float[Array, " nodes"]]
#: Afferent coupling per coupled variable, each `(N,)`.
CouplingInput = dict[str, Float[Array, " nodes"]]
#: A trajectory: one `(T, N)` array per saved variable.
Trajectory = dict[str, Float[Array, "times nodes"]]
Key = PRNGKeyArray
Args = Any

__all__ = ["ParamLike", "State", "CouplingInput", "Trajectory", "Key", "Args"]
