"""Runtime settings, read from environment variables with the `SSI_` prefix.

Every setting has a default that works on a laptop; the README's Configuration table lists them all
(`tests/unit/ops/test_settings.py` keeps it equal to this class).
An empty `SSI_BROKER` means "use the local broker" (started on demand by `ssi-stream kafka up`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from ssi_stream.events.framing import FramingMode, SchemaRegistryFraming
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.ranking.connections import LinkLimits
from ssi_stream.timeline.policy import DedupPolicy, TimelineSettings
from ssi_stream.trend.alerts import AlertPolicy

#: Settings that must be above zero (the others may be 0).
_POSITIVE = frozenset(
    {
        "partitions",
        "replication_factor",
        "max_connections",
        "max_connection_changes_per_day",
        "max_event_bytes",
        "batch_max",
        "batch_ms",
        "shutdown_timeout_seconds",
    }
)


#: The values of SSI_EMIT.
EMIT_MODES = ("changes", "daily")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a worker, the demo or a tool needs to know about its environment."""

    broker: str = ""
    app_id: str = "ssi-stream"
    events_topic: str = "ssi.events"
    dlq_topic: str = "ssi.events.dlq"
    scores_topic: str = "ssi.scores.daily"
    #: The internal topic from the source side to the target side; empty means `<app_id>-effects`, so
    #: that it shares the app id's prefix with Faust's changelogs (one prefixed ACL; deployments on one
    #: cluster never meet).
    #: `dataclasses.replace(settings, app_id=...)` keeps a derived name: pass `effects_topic=""` with it.
    effects_topic: str = ""
    alerts_topic: str = "ssi.alerts"
    #: Where unreadable internal records go, kept whole; empty means `<app_id>-quarantine`.
    quarantine_topic: str = ""
    #: What a worker does with an internal record it cannot read (or whose signature is wrong):
    #: "quarantine" (keep it on the quarantine topic, count it, go on) or "fail" (stop the worker).
    on_unreadable: str = "quarantine"
    #: A file holding the key that signs internal records (HMAC-SHA256); empty: records are not signed.
    internal_key_file: str = ""
    #: The effects topic's frame format this worker writes (both are read): 2, or 1 while a rolling
    #: upgrade still runs workers that read only format 1 (docs/streaming.md, "Frames").
    frame_format: int = 2
    partitions: int = 8
    replication_factor: int = 1
    grace_seconds: int = 3600
    idle_close_seconds: int = 60
    session_timeout_seconds: int = 30
    #: Faust's `table_standby_replicas`: how many other workers keep a warm copy of each table partition,
    #: so that a takeover after a crash restores little instead of the whole changelog (0: none).
    standby_replicas: int = 0
    max_event_bytes: int = 65536
    #: A value framed by a Schema Registry serializer (magic byte 0, schema id): "reject" it (the default:
    #: the contract is plain JSON, and a serializer that frames may be validating against any schema),
    #: "skip" the framing and read the JSON, or "check" that the id is one of `schema_registry_ids`.
    schema_registry_framing: str = "reject"
    #: The schema ids "check" accepts, comma-separated (e.g. `7,12`).
    schema_registry_ids: str = ""
    dedup_horizon_seconds: int = 3 * 86400
    #: How late (after its own day) a redelivery is still recognised by the partitions' redelivery
    #: filters, past the exact ids (0: no filter).
    redelivery_horizon_seconds: int = 30 * 86400
    #: Connections a member holds at most, and connection changes kept per member and open day (the
    #: smallest by event time): caps decided in event time, so replay applies the same.
    max_connections: int = 30_000
    max_connection_changes_per_day: int = 2_000
    alert_threshold: int = 70
    alert_weekly_drop_points: int = 10
    #: Which score records are emitted: "changes" (a member's first scored day, days they acted, days
    #: something a record says moved) or "daily" (every member, every day).
    emit: str = "changes"
    #: Records a reader takes in one fetch at most (an equal share of it per partition with records).
    batch_max: int = 2000
    batch_ms: int = 50
    #: Member ledgers a worker keeps decoded in memory (the most recently used; ~4.7 KB each), so that
    #: members who act again soon and the daily close and rank do not decode their stored bytes each
    #: time (0: none).
    ledger_cache_members: int = 20_000
    #: How long the absorber may keep the member ledgers it changed in memory before it writes them
    #: (with the effects positions that vouch for them) to the tables: a busy member's ledger is then
    #: encoded and written once per interval, not once per batch. A crash re-reads at most this long's
    #: effects; closes, ranks and an idle reader write at once (0: after every batch).
    state_write_ms: int = 500
    model_path: str = ""
    store: str = "rocksdb://"
    data_dir: str = "./ssi-data"
    worker_id: str = "worker-1"
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    #: The URL the other workers reach this one at, to forward it requests about its members (empty:
    #: http://SSI_WEB_HOST:SSI_WEB_PORT, which is no such URL when SSI_WEB_HOST is 0.0.0.0).
    web_url: str = ""
    #: A file holding the bearer token the query API asks for (empty: the API is open).
    api_token_file: str = ""
    #: After SIGTERM, how long the worker may take to stop cleanly before it exits anyway.
    shutdown_timeout_seconds: int = 30
    # Kafka security (ssi_stream/ops/kafka_security.py): empty means "not set", i.e. PLAINTEXT, or what
    # the client properties file says. Secrets are never values here, only the files that hold them.
    kafka_security_protocol: str = ""
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password_file: str = ""
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    kafka_ssl_key_password_file: str = ""
    kafka_ssl_check_hostname: str = ""
    kafka_properties_file: str = ""

    def __post_init__(self) -> None:
        if not self.effects_topic:
            object.__setattr__(self, "effects_topic", f"{self.app_id}-effects")
        if not self.quarantine_topic:
            object.__setattr__(self, "quarantine_topic", f"{self.app_id}-quarantine")
        if self.frame_format not in (1, 2):  # checked here, not only from the environment
            raise SettingsError(f"SSI_FRAME_FORMAT must be 1 or 2, got {self.frame_format}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `SSI_<FIELD>` for every field (e.g. `SSI_PARTITIONS=12`)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            name = f"SSI_{field.name.upper()}"
            if name not in environ:
                continue
            raw = environ[name].strip()
            if field.type == "int":
                try:
                    number = int(raw)
                except ValueError:
                    raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
                if number < 0 or (number == 0 and field.name in _POSITIVE):
                    raise SettingsError(f"{name} must be positive, got {number}")
                values[field.name] = number
            else:
                values[field.name] = raw
        if values.get("on_unreadable", "quarantine") not in ("quarantine", "fail"):
            raise SettingsError(
                f"SSI_ON_UNREADABLE must be quarantine or fail, got {values['on_unreadable']!r}"
            )
        emit = values.get("emit", "changes")
        if emit not in EMIT_MODES:
            raise SettingsError(f"SSI_EMIT must be one of {', '.join(EMIT_MODES)}, got {emit!r}")
        settings = cls(**values)  # type: ignore[arg-type]
        settings.decode_limits()  # refuse an unusable framing rule now, naming its variables
        return settings

    def timeline(self) -> TimelineSettings:
        """The timeline knobs (days, lateness, dedup): the stream and replay must use the same."""
        return TimelineSettings(
            partitions=self.partitions,
            grace_seconds=self.grace_seconds,
            dedup=DedupPolicy.from_seconds(self.dedup_horizon_seconds, self.redelivery_horizon_seconds),
            alerts=AlertPolicy(float(self.alert_threshold), float(self.alert_weekly_drop_points)),
            emit=self.emit,  # type: ignore[arg-type]
            links=LinkLimits(self.max_connections, self.max_connection_changes_per_day),
        )

    def decode_limits(self) -> DecodeLimits:
        """What the decoder accepts (size, Schema Registry framing): the stream and replay use the same."""
        return DecodeLimits(max_bytes=self.max_event_bytes, framing=self.schema_registry_rule())

    def schema_registry_rule(self) -> SchemaRegistryFraming:
        """SSI_SCHEMA_REGISTRY_FRAMING and SSI_SCHEMA_REGISTRY_IDS as the decoder's framing rule."""
        modes = ", ".join(mode.value for mode in FramingMode)
        try:
            mode = FramingMode(self.schema_registry_framing)
        except ValueError:
            raise SettingsError(
                f"SSI_SCHEMA_REGISTRY_FRAMING must be one of {modes}, got {self.schema_registry_framing!r}"
            ) from None
        words = [word.strip() for word in self.schema_registry_ids.split(",") if word.strip()]
        try:
            ids = frozenset(int(word) for word in words)
        except ValueError:
            raise SettingsError(
                f"SSI_SCHEMA_REGISTRY_IDS must be schema ids separated by commas (like 7,12), "
                f"got {self.schema_registry_ids!r}"
            ) from None
        try:
            return SchemaRegistryFraming(mode, ids)
        except ValueError as exc:
            raise SettingsError(
                f"SSI_SCHEMA_REGISTRY_FRAMING={mode.value} with SSI_SCHEMA_REGISTRY_IDS="
                f"{self.schema_registry_ids!r}: {exc}"
            ) from None

    def ineffective_settings(self) -> list[str]:
        """Why a combination of settings does not do what it seems to (the worker logs each at start)."""
        found = []
        if self.standby_replicas and self.store.startswith("memory:"):
            found.append(
                "SSI_STANDBY_REPLICAS gains nothing with SSI_STORE=memory://: Faust's memory store keeps no "
                "changelog offsets, so a worker that takes a partition over restores it from the start "
                "anyway (BENCHMARKS.md, Recovery); use rocksdb:// for warm standbys"
            )
        return found

    @property
    def advertised_web_url(self) -> str:
        """`web_url`, or the URL made of the web host and port."""
        url = self.web_url or f"http://{self.web_host}:{self.web_port}"
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest.split("/")[0]:
            raise SettingsError(f"SSI_WEB_URL must be an http:// or https:// URL, got {url!r}")
        return url

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()


def env_names() -> list[str]:
    """Every environment variable ssi-stream reads for its settings."""
    return [f"SSI_{field.name.upper()}" for field in fields(Settings)]
