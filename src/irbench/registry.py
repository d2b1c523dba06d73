"""Registries: name -> entry tables that fill themselves from the modules of one package.

Every extensible part of irbench (evaluation probes, attacks, training objectives, models, dataset kinds)
has a registry. An entry is registered by the module that defines it; the registry imports every module
of its package on first use, so a new part is one new file in that package plus one configuration entry.
The configuration schema's enumerations are generated from these registries (irbench.config.schema).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from irbench.errors import IrbenchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind (`what`, e.g. 'probe'), discovered in the modules of `package`."""

    def __init__(self, what: str, package: str) -> None:
        self.what = what
        self.package = package
        self._entries: dict[str, T] = {}
        self._discovered = False

    def register(self, name: str, entry: T) -> T:
        """Add `entry` under `name`; a second entry of the same name is an error (two files claim it)."""
        if name in self._entries and self._entries[name] is not entry:
            raise IrbenchError(f"{self.what} {name!r} is registered twice (in {self.package})")
        self._entries[name] = entry
        return entry

    def add(self, name: str) -> Callable[[T], T]:
        """Decorator form of `register`."""
        return lambda entry: self.register(name, entry)

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        pkg = importlib.import_module(self.package)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{self.package}.{info.name}")

    def get(self, name: str) -> T:
        """The entry `name`, or a one-line error naming the known ones."""
        self._discover()
        if name not in self._entries:
            raise IrbenchError(f"unknown {self.what} {name!r} (expected one of: {', '.join(self.names())})")
        return self._entries[name]

    def names(self) -> list[str]:
        """Every registered name, in a stable (sorted) order."""
        self._discover()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def items(self) -> Iterator[tuple[str, T]]:
        self._discover()
        return iter(sorted(self._entries.items()))
