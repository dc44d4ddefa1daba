"""Constructor arguments checked before Equinox's generated `__init__` sees them."""

import jax
import numpy as np


def check_arguments(
    cls: type,
    args: tuple,
    kwargs: dict,
    names: tuple[str, ...],
    converters: dict,
    *,
    var_kw: bool = False,
    shape_hint: str = "one per region",
) -> None:
    """A `TypeError` naming the parameter and the fix for an unknown keyword, too
    many positional arguments, or a value that is not a number (rather than the
    bare errors of the generated `__init__` and of `jnp.asarray`). `names`: the
    parameters `__init__` takes; `converters`: the converter of each field it
    sets; `var_kw`: whether it takes `**kwargs`."""
    unknown = [k for k in kwargs if k not in names]
    if unknown and not var_kw:
        raise TypeError(
            f"{cls.__name__} has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters are {', '.join(names) or 'none'}."
        )
    if len(args) > len(names):
        raise TypeError(
            f"{cls.__name__} takes at most {len(names)} parameters ({', '.join(names)})"
            f"; got {len(args)} positional arguments."
        )
    given = dict(zip(names, args)) | kwargs
    for name, converter in converters.items():
        value = given.get(name)
        if name not in given or isinstance(
            value, float | int | np.ndarray | np.generic | jax.Array
        ):
            continue  # converted as usual (tracers included)
        try:
            converter(value)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"`{cls.__name__}({name}=...)` must be a number or an array of "
                f"numbers ({shape_hint}); got {value!r} ({e})."
            ) from None
