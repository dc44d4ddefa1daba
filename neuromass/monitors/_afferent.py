"""The afferent (long-range) coupling each node receives."""

from typing import ClassVar

import equinox as eqx

from ._base import AbstractMonitor


def _names(variables):
    if variables is None:
        return None
    return (variables,) if isinstance(variables, str) else tuple(variables)


class AfferentCoupling(AbstractMonitor):
    r"""The long-range coupling input of every node, The Virtual Brain's
    `AfferentCoupling` monitor: at each sampled time $t_n$,

    $$c_i(t_n) = k_i\,\mathrm{post}\Big(\sum_j w_{ij}\,\mathrm{pre}\big(x_j(t_n -
    \tau_{ij}), x_i(t_n)\big)\Big)$$

    for each coupled variable, evaluated from the state at $t_n$ and the delay
    history, as the step that starts at $t_n$ uses it (as TVB records it: the
    coupling of step $n + 1$, computed after step $n$). With a surface, the coupling
    of the node's region. Recording it reads the delays edge by edge (the loop runs
    step by step), so it costs more than other monitors.

    **Arguments:**

    - `every`: sampling period in ms, a multiple of `dt` (None: every step).
    - `variables`: the coupled variables to record (default: all).
    - `name`: output key (default `"afferent"`).

    Output: `{coupled variable: (T, N)}`.

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(), conn.weights, lengths=conn.lengths,
                         speed=10.0, k=0.1)
        sol = nm.simulate(net, t1=20.0, dt=0.1,
                          monitors=[nm.monitors.AfferentCoupling(1.0)])
        sol.monitors["afferent"].data["x"].shape   # (20, 76)
        ```
    """

    every: float | None = eqx.field(static=True, default=None)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="afferent")
    observes: ClassVar[str] = "coupling"

    def period(self, dt):
        return dt if self.every is None else self.every

    def _pick(self, coupling):
        names = tuple(coupling) if self.variables is None else self.variables
        return {v: coupling[v] for v in names}

    def init(self, y0, dt):
        return self._pick(y0)

    def update(self, state, t, y, dt):
        return self._pick(y)

    def emit(self, state):
        return state, state
