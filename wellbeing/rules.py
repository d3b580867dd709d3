"""Rules, actions, policies and verdicts (twitter/the-algorithm visibilitylib, in Python).

A rule is a condition over named facts plus an action carrying a reason. A policy is an ordered
list of rules for one audience. ``evaluate`` returns the most severe action and a result per
rule. Fail closed: in a policy with ``fail_closed`` (teen, unknown age, child) a rule whose
input fact is missing, or which raises, drops the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

from wellbeing.conditions import Condition, Ref
from wellbeing.config import POLICY_VERSION
from wellbeing.reasons import Reason

__all__ = [
    "Action",
    "Drop",
    "Downrank",
    "Label",
    "Intervene",
    "Rule",
    "RuleResult",
    "Policy",
    "Verdict",
    "evaluate",
    "RuleStatus",
]

RuleStatus = Literal["evaluated", "missing_feature", "failed", "disabled"]


@dataclass(frozen=True)
class Action:
    """Base action; ``severity`` orders actions (the most severe wins a verdict)."""

    reason: Reason
    detail: str | None = field(default=None, kw_only=True)
    kind: ClassVar[str] = "allow"
    severity: ClassVar[int] = 0

    @property
    def facts(self) -> tuple[str, ...]:
        return ()

    @property
    def reason_text(self) -> str:
        """The reason as stored (``missing_fact:maturity`` when there is a detail)."""
        return f"{self.reason.value}:{self.detail}" if self.detail else self.reason.value


@dataclass(frozen=True)
class Label(Action):
    """Show the item with a visible label."""

    text: str = ""
    kind: ClassVar[str] = "label"
    severity: ClassVar[int] = 1


@dataclass(frozen=True)
class Downrank(Action):
    """Multiply the item's score by ``factor`` (a number, or a ``Ref`` to a fact)."""

    factor: float | Ref = 0.5
    kind: ClassVar[str] = "downrank"
    severity: ClassVar[int] = 2

    @property
    def facts(self) -> tuple[str, ...]:
        return (self.factor.fact,) if isinstance(self.factor, Ref) else ()


@dataclass(frozen=True)
class Intervene(Action):
    """A session intervention of ``type``; ``ends_feed`` turns the feed into an end state."""

    type: str = ""
    ends_feed: bool = False
    kind: ClassVar[str] = "intervene"
    severity: ClassVar[int] = 3


@dataclass(frozen=True)
class Drop(Action):
    """Remove the item."""

    kind: ClassVar[str] = "drop"
    severity: ClassVar[int] = 4


@dataclass(frozen=True)
class Rule:
    """One declaration: ``name``, when ``when`` holds, apply ``action``.

    ``fail_closed`` forces dropping on a missing fact even in an adult policy (for rules that
    protect someone other than the viewer, like cameo consent).
    """

    name: str
    when: Condition
    action: Action
    fail_closed: bool = False
    enabled: bool = True

    @property
    def reason(self) -> Reason:
        return self.action.reason

    @cached_property
    def facts(self) -> tuple[str, ...]:
        """Every fact the rule reads (computed once: evaluation is on the request path)."""
        return tuple(dict.fromkeys((*self.when.facts, *self.action.facts)))


@dataclass(frozen=True)
class RuleResult:
    """What one rule did: its status, the action it produced (None if it did not fire)."""

    rule: str
    status: RuleStatus
    action: Action | None = None
    missing: tuple[str, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        a = self.action
        return {
            "rule": self.rule,
            "status": self.status,
            "fired": a is not None,
            "action": a.kind if a else None,
            "reason": a.reason_text if a else None,
            "missing": list(self.missing),
            "error": self.error,
        }


@dataclass(frozen=True)
class Policy:
    """An ordered rule list for one audience (like a visibilitylib SafetyLevel)."""

    name: str
    rules: tuple[Rule, ...]
    fail_closed: bool
    version: str = POLICY_VERSION

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError(f"policy {self.name} declares a rule name twice: {names}")


@dataclass(frozen=True)
class Verdict:
    """The outcome of a policy on one item: the most severe action and every rule's result."""

    policy: str
    version: str
    action: Action | None
    results: tuple[RuleResult, ...]
    factor: float = 1.0
    labels: tuple[str, ...] = ()

    @property
    def kept(self) -> bool:
        """False when the item must not be shown (a Drop, or an Intervene that ends the feed)."""
        a = self.action
        return not (isinstance(a, Drop) or (isinstance(a, Intervene) and a.ends_feed))

    @property
    def reason(self) -> str | None:
        return self.action.reason_text if self.action else None

    @property
    def fired(self) -> list[Action]:
        """Every action that fired, in policy order."""
        return [r.action for r in self.results if r.action is not None]


def _fire(rule: Rule, facts: Mapping[str, Any]) -> Action:
    a = rule.action
    if isinstance(a, Downrank) and isinstance(a.factor, Ref):
        return Downrank(a.reason, detail=a.detail, factor=float(facts[a.factor.fact]))
    return a


def evaluate(policy: Policy, facts: Mapping[str, object]) -> Verdict:
    """Run every rule of ``policy`` over ``facts``.

    Args:
        policy: the ordered rules and whether the policy fails closed.
        facts: named facts for one (viewer, item) pair or one session.

    Returns:
        The verdict: most severe action (first in policy order among equals), the product of
        downrank factors, the labels, and a ``RuleResult`` per rule.
    """
    results: list[RuleResult] = []
    best: Action | None = None
    factor, labels = 1.0, []
    for rule in policy.rules:
        if not rule.enabled:
            results.append(RuleResult(rule.name, "disabled"))
            continue
        closed = policy.fail_closed or rule.fail_closed
        missing = [n for n in rule.facts if facts.get(n) is None]
        action: Action | None = None
        if missing:
            # Teen safety fails closed: unknown is not safe.
            action = Drop(Reason.MISSING_FACT, detail=missing[0]) if closed else None
            results.append(RuleResult(rule.name, "missing_feature", action, tuple(missing)))
        else:
            try:
                action = _fire(rule, facts) if rule.when(facts) else None
                results.append(RuleResult(rule.name, "evaluated", action))
            except Exception as exc:  # noqa: BLE001 - a broken rule must not crash the feed
                action = Drop(Reason.RULE_FAILED, detail=rule.name) if closed else None
                results.append(RuleResult(rule.name, "failed", action, error=repr(exc)))
        if action is None:
            continue
        if isinstance(action, Downrank):
            factor *= float(action.factor)  # type: ignore[arg-type]
        if isinstance(action, Label):
            labels.append(action.text)
        if best is None or action.severity > best.severity:
            best = action
    return Verdict(policy.name, policy.version, best, tuple(results), factor, tuple(labels))
