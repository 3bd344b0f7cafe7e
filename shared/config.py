"""Settings from ICP_* environment variables.

Every knob an operator may turn lives here, so README's configuration table and the
Kubernetes ConfigMap have one source.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICES = ("filing", "importer", "verification", "reporting", "detection")
ENVIRONMENTS = ("dev", "test", "prod")
DEV_SECRET_KEY = "dev-insecure-secret-change-me"  # public: anyone can sign tokens with it
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ICP_", extra="ignore")

    env: str = Field("dev", description="dev | test | prod; test enables test-only helpers")
    database_url: str | None = Field(None, description="PostgreSQL DSN; unset → local or embedded")
    amqp_url: str | None = Field(None, description="RabbitMQ URL; unset → local or in-process")
    secret_key: str = Field(DEV_SECRET_KEY, description="HMAC key for session tokens; prod refuses the default")
    log_level: str = "info"
    log_format: str = Field("json", description="json | console")
    port: int = 8080
    host: str = "0.0.0.0"
    data_dir: str = Field(".icp", description="embedded PostgreSQL data and local files")

    # bus
    prefetch: int = Field(200, description="unacknowledged deliveries per consumer")
    consumer_batch: int = Field(100, description="deliveries handled in one database transaction")
    delivery_limit: int = Field(20, description="x-delivery-limit of each inbox queue")
    retry_delays: Annotated[list[float], NoDecode] = Field(default=[1, 5, 30, 120, 600], description="seconds between handler retries")
    outbox_batch: int = Field(500, description="messages published per relay round (confirms in flight)")
    outbox_poll_interval: float = Field(2.0, description="relay polling fallback, seconds")
    outbox_linger: float = Field(
        0.01, ge=0, le=1, description="seconds the relay waits after a wake-up so that the next commits share its round")
    outbox_linger_busy: float = Field(
        0.1, ge=0, le=1,
        description="the relay's linger under a steady flow (a round published less than this ago): fewer, larger "
                    "rounds — one run message, one delivery and transaction per consumer — for events up to this later")
    outbox_runs: bool = Field(
        True, description="the relay publishes consecutive events of a type that has an EventRun as one message")
    outbox_retention_hours: float = Field(72, description="published outbox rows are purged after this")
    inbox_retention_days: float = Field(30, description="handled message ids are kept this long for deduplication")
    metrics_interval: float = Field(15.0, gt=0, description="seconds between samples of outbox lag and queue depth")
    shutdown_grace: float = Field(20.0, description="seconds to finish in-flight work on shutdown")

    # auth
    token_ttl: int = Field(8 * 3600, description="session lifetime, seconds")
    login_max_failures: int = Field(5, ge=1, description="failed logins within login_lock_minutes that lock an account")
    login_lock_minutes: int = Field(15, ge=1, description="how long a locked account stays locked")
    captcha_ttl_seconds: int = Field(300, ge=30, description="lifetime of a login captcha")
    captcha_per_minute: int = Field(30, ge=1, description="captchas one client address may fetch per minute")
    login_address_max_failures: int = Field(
        20, ge=1, description="failed logins (and wrong old passwords) from one client address per window before 429")
    login_address_window_minutes: int = Field(15, ge=1, description="window of the per-address failure limit")
    sponsor_registrations_per_hour: int = Field(
        10, ge=1, description="self-filing sponsor registrations (自主备案账号注册) one client address may attempt per hour")

    # web security (shared/security.py)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[], description="CIDRs of proxies whose X-Forwarded-For is believed (e.g. the ingress)")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default=[], description="other origins allowed to send cookie-authenticated unsafe requests")

    gc_thresholds: str = Field(
        "10000,50,100",
        description="the servers' garbage collector thresholds (gc.set_threshold); empty = Python's 700,10,10",
    )
    reuse_port: bool = Field(False, description="bind with SO_REUSEPORT: several processes share one port (one per core)")

    # Connection budget per process (README, "Connection budget"): each service's pool keeps at most
    # `db_pool_min` connections when idle (others close after `db_pool_idle_seconds`), plus ONE
    # LISTEN connection for the whole process (shared.listener).
    db_pool_min: int = Field(1, ge=0, description="connections a service's pool keeps open when idle")
    db_pool_max: int = Field(10, ge=1, description="most connections of a service's pool")
    db_pool_idle_seconds: float = Field(
        30.0, gt=0, description="a pool connection idle this long is closed (down to db_pool_min)")
    database_direct_url: str | None = Field(
        None, description="PostgreSQL DSN for session-level work (LISTEN, migrations' advisory lock) when "
                          "ICP_DATABASE_URL goes through a transaction-mode pooler; default ICP_DATABASE_URL")
    database_pgbouncer: bool = Field(
        False, description="ICP_DATABASE_URL is a PgBouncer in transaction mode: no session settings in the "
                           "startup packet (the search_path comes from the role, named like its schema)")
    db_statement_cache_size: int = Field(
        100, ge=0, description="asyncpg prepared-statement cache per connection; 0 behind a PgBouncer older "
                               "than 1.21 or without max_prepared_statements")

    # 1.4.3: a change of a subject needs the sponsor's credentials (权限验证) also for the provider's
    # own proxy filings (代为备案), in these provinces ("*" every province, "" none; BJ or 110000 each)
    sponsor_auth_own_changes: Annotated[list[str], NoDecode] = Field(
        default=["*"], description="provinces where 变更主体 of a provider's own 代为备案 subject needs the sponsor's "
                                   "username and password ('*' all, empty none)")

    # group commit of POST /api/filing/filings (services/filing/entry/submits.py)
    submit_writers: int = Field(3, ge=1, description="batches of submits written at a time (one connection each)")
    submit_batch_max: int = Field(32, ge=1, description="most submits written in one transaction")
    submit_linger: float = Field(
        0.01, ge=0, le=0.1,
        description="under a steady flow (the previous submit came less than this ago), seconds a free writer "
                    "waits for more submits before writing (0: writes at once)")

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            return [float(x) for x in v.split(",") if x.strip()]
        return v

    @field_validator("trusted_proxies", "allowed_origins", "sponsor_auth_own_changes", mode="before")
    @classmethod
    def _split_text(cls, v):
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for x in v:
            try:
                ipaddress.ip_network(x, strict=False)
            except ValueError:
                raise ValueError(f"ICP_TRUSTED_PROXIES: {x!r} is not an IP address or CIDR network") from None
        return v

    @property
    def is_test(self) -> bool:
        return self.env == "test"


def startup_problem(settings: Settings) -> str | None:
    """Why this process must not start with these settings, or None. In prod a session token
    signed with a known or guessable key is an admin account for anyone."""
    if settings.env not in ENVIRONMENTS:
        return f"ICP_ENV={settings.env!r} is not one of {', '.join(ENVIRONMENTS)}"
    if settings.env != "prod":
        return None
    key = settings.secret_key
    if key == DEV_SECRET_KEY or not key.strip():
        why = "is not set (the development default is public)"
    elif len(key.encode()) < MIN_SECRET_BYTES:
        why = f"is shorter than {MIN_SECRET_BYTES} bytes"
    else:
        return None
    return (f"ICP_SECRET_KEY {why}: refusing to start with ICP_ENV=prod. Set ICP_SECRET_KEY to a random value of "
            f"at least {MIN_SECRET_BYTES} bytes, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")


def check_startup(settings: Settings) -> None:
    """Stop the process (SystemExit with the reason) when `startup_problem` names one."""
    problem = startup_problem(settings)
    if problem:
        raise SystemExit(problem)


@lru_cache
def get_settings() -> Settings:
    return Settings()
