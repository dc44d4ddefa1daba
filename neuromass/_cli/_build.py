"""Builders: the network, the sweep space and the per-point summary of a `Spec`."""

from typing import Any

import equinox as eqx
import jax
import numpy as np

from .._delay._structure import too_short
from .._delay.interpolation import get_interpolation
from ._registry import equation_classes, fields_of, model_classes
from ._schema import Spec
from ._summary import OUTPUTS, PointSummary
from ._table import SpecError, _choices, _quote, _suggest


def build_network(spec: Spec):
    """The `nm.Network` of `[model]` and `[network]`."""
    import neuromass as nm

    cls = model_classes()[spec.model.name]
    try:
        node = cls(**spec.model.parameters)
    except (TypeError, ValueError) as e:
        raise SpecError(f"Cannot build [model] {spec.model.name}: {e}") from None
    net = spec.network
    if net.connectome is None:
        conn = None
        weights = np.zeros((1, 1))
    else:
        conn = _load_connectome(net.connectome, net.normalisation)
        weights = conn.weights
    n = weights.shape[0]
    kwargs: dict[str, Any] = {}
    if net.speed is not None:
        kwargs.update(lengths=conn.lengths, speed=net.speed)
    elif net.delays is not None:
        kwargs.update(delays=np.full((n, n), net.delays))
    noise = None
    if net.noise_kind is not None:
        cls_noise = {
            "additive": nm.noise.Additive,
            "multiplicative": nm.noise.Multiplicative,
        }[net.noise_kind]
        try:
            noise = cls_noise(_array(net.noise_sigma), variables=net.noise_variables)
        except (TypeError, ValueError) as e:
            raise SpecError(f"`network.noise`: {e}") from None
    try:
        coupling = _build_coupling(net.coupling, net.coupling_parameters)
        return nm.Network(
            node,
            weights,
            coupling=coupling,
            k=_array(net.k),
            coupled_vars=net.coupled_vars,
            self_connection=net.self_connection,
            noise=noise,
            **kwargs,
        )
    except (TypeError, ValueError) as e:
        if isinstance(e, SpecError):
            raise
        raise SpecError(
            f"Cannot build the network from [model] and [network]: {e}"
        ) from None


def axis_paths(spec: Spec, net: Any) -> list[str]:
    """The paths a `[axes.<path>]` table may sweep for this network."""
    paths = ["k"]
    paths += [f"node.{p}" for p in fields_of(type(net.node))]
    paths += [
        f"coupling.{p}"
        for p in fields_of(type(net.coupling))
        if eqx.is_array(getattr(net.coupling, p))
    ]
    if net.noise is not None and eqx.is_array(getattr(net.noise, "sigma", None)):
        paths.append("noise.sigma")
    if net.lengths is not None:
        paths.append("speed")
    return paths


#: The values a swept path may take (as its `[network]` key may): test, words.
_AXIS_DOMAINS = {
    "speed": (lambda v: v > 0, "positive speeds (mm/ms)"),
    "noise.sigma": (lambda v: v >= 0, "noise intensities >= 0"),
}


def build_sweep_network(spec: Spec):
    """The network to sweep, its bounds (`max_delay`, `min_delay`, `edge_mask`)
    widened to cover the axes' values by `neuromass.sweep`'s own rule."""
    net = build_network(spec)
    valid = axis_paths(spec, net)
    for path in spec.axes:
        if path not in valid:
            hint = ""
            if path.startswith("model."):
                hint = f" Model parameters are swept as {'node.' + path[6:]!r}."
            raise SpecError(
                f"Cannot sweep `axes.{_quote(path)}`: it is not a parameter of "
                f"this network.{hint or _suggest(path, valid)} Valid paths are: "
                f"{_choices(valid)}."
            )
    for path, (ok, words) in _AXIS_DOMAINS.items():
        if path in spec.axes:
            values = axis_values(spec, path)
            bad = values[~ok(values)]
            if bad.size:
                raise SpecError(
                    f"`axes.{_quote(path)}` must only hold {words}; got "
                    f"{float(bad[0]):g}."
                )
    # The bounds of the traced values (history length, shortest delay, edges)
    # cover every point: the library's rule, as `nm.sweep(..., model=net)` applies.
    from ..sweeps._bounds import widen_bounds

    net = widen_bounds(net, build_space(spec))
    check_delays(spec, net)
    return net


def check_delays(spec: Spec, net: Any) -> None:
    """Refuse delays strictly between 0 and `dt` (they cannot be integrated),
    for the network's speed and the fastest swept speed."""
    if net.delays is None:
        return
    w = np.asarray(net.weights)
    delays = np.asarray(net.delays)[w != 0]
    if "speed" in spec.axes:
        fastest = float(np.max(axis_values(spec, "speed")))
        delays = np.concatenate([delays, np.asarray(net.lengths)[w != 0] / fastest])
    dt = spec.simulation.dt
    whole = get_interpolation(spec.simulation.interpolation).whole_steps
    short = too_short(delays, dt, whole)
    if short.size:
        where = (
            "`network.delays`"
            if spec.network.delays is not None
            else "the tract lengths / `network.speed` (or a swept speed)"
        )
        raise SpecError(
            f"{where} give delays of {short.min():.3g} ms, shorter than "
            f"`simulation.dt` = {dt:g} ms but not zero, which cannot be "
            f"integrated. Use `dt` <= {short.min():.3g} ms, or a slower speed."
        )


def axis_values(spec: Spec, path: str) -> np.ndarray:
    axis = build_axis(spec, path)
    key = jax.random.fold_in(jax.random.key(spec.simulation.seed), 1)
    return np.asarray(axis.values(key))


def build_axis(spec: Spec, path: str):
    import neuromass as nm

    spec = spec.axes[path]
    if spec.kind == "grid":
        return nm.GridAxis(*spec.args)
    if spec.kind == "log":
        return nm.LogGridAxis(*spec.args)
    if spec.kind == "uniform":
        return nm.UniformAxis(*spec.args)
    return nm.DataAxis(np.asarray(spec.args, dtype=float))


def build_space(spec: Spec):
    """The `nm.Space` of `[axes]` in the mode of `[sweep]`."""
    import neuromass as nm

    if not spec.axes:
        raise SpecError(
            "A sweep needs at least one axis: add a table such as\n"
            "  [axes.k]\n  grid = [0.0, 1.0, 8]"
        )
    mode = spec.sweep.mode if spec.sweep else "product"
    if mode == "zip":
        sizes = {p: a.size for p, a in spec.axes.items()}
        if len(set(sizes.values())) > 1:
            raise SpecError(
                'With `sweep.mode = "zip"` every axis must have the same number '
                f"of values; got {sizes}. Make them equal, or use "
                '`mode = "product"`.'
            )
    axes = {path: build_axis(spec, path) for path in spec.axes}
    key = jax.random.fold_in(jax.random.key(spec.simulation.seed), 1)
    return nm.Space(axes, mode=mode, key=key)


def point_summary(spec: Spec, net: Any) -> PointSummary:
    """The per-point function of the sweep, after checking that the chosen
    variable exists and that the network and run are large enough."""
    assert spec.sweep is not None
    variable = spec.sweep_variable()
    names = net.node.state_names
    if variable not in names:
        key = "sweep.variable" if spec.sweep.variable else "network.coupled_vars"
        raise SpecError(
            f"`{key}`: {variable!r} is not a state variable of "
            f"{spec.model.name}; choose one of {_choices(names)}."
            + _suggest(variable, names)
        )
    n_saved = (
        round(
            (spec.simulation.t1 - spec.simulation.transient)
            / spec.simulation.save_every
        )
        + 1
    )
    for name in spec.sweep.outputs:
        out = OUTPUTS[name]
        if net.n_regions < out.min_regions:
            raise SpecError(
                f"`sweep.outputs`: {name!r} needs a network of at least "
                f"{out.min_regions} regions; this one has {net.n_regions}. Set "
                "`network.connectome`, or choose another output."
            )
        if n_saved < out.min_samples:
            raise SpecError(
                f"`sweep.outputs`: {name!r} needs at least {out.min_samples} "
                f"saved samples; (t1 - transient) / save_every gives {n_saved}. "
                "Lengthen `simulation.t1` or shorten `simulation.save_every`."
            )
    return PointSummary(
        outputs=spec.sweep.outputs,
        variable=variable,
        settings=tuple(sorted(spec.simulate_settings().items())),
        solver=spec.simulation.solver,
        stimulus=build_stimulus(spec, net),
    )


def region_labels(spec: Spec, n_regions: int) -> tuple[str, ...]:
    """The region labels of the connectome (`("0",)` without one)."""
    if spec.network.connectome is None:
        return tuple(str(i) for i in range(n_regions))
    return _load_connectome(spec.network.connectome, "none").labels


def _array(value: Any) -> Any:
    return np.asarray(value, dtype=float) if isinstance(value, tuple) else value


def _load_connectome(name: str, normalisation: str):
    import neuromass as nm

    try:
        conn = nm.datasets.load_connectome(name)
    except FileNotFoundError as e:
        raise SpecError(
            f"`network.connectome`: {e} Give a connectome name "
            f"({_choices(nm.datasets.available_connectomes())}) or the path of a "
            "TVB-format .zip or a .npz file (relative to the current directory)."
        ) from None
    except (ImportError, ValueError, OSError) as e:
        raise SpecError(f"`network.connectome`: {e}") from None
    if normalisation != "none":
        conn = conn.normalised(normalisation)
    return conn


def build_stimulus(spec: Spec, net: Any):
    """The `nm.stimuli.RegionStimulus` of `[stimulus]` for this network (None
    without the table)."""
    import neuromass as nm

    stim = spec.stimulus
    if stim is None:
        return None
    n = net.n_regions
    if stim.regions is None:
        weights = np.asarray(stim.weights, dtype=float)
        if weights.ndim == 1 and weights.shape[0] != n:
            raise SpecError(
                f"`stimulus.weights` has {weights.shape[0]} values, but the network "
                f"has {n} regions; give one weight per region, or list the "
                "stimulated regions in `stimulus.regions`."
            )
        weights = np.broadcast_to(weights, (n,))
    else:
        labels = list(region_labels(spec, n))
        index = []
        for i, r in enumerate(stim.regions):
            if isinstance(r, str):
                if r not in labels:
                    raise SpecError(
                        f"`stimulus.regions[{i}]` = {r!r} is not a region label of "
                        f"the connectome.{_suggest(r, labels)} Its labels are "
                        f"{_choices(labels[:8])}{', ...' if n > 8 else ''}."
                    )
                index.append(labels.index(r))
            elif r >= n:
                raise SpecError(
                    f"`stimulus.regions[{i}]` = {r}, but the network has {n} "
                    f"regions (indices 0 to {n - 1})."
                )
            else:
                index.append(r)
        if len(set(index)) != len(index):
            raise SpecError(
                "`stimulus.regions` names a region twice (by index and by label)."
            )
        weights = np.zeros(n)
        weights[index] = np.asarray(stim.weights, dtype=float)
    temporal = _build_temporal(stim.temporal, stim.temporal_parameters)
    try:
        out = nm.stimuli.RegionStimulus(weights, temporal, variables=stim.variables)
        out.check(net.node, net.n_nodes, net.coupled_vars)
    except (TypeError, ValueError) as e:
        raise SpecError(f"[stimulus]: {e}") from None
    return out


def _build_temporal(name: str, parameters: dict[str, Any]):
    classes = equation_classes()
    if name not in classes:
        raise SpecError(
            f"Unknown equation `stimulus.temporal = {name!r}`.{_suggest(name, classes)}"
            f" Valid equations are: {_choices(list(classes))}."
        )
    cls = classes[name]
    valid = fields_of(cls)
    for p in parameters:
        if p not in valid:
            raise SpecError(
                f"Unknown parameter `stimulus.temporal.{_quote(p)}` of {name}."
                f"{_suggest(p, valid)} Valid parameters are: {_choices(valid)}."
            )
    try:
        return cls(**{k: _array(v) for k, v in parameters.items()})
    except (TypeError, ValueError) as e:
        raise SpecError(f"`stimulus.temporal`: {e}") from None


def _build_coupling(name: str, parameters: dict[str, Any]):
    import neuromass as nm

    try:
        base = nm.coupling.get_coupling(name)
    except ValueError as e:
        raise SpecError(f"`network.coupling`: {e}") from None
    if not parameters:
        return base
    cls = type(base)
    valid = fields_of(cls)
    for p in parameters:
        if p not in valid:
            raise SpecError(
                f"Unknown parameter `network.coupling.{_quote(p)}` of the {name!r} "
                f"coupling ({cls.__name__}).{_suggest(p, valid)} Valid parameters "
                f"are: {_choices(valid) or 'none'}."
            )
    try:
        return cls(**{k: _array(v) for k, v in parameters.items()})
    except (TypeError, ValueError) as e:
        raise SpecError(f"`network.coupling`: {e}") from None
