"""ssi-stream's Kafka clients over TLS and SASL, against a real broker that accepts nothing else.

A second local broker (KRaft, 127.0.0.1, certificates made here with keytool) serves SASL_SSL (PLAIN,
SCRAM-SHA-256, SCRAM-SHA-512) and SSL with a client certificate required, and authorizes every
principal but its super user with ACLs. A worker runs on it as a user holding exactly the ACLs
docs/deploying.md lists, and must emit what `ssi-stream replay` writes for the same log.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
)

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import BrokerState, LocalBroker, SecureListeners
from ssi_stream.ops.kafka_security import KafkaAccessError, KafkaSecurity, admin_client, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import TopicSpec, ensure_topics, partition_counts
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.backfill import Backfill
from ssi_stream.stream.producer import produce_events
from tests.support.certificates import TlsFiles, make_certificates

from .streaming import StreamEnv, Worker, collect_scores, read_topic, replay_outputs, running

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(240)]

DEPLOYING = Path(__file__).parents[2] / "docs" / "deploying.md"
ADMIN, WORKER_USER = "admin", "ssi"
PASSWORDS = {ADMIN: "admin-secret-7", WORKER_USER: "worker-secret-7"}


@dataclass(frozen=True)
class SecureKafka:
    state: BrokerState
    listeners: SecureListeners
    certificates: TlsFiles
    directory: Path

    @property
    def bootstrap(self) -> str:
        return self.state.bootstrap

    def admin(self) -> KafkaSecurity:
        return self.listeners.client()

    def secret_file(self, name: str, text: str) -> Path:
        path = self.directory / name
        path.write_text(text + "\n")
        path.chmod(0o600)
        return path


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    directory = tmp_path_factory.mktemp("secure-kafka")
    # The client certificate is the super user's: mTLS is proven on the admin path, ACLs on the worker.
    certificates = make_certificates(directory / "tls", client_name=ADMIN)
    listeners = SecureListeners(
        keystore=certificates.broker_keystore,
        keystore_password=certificates.password,
        ca_file=certificates.ca_pem,
        users=PASSWORDS,
        super_user=ADMIN,
    )
    broker = LocalBroker(ssi_home(), directory / "broker", secure=listeners)
    state = broker.up(timeout=120)
    try:
        yield SecureKafka(state, listeners, certificates, directory)
    finally:
        broker.down()


def documented_acls(principal: str, names: dict[str, str]) -> list[ACL]:
    """The ACL table of docs/deploying.md ("Kafka ACLs"), its placeholders replaced by `names`."""
    text = DEPLOYING.read_text()
    section = text[text.index("### Kafka ACLs") :]
    section = section[: section.index("\n#", 1)]
    acls: list[ACL] = []
    rows = re.findall(r"^\| (Topic|Group) \| (literal|prefixed) \| ([^|]+) \| ([^|]+) \|", section, re.M)
    assert rows, "docs/deploying.md has no ACL table"
    for resource, pattern, cell, operations in rows:
        for placeholder in re.findall(r"`([^`]+)`", cell):
            name = re.sub(r"<(SSI_\w+)>", lambda m: names[m.group(1)], placeholder)
            for operation in operations.split(","):
                acls.append(
                    ACL(
                        principal=principal,
                        host="*",
                        operation=ACLOperation[operation.strip().upper().replace(" ", "_")],
                        permission_type=ACLPermissionType.ALLOW,
                        resource_pattern=ResourcePattern(
                            ResourceType[resource.upper()], name, ACLResourcePatternType[pattern.upper()]
                        ),
                    )
                )
    return acls


def test_a_worker_with_only_the_documented_acls_scores_over_sasl_ssl(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    env = StreamEnv(secure_kafka.bootstrap, partitions=2, idle_close_seconds=4)
    keyed = list(iter_encoded(SimulationConfig(members=40, days=4, seed=3, invalid_rate=0.01)))
    records, dead_letters, _ = replay_outputs(keyed, env.timeline())
    expected = {(r["member_id"], r["date"]): r for r in records}
    assert expected and dead_letters

    worker_env = env.worker_env(tmp_path / "data", "w1")
    del worker_env["SSI_EFFECTS_TOPIC"]  # the default: <SSI_APP_ID>-effects, under the app's ACL prefix
    password = secure_kafka.secret_file("worker-password", PASSWORDS[WORKER_USER])
    worker_env |= {
        "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "SSI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "SSI_KAFKA_SASL_USERNAME": WORKER_USER,
        "SSI_KAFKA_SASL_PASSWORD_FILE": str(password),
        "SSI_KAFKA_SSL_CAFILE": str(secure_kafka.certificates.ca_pem),
    }
    settings = Settings.from_env({k: v for k, v in worker_env.items() if k.startswith("SSI_")})
    assert settings.effects_topic == f"{settings.app_id}-effects"
    assert PASSWORDS[WORKER_USER] not in repr(settings) + repr(load_security(settings))

    # The platform team's part, as the super user: the public topics, and the worker's ACLs.
    admin = secure_kafka.admin()
    public = [settings.events_topic, settings.scores_topic, settings.dlq_topic, settings.alerts_topic]
    ensure_topics(env.bootstrap, [TopicSpec(name, env.partitions) for name in public], security=admin)
    names = {
        f"SSI_{field.upper()}": getattr(settings, field)
        for field in ("app_id", "events_topic", "scores_topic", "dlq_topic", "alerts_topic")
    }
    client = admin_client(env.bootstrap, admin)
    try:
        result = client.create_acls(documented_acls(f"User:{WORKER_USER}", names))
        assert not result["failed"], result["failed"]
    finally:
        client.close()

    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        produce_events(env.bootstrap, env.events_topic, keyed, security=admin)  # an upstream producer
        streamed = collect_scores(
            env.bootstrap, env.scores_topic, len(expected), timeout=120, workers=(worker,), security=admin
        )
        streamed_dead = read_topic(
            env.bootstrap, env.dlq_topic, len(dead_letters), timeout=30, security=admin
        )
    assert streamed == expected
    assert len(streamed_dead) == len(dead_letters)
    log = worker.log_path.read_text()
    assert PASSWORDS[WORKER_USER] not in log
    assert "could not commit" not in log, "the worker could not commit to its ingest group"
    # It created its internal topics under the prefix, and nothing else.
    internal = [
        settings.effects_topic,
        *(f"{settings.app_id}-{t}-changelog" for t in ("members", "source-clocks", "close-gates")),
    ]
    assert partition_counts(env.bootstrap, internal, security=admin) == dict.fromkeys(
        internal, env.partitions
    )


def client_security(secure_kafka: SecureKafka, way: str) -> KafkaSecurity:
    """The super user's security, configured the way a deployment would: variables or a properties file."""
    certificates = secure_kafka.certificates
    ca = str(certificates.ca_pem)
    if way == "SCRAM-SHA-256 variables":
        password = secure_kafka.secret_file("admin-password", PASSWORDS[ADMIN])
        environ = {
            "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "SSI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
            "SSI_KAFKA_SASL_USERNAME": ADMIN,
            "SSI_KAFKA_SASL_PASSWORD_FILE": str(password),
            "SSI_KAFKA_SSL_CAFILE": ca,
        }
    elif way == "PLAIN properties":
        properties = secure_kafka.secret_file(
            "plain.properties",
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
            f'    username="{ADMIN}" password="{PASSWORDS[ADMIN]}";\n'
            f"ssl.truststore.type=PEM\nssl.truststore.location={ca}\nacks=all\n",
        )
        environ = {"SSI_KAFKA_PROPERTIES_FILE": str(properties)}
    elif way == "mTLS properties":
        if certificates.client_key is None:
            pytest.skip("openssl is needed to take the client's key out of its PKCS12 store")
        keystore = secure_kafka.directory / "client-keystore.pem"  # Kafka's PEM keystore: key and chain
        keystore.write_text(certificates.client_key.read_text() + certificates.client_cert.read_text())
        properties = secure_kafka.secret_file(
            "mtls.properties",
            "security.protocol=SSL\nssl.truststore.type=PEM\n"
            f"ssl.truststore.certificates={' '.join(certificates.ca_pem.read_text().splitlines())}\n"
            f"ssl.keystore.type=PEM\nssl.keystore.location={keystore}\n",
        )
        environ = {"SSI_KAFKA_PROPERTIES_FILE": str(properties)}
    elif way == "mTLS variables, encrypted key":
        if certificates.client_key_encrypted is None:
            pytest.skip("openssl is needed to take the client's key out of its PKCS12 store")
        password = secure_kafka.secret_file("key-password", certificates.password)
        environ = {
            "SSI_KAFKA_SECURITY_PROTOCOL": "SSL",
            "SSI_KAFKA_SSL_CAFILE": ca,
            "SSI_KAFKA_SSL_CERTFILE": str(certificates.client_cert),
            "SSI_KAFKA_SSL_KEYFILE": str(certificates.client_key_encrypted),
            "SSI_KAFKA_SSL_KEY_PASSWORD_FILE": str(password),
        }
    else:
        raise AssertionError(way)
    return load_security(Settings.from_env(environ))


WAYS = ["SCRAM-SHA-256 variables", "PLAIN properties", "mTLS properties", "mTLS variables, encrypted key"]


@pytest.mark.parametrize("way", WAYS)
def test_admin_producer_and_consumers_reach_the_broker_every_way(secure_kafka: SecureKafka, way: str) -> None:
    security = client_security(secure_kafka, way)
    bootstrap = secure_kafka.state.tls_bootstrap if security.protocol == "SSL" else secure_kafka.bootstrap
    topic = f"security.{re.sub(r'[^a-z0-9]+', '-', way.lower())}"
    ensure_topics(bootstrap, [TopicSpec(topic, 1)], security=security)  # kafka-python admin
    keyed = [(f"m{n}", f'{{"n": {n}}}'.encode()) for n in range(5)]
    assert produce_events(bootstrap, topic, keyed, security=security) == 5  # kafka-python producer
    assert [r["n"] for r in read_topic(bootstrap, topic, 5, timeout=20, security=security)] == list(range(5))

    async def backfill() -> list[bytes]:  # aiokafka, as the worker's side consumer
        reader = Backfill(bootstrap, security)
        try:
            return [record.value for record in await reader.read(topic, 0, 1, 4)]
        finally:
            await reader.stop()

    assert asyncio.run(backfill()) == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']


def test_a_wrong_password_stops_the_worker_with_one_line_naming_the_settings(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    wrong = secure_kafka.secret_file("wrong-password", "not-the-password")
    env = {
        **os.environ,
        "SSI_BROKER": secure_kafka.bootstrap,
        "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "SSI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "SSI_KAFKA_SASL_USERNAME": WORKER_USER,
        "SSI_KAFKA_SASL_PASSWORD_FILE": str(wrong),
        "SSI_KAFKA_SSL_CAFILE": str(secure_kafka.certificates.ca_pem),
        "SSI_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "ssi_stream.cli", "worker"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"ssi-stream worker: Kafka at {secure_kafka.bootstrap} refused the login of 'ssi'"
    )
    assert "SSI_KAFKA_SASL_USERNAME and SSI_KAFKA_SASL_PASSWORD_FILE" in lines[0]
    assert "not-the-password" not in result.stderr + result.stdout


def test_an_untrusted_certificate_or_the_wrong_protocol_is_one_line_naming_the_setting(
    secure_kafka: SecureKafka,
) -> None:
    trusted = secure_kafka.admin()
    untrusted = replace(trusted, ssl_cafile="")  # the system's CAs do not know the test CA
    with pytest.raises(KafkaAccessError, match=r"not trusted .*set SSI_KAFKA_SSL_CAFILE"):
        ensure_topics(secure_kafka.bootstrap, [], security=untrusted)
    with pytest.raises(KafkaAccessError, match=r"expects TLS.*PLAINTEXT \(SSI_KAFKA_SECURITY_PROTOCOL\)"):
        ensure_topics(secure_kafka.bootstrap, [])
    no_certificate = KafkaSecurity("SSL", ssl_cafile=trusted.ssl_cafile)
    with pytest.raises(KafkaAccessError, match=r"requires a client certificate .*SSI_KAFKA_SSL_CERTFILE"):
        ensure_topics(secure_kafka.state.tls_bootstrap, [], security=no_certificate)


def test_a_user_without_acls_gets_one_line_naming_what_was_refused(secure_kafka: SecureKafka) -> None:
    worker = secure_kafka.listeners.client(WORKER_USER)  # its ACLs do not cover this topic
    with pytest.raises(KafkaAccessError, match=r"refused creating topics to user 'ssi'.*docs/deploying.md"):
        ensure_topics(secure_kafka.bootstrap, [TopicSpec("not-granted.topic", 1)], security=worker)


def test_a_worker_refuses_a_new_effects_topic_under_tables_that_remember_the_old_one(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    """An upgrade from `ssi.effects` that forgets SSI_EFFECTS_TOPIC would skip every new effect: refused."""
    admin = secure_kafka.admin()
    app = f"upgraded-{tmp_path.name[-12:].replace('_', '-')}"
    gates = f"{app}-close-gates-changelog"  # what a worker of the old release left behind
    ensure_topics(secure_kafka.bootstrap, [TopicSpec(gates, 2), TopicSpec("ssi.effects", 2)], security=admin)
    produce_events(secure_kafka.bootstrap, gates, [("position:0", b"\x00" * 8)], security=admin)
    password = secure_kafka.secret_file("admin-password", PASSWORDS[ADMIN])
    env = {
        **os.environ,
        "SSI_BROKER": secure_kafka.bootstrap,
        "SSI_APP_ID": app,
        "SSI_PARTITIONS": "2",
        "SSI_STORE": "memory://",
        "SSI_DATA_DIR": str(tmp_path),
        "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "SSI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "SSI_KAFKA_SASL_USERNAME": ADMIN,
        "SSI_KAFKA_SASL_PASSWORD_FILE": str(password),
        "SSI_KAFKA_SSL_CAFILE": str(secure_kafka.certificates.ca_pem),
    }
    command = [sys.executable, "-m", "ssi_stream.cli", "worker"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"the effects topic {app}-effects does not exist, but the tables of {app} ({gates})" in lines[0]
    assert "SSI_EFFECTS_TOPIC" in lines[0] and "ssi.effects, which this cluster has" in lines[0]
    assert f"{app}-effects" not in partition_counts(
        secure_kafka.bootstrap, [f"{app}-effects"], security=admin
    )
