"""What a spec may name: node models, Diffrax solvers, interpolations and the
other choice lists, each from the library's own registry where it has one."""

import dataclasses
import inspect

from .._delay.interpolation import INTERPOLATIONS as _LIBRARY_INTERPOLATIONS


#: `simulation.interpolation`: the string aliases of `simulate(interpolation=...)`.
INTERPOLATIONS: tuple[str, ...] = tuple(_LIBRARY_INTERPOLATIONS)
NORMALISATIONS = ("none", "max", "row_sum", "log")
COUPLING_EVALUATIONS = ("stage", "step")
MODES = ("product", "zip")
NOISE_KINDS = ("additive", "multiplicative")
NOISE_KEYS = ("kind", "sigma", "variables")
STIMULUS_EVALUATIONS = ("stage", "step")


def model_names() -> list[str]:
    """The names of the model catalogue (`neuromass models`), sorted, without
    aliases."""
    import neuromass as nm

    return sorted(nm.models.list_models().names())


def model_classes() -> dict[str, type]:
    """The node models of `neuromass.models`, by class name (aliases such as
    `KIonExchange` included, so that a spec may use them)."""
    import neuromass as nm

    out = {}
    for name in dir(nm.models):
        cls = getattr(nm.models, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, nm.models.AbstractNode)
            and not inspect.isabstract(cls)
        ):
            out[name] = cls
    return dict(sorted(out.items()))


def equation_classes() -> dict[str, type]:
    """The equations of `neuromass.equations` (temporal time courses, and the
    spatial shapes, which serve as time courses too), by class name."""
    import neuromass as nm

    out = {}
    for name in dir(nm.equations):
        cls = getattr(nm.equations, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, nm.equations.AbstractEquation)
            and not inspect.isabstract(cls)
        ):
            out[name] = cls
    return dict(sorted(out.items()))


def solver_names() -> list[str]:
    """The Diffrax solvers that can be built without arguments."""
    import diffrax

    names = []
    for name in dir(diffrax):
        cls = getattr(diffrax, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, diffrax.AbstractSolver)
            and not inspect.isabstract(cls)
        ):
            try:
                cls()
            except Exception:  # needs arguments (e.g. HalfSolver wraps a solver)
                continue
            names.append(name)
    return sorted(names)


def fields_of(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]
