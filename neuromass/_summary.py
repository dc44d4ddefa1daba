"""Readable views of models and networks: `Network.summary()` (a table of every
parameter with its value, unit and meaning, as TVB's `summary_info`) and the
values of scalar parameters in `repr` (Equinox prints `f32[]` for any array)."""

import functools
import inspect
import re

import jax
import numpy as np


def concrete_value(x) -> np.ndarray | None:
    """`x` as numpy when it is a concrete array (not traced), else None."""
    if isinstance(x, jax.core.Tracer):
        return None
    if isinstance(x, jax.Array | np.ndarray | np.generic):
        try:
            return np.asarray(x)
        except (
            jax.errors.TracerArrayConversionError,
            jax.errors.ConcretizationTypeError,
        ):
            return None
    return None


def format_value(x) -> str:
    """A parameter's value for people: `0.2`, `True`, a per-region array as
    `(76,) in [0.1, 0.4]` (or `(76,) all 0.2`), a traced value as its shape."""
    if isinstance(x, bool | int | float | str) or x is None:
        return f"{x:.6g}" if isinstance(x, float) else str(x)
    c = concrete_value(x)
    if c is None:
        shape = getattr(x, "shape", None)
        return "traced" if shape is None else f"traced {tuple(shape)}"
    if c.ndim == 0 or c.size == 1:
        v = c.reshape(()).item()
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    if c.dtype == bool:
        return f"{c.shape} {int(c.sum())} True"
    lo, hi = np.min(c), np.max(c)
    if lo == hi:
        return f"{c.shape} all {lo:.6g}"
    return f"{c.shape} in [{lo:.6g}, {hi:.6g}]"


_ROW = re.compile(r"^\s*\|([^|]+)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


@functools.cache
def parameter_docs(cls: type) -> dict[str, tuple[str, str]]:
    """`{name: (unit, meaning)}` from the parameter table of a class docstring
    (`| parameter | default | unit | typical range | meaning |`)."""
    out = {}
    for line in (inspect.getdoc(cls) or "").splitlines():
        match = _ROW.match(line)
        if not match:
            continue
        names = re.findall(r"`(\w+)`", match.group(1))
        unit, meaning = match.group(3).strip(), match.group(5).strip()
        for name in names:
            out.setdefault(name, (unit, meaning))
    return out


def _table(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows
    ]


def _fields(module) -> list[tuple[str, object]]:
    import dataclasses

    return [(f.name, getattr(module, f.name)) for f in dataclasses.fields(module)]


def network_summary(net) -> str:
    from .models._base import observable_of

    node = net.node
    n = net.n_regions
    lines = [f"Network of {n} regions, {net.n_edges} edges"]
    if net.labels is not None:
        shown = ", ".join(net.labels[:4]) + (", ..." if n > 4 else "")
        lines.append(f"  regions: {shown}")
    lines.append(
        f"  node: {type(node).__name__} (state {', '.join(node.state_names)}; "
        f"coupled {', '.join(net.coupled_vars)}; observable {observable_of(node)})"
    )
    docs = parameter_docs(type(node))
    rows = [("parameter", "value", "unit", "meaning")]
    for name, value in node.parameters().items():
        unit, meaning = docs.get(name, ("", ""))
        rows.append((name, format_value(value), unit, meaning))
    lines += _table(rows, "    ")
    coupling = net.coupling
    params = ", ".join(f"{k}={format_value(v)}" for k, v in _fields(coupling))
    lines.append(f"  coupling: {type(coupling).__name__}({params})")
    lines.append(f"  k: {format_value(net.k)}")
    if net.explicit_delays is not None:
        lines.append(f"  delays (ms): {format_value(net.explicit_delays)}")
    elif net.lengths is not None:
        lines.append(
            f"  delays: lengths (mm) {format_value(net.lengths)} / speed "
            f"{format_value(net.speed)} mm/ms"
        )
    else:
        lines.append("  delays: none (instantaneous coupling)")
    if net.delays is not None:
        lines.append(
            f"  delay bounds: max_delay {net.max_delay:.6g} ms, min_delay "
            f"{net.min_delay:.6g} ms"
        )
    if net.noise is None:
        lines.append("  noise: none")
    else:
        noise = ", ".join(f"{k}={format_value(v)}" for k, v in _fields(net.noise))
        lines.append(f"  noise: {type(net.noise).__name__}({noise})")
    if net.inputs is not None:
        lines.append(f"  inputs: {getattr(net.inputs, '__name__', net.inputs)!s}")
    return "\n".join(lines)


def pdoc_with_values(obj, **kwargs):
    """Equinox's pretty-printing of a module (`repr`: its fields, as Wadler-Lindig
    formats a dataclass), with concrete scalar arrays written as their values
    (`a=0.2`) rather than `f32[]`."""
    import dataclasses

    import wadler_lindig as wl

    custom = kwargs.get("custom")

    def values(x):
        c = concrete_value(x)
        if c is not None and c.ndim == 0:
            v = c.item()
            return wl.TextDoc(f"{v:.6g}" if isinstance(v, float) else str(v))
        return None if custom is None else custom(x)

    kwargs = dict(kwargs, custom=values)
    labels = getattr(obj, "labels", None)
    if isinstance(labels, tuple) and len(labels) > 4:  # a network's region labels
        head = ", ".join(repr(x) for x in labels[:2])
        labels = wl.TextDoc(f"({head}, ... {len(labels)} labels)")
    pairs = [
        (f.name, labels if f.name == "labels" else getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.repr
        and not (
            kwargs.get("hide_defaults", True) and getattr(obj, f.name) is f.default
        )
    ]
    return wl.bracketed(
        begin=wl.TextDoc(f"{type(obj).__name__}("),
        docs=wl.named_objs(pairs, **kwargs),
        sep=wl.comma,
        end=wl.TextDoc(")"),
        indent=kwargs.get("indent", 2),
    )
