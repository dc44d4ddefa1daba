"""Raw, subsampled, temporally averaged and projected (EEG/MEG) observations."""

import ast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._base import AbstractMonitor


def _names(variables):
    if variables is None:
        return None
    return (variables,) if isinstance(variables, str) else tuple(variables)


def _pick(y, variables):
    names = tuple(y) if variables is None else variables
    return {v: y[v] for v in names}


class Subsample(AbstractMonitor):
    """The state every `every` ms (no averaging).

    **Arguments:**

    - `every`: sampling period in ms, a multiple of `dt` (None: every step).
    - `variables`: the state variables to record (default: all).
    - `name`: key of the output in `Solution.monitors` (default `"subsample"`).

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.Hopf(), t1=50.0, dt=0.1,
                          monitors=[nm.monitors.Subsample(5.0, variables="x")])
        sol.monitors["subsample"].data["x"].shape   # (10, 1)
        ```
    """

    every: float | None = eqx.field(static=True, default=None)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="subsample")

    def period(self, dt):
        return dt if self.every is None else self.every

    def init(self, y0, dt):
        return _pick(y0, self.variables)

    def update(self, state, t, y, dt):
        return _pick(y, self.variables)

    def emit(self, state):
        return state, state


def Raw(variables=None, name: str = "raw") -> Subsample:
    """Every integration step of the chosen variables (a `Subsample` with
    `every=None`). Memory grows with the number of steps: prefer `Subsample`,
    `TemporalAverage` or a streaming monitor for long runs."""
    return Subsample(None, variables, name)


class TemporalAverage(AbstractMonitor):
    r"""The average of the state over consecutive windows of `window` ms.

    Sample $m$ is $\frac{1}{W}\sum_{n \in \text{window } m} y(t_n)$ over the $W$ steps
    ending at its time stamp.

    **Arguments:**

    - `window`: averaging window = sampling period, in ms (a multiple of `dt`).
    - `variables`: the state variables to average (default: all).
    - `name`: output key (default `"tavg"`).

    !!! example

        ```python
        import neuromass as nm

        tavg = nm.monitors.TemporalAverage(2.0, variables="x")
        sol = nm.simulate(nm.models.Hopf(), t1=20.0, dt=0.1, monitors=[tavg])
        sol.monitors["tavg"].data["x"].shape   # (10, 1)
        ```
    """

    window: float = eqx.field(static=True)
    variables: tuple[str, ...] | None = eqx.field(
        static=True, default=None, converter=_names
    )
    name: str = eqx.field(static=True, default="tavg")

    def period(self, dt):
        return self.window

    def init(self, y0, dt):
        picked = _pick(y0, self.variables)
        return ({v: jnp.zeros_like(x) for v, x in picked.items()}, jnp.zeros(()))

    def update(self, state, t, y, dt):
        total, count = state
        picked = _pick(y, self.variables)
        return ({v: total[v] + picked[v] for v in total}, count + 1.0)

    def emit(self, state):
        total, count = state
        sample = {v: x / count for v, x in total.items()}
        return ({v: jnp.zeros_like(x) for v, x in total.items()}, 0.0 * count), sample


_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _parse_expression(text: str):
    """A safe arithmetic expression of state variables, e.g. `"y1 - y2"` or
    `"0.8*x1 + 0.2*x2"`: returns (evaluator, variable names)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"Cannot parse the observable {text!r}: {e.msg}.") from None
    names = []

    def check(node):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            check(node.operand)
        elif isinstance(node, ast.Name):
            if node.id not in names:
                names.append(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            pass
        else:
            raise ValueError(
                f"The observable {text!r} may only combine state variables and "
                "numbers with + - * / ** (got "
                f"{ast.unparse(node)!r}); pass a callable for anything else."
            )

    check(tree)

    def evaluate(y, node=tree):
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](evaluate(y, node.left), evaluate(y, node.right))
        if isinstance(node, ast.UnaryOp):
            v = evaluate(y, node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Name):
            return y[node.id]
        return node.value

    return evaluate, tuple(names)


class _Observable(eqx.Module):
    """The observed expression of the state: a variable name, an arithmetic
    expression string, `{variable: weight}` or a callable `f(state) -> (N,)`."""

    spec: object = eqx.field(static=True)
    names: tuple[str, ...] | None = eqx.field(static=True)

    def __call__(self, y):
        spec = self.spec
        if isinstance(spec, tuple):  # ((variable, weight), ...)
            return sum(w * y[v] for v, w in spec)
        if callable(spec):
            return spec(y)
        return _parse_expression(spec)[0](y)


def _observable(spec) -> _Observable:
    if isinstance(spec, _Observable):
        return spec
    if isinstance(spec, str):
        return _Observable(spec, _parse_expression(spec)[1])
    if isinstance(spec, dict):
        if not spec:
            raise ValueError("A weighted sum of variables needs at least one variable.")
        pairs = tuple((str(v), float(w)) for v, w in spec.items())
        return _Observable(pairs, tuple(v for v, _ in pairs))
    if callable(spec):
        return _Observable(spec, None)
    raise TypeError(
        "The observable must be a variable name, an expression such as 'y1 - y2', "
        f"a dict {{variable: weight}} or a callable; got {type(spec).__name__}."
    )


class Projection(AbstractMonitor):
    r"""A linear projection of an observable of the state through a gain
    (lead-field) matrix, as an EEG or MEG forward model, averaged over each
    sampling period, with an optional reference and observation noise:

    $$s(t_m) = R\,G\,\bar o(t_m) + \sigma\,\xi_m, \qquad G \in \mathbb{R}^{M \times N},
    \quad \xi_m \sim \mathcal N(0, I_M)$$

    $\bar o$ is the average over the period ending at $t_m$ of the observable
    $o(y)$: a state variable, an expression of the state (Jansen-Rit's
    `"y1 - y2"`, a weighted sum `{"x1": -1.0, "x2": 1.0}`, or any callable
    `f(state) -> (N,)`). $R$ is the re-referencing: the identity (reference-free,
    default), the average reference $R = I - \frac{1}{M}\mathbf 1\mathbf 1^\top$
    (`reference="average"`), or the difference to sensor $r$ (`reference=r`).
    The noise is white across sensors and samples, drawn from `key` (sample $m$
    uses `jax.random.fold_in(key, m)`: the same key gives the same noise).

    **Arguments:**

    - `gain`: `(M, N)` gain matrix (sensor `m` sees `gain[m, i] * o_i`), or a
      `neuromass.datasets.LeadField` (its `gain`).
    - `variable`: the observable (default `"x"`): a name, an expression, a
      `{variable: weight}` dict or a callable.
    - `every`: sampling period in ms (default 1 ms, i.e. 1 kHz).
    - `name`: output key (default `"eeg"`).
    - `reference`: `None`, `"average"` or a sensor index.
    - `noise`: standard deviation $\sigma$ of the observation noise (sensor units,
      default 0).
    - `key`: a `jax.random` key, required when `noise > 0`.

    !!! example

        ```python
        import jax
        import jax.numpy as jnp
        import neuromass as nm

        eeg = nm.monitors.Projection(jnp.ones((3, 1)), variable="x", every=1.0)
        sol = nm.simulate(nm.models.Hopf(), t1=10.0, dt=0.1, monitors=[eeg])
        sol.monitors["eeg"].data.shape   # (10, 3)

        jr_eeg = nm.monitors.Projection(
            jnp.ones((4, 1)), variable="y1 - y2", reference="average",
            noise=0.1, key=jax.random.key(1),
        )
        sol = nm.simulate(nm.models.JansenRit(), t1=10.0, dt=0.1, monitors=[jr_eeg])
        ```
    """

    gain: Float[Array, "sensors nodes"]
    variable: object = eqx.field(static=True, default="x")
    every: float = eqx.field(static=True, default=1.0)
    name: str = eqx.field(static=True, default="eeg")
    reference: str | int | None = eqx.field(static=True, default=None)
    noise: float = eqx.field(static=True, default=0.0)
    key: object = None

    def __check_init__(self):
        if jnp.ndim(self.gain) != 2:
            raise ValueError(
                "`gain` must be an (M sensors, N regions) matrix; got shape "
                f"{jnp.shape(self.gain)}."
            )
        m = jnp.shape(self.gain)[0]
        ref = self.reference
        if not (
            ref is None
            or ref == "average"
            or (isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < m)
        ):
            raise ValueError(
                "`reference` must be None (reference-free), 'average' or a sensor "
                f"index in [0, {m}); got {ref!r}."
            )
        if not (self.noise >= 0.0):
            raise ValueError(f"`noise` must be >= 0; got {self.noise!r}.")
        if self.noise > 0.0 and self.key is None:
            raise ValueError(
                "Observation noise needs a random key: pass `key=jax.random.key(0)` "
                "(the same key gives the same noise)."
            )

    def __init__(
        self,
        gain,
        variable="x",
        every: float = 1.0,
        name: str = "eeg",
        reference: str | int | None = None,
        noise: float = 0.0,
        key=None,
    ):
        self.gain = jnp.asarray(getattr(gain, "gain", gain))
        self.variable = _observable(variable)
        self.every = every
        self.name = name
        self.reference = reference
        self.noise = float(noise)
        self.key = key

    @property
    def variables(self):
        return self.variable.names

    @property
    def referenced_gain(self) -> Float[Array, "sensors nodes"]:
        """The gain after re-referencing, $R G$."""
        g = self.gain
        if self.reference == "average":
            return g - jnp.mean(g, axis=0, keepdims=True)
        if self.reference is not None:
            return g - g[self.reference][None, :]
        return g

    def period(self, dt):
        return self.every

    def init(self, y0, dt):
        x = self.variable(y0)
        if x.shape[-1] != self.gain.shape[1]:
            raise ValueError(
                f"`gain` has {self.gain.shape[1]} columns but the network has "
                f"{x.shape[-1]} regions."
            )
        return (jnp.zeros_like(x), jnp.zeros(()), jnp.zeros((), jnp.int32))

    def update(self, state, t, y, dt):
        total, count, index = state
        return (total + self.variable(y), count + 1.0, index)

    def emit(self, state):
        total, count, index = state
        sample = jnp.asarray(self.referenced_gain, total.dtype) @ (total / count)
        if self.noise > 0.0:
            k = jax.random.fold_in(self.key, index)
            sample = sample + self.noise * jax.random.normal(
                k, sample.shape, sample.dtype
            )
        return (jnp.zeros_like(total), 0.0 * count, index + 1), sample


def EEG(
    gain,
    variable="x",
    every: float = 1.0,
    reference: str | int | None = "average",
    noise: float = 0.0,
    key=None,
    name: str = "eeg",
) -> Projection:
    """An EEG monitor: a `neuromass.monitors.Projection` named `"eeg"` with the
    average reference by default (as TVB's `EEG(reference="average")`).

    `gain` is an `(M, N)` matrix or a `neuromass.datasets.LeadField` (e.g.
    `nm.datasets.load_lead_field("eeg")`); the other arguments are those of
    `Projection`.
    """
    return Projection(gain, variable, every, name, reference, noise, key)


def MEG(
    gain,
    variable="x",
    every: float = 1.0,
    noise: float = 0.0,
    key=None,
    name: str = "meg",
) -> Projection:
    """A MEG monitor: a reference-free `neuromass.monitors.Projection` named
    `"meg"`; `gain` is an `(M, N)` matrix or a `neuromass.datasets.LeadField`
    (e.g. `nm.datasets.load_lead_field("meg")`)."""
    return Projection(gain, variable, every, name, None, noise, key)
