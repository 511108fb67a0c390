"""Policies by name (FleetPy-style registries).

Three registries: dispatch policies (``insertion``, ``batch_lsa``), rebalancing policies
(``none``, ``zone_deficit``) and idle policies (``stay``, ``return_to_depot``). A policy class
registers with a decorator; ``get_*_policy(name)`` returns the class, and an unknown name
raises :class:`~tomakomai_maas.errors.DispatchError` listing the valid names (with a
close-match suggestion).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from tomakomai_maas.errors import DispatchError

__all__ = [
    "register_dispatch_policy",
    "register_rebalancing_policy",
    "register_idle_policy",
    "get_dispatch_policy",
    "get_rebalancing_policy",
    "get_idle_policy",
    "dispatch_policy_names",
    "rebalancing_policy_names",
    "idle_policy_names",
]

C = TypeVar("C", bound=type)


class _Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type] = {}

    def register(self, name: str) -> Callable[[C], C]:
        def deco(cls: C) -> C:
            if name in self._items and self._items[name] is not cls:
                raise DispatchError(f"{self.kind} policy {name!r} is already registered")
            self._items[name] = cls
            cls.name = name  # type: ignore[attr-defined]
            return cls

        return deco

    def get(self, name: Any) -> type:
        if isinstance(name, str) and name in self._items:
            return self._items[name]
        valid = sorted(self._items)
        msg = f"unknown {self.kind} policy {name!r}; valid names: {', '.join(valid)}"
        close = difflib.get_close_matches(str(name), valid, n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        raise DispatchError(msg)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._items))


_DISPATCH = _Registry("dispatch")
_REBALANCING = _Registry("rebalancing")
_IDLE = _Registry("idle")


def register_dispatch_policy(name: str) -> Callable[[C], C]:
    """Class decorator: register a dispatch policy under ``name``."""
    return _DISPATCH.register(name)


def register_rebalancing_policy(name: str) -> Callable[[C], C]:
    """Class decorator: register a rebalancing policy under ``name``."""
    return _REBALANCING.register(name)


def register_idle_policy(name: str) -> Callable[[C], C]:
    """Class decorator: register an idle-vehicle policy under ``name``."""
    return _IDLE.register(name)


def get_dispatch_policy(name: str) -> type:
    """The dispatch policy class registered as ``name``."""
    return _DISPATCH.get(name)


def get_rebalancing_policy(name: str) -> type:
    """The rebalancing policy class registered as ``name``."""
    return _REBALANCING.get(name)


def get_idle_policy(name: str) -> type:
    """The idle-vehicle policy class registered as ``name``."""
    return _IDLE.get(name)


def dispatch_policy_names() -> tuple[str, ...]:
    return _DISPATCH.names()


def rebalancing_policy_names() -> tuple[str, ...]:
    return _REBALANCING.names()


def idle_policy_names() -> tuple[str, ...]:
    return _IDLE.names()
