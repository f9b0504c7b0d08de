"""Argument checks that name the parameter and the allowed range, so bad input fails at once and clearly."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def positive_int(name: str, value: Any, *, maximum: int | None = None, hint: str = "") -> int:
    """Return ``value`` if it is an int in 1..maximum, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a whole number (int), got {type(value).__name__} {value!r}"
            + (f"; {hint}" if hint else "")
        )
    value = int(value)
    upper = f"..{maximum}" if maximum is not None else " or more"
    if value < 1 or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be in 1{upper}, got {value}" + (f"; {hint}" if hint else ""))
    return value


def positive_number(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float if it is a finite number > 0 (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
    value = float(value)
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number greater than 0, got {value!r}")
    return value


def one_of(name: str, value: Any, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` strings, else raise listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(map(repr, allowed))}; got {value!r}")
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(repr, allowed))}")
    return value


def callable_fn(name: str, value: Any) -> Callable[..., Any]:
    """Return ``value`` if it can be called, else a TypeError that says what was passed."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__} {value!r:.60}")
    return value


def non_empty_list(name: str, value: Any) -> list[Any]:
    """Materialise an iterable of items, refusing strings, non-iterables and empty input."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an iterable of inputs such as a list or range, not a {type(value).__name__}")
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be an iterable of inputs such as a list or range, got {type(value).__name__}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} is empty: give at least one input")
    return items
