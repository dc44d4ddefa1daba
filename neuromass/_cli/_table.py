"""The table validator of specs: reads one TOML table, type-checks its keys and
refuses unknown ones; `SpecError` and the message helpers."""

import difflib
import json
import math
from collections.abc import Sequence
from typing import Any


class SpecError(ValueError):
    """A problem in a spec: the message names the key at fault and how to fix it;
    `origin` says where the faulty value comes from (the spec file's name, or the
    `--set KEY=VALUE` override that brought it), when known."""

    def __init__(self, message: str, origin: str | None = None):
        super().__init__(message)
        self.origin = origin

    def where(self, source: str, overrides: Sequence[str] | None = ()) -> str:
        """Where to report the error: its `origin`, else the spec file `source`
        (with the overrides, which may be part of the problem)."""
        if self.origin is not None:
            return self.origin
        if overrides:
            return f"{source} with " + " ".join(f"--set {o}" for o in overrides)
        return source


# --------------------------------------------------------------------- messages
def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" Did you mean {close[0]!r}?" if close else ""


def _choices(choices: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in choices)


def _quote(key: str) -> str:
    simple = key.replace("_", "").replace("-", "").isalnum()
    return key if simple else json.dumps(key)


# ------------------------------------------------------------------ table reader
_REQUIRED = object()


class _Table:
    """Reads and type-checks the keys of one TOML table; refuses unknown keys."""

    def __init__(self, data: Any, path: str, allowed: Sequence[str] | None = None):
        self.path = path
        if not isinstance(data, dict):
            raise SpecError(
                f"`{path}` must be a table ([{path}] or {path} = {{...}}); got "
                f"{_type_name(data)}."
            )
        self.data = data
        if allowed is not None:
            self.refuse_unknown(allowed)

    def key(self, name: str) -> str:
        return f"{self.path}.{_quote(name)}" if self.path else _quote(name)

    def refuse_unknown(self, allowed: Sequence[str], what: str = "key") -> None:
        for name in self.data:
            if name not in allowed:
                raise SpecError(
                    f"Unknown {what} `{self.key(name)}`.{_suggest(name, allowed)} "
                    f"Valid {what}s of [{self.path}] are: {_choices(allowed)}."
                )

    def get(self, name: str, default: Any) -> Any:
        if name in self.data:
            return self.data[name]
        if default is _REQUIRED:
            raise SpecError(f"Missing `{self.key(name)}` in [{self.path}].")
        return default

    def number(
        self,
        name: str,
        default: Any = _REQUIRED,
        *,
        unit: str = "",
        positive: bool = False,
        nonnegative: bool = False,
    ) -> Any:
        value = self.get(name, default)
        if value is None or value is default and default is not _REQUIRED:
            return value
        return _check_number(self.key(name), value, unit, positive, nonnegative)

    def integer(self, name: str, default: Any = _REQUIRED, *, minimum: int = 0) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(
                f"`{self.key(name)}` must be a whole number; got {_fmt(value)} "
                f"({_type_name(value)})."
            )
        if value < minimum:
            raise SpecError(f"`{self.key(name)}` must be >= {minimum}; got {value}.")
        return value

    def boolean(self, name: str, default: Any = _REQUIRED) -> bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise SpecError(
                f"`{self.key(name)}` must be true or false; got {_fmt(value)}."
            )
        return value

    def string(
        self,
        name: str,
        default: Any = _REQUIRED,
        choices: Sequence[str] | None = None,
    ) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, str):
            hint = f" one of {_choices(choices)}" if choices else " a string"
            raise SpecError(
                f"`{self.key(name)}` must be{hint}; got {_fmt(value)} "
                f"({_type_name(value)}). Strings are quoted in TOML: "
                f'{name} = "...".'
            )
        if choices is not None and value not in choices:
            raise SpecError(
                f"`{self.key(name)}` must be one of {_choices(choices)}; got "
                f"{value!r}.{_suggest(value, choices)}"
            )
        return value

    def strings(self, name: str, default: Any = _REQUIRED) -> Any:
        value = self.get(name, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) for v in value)
        ):
            raise SpecError(
                f"`{self.key(name)}` must be a non-empty list of strings, e.g. "
                f'{name} = ["x"]; got {_fmt(value)}.'
            )
        return tuple(value)


def _check_number(
    key: str, value: Any, unit: str = "", positive=False, nonnegative=False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        quoted = isinstance(value, str)
        raise SpecError(
            f"`{key}` must be a number{' in ' + unit if unit else ''}; got "
            f"{_fmt(value)} ({_type_name(value)})."
            + (" Remove the quotes." if quoted else "")
        )
    value = float(value)
    if not math.isfinite(value):
        raise SpecError(f"`{key}` must be finite; got {value}.")
    if positive and value <= 0:
        unit = f" {unit}" if unit else ""
        raise SpecError(f"`{key}` must be > 0{unit}; got {value}.")
    if nonnegative and value < 0:
        raise SpecError(f"`{key}` must be >= 0; got {value}.")
    return value


def _parameter(key: str, value: Any) -> float | tuple[float, ...]:
    """A model/coupling parameter: a number, or a list with one number per region."""
    if isinstance(value, list):
        if not value:
            raise SpecError(
                f"`{key}` is an empty list; give a number or one per region."
            )
        return tuple(_check_number(f"{key}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(
            f"`{key}` must be a number or a list of numbers (one per region); got "
            f"{_fmt(value)} ({_type_name(value)})."
        )
    return _check_number(key, value)
