"""The retention and privacy settings in effect, as the admin console shows them: read-only,
never a secret (a token is reported as set or not, nothing more)."""

from __future__ import annotations

from typing import Any

from lrs.config import Settings
from plugins.catalogue import Catalogue


def metrics_exposure(settings: Settings) -> str:
    """Where /metrics can be read: `off`, `port` (LRS_METRICS_PORT), `token` (the main port,
    behind LRS_METRICS_TOKEN) or `not served` (collected, exposed nowhere)."""
    if not settings.metrics_enabled:
        return "off"
    if settings.metrics_port is not None:
        return "port"
    return "token" if settings.metrics_token is not None else "not served"


def settings_in_effect(settings: Settings, catalogue: Catalogue) -> dict[str, Any]:
    """`{"retention", "privacy", "limits", "metrics"}` of this process."""
    return {
        "retention": {
            "default": settings.default_retention,
            "default_days": settings.retention_default_days,
            "verb_days": dict(settings.retention_verb_days),
            "catalogue_days": [
                {"kind": e.kind, "value": e.value, "name": e.name, "days": e.retention_days}
                for e in catalogue if e.retention_days is not None],
            "purge_interval_minutes": settings.purge_interval_minutes,
        },
        "privacy": {
            "suppression_threshold": settings.suppression_threshold,
            "fingerprint_days": settings.fingerprint_days,
            "day_key_grace_minutes": settings.day_key_grace_minutes,
            "tally_key_period": settings.tally_key_period,
            "differential_privacy": None if not settings.dp_enabled else {
                "epsilon": settings.dp_epsilon, "delta": settings.dp_delta,
                "budget_per_day": settings.dp_budget_per_day,
                "hits_per_bucket": settings.dp_hits_per_bucket,
                "buckets_per_learner": settings.dp_buckets_per_learner},
            "beacon_origins": list(settings.beacon_origins),
            "cors_origins": list(settings.cors_origins),
        },
        "limits": {
            "rate_limit_per_minute": settings.rate_limit_per_minute,
            "beacon_hits_per_minute": settings.beacon_hits_per_minute,
            "max_body_bytes": settings.max_body_bytes,
            "max_batch_statements": settings.max_batch_statements,
            "max_attachment_bytes": settings.max_attachment_bytes,
            "max_document_bytes": settings.max_document_bytes,
            "max_page_size": settings.max_page_size,
            "max_connections": settings.max_connections,
            "body_timeout_seconds": settings.body_timeout_seconds,
            "credential_cache_seconds": settings.credential_cache_seconds,
        },
        "metrics": {
            "enabled": settings.metrics_enabled,
            "exposure": metrics_exposure(settings),
            "port": settings.metrics_port,
            "token_set": settings.metrics_token is not None,
        },
    }
