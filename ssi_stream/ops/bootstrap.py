"""Which Kafka to talk to: the configured one, or the local broker started on demand."""

from __future__ import annotations

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker
from ssi_stream.ops.kafka_security import load_security
from ssi_stream.ops.settings import Settings, SettingsError


def resolve_bootstrap(settings: Settings) -> str:
    """`SSI_BROKER` when set; otherwise the local broker's address, starting it if needed."""
    if settings.broker:
        return settings.broker
    protocol = load_security(settings).protocol
    if protocol != "PLAINTEXT":
        raise SettingsError(
            f"SSI_BROKER is empty, which means the local broker, and it speaks PLAINTEXT, not {protocol}: "
            "set SSI_BROKER to the secured cluster's bootstrap servers"
        )
    return LocalBroker(ssi_home()).up().bootstrap
