"""The Kafka security mapping: settings and properties files in, each client library's arguments out.

No broker here: tests/integration/test_kafka_security.py proves the same mappings against a real
SASL_SSL / mTLS broker. These pin the parsing, the precedence, the refusals and that no secret leaks.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from ssi_stream.cli import main
from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.kafka_security import (
    PLAINTEXT,
    KafkaAccessError,
    KafkaSecurity,
    Secret,
    aiokafka_config,
    check_access,
    faust_credentials,
    kafka_python_config,
    load_security,
    parse_jaas,
    parse_properties,
    pem,
)
from ssi_stream.ops.settings import Settings, SettingsError

PASSWORD = "s3cr3t-Pa55"


def secret_file(tmp_path: Path, text: str = PASSWORD, name: str = "password") -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def security_from(environ: dict[str, str]) -> KafkaSecurity:
    return load_security(Settings.from_env(environ))


def sasl_ssl(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "SSI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "SSI_KAFKA_SASL_USERNAME": "ssi-stream",
        "SSI_KAFKA_SASL_PASSWORD_FILE": secret_file(tmp_path),
        **extra,
    }


# -- settings -----------------------------------------------------------------------------------------


def test_no_security_setting_means_plaintext() -> None:
    assert security_from({}) == PLAINTEXT
    assert kafka_python_config(PLAINTEXT) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(PLAINTEXT) is None


def test_sasl_ssl_from_variables_reads_the_password_file_without_its_newline(tmp_path: Path) -> None:
    security = security_from(sasl_ssl(tmp_path))
    assert (security.protocol, security.sasl_mechanism, security.sasl_username) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
        "ssi-stream",
    )
    assert security.sasl_password is not None and security.sasl_password.reveal() == PASSWORD
    assert security.ssl_check_hostname and not security.ssl_cafile  # the system's CAs, hostname checked


def test_no_secret_shows_in_a_repr_a_str_or_the_faust_credentials(tmp_path: Path) -> None:
    security = security_from(sasl_ssl(tmp_path))
    assert PASSWORD not in repr(security) + str(security) + security.describe()
    assert PASSWORD not in repr(Settings.from_env(sasl_ssl(tmp_path)))  # settings hold file names only
    assert repr(Secret(PASSWORD)) == str(Secret(PASSWORD)) == "Secret('********')"
    assert PASSWORD not in repr(faust_credentials(security))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"SSI_KAFKA_SECURITY_PROTOCOL": "TLS"},
            r"SSI_KAFKA_SECURITY_PROTOCOL must be one of PLAINTEXT, SSL",
        ),
        ({"SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, r"SSI_KAFKA_SASL_MECHANISM must be one of .*not set"),
        (
            {"SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "SSI_KAFKA_SASL_MECHANISM": "GSSAPI"},
            r"SSI_KAFKA_SASL_MECHANISM must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
        ),
        (
            {"SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "SSI_KAFKA_SASL_MECHANISM": "PLAIN"},
            r"SSI_KAFKA_SASL_USERNAME must be set with SASL_SSL",
        ),
        (
            {
                "SSI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "SSI_KAFKA_SASL_MECHANISM": "PLAIN",
                "SSI_KAFKA_SASL_USERNAME": "u",
            },
            r"SSI_KAFKA_SASL_PASSWORD_FILE must be set with SASL_SSL",
        ),
        (
            {"SSI_KAFKA_SSL_CAFILE": "/ca.pem"},
            r"SSI_KAFKA_SSL_CAFILE is set but the security protocol is PLAINTEXT",
        ),
        ({"SSI_KAFKA_SASL_USERNAME": "u"}, r"SSI_KAFKA_SASL_USERNAME is set but .* PLAINTEXT"),
        (
            {"SSI_KAFKA_SECURITY_PROTOCOL": "SSL", "SSI_KAFKA_SSL_KEYFILE": "/k.pem"},
            r"SSI_KAFKA_SSL_KEYFILE is set without SSI_KAFKA_SSL_CERTFILE",
        ),
        ({"SSI_KAFKA_SSL_CHECK_HOSTNAME": "maybe"}, r"SSI_KAFKA_SSL_CHECK_HOSTNAME must be true or false"),
        (
            {"SSI_KAFKA_SASL_PASSWORD_FILE": "/no/such/file"},
            r"SSI_KAFKA_SASL_PASSWORD_FILE: cannot read /no/such/file",
        ),
        ({"SSI_KAFKA_PROPERTIES_FILE": "/no/such.properties"}, r"SSI_KAFKA_PROPERTIES_FILE: cannot read"),
    ],
)
def test_unusable_security_settings_are_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        security_from(environ)


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"SSI_KAFKA_SASL_PASSWORD_FILE: .* is empty"):
        security_from(sasl_ssl(tmp_path, SSI_KAFKA_SASL_PASSWORD_FILE=secret_file(tmp_path, "", "empty")))


def test_a_secured_protocol_without_a_broker_does_not_start_the_plaintext_local_broker(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingsError, match=r"SSI_BROKER is empty.*PLAINTEXT, not SASL_SSL"):
        resolve_bootstrap(Settings.from_env(sasl_ssl(tmp_path)))


# -- the client properties file -----------------------------------------------------------------------


def test_java_properties_syntax() -> None:
    text = (
        "# a comment\n! another\n\n"
        "a=1\n b : 2\nc 3\n"
        "long=first \\\n    second\n"
        "escaped\\=key=tab\\there\\u0041\n"
        "empty=\n"
    )
    assert parse_properties(text) == {
        "a": "1",
        "b": "2",
        "c": "3",
        "long": "first second",
        "escaped=key": "tab\thereA",
        "empty": "",
    }


def test_jaas_options_quoted_or_bare_with_escapes() -> None:
    module, options = parse_jaas(
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="a b" '
        'password="p\\"w;x" tokenauth=false;',
        "here",
    )
    assert module.endswith("ScramLoginModule")
    assert options == {"username": "a b", "password": 'p"w;x', "tokenauth": "false"}


def write(tmp_path: Path, text: str, name: str = "client.properties") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


JAAS_PLAIN = (
    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
    f'  username="svc" password="{PASSWORD}";\n'
)


def test_a_confluent_style_properties_file_gives_sasl_ssl_plain_and_ignores_other_keys(
    tmp_path: Path,
) -> None:
    properties = write(
        tmp_path,
        "bootstrap.servers=pkc-123.example.com:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
        + JAAS_PLAIN
        + "session.timeout.ms=45000\nacks=all\nclient.dns.lookup=use_all_dns_ips\n",
    )
    security = security_from({"SSI_KAFKA_PROPERTIES_FILE": properties})
    assert (security.protocol, security.sasl_mechanism, security.sasl_username) == (
        "SASL_SSL",
        "PLAIN",
        "svc",
    )
    assert security.sasl_password == Secret(PASSWORD)
    assert PASSWORD not in repr(security)


def test_the_variables_override_the_properties_file(tmp_path: Path) -> None:
    properties = write(tmp_path, "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n" + JAAS_PLAIN)
    other = secret_file(tmp_path, "other-password", "other")
    security = security_from(
        {
            "SSI_KAFKA_PROPERTIES_FILE": properties,
            "SSI_KAFKA_SASL_MECHANISM": "scram-sha-256",
            "SSI_KAFKA_SASL_USERNAME": "someone-else",
            "SSI_KAFKA_SASL_PASSWORD_FILE": other,
        }
    )
    assert (security.sasl_mechanism, security.sasl_username) == ("SCRAM-SHA-256", "someone-else")
    assert security.sasl_password == Secret("other-password")


def test_pem_stores_from_properties_relative_to_the_file_and_inline(tmp_path: Path) -> None:
    properties = write(
        tmp_path,
        "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=certs/ca.pem\n"
        "ssl.keystore.type=PEM\nssl.keystore.location=/etc/kafka/client.pem\nssl.key.password=kp\n"
        "ssl.endpoint.identification.algorithm=\n",
    )
    security = security_from({"SSI_KAFKA_PROPERTIES_FILE": properties})
    assert security.ssl_cafile == str(tmp_path / "certs" / "ca.pem")
    assert security.ssl_certfile == "/etc/kafka/client.pem" and not security.ssl_keyfile
    assert security.ssl_key_password == Secret("kp")
    assert security.ssl_check_hostname is False

    inline = write(
        tmp_path,
        "security.protocol=SSL\nssl.truststore.type=PEM\n"
        "ssl.truststore.certificates=-----BEGIN CERTIFICATE----- QUJD \\\n  REVG -----END CERTIFICATE-----\n",
        "inline.properties",
    )
    assert security_from({"SSI_KAFKA_PROPERTIES_FILE": inline}).ssl_cadata == (
        "-----BEGIN CERTIFICATE-----\nQUJDREVG\n-----END CERTIFICATE-----\n"
    )


SSL_JKS = "security.protocol=SSL\nssl.truststore.location=/ts.jks\nssl.truststore.password=x\n"
SSL_PKCS12 = "security.protocol=SSL\nssl.keystore.type=PKCS12\nssl.keystore.location=/k.p12\n"
PEM_PASSWORD = "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.password=x\n"
OAUTH = "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\nsasl.login.callback.handler.class=x\n"
KERBEROS = (
    "security.protocol=SASL_SSL\nsasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required;\n"
)
PLAIN_AS_SCRAM = "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n" + JAAS_PLAIN
BAD_JAAS = "security.protocol=SASL_SSL\nsasl.jaas.config=nonsense\n"
NOT_PEM = "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.certificates=no pem here\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SSL_JKS, r"ssl.truststore.type=JKS \(the default\) is not supported.*keytool -exportcert -rfc"),
        (SSL_PKCS12, r"ssl.keystore.type=PKCS12 is not supported"),
        (PEM_PASSWORD, r"ssl.truststore.password is not used with PEM"),
        (OAUTH, r"sasl.login.callback.handler.class not supported"),
        (KERBEROS, r"Krb5LoginModule is not supported"),
        (PLAIN_AS_SCRAM, r"PlainLoginModule does not serve sasl.mechanism=SCRAM-SHA-512"),
        (BAD_JAAS, r"sasl.jaas.config: expected"),
        (NOT_PEM, r"ssl.truststore.certificates: no PEM block"),
    ],
)
def test_properties_ssi_stream_cannot_honour_are_refused_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    properties = write(tmp_path, text)
    with pytest.raises(SettingsError, match=rf"{properties}: .*{message}"):
        security_from({"SSI_KAFKA_PROPERTIES_FILE": properties})


def test_a_scram_jaas_without_a_mechanism_names_what_to_set(tmp_path: Path) -> None:
    jaas = JAAS_PLAIN.replace("plain.PlainLoginModule", "scram.ScramLoginModule")
    properties = write(tmp_path, "security.protocol=SASL_SSL\n" + jaas)
    with pytest.raises(SettingsError, match=r"SSI_KAFKA_SASL_MECHANISM must be one of .* \(it is not set\)"):
        security_from({"SSI_KAFKA_PROPERTIES_FILE": properties})


def test_one_line_pem_gets_its_lines_back() -> None:
    body = "A" * 100
    assert pem(f"-----BEGIN PRIVATE KEY----- {body} -----END PRIVATE KEY-----") == (
        f"-----BEGIN PRIVATE KEY-----\n{'A' * 64}\n{'A' * 36}\n-----END PRIVATE KEY-----\n"
    )


# -- one mapping per client library --------------------------------------------------------------------


def test_kafka_python_and_aiokafka_get_sasl_and_one_tls_context(tmp_path: Path) -> None:
    security = security_from(sasl_ssl(tmp_path, SSI_KAFKA_SSL_CHECK_HOSTNAME="false"))
    for config in (kafka_python_config(security), aiokafka_config(security)):
        assert config["security_protocol"] == "SASL_SSL"
        assert config["sasl_mechanism"] == "SCRAM-SHA-512"
        assert config["sasl_plain_username"] == "ssi-stream"
        assert config["sasl_plain_password"] == PASSWORD
        context = config["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is False


def test_every_key_is_one_the_library_knows(tmp_path: Path) -> None:
    from aiokafka import AIOKafkaClient
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

    config = kafka_python_config(security_from(sasl_ssl(tmp_path)))
    for client in (KafkaAdminClient, KafkaProducer, KafkaConsumer):
        assert set(config) <= set(client.DEFAULT_CONFIG), client.__name__

    async def build() -> None:  # aiokafka checks its security arguments when it is built
        for security in (security_from(sasl_ssl(tmp_path)), KafkaSecurity("SSL"), PLAINTEXT):
            AIOKafkaClient(bootstrap_servers="127.0.0.1:1", **aiokafka_config(security))

    asyncio.run(build())


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT", "SSL"])
def test_faust_gets_credentials_that_its_aiokafka_mapping_turns_back_into_ours(
    tmp_path: Path, protocol: str
) -> None:
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    environ = sasl_ssl(tmp_path, SSI_KAFKA_SECURITY_PROTOCOL=protocol)
    if protocol == "SSL":
        environ = {"SSI_KAFKA_SECURITY_PROTOCOL": "SSL"}
    security = security_from(environ)
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(security))
    ours = aiokafka_config(security)
    assert faust_auth.keys() >= ours.keys() - {"ssl_context"}
    for key in ours.keys() - {"ssl_context"}:
        assert faust_auth[key] == ours[key], key
    assert isinstance(faust_auth.get("ssl_context"), ssl.SSLContext) == security.uses_tls


def test_a_ca_file_that_cannot_be_read_names_its_variable(tmp_path: Path) -> None:
    security = security_from(sasl_ssl(tmp_path, SSI_KAFKA_SSL_CAFILE=str(tmp_path / "missing.pem")))
    with pytest.raises(
        SettingsError, match=r"SSI_KAFKA_SSL_CAFILE: cannot load CA certificates from .*missing.pem"
    ):
        kafka_python_config(security)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    key = KafkaSecurity("SSL", ssl_certfile=str(not_pem), origins={"ssl_certfile": "client.properties: x"})
    with pytest.raises(SettingsError, match=r"client.properties: x: cannot load the client certificate"):
        kafka_python_config(key)


# -- errors a person can act on -------------------------------------------------------------------------


def test_no_broker_at_the_address_is_one_access_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(KafkaAccessError, match=rf"cannot reach Kafka with PLAINTEXT: {address}: "):
        check_access(address, PLAINTEXT, timeout=2)


def test_the_cli_prints_one_line_for_an_unsupported_properties_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    properties = write(tmp_path, "security.protocol=SSL\nssl.truststore.location=/etc/ts.jks\n")
    monkeypatch.setenv("SSI_KAFKA_PROPERTIES_FILE", properties)
    monkeypatch.setenv("SSI_BROKER", "127.0.0.1:1")
    assert main(["simulate", "--kafka", "--members", "2", "--days", "1"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(
        f"ssi-stream simulate: {properties}: ssl.truststore.type=JKS"
    )
