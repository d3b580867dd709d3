"""Conditions over named facts, combinable with And / Or / Not (visibilitylib's Condition).

A fact is missing when its key is absent or its value is None; a condition that reads a
missing fact is not evaluated and the rule reports ``missing_feature`` (teen policies then
fail closed). Each condition lists the facts it reads in ``facts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Condition",
    "Ref",
    "Always",
    "IsTrue",
    "Eq",
    "In",
    "Intersects",
    "Gte",
    "And",
    "Or",
    "Not",
    "missing_facts",
]


@dataclass(frozen=True)
class Ref:
    """Names another fact whose value is used as an operand or a factor."""

    fact: str


def _val(facts: Mapping[str, Any], operand: Any) -> Any:
    return facts[operand.fact] if isinstance(operand, Ref) else operand


def _refs(*operands: Any) -> tuple[str, ...]:
    return tuple(o.fact for o in operands if isinstance(o, Ref))


class Condition:
    """Base class: ``facts`` are the names read, calling it returns a bool."""

    facts: tuple[str, ...] = ()

    def __call__(self, facts: Mapping[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


def missing_facts(names: tuple[str, ...], facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The names among ``names`` that are absent or None in ``facts``."""
    return tuple(n for n in dict.fromkeys(names) if facts.get(n) is None)


@dataclass(frozen=True)
class Always(Condition):
    """True for every item (e.g. the child policy)."""

    facts: tuple[str, ...] = ()

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return True


@dataclass(frozen=True, init=False)
class _Unary(Condition):
    fact: str

    def __init__(self, fact: str) -> None:
        object.__setattr__(self, "fact", fact)

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.fact,)


class IsTrue(_Unary):
    """The fact is truthy."""

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return bool(facts[self.fact])


@dataclass(frozen=True)
class Eq(Condition):
    """The fact equals a value (or another fact)."""

    fact: str
    value: Any

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.fact, *_refs(self.value))

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return facts[self.fact] == _val(facts, self.value)


@dataclass(frozen=True)
class In(Condition):
    """The fact is one of the values."""

    fact: str
    values: tuple[Any, ...]

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.fact,)

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return facts[self.fact] in self.values


@dataclass(frozen=True)
class Intersects(Condition):
    """The fact (a collection) shares at least one element with the values."""

    fact: str
    values: tuple[Any, ...]

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.fact,)

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return not set(facts[self.fact]).isdisjoint(self.values)


@dataclass(frozen=True)
class Gte(Condition):
    """The fact is at least a threshold (a number or a ``Ref`` to another fact)."""

    fact: str
    threshold: Any

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.fact, *_refs(self.threshold))

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return facts[self.fact] >= _val(facts, self.threshold)


@dataclass(frozen=True, init=False)
class _Combine(Condition):
    """Parts combined by a subclass; the facts needed are every part's."""

    parts: tuple[Condition, ...]

    def __init__(self, *parts: Condition) -> None:
        object.__setattr__(self, "parts", parts)

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f for p in self.parts for f in p.facts)


@dataclass(frozen=True, init=False)
class And(_Combine):
    """All parts hold."""

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return all(p(facts) for p in self.parts)


@dataclass(frozen=True, init=False)
class Or(_Combine):
    """At least one part holds."""

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return any(p(facts) for p in self.parts)


@dataclass(frozen=True)
class Not(Condition):
    """The part does not hold."""

    part: Condition

    @property
    def facts(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.part.facts

    def __call__(self, facts: Mapping[str, Any]) -> bool:
        return not self.part(facts)
