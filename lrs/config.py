"""The one Settings class: every option, read from `LRS_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from aggregation.privacy import Privacy
from lrs.credentials import Scope
from statements.completion import Period
from statements.versions import XapiVersion


class MachineClient(BaseModel):
    """What an OAuth 2.0 client of the identity provider may do with its bearer tokens."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The name the audit log and request log show.")
    scopes: list[Scope] = Field(description="Scopes, as a credential's (statements/write, ...).")
    retention: Literal["full", "tally"] = "tally"


RoleName = Literal["admin", "compliance", "analyst", "learner",
                   "manager"]  # lrs.people.Role's values
_DEFAULT_ROLE_MAP: dict[str, RoleName] = {"admin": "admin", "compliance": "compliance",
                                          "analyst": "analyst", "learner": "learner",
                                          "manager": "manager"}


class Settings(BaseSettings):
    """Configuration of one LRS process. Built once (by the CLI) and passed down."""

    model_config = SettingsConfigDict(env_prefix="LRS_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address `lrs serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port `lrs serve` listens on.")
    workers: int = Field(1, ge=1, description="Number of uvicorn worker processes.")
    data_dir: Path = Field(Path("data"), description="Directory for the embedded store.")
    store: str | None = Field(
        None,
        description="Store URL: sqlite:///path/to/file.db or mongodb://…; "
        "default sqlite:///<data_dir>/lrs.db.",
    )
    mongodb_database: str = Field(
        "lrs", description="MongoDB database name, when the store URL does not name one."
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL",
        description="SQLite durability: NORMAL survives process crashes, FULL also power loss.",
    )
    default_retention: Literal["full", "tally", "drop"] = Field(
        "tally", description="The retention chain's last word, when no rule decided "
        "(docs/architecture.md §3).",
    )
    retention_verb_days: dict[str, PositiveInt] = Field(
        {}, description="Retention period in days of kept statements by verb IRI, when their "
        "catalogue entry sets none (docs/retention.md). JSON object in the environment.",
    )
    retention_default_days: int | None = Field(
        None, ge=1, description="Retention period in days of the other kept statements; "
        "unset keeps them for ever.",
    )
    purge_interval_minutes: float = Field(
        0, ge=0, description="Run the retention purge every this many minutes while serving; "
        "0 (the default) leaves it to `lrs purge`.",
    )
    fingerprint_days: int = Field(
        30, ge=1, description="Days a tallied statement's fingerprint is kept, so a retried "
        "POST is not counted twice.",
    )
    day_key_grace_minutes: int = Field(
        60, ge=0, le=720, description="Minutes after UTC midnight before the closed key "
        "period's learner-hash key is destroyed (late statements still count as learners).",
    )
    tally_key_period: Literal["day", "week", "month"] = Field(
        "day", description="Lifetime of the key that hashes learners for the unique sketches: "
        "a UTC day, an ISO week (Monday to Sunday) or a calendar month. The key is destroyed "
        "when its period closes, so unique learners are true uniques within one period and "
        "person-periods across periods; a longer period keeps a person linkable (while the "
        "key lives) for longer (docs/lite-tracking.md).",
    )
    dp_enabled: bool = Field(
        False, description="Differential privacy on the aggregates: contributions bounded at "
        "ingest, each closed day's figures released once with calibrated noise (OpenDP), a "
        "privacy budget per day (docs/lite-tracking.md). Off: exact figures under the "
        "threshold k.",
    )
    dp_epsilon: float = Field(
        1.0, gt=0, description="Epsilon spent by one release (one closed day's figures of one "
        "query and filter combination) when LRS_DP_ENABLED.",
    )
    dp_delta: float = Field(
        1e-6, gt=0, lt=1e-3, description="Delta of the noisy threshold that hides which "
        "activities, verbs or platforms were hit at all, when LRS_DP_ENABLED.",
    )
    dp_budget_per_day: float = Field(
        10.0, gt=0, description="Total epsilon the releases of one closed day may spend; a "
        "query that would spend more is answered 409 unless its figures are released already.",
    )
    dp_hits_per_bucket: int = Field(
        3, ge=1, description="Most hits one learner adds to one activity per key period when "
        "LRS_DP_ENABLED; more are counted as clipped.",
    )
    dp_buckets_per_learner: int = Field(
        5, ge=1, description="Most activities one learner adds hits to per key period when "
        "LRS_DP_ENABLED; hits on more are counted as clipped.",
    )
    suppression_threshold: int = Field(
        5, ge=1, description="Aggregate figures below this are reported as 'fewer than k'.",
    )
    catalogue_refresh_seconds: float = Field(
        2.0, ge=0, description="How often a process rereads the compliance catalogue.",
    )
    compliance_expiring_within: str = Field(
        "P30D", description="A completion of a catalogue entry with a validity period is "
        "reported `expiring` this long before it expires, unless the entry says otherwise "
        "(`warn_before`): an ISO 8601 period of years, months, weeks or days (P30D, P2M).",
    )
    beacon_origins: list[str] = Field(
        [], description="Origins (scheme://host[:port]) whose pages may send beacon hits "
        "without credentials. JSON list in the environment.",
    )
    beacon_hits_per_minute: int = Field(
        600, ge=1, description="Beacon hits one sender (credential or origin) may send a minute.",
    )
    profiles: list[str] = Field(
        [], description="xAPI Profiles the door checks statements against, for credentials "
        "whose `profiles` check is flag or reject (docs/profiles.md): JSON-LD files, "
        "directories of them (*.jsonld, *.json) or http(s) URLs, fetched at start-up and "
        "cached in <data_dir>/profiles. JSON list in the environment.",
    )
    profiles_require_category: bool = Field(
        True, description="Check a statement against a profile only when its category "
        "context activities name the profile or one of its versions (xAPI Profiles Part Two "
        "§8); false: against every statement matching a template's determining properties.",
    )
    profiles_fetch_timeout_seconds: float = Field(
        10.0, gt=0, description="How long fetching one profile or extension schema URL may "
        "take at start-up before the cached copy is used.",
    )
    base_path: str = Field("/xapi", description="Path prefix of the xAPI resources.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The LRS's public base URL; homePage of the credentials' authority accounts.",
    )
    default_xapi_version: XapiVersion = Field(
        XapiVersion.V2,
        description="Version answered to requests without a usable X-Experience-API-Version.",
    )
    cors_origins: list[str] = Field(
        ["*"], description="Origins whose browser content may call the LRS (CORS); [\"*\"] for "
        "any. JSON list in the environment, e.g. '[\"https://intranet.example.com\"]'.",
    )
    max_body_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest request body accepted (else 413)."
    )
    max_batch_statements: int = Field(
        10_000, ge=1, description="Most statements in one POST (else 413)."
    )
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, ge=0, description="Most attachment bytes in one multipart statement "
        "request, on top of LRS_MAX_BODY_BYTES for its statements part (else 413)."
    )
    max_document_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest state or profile document accepted "
        "(else 413)."
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, description="Time allowed to receive a whole request body; a slower "
        "body is answered 408 (slow-loris defence)."
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests one credential may make a minute, bursts up to the "
        "same; past it 429 with Retry-After. 0: no limit."
    )
    max_connections: int = Field(
        1000, ge=1, description="Most concurrent connections per worker; more are answered "
        "503 by uvicorn (bounds memory under a flood)."
    )
    max_page_size: int = Field(
        500, ge=1, description="Most statements in one GET page (`limit=0` means this)."
    )
    credential_cache_seconds: float = Field(
        10.0, ge=0, description="How long a verified secret is remembered (and a revoked "
        "credential may still work in a running process)."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level of the server."
    )
    metrics_enabled: bool = Field(
        True, description="Collect Prometheus metrics, served at /metrics only behind "
        "LRS_METRICS_TOKEN or on LRS_METRICS_PORT (neither set: not served)."
    )
    metrics_token: SecretStr | None = Field(
        None, description="If set, /metrics is served on the LRS's port (and the metrics "
        "port) to requests with `Authorization: Bearer <token>` only; unset, /metrics is not "
        "served on the LRS's port."
    )
    ready_timeout_seconds: float = Field(
        2.0, gt=0, description="How long /health/ready waits for the store before answering 503."
    )
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="If set, /metrics is served on this port (same "
        "host, any path) instead of the LRS's port. Needs LRS_WORKERS=1."
    )
    graceful_timeout_seconds: int = Field(
        20, ge=1, description="On SIGTERM, how long requests in flight may take to finish "
        "before they are cancelled and the store is closed; keep it below the orchestrator's "
        "kill delay."
    )

    oidc_issuer: str | None = Field(
        None, description="OpenID Connect issuer URL of the organisation's identity provider "
        "(its discovery document is <issuer>/.well-known/openid-configuration); unset: no "
        "sign-in, no bearer tokens (docs/sign-in.md).",
    )
    oidc_client_id: str | None = Field(None, description="The LRS's client id at the issuer.")
    oidc_client_secret: SecretStr | None = Field(
        None, description="The LRS's client secret at the issuer (a confidential client)."
    )
    oidc_scopes: str = Field(
        "openid email profile", description="Scopes asked for at sign-in, space-separated."
    )
    oidc_roles_claim: str = Field(
        "groups", description="The ID token claim whose values (a list or a string) map to "
        "roles through LRS_OIDC_ROLE_MAP.",
    )
    oidc_role_map: dict[str, RoleName] = Field(
        _DEFAULT_ROLE_MAP, description="Claim value -> role (admin, compliance, analyst, "
        "learner, manager); other values are ignored. JSON object in the environment.",
    )
    # Objectives and frameworks (docs/personal-space.md)
    oidc_groups_claim: str = Field(
        "groups", description="The ID token claim whose values (a list or a string) are the "
        "person's groups, to which frameworks of objectives are assigned.",
    )
    oidc_agent_mapping: Literal["mbox", "account"] = Field(
        "mbox", description="A learner's xAPI agent: `mbox` from the email claim, or `account` "
        "with LRS_OIDC_AGENT_HOMEPAGE and the claim LRS_OIDC_AGENT_NAME_CLAIM.",
    )
    oidc_agent_homepage: str | None = Field(
        None, description="homePage of a learner's account agent (mapping `account`).",
    )
    oidc_agent_name_claim: str = Field(
        "preferred_username", description="The claim giving a learner's account name "
        "(mapping `account`).",
    )
    oidc_audience: str | None = Field(
        None, description="The audience (`aud`) a bearer access token must carry; unset: "
        "bearer tokens are refused.",
    )
    oidc_machine_clients: dict[str, MachineClient] = Field(
        {}, description="OAuth 2.0 clients whose bearer tokens the xAPI API accepts: client id "
        "-> {\"name\", \"scopes\": [...], \"retention\": \"full\"|\"tally\"}. JSON in "
        "the environment.",
    )
    session_secret: SecretStr | None = Field(
        None, description="Signs the session and CSRF cookies; required with LRS_OIDC_ISSUER, "
        "the same in every worker (e.g. `openssl rand -hex 32`).",
    )
    session_idle_seconds: int = Field(
        30 * 60, ge=1, description="A signed-in session ends after this long without a request."
    )
    session_lifetime_seconds: int = Field(
        12 * 3600, ge=1, description="A signed-in session ends this long after sign-in, "
        "whatever its use.",
    )
    dev_sign_in: bool = Field(
        False, description="Local development without an identity provider: /sign-in offers a "
        "form to sign in as anyone with any role. Refused when LRS_PUBLIC_URL is https.",
    )

    forwarding_enabled: bool = Field(
        True, description="Run the forwarding delivery worker in each process "
        "(docs/forwarding.md); rules still write outbox items when off.",
    )
    forwarding_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle delivery worker looks for due outbox items."
    )
    forwarding_batch_size: int = Field(
        100, ge=1, le=1000, description="Outbox items a worker leases and sends per batch."
    )
    forwarding_lease_seconds: float = Field(
        60.0, gt=0, description="How long a leased item is held by its worker before another "
        "may take it; keep it above LRS_FORWARDING_TIMEOUT_SECONDS.",
    )
    forwarding_timeout_seconds: float = Field(
        10.0, gt=0, description="Time allowed for one delivery request to a destination."
    )
    forwarding_max_attempts: int = Field(
        10, ge=1, description="Failed attempts after which an item goes to the dead letters."
    )
    forwarding_backoff_seconds: float = Field(
        2.0, gt=0, description="Delay before the first retry; doubled each attempt, with "
        "jitter (a random 50-100% of it).",
    )
    forwarding_backoff_max_seconds: float = Field(
        600.0, gt=0, description="The longest delay between two attempts."
    )
    forwarding_rules_refresh_seconds: float = Field(
        5.0, ge=0, description="How long a process keeps the forwarding rules it read before "
        "reading them again (a change made through another process shows after this).",
    )

    # The learner's own space (lrs/space, docs/personal-space.md).
    space_key: SecretStr | None = Field(
        None, description="The secret the spaces' key-encryption key is derived from (at least "
        "32 characters, e.g. `openssl rand -hex 32`); unset: made once into "
        "<data_dir>/space.key (mode 0600). Set it, the same everywhere, when several hosts "
        "share a MongoDB store.", min_length=32,
    )
    space_unlock_idle_seconds: int = Field(
        15 * 60, ge=1, description="A sealed space unlocked in a session locks again after "
        "this long without use (and at sign-out).",
    )
    space_file_max_bytes: int = Field(
        5 * 1024 * 1024, ge=1, le=12 * 1024 * 1024, description="The largest file a learner "
        "may attach to an entry of their space.",
    )
    space_entries_max: int = Field(
        2000, ge=1, description="The most entries one learner's space may hold.",
    )

    @field_validator("compliance_expiring_within")
    @classmethod
    def _a_period(cls, value: str) -> str:
        Period.parse(value)  # its ValueError names what is accepted
        return value

    @model_validator(mode="after")
    def _sign_in_is_safe(self) -> Settings:
        if self.dev_sign_in and self.public_url.lower().startswith("https:"):
            raise ValueError("LRS_DEV_SIGN_IN lets anyone sign in as anyone: it is refused "
                             "when LRS_PUBLIC_URL is https (a deployment)")
        if self.dev_sign_in and self.session_secret is None and self.workers > 1:
            raise ValueError("LRS_DEV_SIGN_IN with LRS_WORKERS > 1 needs LRS_SESSION_SECRET "
                             "(else each worker signs its own cookies)")
        if self.oidc_issuer is not None:
            missing = [name for name, value in (("LRS_OIDC_CLIENT_ID", self.oidc_client_id),
                                                ("LRS_SESSION_SECRET", self.session_secret))
                       if value is None]
            if missing:
                raise ValueError(f"LRS_OIDC_ISSUER needs {' and '.join(missing)}")
        if self.oidc_agent_mapping == "account" and not self.oidc_agent_homepage:
            raise ValueError("LRS_OIDC_AGENT_MAPPING=account needs LRS_OIDC_AGENT_HOMEPAGE")
        return self

    def privacy(self) -> Privacy | None:
        """The differential privacy configured, or None when it is off."""
        if not self.dp_enabled:
            return None
        return Privacy(self.dp_epsilon, self.dp_delta, self.dp_budget_per_day,
                       self.dp_hits_per_bucket, self.dp_buckets_per_learner)

    def sign_in_enabled(self) -> bool:
        """Whether people can sign in (an identity provider is configured, or dev mode)."""
        return self.oidc_issuer is not None or self.dev_sign_in

    @model_validator(mode="after")
    def _metrics_port_is_free(self) -> Settings:
        # Each worker process has its own registry; only one of them could bind the port.
        if self.metrics_port is not None and (self.workers != 1 or self.metrics_port
                                              == self.port):
            raise ValueError("LRS_METRICS_PORT needs LRS_WORKERS=1 and a port other than "
                             "LRS_PORT")
        return self

    def store_url(self) -> str:
        """The store URL, defaulting to an SQLite file inside the data directory."""
        return self.store or f"sqlite:///{(self.data_dir / 'lrs.db').as_posix()}"
