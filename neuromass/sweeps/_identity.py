"""What a sweep store records of its model and function, and how two differ.

A store must refuse to mix the results of two models or two functions. Its
manifest therefore holds a *description* of the model: a JSON tree of its whole
structure, built the same way in every process:

- an `eqx.Module` or dataclass: its class (module and qualified name) and every
  field, static fields included (`coupled_vars`, bounds, masks, ...);
- an array: its dtype, shape and the SHA-256 of its bytes (PRNG keys: of their
  key data);
- numbers, strings, `None`: their values (floats by `repr`, so NaN equals NaN);
- dicts, lists, tuples, named tuples: their items;
- a function: see `describe_function`;
- any other object: its class and its public attributes (from `__dict__` or
  `__slots__`, names not starting with `_`; caches such as hashes are private).

Nothing depends on an object's address or a hash seed: no `repr` of arbitrary
objects, no `id`, no Python `hash`. The function of a sweep is recorded by its
qualified name and the SHA-256 of `describe_function(fn)`.
"""

import dataclasses
import functools
import hashlib
import inspect
import json
import sys
import types
from typing import Any

import jax
import numpy as np


_MAX_DEPTH = 64
#: Packages whose functions are recorded by name only (their code changes with
#: their versions, not with the user's sweep).
_LIBRARIES = frozenset(
    {
        "neuromass",
        "jax",
        "jaxlib",
        "numpy",
        "scipy",
        "equinox",
        "diffrax",
        "optax",
        "optimistix",
        "lineax",
        "jaxtyping",
        "numpyro",
        "flowjax",
        "builtins",
    }
)


def _is_library(fn: Any) -> bool:
    module = getattr(fn, "__module__", None) or ""
    top = module.split(".", 1)[0]
    return top in _LIBRARIES or top in sys.stdlib_module_names


def _qualname(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _array(x: Any) -> dict[str, Any]:
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        impl = str(jax.random.key_impl(x))
        x = jax.random.key_data(x)
        arr = np.asarray(x)
        return {"key": impl, "shape": list(arr.shape), "sha256": _sha(arr)}
    arr = np.asarray(x)
    return {"array": arr.dtype.str, "shape": list(arr.shape), "sha256": _sha(arr)}


def _sha(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray | np.generic | jax.Array)


def describe(obj: Any, _depth: int = 0, _seen: frozenset = frozenset()) -> Any:
    """A JSON tree describing `obj` (see the module docstring)."""
    if _depth > _MAX_DEPTH:
        return {"deep": _qualname(type(obj))}
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return {"float": repr(obj)}
    if isinstance(obj, complex):
        return {"complex": repr(obj)}
    if _is_array(obj):
        return _array(obj)
    if id(obj) in _seen:
        return {"cycle": _qualname(type(obj))}
    seen = _seen | {id(obj)}

    def sub(x):
        return describe(x, _depth + 1, seen)

    if isinstance(obj, dict):
        items = sorted(obj.items(), key=lambda kv: repr(kv[0]))
        return {"dict": {_key(k): sub(v) for k, v in items}}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple
        fields = {f: sub(getattr(obj, f)) for f in obj._fields}
        return {"class": _qualname(type(obj)), "fields": fields}
    if isinstance(obj, list | tuple):
        return {type(obj).__name__: [sub(x) for x in obj]}
    if isinstance(obj, frozenset | set):
        return {"set": sorted((sub(x) for x in obj), key=json.dumps)}
    if isinstance(obj, type):
        return {"type": _qualname(obj)}
    if isinstance(obj, types.ModuleType):
        return {"module": obj.__name__}
    if dataclasses.is_dataclass(obj):  # eqx.Module included: static fields too
        fields = {
            f.name: sub(getattr(obj, f.name, None)) for f in dataclasses.fields(obj)
        }
        out: dict[str, Any] = {"class": _qualname(type(obj)), "fields": fields}
        call = _call_of(type(obj))
        if inspect.isfunction(call):  # a callable Module: its code too
            out["call"] = describe_function(call, _depth + 1, seen)
        return out
    if callable(obj):
        return describe_function(obj, _depth + 1, seen)
    attrs = _public_attributes(obj)
    out = {"class": _qualname(type(obj))}
    if attrs:
        out["attributes"] = {k: sub(v) for k, v in attrs.items()}
    return out


def _call_of(cls: type) -> Any:
    """The `__call__` a class defines (or inherits), without calling anything."""
    return next(
        (c.__dict__["__call__"] for c in cls.__mro__ if "__call__" in c.__dict__), None
    )


def _key(k: Any) -> str:
    return k if isinstance(k, str) else f"{type(k).__name__}:{k!r}"


def _public_attributes(obj: Any) -> dict[str, Any]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    names += list(getattr(obj, "__dict__", {}))
    return {
        n: getattr(obj, n)
        for n in sorted(set(names))
        if not n.startswith("_") and hasattr(obj, n)
    }


def describe_function(fn: Any, _depth: int = 0, _seen: frozenset = frozenset()) -> Any:
    """A JSON tree describing what a function computes, as far as Python shows it:

    - a Python function: its qualified name; its bytecode, names and constants
      (nested functions included, line numbers and comments excluded); its default
      arguments; the values of its closure (described as above: arrays by hash,
      functions recursively); and the module-level functions (of its own module)
      and plain values (numbers, strings, arrays) it reads, recursively. Functions
      of neuromass, JAX, NumPy, SciPy, the Equinox/Diffrax/Optax stack and the
      standard library are recorded by name only;
    - `functools.partial`: the function and the bound arguments;
    - a bound method: the function and the object it is bound to;
    - a wrapper with `__wrapped__` (`jax.jit`, ...): the wrapped function;
    - a callable object (e.g. an `eqx.Module` with `__call__`): the object and its
      class's `__call__`;
    - a builtin: its qualified name.

    A new Python version compiles other bytecode, so it gives another description.
    """
    if _depth > _MAX_DEPTH:
        return {"deep": _qualname(fn)}
    if id(fn) in _seen and inspect.isfunction(fn):
        return {"recursive": _qualname(fn)}
    seen = _seen | {id(fn)}
    depth = _depth + 1
    if isinstance(fn, functools.partial):
        return {
            "partial": describe_function(fn.func, depth, seen),
            "args": describe(fn.args, depth, seen),
            "keywords": describe(fn.keywords, depth, seen),
        }
    if inspect.ismethod(fn):
        return {
            "method": describe_function(fn.__func__, depth, seen),
            "self": describe(fn.__self__, depth, seen),
        }
    if inspect.isfunction(fn) and _is_library(fn):
        return {"function": _qualname(fn)}
    if inspect.isfunction(fn):
        code = fn.__code__
        closure = {}
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                value = None
            closure[name] = describe(value, depth, seen)
        module_globals = {}
        for name in sorted(_names(code)):
            if name not in fn.__globals__:
                continue
            value = fn.__globals__[name]
            if inspect.isfunction(value) and value.__module__ == fn.__module__:
                module_globals[name] = describe_function(value, depth, seen)
            elif value is None or isinstance(value, bool | int | float | complex | str):
                module_globals[name] = describe(value)
            elif _is_array(value):
                module_globals[name] = describe(value)
        return {
            "function": _qualname(fn),
            "code": _code(code),
            "defaults": describe(fn.__defaults__, depth, seen),
            "kwdefaults": describe(fn.__kwdefaults__, depth, seen),
            "closure": closure,
            "globals": module_globals,
        }
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None and wrapped is not fn:
        return {
            "wrapper": _qualname(type(fn)),
            "wrapped": describe_function(wrapped, depth, seen),
        }
    if dataclasses.is_dataclass(fn) and not isinstance(fn, type):
        return describe(fn, depth, seen)  # with its `__call__`
    if inspect.isbuiltin(fn) or isinstance(fn, type):
        return {"builtin": _qualname(fn)}
    call = _call_of(type(fn))
    out = {"object": _qualname(type(fn))}
    if hasattr(fn, "__name__"):  # e.g. a NumPy ufunc
        out["name"] = str(getattr(fn, "__qualname__", fn.__name__))
    attrs = _public_attributes(fn)
    if attrs:
        out["attributes"] = {k: describe(v, depth, seen) for k, v in attrs.items()}
    if inspect.isfunction(call):
        out["call"] = describe_function(call, depth, seen)
    return out


def _names(code: types.CodeType) -> set[str]:
    """Global names read by `code` and the code objects nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _code(code: types.CodeType) -> str:
    """SHA-256 of a code object: bytecode, names, variables and constants (nested
    code objects recursively), but not its line numbers or file name."""
    h = hashlib.sha256()
    h.update(code.co_code)
    for part in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        h.update(json.dumps(list(part)).encode())
    h.update(
        json.dumps(
            [code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount]
        ).encode()
    )
    for const in code.co_consts:
        h.update(_const(const).encode())
    return h.hexdigest()


def _const(const: Any) -> str:
    if isinstance(const, types.CodeType):
        return "code:" + _code(const)
    if isinstance(const, frozenset):
        return "frozenset:" + json.dumps(sorted(_const(c) for c in const))
    if isinstance(const, tuple):
        return "tuple:" + json.dumps([_const(c) for c in const])
    return f"{type(const).__name__}:{const!r}"  # literals: deterministic reprs


def function_code(fn: Any) -> str:
    """The SHA-256 of `describe_function(fn)` (recorded by a sweep store)."""
    text = json.dumps(describe_function(fn), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------- differences
_LABELS = {
    "space": "the space",
    "function": "the function",
    "function_code": "the function's code",
    "model": "the model",
    "key": "the key",
    "jax_enable_x64": "the x64 setting (`jax_enable_x64`)",
    "lanes": "`lanes`",
}


def differences(old: dict[str, Any], new: dict[str, Any], limit: int = 3) -> str:
    """What differs between two store identities, in words, e.g. "the model's
    `noise` class differs: stored Additive, now Multiplicative"."""
    parts = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        label = _LABELS.get(name, f"`{name}`")
        if name == "function_code":
            parts.append(
                f"{label} differs (its bytecode, constants, defaults, closure, or the "
                "functions and values of its module that it reads)"
            )
            continue
        found = _first_differences(a, b, "", limit)
        for path, what in found[:limit]:
            where = f"{label}'s `{path}`" if path else label
            parts.append(f"{where} {what}")
    return "; ".join(parts) if parts else "unknown"


def _first_differences(a, b, path, limit) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def walk(a, b, path):
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            if "sha256" in a and {**a, "sha256": 0} == {**b, "sha256": 0}:
                out.append((path, "values differ"))
                return
            if "function" in a and a.get("function") == b.get("function"):
                out.append((path, "differs (its code)"))
                return
            if "class" in a and "class" in b and a["class"] != b["class"]:
                out.append(
                    (path, f"class differs: stored {_short(a)}, now {_short(b)}")
                )
                return
            for tag in ("fields", "dict", "attributes"):
                if tag in a and tag in b and a.get("class") == b.get("class"):
                    fa, fb = a[tag], b[tag]
                    for k in list(fa) + [k for k in fb if k not in fa]:
                        if fa.get(k) != fb.get(k):
                            walk(fa.get(k), fb.get(k), f"{path}.{k}" if path else k)
                    others = {t: a.get(t) for t in a if t != tag}
                    if others != {t: b.get(t) for t in b if t != tag}:
                        out.append((path, "differs (its code)"))
                    return
            for tag in ("list", "tuple"):
                if tag in a and tag in b and len(a[tag]) == len(b[tag]):
                    for i, (x, y) in enumerate(zip(a[tag], b[tag])):
                        walk(x, y, f"{path}[{i}]")
                    return
        out.append((path, f"differs: stored {_short(a)}, now {_short(b)}"))

    walk(a, b, path)
    return out


def _short(d: Any) -> str:
    """A few words for a description."""
    if not isinstance(d, dict):
        return repr(d)
    if "class" in d:
        return str(d["class"]).rsplit(".", 1)[-1]
    if "float" in d:
        return d["float"]
    if "array" in d:
        return f"an array {np.dtype(d['array']).name}{tuple(d['shape'])}"
    if "key" in d:
        return f"a key {tuple(d['shape'])}"
    for tag in ("list", "tuple"):
        if tag in d:
            items = ", ".join(_short(x) for x in d[tag][:6])
            if tag == "tuple":
                return f"({items},)" if len(d[tag]) == 1 else f"({items})"
            return f"[{items}]"
    if "function" in d:
        return f"function {d['function']}"
    if "dict" in d:
        return "{" + ", ".join(list(d["dict"])[:6]) + "}"
    return json.dumps(d)[:80]
