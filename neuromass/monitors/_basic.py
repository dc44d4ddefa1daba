"""Raw, subsampled, temporally averaged and projected (EEG/MEG) observations."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._expression import parse_expression as _parse_expression
from ..datasets._lead_field import LeadField
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


def _describe(labels, name=None) -> str:
    head = ", ".join(repr(x) for x in labels[:3])
    what = f"{len(labels)} regions: {head}{', ...' if len(labels) > 3 else ''}"
    return f"{name} ({what})" if name else f"({what})"


class Projection(AbstractMonitor):
    r"""A linear projection of an observable of the state through a gain
    (lead-field) matrix, as an EEG, MEG or sEEG forward model, averaged over each
    sampling period, with an optional reference and observation noise:

    $$s(t_m) = R\,G\,\bar o(t_m) + \sigma\,\xi_m, \qquad G \in \mathbb{R}^{M \times N},
    \quad \xi_m \sim \mathcal N(0, I_M)$$

    $\bar o$ is the average over the period ending at $t_m$ of the observable
    $o(y)$: by default the model's own observable (`observable` of the node model,
    The Virtual Brain's default variable of interest: $y_1 - y_2$ for Jansen-Rit,
    $x_2 - x_1$ for the Epileptor, `x` for Hopf), or a state variable, an
    expression of the state (`"y1 - y2"`, a weighted sum `{"x1": -1.0, "x2": 1.0}`,
    or any callable `f(state) -> (N,)`). $R$ is the re-referencing: the identity
    (reference-free, default), the average reference
    $R = I - \frac{1}{M}\mathbf 1\mathbf 1^\top$ (`reference="average"`), or the
    difference to sensor $r$ (`reference=r`). The noise is white across sensors and
    samples, drawn from `key` (sample $m$ uses `jax.random.fold_in(key, m)`: the
    same key gives the same noise).

    **Units.** The output is in the gain's units times the observable's: with
    tvb-data's EEG lead field and Jansen-Rit's $y_1 - y_2$ (mV) the samples are of
    order $10^4$ to $10^5$ (arbitrary units; see `neuromass.datasets.LeadField`).

    **Arguments:**

    - `gain`: `(M, N)` gain matrix (sensor `m` sees `gain[m, i] * o_i`), or a
      `neuromass.datasets.LeadField` (its `gain`, and its `regions` and
      `parcellation`, checked against the network's `labels`).
    - `variable`: the observable (default None: the model's `observable`): a name,
      an expression, a `{variable: weight}` dict or a callable.
    - `every`: sampling period in ms (default 1 ms, i.e. 1 kHz).
    - `name`: output key (default `"eeg"`).
    - `reference`: `None`, `"average"` or a sensor index.
    - `noise`: standard deviation $\sigma$ of the observation noise (sensor units,
      default 0).
    - `key`: a `jax.random` key, required when `noise > 0`.
    - `regions`, `parcellation`: the region labels and parcellation name of the
      gain's columns (default: those of a `LeadField`, else None: unchecked).

    `bind(network)` (which `simulate` calls) fills in the model's observable and
    refuses a network whose `labels` are not the lead field's `regions`.

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
    variable: object = eqx.field(static=True, default=None)
    every: float = eqx.field(static=True, default=1.0)
    name: str = eqx.field(static=True, default="eeg")
    reference: str | int | None = eqx.field(static=True, default=None)
    noise: float = eqx.field(static=True, default=0.0)
    key: object = None
    regions: tuple[str, ...] | None = eqx.field(static=True, default=None)
    parcellation: str | None = eqx.field(static=True, default=None)

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
        if self.regions is not None and len(self.regions) != jnp.shape(self.gain)[1]:
            raise ValueError(
                f"`regions` names {len(self.regions)} regions but `gain` has "
                f"{jnp.shape(self.gain)[1]} columns."
            )

    def __init__(
        self,
        gain,
        variable=None,
        every: float = 1.0,
        name: str = "eeg",
        reference: str | int | None = None,
        noise: float = 0.0,
        key=None,
        *,
        regions=None,
        parcellation: str | None = None,
    ):
        if isinstance(gain, LeadField):
            regions = gain.regions if regions is None else regions
            parcellation = gain.parcellation if parcellation is None else parcellation
            gain = gain.gain
        self.gain = jnp.asarray(gain)
        self.variable = None if variable is None else _observable(variable)
        self.every = every
        self.name = name
        self.reference = reference
        self.noise = float(noise)
        self.key = key
        self.regions = None if regions is None else tuple(str(x) for x in regions)
        self.parcellation = parcellation

    @property
    def variables(self):
        return None if self.variable is None else self.variable.names

    @property
    def referenced_gain(self) -> Float[Array, "sensors nodes"]:
        """The gain after re-referencing, $R G$."""
        g = self.gain
        if self.reference == "average":
            return g - jnp.mean(g, axis=0, keepdims=True)
        if self.reference is not None:
            return g - g[self.reference][None, :]
        return g

    def bind(self, network) -> "Projection":
        """This monitor for `network` (a `neuromass.Network`, a
        `neuromass.SurfaceNetwork`, or a node model simulated alone): the
        observable defaults to the model's `observable`; the gain must have one
        column per node (region, or vertex of a surface), and, when both the lead
        field's `regions` and the network's `labels` are known, they must be the
        same regions in the same order (else a `ValueError` names both
        parcellations).
        """
        from .._network import AbstractNetwork, Network
        from ..models import AbstractNode
        from ..models._base import observable_of

        if isinstance(network, AbstractNetwork):  # a region or surface network
            node, n = network.node, network.n_nodes
            labels = network.labels if isinstance(network, Network) else None
        elif isinstance(network, AbstractNode):
            node, n, labels = network, None, None
        else:
            raise TypeError(
                "`bind` takes the simulated network (or node model); got "
                f"{type(network).__name__}."
            )
        cols = self.gain.shape[1]
        if n is not None and cols != n:
            raise ValueError(
                f"Monitor {self.name!r}: `gain` has {cols} columns but the network "
                f"has {n} regions; a lead field has one column per region of its "
                "parcellation."
            )
        if (
            self.regions is not None
            and labels is not None
            and tuple(self.regions) != tuple(labels)
        ):
            order = " (the same regions in another order)" * (
                sorted(self.regions) == sorted(labels)
            )
            lead = _describe(self.regions, self.parcellation or "unnamed")
            raise ValueError(
                f"Monitor {self.name!r} projects through a lead field of the "
                f"parcellation {lead}, but the network's regions are another "
                f"parcellation {_describe(labels)}{order}: the projection would be "
                "meaningless. Simulate the lead field's connectome (e.g. "
                "`nm.Network.from_connectome(node, nm.datasets.load_connectome("
                f"{self.parcellation or 'name'!r}), ...)`) or use a lead field of "
                "the network's parcellation."
            )
        if self.variable is not None:
            return self
        return Projection(
            self.gain,
            observable_of(node),
            self.every,
            self.name,
            self.reference,
            self.noise,
            self.key,
            regions=self.regions,
            parcellation=self.parcellation,
        )

    def period(self, dt):
        return self.every

    def init(self, y0, dt):
        if self.variable is None:
            raise ValueError(
                f"Monitor {self.name!r} projects the model's observable by default, "
                "which `monitor.bind(network)` fills in: bind it to the network, "
                'or give `variable=` (e.g. `variable="y1 - y2"`).'
            )
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
    variable=None,
    every: float = 1.0,
    reference: str | int | None = "average",
    noise: float = 0.0,
    key=None,
    name: str = "eeg",
) -> Projection:
    """An EEG monitor: a `neuromass.monitors.Projection` named `"eeg"` with the
    average reference by default (as TVB's `EEG(reference="average")`).

    `gain` is an `(M, N)` matrix or a `neuromass.datasets.LeadField` (e.g.
    `nm.datasets.load_lead_field("eeg")`, whose regions are checked against the
    network's labels); `variable` defaults to the model's observable ($y_1 - y_2$
    for Jansen-Rit); the other arguments are those of `Projection`.

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome("tvb76")   # needs tvb-data
        net = nm.Network.from_connectome(
            nm.models.JansenRit(), conn.normalised("max"), speed=10.0,
            coupling="sigmoidal_jansen_rit", k=0.05,
        )
        eeg = nm.monitors.EEG(nm.datasets.load_lead_field("eeg"), every=2.0)
        eeg = eeg.bind(net)   # simulate does this: the observable y1 - y2
        eeg.variables   # ('y1', 'y2')
        ```
    """
    return Projection(gain, variable, every, name, reference, noise, key)


def MEG(
    gain,
    variable=None,
    every: float = 1.0,
    noise: float = 0.0,
    key=None,
    name: str = "meg",
) -> Projection:
    """A MEG monitor: a reference-free `neuromass.monitors.Projection` named
    `"meg"`; `gain` is an `(M, N)` matrix or a `neuromass.datasets.LeadField`
    (e.g. `nm.datasets.load_lead_field("meg")`); `variable` defaults to the model's
    observable."""
    return Projection(gain, variable, every, name, None, noise, key)


def iEEG(
    gain,
    variable=None,
    every: float = 1.0,
    noise: float = 0.0,
    key=None,
    name: str = "seeg",
) -> Projection:
    """An intracranial EEG (sEEG, depth electrodes) monitor, as TVB's `iEEG`: a
    reference-free `neuromass.monitors.Projection` named `"seeg"`.

    `gain` is an `(M, N)` matrix or a `neuromass.datasets.LeadField`: tvb-data's
    588 contacts with `nm.datasets.load_lead_field("seeg")`, or your own contacts
    with `nm.datasets.LeadField.from_sensors(contacts, conn.centres, ...)` (the
    point-dipole gain TVB uses when it has no projection matrix); `variable`
    defaults to the model's observable.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network.from_connectome(nm.models.Hopf(a=0.1), conn, k=0.05)
        contacts = np.array([[20.0, 0.0, 10.0], [25.0, 0.0, 10.0]])  # mm
        lf = nm.datasets.LeadField.from_sensors(
            contacts, conn.centres, regions=conn.labels, parcellation=conn.name
        )
        seeg = nm.monitors.iEEG(lf, every=1.0)
        sol = nm.simulate(net, t1=20.0, dt=0.1, monitors=[seeg.bind(net)])
        sol["seeg"].shape   # (20, 2)
        ```
    """
    return Projection(gain, variable, every, name, None, noise, key)
