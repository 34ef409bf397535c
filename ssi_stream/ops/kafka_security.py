"""How every Kafka client of ssi-stream authenticates and encrypts: one `KafkaSecurity`, three mappings.

The security comes from `SSI_KAFKA_*` settings, or from a Java-style client properties file
(`SSI_KAFKA_PROPERTIES_FILE`: `security.protocol`, `sasl.mechanism`, `sasl.jaas.config`, PEM
`ssl.truststore.*` / `ssl.keystore.*`), the variables overriding the file. Secrets are read from files
only and held in `Secret`, whose repr is masked. Each client library gets its own mapping:
`kafka_python_config` (admin, tools, producers), `aiokafka_config` (the backfill consumer, benchmarks)
and `faust_credentials` (the worker's Faust app); all three share one `ssl_context`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import re
import ssl
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssi_stream.ops.settings import Settings, SettingsError

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

#: JAAS login modules ssi-stream understands, and the mechanisms each serves.
_LOGIN_MODULES = {
    "org.apache.kafka.common.security.plain.PlainLoginModule": ("PLAIN",),
    "org.apache.kafka.common.security.scram.ScramLoginModule": ("SCRAM-SHA-256", "SCRAM-SHA-512"),
}
#: Keys under these prefixes are security settings: one ssi-stream cannot honour is refused, never
#: ignored (the file's other keys, `acks`, `bootstrap.servers`, ..., are for Java clients and ignored).
_SECURITY_PREFIXES = ("security.", "sasl.", "ssl.")


class KafkaAccessError(RuntimeError):
    """The broker refused this client (credentials, TLS, authorization); the message says which and why."""


class Secret:
    """A password or private key: `reveal()` gives it to a client library; repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """What a client needs to reach a secured broker: the protocol, SASL credentials, TLS material.

    `origins` names where each value came from (a variable, or `file: key`), for error messages.
    """

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: Secret | None = None
    #: The CA certificates that sign the broker's certificate (PEM): a file, or inline PEM text.
    #: Neither: the system's default CAs.
    ssl_cafile: str = ""
    ssl_cadata: str = ""
    #: The client's own certificate chain and private key (mTLS), PEM; the key may be in the cert file.
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    #: An inline PEM private key and certificate chain (the properties file's `ssl.keystore.key` and
    #: `ssl.keystore.certificate.chain`).
    ssl_key_pem: Secret | None = None
    ssl_cert_pem: str = ""
    ssl_key_password: Secret | None = None
    #: Whether the broker's certificate must name the host it is reached at (Java's
    #: `ssl.endpoint.identification.algorithm=https`, the default).
    ssl_check_hostname: bool = True
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def has_client_certificate(self) -> bool:
        return bool(self.ssl_certfile or self.ssl_cert_pem)

    def describe(self) -> str:
        """One line for messages: protocol, mechanism and user, never a secret."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username!r}")
        if self.has_client_certificate:
            parts.append("with a client certificate")
        return " ".join(parts)

    def origin(self, name: str) -> str:
        """Where the value of field `name` came from, or the variable that would set it."""
        return self.origins.get(name) or _VARIABLES[name]


PLAINTEXT = KafkaSecurity()

#: The variable that sets each field (the properties file's keys are named in `origins` instead).
_VARIABLES = {
    "protocol": "SSI_KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "SSI_KAFKA_SASL_MECHANISM",
    "sasl_username": "SSI_KAFKA_SASL_USERNAME",
    "sasl_password": "SSI_KAFKA_SASL_PASSWORD_FILE",
    "ssl_cafile": "SSI_KAFKA_SSL_CAFILE",
    "ssl_cadata": "SSI_KAFKA_SSL_CAFILE",
    "ssl_certfile": "SSI_KAFKA_SSL_CERTFILE",
    "ssl_keyfile": "SSI_KAFKA_SSL_KEYFILE",
    "ssl_cert_pem": "SSI_KAFKA_SSL_CERTFILE",
    "ssl_key_pem": "SSI_KAFKA_SSL_KEYFILE",
    "ssl_key_password": "SSI_KAFKA_SSL_KEY_PASSWORD_FILE",
    "ssl_check_hostname": "SSI_KAFKA_SSL_CHECK_HOSTNAME",
}


# -- reading the settings ---------------------------------------------------------------------------


def load_security(settings: Settings) -> KafkaSecurity:
    """The security `settings` describe, secrets read from their files; SettingsError names what is wrong."""
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    if settings.kafka_properties_file:
        properties = read_properties(settings.kafka_properties_file, "SSI_KAFKA_PROPERTIES_FILE")
        values, origins = _from_properties(properties, settings.kafka_properties_file)

    def take(name: str, variable: str, value: object) -> None:
        values[name] = value
        origins[name] = variable

    if settings.kafka_security_protocol:
        take("protocol", "SSI_KAFKA_SECURITY_PROTOCOL", settings.kafka_security_protocol.upper())
    if settings.kafka_sasl_mechanism:
        take("sasl_mechanism", "SSI_KAFKA_SASL_MECHANISM", settings.kafka_sasl_mechanism.upper())
    if settings.kafka_sasl_username:
        take("sasl_username", "SSI_KAFKA_SASL_USERNAME", settings.kafka_sasl_username)
    if settings.kafka_sasl_password_file:
        password = read_secret(settings.kafka_sasl_password_file, "SSI_KAFKA_SASL_PASSWORD_FILE")
        take("sasl_password", "SSI_KAFKA_SASL_PASSWORD_FILE", password)
    if settings.kafka_ssl_cafile:
        values.pop("ssl_cadata", None)
        take("ssl_cafile", "SSI_KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile)
    if settings.kafka_ssl_certfile:
        values.pop("ssl_cert_pem", None)
        values.pop("ssl_key_pem", None)
        take("ssl_certfile", "SSI_KAFKA_SSL_CERTFILE", settings.kafka_ssl_certfile)
    if settings.kafka_ssl_keyfile:
        take("ssl_keyfile", "SSI_KAFKA_SSL_KEYFILE", settings.kafka_ssl_keyfile)
    if settings.kafka_ssl_key_password_file:
        password = read_secret(settings.kafka_ssl_key_password_file, "SSI_KAFKA_SSL_KEY_PASSWORD_FILE")
        take("ssl_key_password", "SSI_KAFKA_SSL_KEY_PASSWORD_FILE", password)
    if settings.kafka_ssl_check_hostname:
        take(
            "ssl_check_hostname",
            "SSI_KAFKA_SSL_CHECK_HOSTNAME",
            _boolean(settings.kafka_ssl_check_hostname, "SSI_KAFKA_SSL_CHECK_HOSTNAME"),
        )
    security = KafkaSecurity(**values, origins=origins)  # type: ignore[arg-type]
    validate(security)
    return security


def validate(security: KafkaSecurity) -> None:
    """Refuse combinations a client would reject later, or silently ignore; the message names the setting."""
    if security.protocol not in PROTOCOLS:
        raise SettingsError(
            f"{security.origin('protocol')} must be one of {', '.join(PROTOCOLS)}, got {security.protocol!r}"
        )
    if security.uses_sasl:
        if security.sasl_mechanism not in SASL_MECHANISMS:
            got = f"got {security.sasl_mechanism!r}" if security.sasl_mechanism else "it is not set"
            raise SettingsError(
                f"{security.origin('sasl_mechanism')} must be one of {', '.join(SASL_MECHANISMS)} "
                f"with {security.protocol} ({got})"
            )
        if not security.sasl_username:
            raise SettingsError(f"{security.origin('sasl_username')} must be set with {security.protocol}")
        if security.sasl_password is None:
            raise SettingsError(f"{security.origin('sasl_password')} must be set with {security.protocol}")
    else:
        for name in ("sasl_mechanism", "sasl_username", "sasl_password"):
            if getattr(security, name):
                raise SettingsError(
                    f"{security.origin(name)} is set but the security protocol is {security.protocol} "
                    "(SASL needs SASL_SSL or SASL_PLAINTEXT)"
                )
    if not security.uses_tls:
        for name in ("ssl_cafile", "ssl_cadata", "ssl_certfile", "ssl_keyfile", "ssl_key_pem"):
            if getattr(security, name):
                raise SettingsError(
                    f"{security.origin(name)} is set but the security protocol is {security.protocol} "
                    "(TLS needs SSL or SASL_SSL)"
                )
    if security.ssl_keyfile and not security.ssl_certfile:
        raise SettingsError(f"{security.origin('ssl_keyfile')} is set without SSI_KAFKA_SSL_CERTFILE")
    if security.ssl_key_password is not None and not security.has_client_certificate:
        raise SettingsError(f"{security.origin('ssl_key_password')} is set without a client key")


def read_secret(path: str, variable: str) -> Secret:
    """A secret file's content without its final newline; it must not be empty."""
    try:
        text = Path(path).expanduser().read_text()
    except OSError as exc:
        raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from None
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SettingsError(f"{variable}: {path} is empty")
    return Secret(value)


def _boolean(raw: str, variable: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{variable} must be true or false, got {raw!r}")


# -- Java client properties -------------------------------------------------------------------------

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def parse_properties(text: str) -> dict[str, str]:
    """A `java.util.Properties` text: `key=value`, `key: value` or `key value`, `#`/`!` comments,
    a backslash at the end of a line continues it, `\\uXXXX` and the usual escapes."""
    logical: list[str] = []
    pending = ""
    for raw_line in text.splitlines():
        line = raw_line.lstrip()  # leading blanks go, on continuation lines too
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd number of backslashes: the line continues
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    properties: dict[str, str] = {}
    for line in logical:
        key, value = _split_property(line)
        properties[key] = value
    return properties


def _split_property(line: str) -> tuple[str, str]:
    index = 0
    key_chars: list[str] = []
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            key_chars.append(line[index : index + 2])
            index += 2
            continue
        if char in "=: \t\f":
            break
        key_chars.append(char)
        index += 1
    rest = line[index:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape("".join(key_chars)), _unescape(rest)


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
                out.append(chr(int(text[index + 2 : index + 6], 16)))
                index += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def read_properties(path: str, variable: str) -> dict[str, str]:
    try:
        text = Path(path).expanduser().read_text()
    except OSError as exc:
        raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from None
    return parse_properties(text)


def parse_jaas(text: str, where: str) -> tuple[str, dict[str, str]]:
    """The login module class and options of a one-module `sasl.jaas.config` value."""
    match = re.fullmatch(
        r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\s*(.*?)\s*;?\s*", text, re.S
    )
    if match is None:
        raise SettingsError(f"{where}: expected '<LoginModule> required key=\"value\" ...;'")
    module, _, body = match.groups()
    options: dict[str, str] = {}
    for option in re.finditer(r'([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))', body, re.S):
        name, quoted, bare = option.groups()
        options[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return module, options


def _from_properties(properties: Mapping[str, str], path: str) -> tuple[dict[str, object], dict[str, str]]:
    """The security settings of a client properties file; unsupported security keys are refused."""
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    used: set[str] = set()

    def get(key: str) -> str | None:
        if key in properties:
            used.add(key)
            return properties[key].strip()
        return None

    def take(name: str, key: str, value: object) -> None:
        values[name] = value
        origins[name] = f"{path}: {key}"

    protocol = get("security.protocol")
    if protocol:
        take("protocol", "security.protocol", protocol.upper())
    mechanism = get("sasl.mechanism")
    if mechanism:
        take("sasl_mechanism", "sasl.mechanism", mechanism.upper())
    jaas = get("sasl.jaas.config")
    if jaas:
        where = f"{path}: sasl.jaas.config"
        module, options = parse_jaas(jaas, where)
        serves = _LOGIN_MODULES.get(module)
        if serves is None:
            raise SettingsError(
                f"{where}: {module} is not supported (PlainLoginModule and ScramLoginModule are)"
            )
        if mechanism and mechanism.upper() not in serves:
            raise SettingsError(
                f"{where}: {module.rsplit('.', 1)[-1]} does not serve sasl.mechanism={mechanism}"
            )
        if not mechanism and serves == ("PLAIN",):
            take("sasl_mechanism", "sasl.jaas.config", "PLAIN")
        for option in ("username", "password"):
            if option not in options:
                raise SettingsError(f"{where}: no {option}=")
        take("sasl_username", "sasl.jaas.config", options["username"])
        take("sasl_password", "sasl.jaas.config", Secret(options["password"]))

    for kind in ("truststore", "keystore"):
        store_type = get(f"ssl.{kind}.type")
        has_store = any(key.startswith(f"ssl.{kind}.") for key in properties)
        if has_store and (store_type or "JKS").upper() != "PEM":
            raise SettingsError(
                f"{path}: ssl.{kind}.type={store_type or 'JKS (the default)'} is not supported: "
                f"ssi-stream's Python clients read PEM (ssl.{kind}.type=PEM); convert the store, e.g. "
                "`keytool -exportcert -rfc` for certificates, `openssl pkcs12 -nodes` for a key"
            )
    for key in ("ssl.truststore.password", "ssl.keystore.password"):
        if get(key) is not None:
            raise SettingsError(
                f"{path}: {key} is not used with PEM stores (ssl.key.password is, for the key)"
            )
    location = get("ssl.truststore.location")
    if location:
        take("ssl_cafile", "ssl.truststore.location", _relative(location, path))
    certificates = get("ssl.truststore.certificates")
    if certificates:
        take(
            "ssl_cadata",
            "ssl.truststore.certificates",
            _inline_pem(certificates, path, "ssl.truststore.certificates"),
        )
    keystore = get("ssl.keystore.location")
    if keystore:
        take("ssl_certfile", "ssl.keystore.location", _relative(keystore, path))
    chain, key_pem = get("ssl.keystore.certificate.chain"), get("ssl.keystore.key")
    if bool(chain) != bool(key_pem):
        raise SettingsError(f"{path}: ssl.keystore.certificate.chain and ssl.keystore.key go together")
    if chain and key_pem:
        take(
            "ssl_cert_pem",
            "ssl.keystore.certificate.chain",
            _inline_pem(chain, path, "ssl.keystore.certificate.chain"),
        )
        take("ssl_key_pem", "ssl.keystore.key", Secret(_inline_pem(key_pem, path, "ssl.keystore.key")))
    key_password = get("ssl.key.password")
    if key_password:
        take("ssl_key_password", "ssl.key.password", Secret(key_password))
    algorithm = get("ssl.endpoint.identification.algorithm")
    if algorithm is not None:
        if algorithm.lower() not in ("", "https"):
            raise SettingsError(f"{path}: ssl.endpoint.identification.algorithm must be https or empty")
        take("ssl_check_hostname", "ssl.endpoint.identification.algorithm", algorithm.lower() == "https")

    unknown = sorted(k for k in properties if k.startswith(_SECURITY_PREFIXES) and k not in used)
    if unknown:
        raise SettingsError(
            f"{path}: {', '.join(unknown)} not supported by ssi-stream's Python clients; remove "
            "(supported: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, "
            "ssl.keystore.* in PEM, ssl.key.password, ssl.endpoint.identification.algorithm)"
        )
    return values, origins


def pem(text: str) -> str:
    """Inline PEM as OpenSSL reads it: Java accepts a block on one line (`-----BEGIN ...----- MIIC...`,
    as a properties value often is); this puts the markers and the base64 back on lines of their own."""
    blocks = re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", text, re.S)
    if not blocks:
        raise ValueError("no PEM block (-----BEGIN ...-----)")
    lines: list[str] = []
    for label, body in blocks:
        base64 = "".join(body.split())
        lines += [f"-----BEGIN {label}-----", *textwrap.wrap(base64, 64), f"-----END {label}-----"]
    return "\n".join(lines) + "\n"


def _inline_pem(text: str, path: str, key: str) -> str:
    try:
        return pem(text)
    except ValueError as exc:
        raise SettingsError(f"{path}: {key}: {exc}") from None


def _relative(location: str, properties_path: str) -> str:
    """A store path as written, relative paths taken from the properties file's directory."""
    path = Path(location).expanduser()
    return str(path if path.is_absolute() else Path(properties_path).expanduser().parent / path)


# -- one mapping per client library -----------------------------------------------------------------


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext:
    """A client TLS context: the configured CAs (else the system's), hostname check, client certificate."""
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=security.ssl_cafile or None,
            cadata=security.ssl_cadata or None,
        )
    except (OSError, ssl.SSLError) as exc:
        name = "ssl_cafile" if security.ssl_cafile else "ssl_cadata"
        where = security.ssl_cafile or "the inline certificates"
        raise SettingsError(
            f"{security.origin(name)}: cannot load CA certificates from {where}: {exc}"
        ) from None
    context.check_hostname = security.ssl_check_hostname
    password = security.ssl_key_password.reveal() if security.ssl_key_password else None
    if security.ssl_certfile:
        try:
            context.load_cert_chain(security.ssl_certfile, security.ssl_keyfile or None, password)
        except (OSError, ssl.SSLError) as exc:
            files = " and ".join(f for f in (security.ssl_certfile, security.ssl_keyfile) if f)
            raise SettingsError(
                f"{security.origin('ssl_certfile')}: cannot load the client certificate and key from "
                f"{files}: {_ssl_reason(exc)}"
            ) from None
    elif security.ssl_cert_pem and security.ssl_key_pem is not None:
        with _private_file(security.ssl_cert_pem + "\n" + security.ssl_key_pem.reveal()) as combined:
            try:
                context.load_cert_chain(combined, None, password)
            except ssl.SSLError as exc:
                raise SettingsError(
                    f"{security.origin('ssl_cert_pem')}: cannot load the inline client certificate and key: "
                    f"{_ssl_reason(exc)}"
                ) from None
    return context


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} (a wrong key password, or not a PEM certificate and key?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


@contextlib.contextmanager
def _private_file(text: str) -> Iterator[str]:
    """A file only this user can read, removed on exit: Python's ssl loads keys from files only."""
    descriptor, name = tempfile.mkstemp(prefix="ssi-kafka-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        yield name
    finally:
        os.unlink(name)


def _client_config(security: KafkaSecurity) -> dict[str, Any]:
    config: dict[str, Any] = {"security_protocol": security.protocol}
    if security.uses_tls:
        config["ssl_context"] = ssl_context(security)
    if security.uses_sasl:
        assert security.sasl_password is not None  # validate() refuses SASL without a password
        config["sasl_mechanism"] = security.sasl_mechanism
        config["sasl_plain_username"] = security.sasl_username
        config["sasl_plain_password"] = security.sasl_password.reveal()
    return config


def kafka_python_config(security: KafkaSecurity) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaAdminClient, KafkaProducer and KafkaConsumer."""
    return _client_config(security)


def aiokafka_config(security: KafkaSecurity) -> dict[str, Any]:
    """Keyword arguments for aiokafka's AIOKafkaConsumer and AIOKafkaProducer."""
    return _client_config(security)


def faust_credentials(security: KafkaSecurity) -> CredentialsT | None:
    """Faust's `broker_credentials`: SASL (over TLS or not), TLS alone (with or without a client
    certificate), or None for PLAINTEXT."""
    import faust

    if security.uses_sasl:
        assert security.sasl_password is not None
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.reveal(),
            mechanism=security.sasl_mechanism,
            ssl_context=ssl_context(security) if security.uses_tls else None,
        )
    if security.uses_tls:
        return faust.SSLCredentials(ssl_context(security))
    return None


# -- clear errors -----------------------------------------------------------------------------------


def check_access(bootstrap: str, security: KafkaSecurity, *, timeout: float = 10.0) -> None:
    """Connect to the first bootstrap server that answers, with TLS and SASL as `security` says; a
    refusal raises KafkaAccessError at once, naming the setting to fix.

    kafka-python retries a refused login until its bootstrap timeout (30 s) and then only says it could
    not bootstrap; one aiokafka connection tells why within a second.
    """
    import aiokafka.errors
    from aiokafka.conn import create_conn

    async def connect(host: str, port: int) -> None:
        connection = await create_conn(
            host,
            port,
            client_id="ssi-stream-check",
            request_timeout_ms=int(timeout * 1000),
            **aiokafka_config(security),
        )
        connection.close()

    failures: list[str] = []
    for server in _servers(bootstrap):
        host, _, port = server.rpartition(":")
        try:
            _run(asyncio.wait_for(connect(host, int(port)), timeout))
            return
        except aiokafka.errors.SaslAuthenticationFailed as exc:
            raise KafkaAccessError(
                f"Kafka at {server} refused the login of {security.sasl_username!r} "
                f"({security.sasl_mechanism}): {exc.args[0] if exc.args else exc}; check "
                f"{security.origin('sasl_username')} and {security.origin('sasl_password')}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise KafkaAccessError(f"Kafka at {server}: {_untrusted(exc, security)}") from None
        except (aiokafka.errors.KafkaConnectionError, OSError, TimeoutError) as exc:
            failures.append(f"{server}: {_connection_failure(exc, security)}")
    raise KafkaAccessError(f"cannot reach Kafka with {security.describe()}: {'; '.join(failures)}")


def _untrusted(exc: ssl.SSLCertVerificationError, security: KafkaSecurity) -> str:
    reason = exc.verify_message or str(exc)
    if "mismatch" in reason.lower() or "hostname" in reason.lower():
        return (
            f"its TLS certificate does not name the address it was reached at ({reason}); connect by a "
            f"name the certificate holds, or set {security.origin('ssl_check_hostname')}=false"
        )
    trusted = security.ssl_cafile or (
        "the inline certificates" if security.ssl_cadata else "the system's CAs"
    )
    return (
        f"its TLS certificate is not trusted by {trusted} ({reason}); set "
        f"{security.origin('ssl_cafile')} to the CA certificate (PEM) that signs it"
    )


def _connection_failure(exc: BaseException, security: KafkaSecurity) -> str:
    """Why a connection failed, in words, with the setting that probably fixes it."""
    cause = exc.__cause__ or exc.__context__
    alert = str(cause).lower() if isinstance(cause, ssl.SSLError) else ""
    if "bad certificate" in alert or "certificate required" in alert:
        sent = "its client certificate was refused" if security.has_client_certificate else "none was sent"
        return (
            f"the broker requires a client certificate signed by a CA it trusts ({sent}); set "
            f"{security.origin('ssl_certfile')} and {security.origin('ssl_keyfile')}"
        )
    if isinstance(exc, TimeoutError):
        hint = " (a TLS client at a plaintext listener waits like this)" if security.uses_tls else ""
        return f"no answer{hint}"
    if not security.uses_tls and isinstance(cause, asyncio.IncompleteReadError):
        return (
            "the broker closed the connection: it probably expects TLS, and the security protocol is "
            f"{security.protocol} ({security.origin('protocol')})"
        )
    detail = exc if isinstance(exc, ssl.SSLError) else cause
    if isinstance(detail, ssl.SSLError):
        return f"TLS handshake failed ({detail}); is this listener {security.protocol}?"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _servers(bootstrap: str) -> list[str]:
    return [server.strip() for server in bootstrap.split(",") if server.strip()]


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextlib.contextmanager
def kafka_errors(bootstrap: str, security: KafkaSecurity, doing: str) -> Iterator[None]:
    """Turn kafka-python's authorization failures into one actionable line (what was refused, to whom)."""
    from kafka.errors import AuthorizationError

    try:
        yield
    except AuthorizationError as exc:
        who = f"user {security.sasl_username!r}" if security.uses_sasl else "this client"
        raise KafkaAccessError(
            f"Kafka at {bootstrap} refused {doing} to {who}: {type(exc).__name__} "
            "(docs/deploying.md lists the ACLs ssi-stream needs)"
        ) from None


# -- clients of the tools (kafka-python) ------------------------------------------------------------


def admin_client(bootstrap: str, security: KafkaSecurity, **options: Any) -> KafkaAdminClient:
    """A kafka-python KafkaAdminClient with `security`, after `check_access`."""
    from kafka import KafkaAdminClient

    check_access(bootstrap, security)
    options.setdefault("client_id", "ssi-stream-admin")
    return KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_python_config(security), **options)


def kafka_producer(bootstrap: str, security: KafkaSecurity, **options: Any) -> KafkaProducer:
    """A kafka-python KafkaProducer with `security`, after `check_access`."""
    from kafka import KafkaProducer

    check_access(bootstrap, security)
    return KafkaProducer(bootstrap_servers=bootstrap, **kafka_python_config(security), **options)


def kafka_consumer(bootstrap: str, security: KafkaSecurity, *topics: str, **options: Any) -> KafkaConsumer:
    """A kafka-python KafkaConsumer with `security`, after `check_access`."""
    from kafka import KafkaConsumer

    check_access(bootstrap, security)
    return KafkaConsumer(*topics, bootstrap_servers=bootstrap, **kafka_python_config(security), **options)


__all__ = [
    "PLAINTEXT",
    "PROTOCOLS",
    "SASL_MECHANISMS",
    "KafkaAccessError",
    "KafkaSecurity",
    "Secret",
    "admin_client",
    "aiokafka_config",
    "check_access",
    "faust_credentials",
    "kafka_consumer",
    "kafka_errors",
    "kafka_producer",
    "kafka_python_config",
    "load_security",
    "parse_jaas",
    "parse_properties",
    "ssl_context",
]
