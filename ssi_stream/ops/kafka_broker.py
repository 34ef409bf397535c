"""A single-node KRaft Kafka broker on 127.0.0.1, managed from Python.

One instance directory holds everything about one broker: `server.properties`, its data,
`broker.log` and `state.json` (bootstrap address, pid, log path). `up` is idempotent and
restarts a broker that crashed, keeping its data; `status` checks the process and asks the
broker for metadata, so it tells the truth even when `state.json` is stale.

By default clients speak PLAINTEXT. With `SecureListeners` the broker serves clients over TLS only
(SASL_SSL with PLAIN and SCRAM users, and SSL with client certificates) and authorizes them with ACLs:
the tests of ssi-stream's Kafka security run against it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ssi_stream.ops.file_lock import exclusive
from ssi_stream.ops.kafka_dist import KAFKA_VERSION, KafkaDist, KafkaSetupError, install_kafka, java_path
from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, Secret, kafka_python_config

HOST = "127.0.0.1"
#: A small heap and the serial collector suit a 2-core CI machine; raise for real loads.
JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

_LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.controller=WARN
"""


@dataclass(frozen=True, slots=True)
class BrokerState:
    """What `state.json` records about a started broker."""

    bootstrap: str
    port: int
    controller_port: int
    pid: int
    log_path: str
    data_dir: str
    kafka_version: str
    started_at: str
    #: With `SecureListeners`: the SASL_SSL address is `bootstrap`; this is the mTLS (SSL) one.
    tls_bootstrap: str = ""
    tls_port: int = 0


@dataclass(frozen=True, slots=True)
class SecureListeners:
    """Clients over TLS only: SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and SSL with a client
    certificate required; ACLs authorize every principal but the super user (`StandardAuthorizer`).

    The broker's key and certificate are a PKCS12 keystore; `ca_file` (PEM) is the CA that signs it
    and the client certificates. `users` (name -> password) can log in with each mechanism; the broker
    itself logs in as `super_user`. A client certificate's principal is its CN (`User:<CN>`).
    """

    keystore: Path
    keystore_password: str
    ca_file: Path
    users: Mapping[str, str]
    super_user: str = "admin"
    inter_broker_mechanism: str = "SCRAM-SHA-512"

    def client(self, user: str | None = None, mechanism: str | None = None) -> KafkaSecurity:
        """The security of a SASL_SSL client logged in as `user` (the super user by default)."""
        user = user or self.super_user
        return KafkaSecurity(
            protocol="SASL_SSL",
            sasl_mechanism=mechanism or self.inter_broker_mechanism,
            sasl_username=user,
            sasl_password=Secret(self.users[user]),
            ssl_cafile=str(self.ca_file),
        )

    def server_properties(self, port: int, tls_port: int, controller_port: int) -> dict[str, str]:
        """The listener, TLS, SASL and authorizer part of `server.properties`."""
        admin = self.super_user
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.users.items())
        login = f'username="{admin}" password="{self.users[admin]}"'
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required"
        plain = "org.apache.kafka.common.security.plain.PlainLoginModule required"
        return {
            "listeners": (
                f"SASL_SSL://{HOST}:{port},SSL://{HOST}:{tls_port},CONTROLLER://{HOST}:{controller_port}"
            ),
            "advertised.listeners": f"SASL_SSL://{HOST}:{port},SSL://{HOST}:{tls_port}",
            "inter.broker.listener.name": "SASL_SSL",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol": self.inter_broker_mechanism,
            "listener.name.sasl_ssl.plain.sasl.jaas.config": f"{plain} {login} {plain_users};",
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": f"{scram} {login};",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": f"{scram} {login};",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.keystore),
            "ssl.keystore.password": self.keystore_password,
            "ssl.key.password": self.keystore_password,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            "listener.name.ssl.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # The controller listener is PLAINTEXT on 127.0.0.1: the broker reaches it as ANONYMOUS.
            "super.users": f"User:{admin};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        }

    def __post_init__(self) -> None:
        if self.super_user not in self.users:
            raise ValueError(f"the super user {self.super_user!r} must be one of the users")
        for name, password in self.users.items():  # they are written into JAAS and StorageTool syntax
            if not re.fullmatch(r"[\w.-]+", name) or not re.fullmatch(r"[\w.-]+", password):
                raise ValueError("user names and passwords of a test broker: letters, digits, '.', '-', '_'")

    def scram_arguments(self) -> list[str]:
        """StorageTool `format` arguments that create every user's SCRAM credentials in the metadata log."""
        arguments: list[str] = []
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            for name, password in self.users.items():
                arguments += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
        return arguments


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """The truth about an instance: running and answering, or why not."""

    running: bool
    detail: str
    state: BrokerState | None = None


class LocalBroker:
    """Lifecycle of the broker whose files live in `instance_dir`; Kafka is cached under `home`."""

    def __init__(
        self, home: Path, instance_dir: Path | None = None, *, secure: SecureListeners | None = None
    ) -> None:
        self.home = home
        self.instance_dir = instance_dir or home / "broker"
        self.secure = secure
        #: How this manager's own probes reach the broker (the super user, with `secure`).
        self.probe_security = secure.client() if secure is not None else PLAINTEXT
        self.state_path = self.instance_dir / "state.json"
        self.log_path = self.instance_dir / "broker.log"
        self.data_dir = self.instance_dir / "data"

    # -- queries ---------------------------------------------------------------------------
    def read_state(self) -> BrokerState | None:
        try:
            return BrokerState(**json.loads(self.state_path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise KafkaSetupError(
                f"{self.state_path} is not a broker state file ({exc}); "
                "remove it and run `ssi-stream kafka up`"
            ) from exc

    def status(self, *, timeout: float = 5.0) -> BrokerStatus:
        state = self.read_state()
        if state is None:
            return BrokerStatus(False, "not started (no state file)")
        if not self._owns_process(state.pid):
            return BrokerStatus(
                False, f"stale state: broker process {state.pid} is gone (crashed or killed)", state
            )
        if not answers_metadata(state.bootstrap, timeout=timeout, security=self.probe_security):
            return BrokerStatus(
                False, f"process {state.pid} is alive but {state.bootstrap} does not answer", state
            )
        return BrokerStatus(True, f"running at {state.bootstrap} (pid {state.pid})", state)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def start_failure_report(self, lines: int = 30) -> str:
        """The log of the latest start: its ERROR/FATAL lines first, then its last lines."""
        text = self.log_tail(100_000)
        latest = text.rsplit("==== ssi-stream: starting Kafka", 1)[-1].splitlines()
        errors = [line for line in latest if " ERROR " in line or " FATAL " in line or "Exception" in line]
        parts = []
        if errors:
            parts.append("errors:\n" + "\n".join(errors[:15]))
        parts.append(f"last lines of {self.log_path}:\n" + "\n".join(latest[-lines:]))
        return "\n".join(parts)

    # -- lifecycle -------------------------------------------------------------------------
    def up(self, *, port: int | None = None, timeout: float = 90.0) -> BrokerState:
        """Start the broker unless it already runs; return its state. Idempotent."""
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            current = self.status()
            if current.running and current.state is not None:
                if port is not None and port != current.state.port:
                    raise KafkaSetupError(
                        f"a broker already runs at {current.state.bootstrap}; "
                        f"stop it (`ssi-stream kafka down`) to start one on port {port}"
                    )
                return current.state
            previous = current.state
            if previous is not None and self._owns_process(previous.pid):
                self._terminate(previous.pid, timeout=15.0)  # alive but not answering: restart it
            dist = install_kafka(self.home)
            broker_port, controller_port = self._choose_ports(port, previous)
            tls_port = 0
            if self.secure is not None:
                tls_port = self._tls_port(previous, exclude={broker_port, controller_port})
            self._write_config(broker_port, controller_port, tls_port)
            self._format_storage(dist)
            return self._start(dist, broker_port, controller_port, tls_port, timeout)

    def down(self, *, timeout: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after `timeout`); False if none was running."""
        with self._lock():
            state = self.read_state()
            if state is None:
                return False
            was_running = self._owns_process(state.pid)
            if was_running:
                self._terminate(state.pid, timeout=timeout)
            self.state_path.unlink(missing_ok=True)
            return was_running

    # -- internals -------------------------------------------------------------------------
    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return exclusive(self.instance_dir / ".lock")

    def _owns_process(self, pid: int) -> bool:
        """True if `pid` is alive and is this instance's Kafka (not a recycled pid)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return False
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        return b"kafka.Kafka" in cmdline and str(self.instance_dir).encode() in cmdline

    def _choose_ports(self, port: int | None, previous: BrokerState | None) -> tuple[int, int]:
        if port is not None:
            if not port_is_free(port):
                raise KafkaSetupError(f"port {port} on {HOST} is already in use: choose another with --port")
            return port, free_port(exclude={port})
        if previous is not None:
            # Keep the bootstrap address stable across restarts: a killed broker's ports can take a
            # moment to be released, so wait a little before giving up on them.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if port_is_free(previous.port) and port_is_free(previous.controller_port):
                    return previous.port, previous.controller_port
                time.sleep(0.25)
        broker_port = free_port()
        return broker_port, free_port(exclude={broker_port})

    def _tls_port(self, previous: BrokerState | None, *, exclude: set[int]) -> int:
        if previous is not None and previous.tls_port and port_is_free(previous.tls_port):
            return previous.tls_port
        return free_port(exclude=exclude)

    def _write_config(self, port: int, controller_port: int, tls_port: int = 0) -> None:
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            # Transactions (exactly-once producers) on a single node:
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "group.initial.rebalance.delay.ms": "0",
            # The compacting cleaner reserves 128 MiB of heap by default; a test broker needs little.
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
            "log.cleaner.threads": "1",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.hours": "168",
        }
        if self.secure is not None:
            properties.update(self.secure.server_properties(port, tls_port, controller_port))
        text = "".join(f"{key}={value}\n" for key, value in properties.items())
        (self.instance_dir / "server.properties").write_text(text)
        (self.instance_dir / "log4j.properties").write_text(_LOG4J)

    def _java_command(self, dist: KafkaDist, main_class: str, *args: str) -> list[str]:
        return [
            java_path(),
            *JVM_OPTIONS,
            f"-Dlog4j.configuration=file:{self.instance_dir / 'log4j.properties'}",
            "-cp",
            dist.classpath,
            main_class,
            *args,
        ]

    def _format_storage(self, dist: KafkaDist) -> None:
        if (self.data_dir / "meta.properties").is_file():
            return  # formatted before: a restart keeps its topics and offsets
        cluster_id = self._run_tool(dist, "random-uuid").strip().splitlines()[-1]
        scram = self.secure.scram_arguments() if self.secure is not None else []
        config = str(self.instance_dir / "server.properties")
        self._run_tool(dist, "format", "-t", cluster_id, "-c", config, *scram)

    def _run_tool(self, dist: KafkaDist, *args: str) -> str:
        command = self._java_command(dist, "kafka.tools.StorageTool", *args)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise KafkaSetupError(f"kafka StorageTool {args[0]} failed: {result.stderr.strip()[-2000:]}")
        return result.stdout

    def _start(
        self, dist: KafkaDist, port: int, controller_port: int, tls_port: int, timeout: float
    ) -> BrokerState:
        command = self._java_command(dist, "kafka.Kafka", str(self.instance_dir / "server.properties"))
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== ssi-stream: starting Kafka {dist.version} at {_now()} ====\n".encode())
            log.flush()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the command that started it
            )
        bootstrap = f"{HOST}:{port}"
        state = BrokerState(
            bootstrap=bootstrap,
            port=port,
            controller_port=controller_port,
            pid=process.pid,
            log_path=str(self.log_path),
            data_dir=str(self.data_dir),
            kafka_version=dist.version,
            started_at=_now(),
            tls_bootstrap=f"{HOST}:{tls_port}" if tls_port else "",
            tls_port=tls_port,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise KafkaSetupError(
                    f"the Kafka broker exited at start (code {process.returncode}); "
                    f"{self.start_failure_report()}"
                )
            if answers_metadata(bootstrap, timeout=2.0, security=self.probe_security):
                tmp = self.state_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
                tmp.replace(self.state_path)
                return state
            time.sleep(0.3)
        report = self.start_failure_report()
        self._terminate(process.pid, timeout=10.0)
        raise KafkaSetupError(
            f"the Kafka broker did not answer at {bootstrap} within {timeout:.0f}s; {report}"
        )

    def _terminate(self, pid: int, *, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._owns_process(pid):
                _reap(pid)
                return
            _reap(pid)
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            _reap(pid)
            if not self._owns_process(pid):
                return
            time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect an exited child so it does not linger as a zombie (no-op for non-children)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def free_port(exclude: set[int] | None = None, host: str = HOST) -> int:
    """A port nobody listens on right now (the OS picks it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if not exclude or port not in exclude:
            return port


def answers_metadata(bootstrap: str, *, timeout: float = 5.0, security: KafkaSecurity = PLAINTEXT) -> bool:
    """True if a broker at `bootstrap` answers a metadata request within `timeout` seconds."""
    from kafka import KafkaAdminClient  # deferred: importing kafka-python costs ~0.2 s
    from kafka.errors import KafkaError

    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 2.0)):
            pass
    except OSError:
        return False
    client = None
    try:
        client = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout * 1000),
            bootstrap_timeout_ms=int(timeout * 1000),  # kafka-python retries a refused login for 30 s
            client_id="ssi-stream-probe",
            **kafka_python_config(security),
        )
        client.describe_cluster()
        return True
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


__all__ = [
    "KAFKA_VERSION",
    "BrokerState",
    "BrokerStatus",
    "KafkaSetupError",
    "LocalBroker",
    "SecureListeners",
    "answers_metadata",
    "free_port",
    "port_is_free",
]
