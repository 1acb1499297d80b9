"""The JSON shape of the privacy report (format version 1), for the OpenAPI document and the
tests: new facts may be added to it, none removed or renamed within a format version."""

from __future__ import annotations

from typing import Any, Final

_STR: Final = {"type": "string"}
_STR_OR_NULL: Final = {"type": ["string", "null"]}
_COUNT: Final = {"type": "integer", "minimum": 0}
_STRINGS: Final = {"type": "array", "items": _STR}


def _object(properties: dict[str, Any], *, extra: bool = True) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties,
            "additionalProperties": extra}


def _rows(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": _object(properties)}


REPORT_SCHEMA: Final[dict[str, Any]] = _object({
    "format_version": {"const": 1},
    "generated_at": {"type": "string", "format": "date-time"},
    "storage": _object({"engine": _STR, "location": _STR, "database": _STR_OR_NULL,
                        "data_dir": _STR, "request_log": _STR}),
    "kept_in_full": _object({
        "retention_chain": _STRINGS,
        "server_default": {"enum": ["full", "tally", "drop"]},
        "credential_defaults": _object({"full": _COUNT, "tally": _COUNT,
                                        "bound_to_a_person": _COUNT, "revoked": _COUNT}),
        "machine_client_defaults": _object({"full": _COUNT, "tally": _COUNT}),
        "catalogue_entries": {"type": "object", "additionalProperties": _COUNT},
        "retention_periods": _rows({"class": _STR, "name": _STR_OR_NULL,
                                    "days": {"type": ["integer", "null"], "minimum": 1}}),
        "purge_interval_minutes": {"type": "number", "minimum": 0},
    }),
    "tally": _object({
        "fields": _rows({"name": _STR, "holds": _STR}),
        "fingerprint_days": _COUNT,
        "unique_learners": _object({
            "sketch": _STR, "registers": _COUNT, "standard_error": {"type": "number"},
            "hash": _STR, "key_bytes": _COUNT, "key_period": _STR,
            "key_destroyed_minutes_after_period": _COUNT, "across_periods": _STR}),
        "suppression_threshold": _COUNT,
        "threshold_kind": {"enum": ["fixed k", "noisy threshold (differential privacy)"]},
        "differential_privacy": {"type": ["object", "null"], "description":
                                 "The dp_* settings in effect; null without the feature"},
    }),
    "key_lifetimes": _rows({"key": _STR, "links": _STR, "lifetime": _STR}),
    "sign_in": _object({"enabled": {"type": "boolean"}, "issuer": _STR_OR_NULL,
                        "dev_sign_in": {"type": "boolean"}, "roles_claim": _STR,
                        "agent_mapping": _STR, "session_idle_seconds": _COUNT,
                        "session_lifetime_seconds": _COUNT}),
    "access_by_role": _rows({"role": _STR, "claim_values": _STRINGS, "scopes": _STRINGS,
                             "reads": _STR}),
    "erasure": _object({"erased": _STRINGS, "audit_subject": _STR, "limits": _STRINGS}),
    "purposes": _rows({"purpose": _STR, "active": {"type": "boolean"}}),
    "risks": _STRINGS,
    "data_subjects": _STRINGS,
    "data_categories": _STRINGS,
    "forwarding": {"oneOf": [{"type": "null"}, _object({
        "settings": {"type": "object"},
        "destinations": _rows({"name": _STR, "kind": _STR, "host": _STR}),
        "rules": _rows({"destination": _STR, "decision": _STR})})],
        "description": "null in a version without forwarding"},
    "metrics_exposure": _STR,
    "to_complete_by_hand": _STRINGS,
})
