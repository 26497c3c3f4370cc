"""The server's one settings object, read from ``TWIN_*`` environment variables.

Libraries (``ifc_processing``, ``geodata``) never read the environment; only the
server does, here, once. Everything has an embedded default (SQLite, local files,
in-process jobs) so ``make run`` needs no configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.kpis import Dimension, HealthPolicy, Weights

__all__ = ["DEVELOPMENT_SECRET", "Settings"]

#: The secret used when none is configured. Accepted only in development mode: anyone
#: who knows it can forge tokens.
DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Server configuration. Every field can be set as ``TWIN_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", env_file=".env", extra="ignore")

    # Development mode allows the default secret and cookies without HTTPS.
    development: bool = False
    # Local folder for the SQLite database, blobs, queue and scratch files.
    data_dir: Path = Path("data")
    # SQLAlchemy URL, e.g. postgresql+psycopg://twin@127.0.0.1/twin. Default: SQLite in data_dir.
    database_url: str | None = None
    # embedded: SQLite queue consumed inside the server process; redis: separate `twin worker`
    # processes consume from Redis; immediate: jobs run synchronously (tests).
    queue: Literal["embedded", "redis", "immediate"] = "embedded"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Name of the job queue: deployments sharing one Redis need different names.
    queue_name: str = Field("erji-twin", min_length=1, max_length=64)
    # Signs bearer tokens and session cookies.
    secret_key: str = DEVELOPMENT_SECRET
    # Largest accepted IFC upload, in bytes.
    max_upload_bytes: int = Field(2 * 1024**3, gt=0)
    # Largest accepted body of any other request (JSON, forms), in bytes.
    max_request_bytes: int = Field(1024 * 1024, gt=0)
    # Lifetime of bearer tokens and browser sessions, in minutes.
    access_token_minutes: int = Field(8 * 60, gt=0)
    # Failed log-ins allowed per user name and per client address within the window (s).
    login_max_failures: int = Field(5, gt=0)
    login_window_seconds: int = Field(15 * 60, gt=0)
    # A running job whose heartbeat is older than this (s) is taken for dead and retried.
    job_lease_seconds: float = Field(60.0, gt=0)
    # Attempts per processing job before it fails for good.
    job_max_attempts: int = Field(3, gt=0)
    # Geometry processes per job (default: one per core).
    geometry_workers: int | None = Field(None, ge=0)
    # How long a process trusts a cached user or project scope (s): permission changes
    # made in another process take up to this long to apply.
    cache_seconds: float = Field(10.0, ge=0)
    # How often (s) every project's KPIs and alerts are evaluated, besides after each change.
    evaluation_interval_seconds: float = Field(600.0, gt=0)
    # How long (s) a rendered portfolio summary may be served again while nothing it shows
    # has changed (any KPI, alert or organisation change shows at once); a safety net
    # against clocks that disagree between server processes.
    portfolio_cache_seconds: float = Field(600.0, ge=0)
    # Sensors: raw readings are kept this many days (older ones are refused on arrival and
    # pruned), their minute and hour aggregates this many (minutes only as long as the raw
    # readings they are made from); and the most readings one HTTP batch may carry.
    sensor_retention_days: float = Field(90.0, gt=0)
    sensor_aggregate_retention_days: float = Field(730.0, gt=0)
    sensor_batch_max: int = Field(10_000, gt=0)
    # Sensors over MQTT, for `twin mqtt-bridge` (a process of its own: the server never needs
    # a broker, readings always come in over HTTP too). The broker: mqtt://host:port, or
    # mqtts:// for TLS, with user:password@ before the host when it asks. The bridge's client
    # id, under which the broker keeps its session (messages sent while the bridge restarts
    # wait for it): one bridge per id. The topics' first level(s): {prefix}/{project}/{point}.
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_client_id: str = Field("erji-twin-bridge", min_length=1, max_length=128)
    mqtt_topic_prefix: str = Field(
        "twin", min_length=1, max_length=64, pattern=r"^[^/+#\x00-\x1f\x7f]+(/[^/+#\x00-\x1f\x7f]+)*$"
    )
    # Project health: the weight of each dimension in the composite score (JSON in the
    # environment, e.g. TWIN_HEALTH_WEIGHTS='{"schedule":30,"quality":25,"safety":30,"other":15}'),
    # and which dimensions count towards the traffic light and the score (e.g. leave out
    # "other" while no site has sensors). A change applies to months not yet frozen.
    health_weights: dict[Dimension, float] = Field(
        default_factory=lambda: {d: Weights().of(d) for d in Dimension}
    )
    health_dimensions: list[Dimension] = Field(default_factory=lambda: list(Dimension), min_length=1)
    # A Chinese TrueType font (.ttf/.ttc with glyf outlines) for printed notices; default:
    # the first one found on the host (fonts-wqy-zenhei on Debian).
    report_font_path: Path | None = None
    # The HQ map draws an offline base map and asks nothing of any other host. An XYZ tile
    # URL template here (https://…/{z}/{x}/{y}.png, or a path on this site such as
    # /tiles/{z}/{x}/{y}.png) adds a tile layer over it, which every browser opening the map
    # then loads; map_tile_datum is the datum the tiles are drawn in (AMap and Tencent:
    # gcj02, Baidu-style: bd09, OpenStreetMap and most others: wgs84), which the sites are
    # then shifted to so they sit on the tiles.
    map_tile_url: str | None = None
    map_tile_datum: Literal["wgs84", "gcj02", "bd09"] = "gcj02"

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://", "/")) or any(
            f"{{{part}}}" not in value for part in "zxy"
        ):
            raise ValueError(
                "TWIN_MAP_TILE_URL must be an http(s) URL or a path on this site with {z}, {x} and {y}, "
                "e.g. https://tiles.example.cn/{z}/{x}/{y}.png"
            )
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        scheme, _, rest = value.strip().partition("://")
        if scheme.lower() not in ("mqtt", "mqtts", "tcp", "ssl") or not rest.strip("/"):
            raise ValueError(
                "TWIN_MQTT_URL must be mqtt://host[:port] or mqtts://host[:port], e.g. mqtt://127.0.0.1:1883"
            )
        return value.strip()

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if not self.development and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "TWIN_SECRET_KEY is not set: refusing to start with the development secret outside "
                "development mode (set TWIN_SECRET_KEY, or TWIN_DEVELOPMENT=1 on a workstation)"
            )
        if len(self.secret_key) < 16:
            raise ValueError("TWIN_SECRET_KEY must be at least 16 characters")
        try:
            policy = self.health_policy
            policy.health({})  # refuses weights that add up to nothing
        except ValueError as exc:
            raise ValueError(f"TWIN_HEALTH_WEIGHTS / TWIN_HEALTH_DIMENSIONS: {exc}") from None
        return self

    @property
    def health_policy(self) -> HealthPolicy:
        """The health rules of this deployment (weights not given keep their defaults)."""
        defaults = Weights()
        weights = Weights(**{d.value: self.health_weights.get(d, defaults.of(d)) for d in Dimension})
        return HealthPolicy(weights=weights, counted=frozenset(self.health_dimensions))

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/twin.db`` (SQLite)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'twin.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def work_dir(self) -> Path:
        """Scratch space for uploads in flight and processing outputs."""
        return self.data_dir / "work"
