"""The risk model as the workspace shows it: champion, challenger and the journal of moves
for everyone; promotion and rollback for admins, through the same steps as ``model promote``
and ``model rollback`` (``pipeline.model_ops``: a promotion is judged on the challenger's
shadow days, a forced one and a rollback need a reason; every move is journalled with who)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cachetools import TTLCache, cached

from analytics_platform.config import Settings
from analytics_platform.pipeline import model_ops


def status(settings: Settings, network: str) -> dict[str, Any]:
    settings.network(network)
    registry = model_ops.registry_of(settings)
    return {
        "champion": registry.version_of(network, "champion"),
        "challenger": registry.version_of(network, "challenger"),
        "journal": [asdict(m) for m in reversed(registry.journal(network))],
    }


@cached(TTLCache(maxsize=64, ttl=30), key=lambda settings, network: (str(settings.home), network))
def has_champion(settings: Settings, network: str) -> bool:
    """Whether a champion scores ``network``'s addresses (asked of the registry at most every
    30 s: the queue shows it on every load)."""
    return model_ops.registry_of(settings).version_of(network, "champion") is not None


def move(settings: Settings, network: str, move: str, by: str, reason: str, force: bool) -> str:
    """``promote`` or ``rollback`` (``force`` counts for a promotion only); what was done."""
    if move == "promote":
        return promote(settings, network, by, reason, force)
    return rollback(settings, network, by, reason)


def promote(settings: Settings, network: str, by: str, reason: str, force: bool) -> str:
    """Promote the challenger (``PermissionError`` when it did not earn it, unforced)."""
    settings.network(network)
    version, judged = model_ops.promote(settings, network, by=by, reason=reason, force=force)
    detail = f" (shadow days {judged.days}, recall in budget {judged.recall})" if judged else ""
    return f"version {version} is the champion{detail}"


def rollback(settings: Settings, network: str, by: str, reason: str) -> str:
    settings.network(network)
    before, after = model_ops.rollback(settings, network, by=by, reason=reason)
    return f"champion back from version {before} to {after}"
