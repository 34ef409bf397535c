"""Test certificates made with the JDK's keytool: a CA, the broker's key pair, a client's (mTLS).

keytool writes PKCS12 keystores (what the broker reads) and exports certificates as PEM (`-rfc`, what
Python's ssl reads). A private key leaves a PKCS12 store only through openssl, so the client's PEM key
(for mTLS) needs `openssl`; without it `client_key` is None and the mTLS tests say they skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ssi_stream.ops.kafka_dist import require_tool

#: The JVM starts faster without the JIT's last tiers; keytool does little work.
_FAST_JVM = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")
_VALID_DAYS = "2"


@dataclass(frozen=True)
class TlsFiles:
    """Everything a TLS test needs, under one directory."""

    ca_pem: Path  # the CA certificate: the broker's truststore and every client's CA file
    broker_keystore: Path  # PKCS12: the broker's key and its certificate (SAN IP:127.0.0.1), signed by the CA
    password: str  # of every keystore
    client_cert: Path  # PEM: the client's certificate (CN=<client_name>), signed by the CA
    client_key: Path | None  # PEM, unencrypted; None without openssl
    client_key_encrypted: Path | None  # PEM, encrypted with `password`; None without openssl


def make_certificates(directory: Path, *, client_name: str, password: str = "test-store-secret") -> TlsFiles:
    """A CA, a broker certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    keytool = require_tool(
        "keytool", "it comes with the JDK (e.g. `apt-get install openjdk-17-jdk-headless`)."
    )
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        result = subprocess.run(
            [keytool, *_FAST_JVM, *args], cwd=directory, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"keytool {args[0]} failed: {result.stderr or result.stdout}")

    store = ("-storetype", "PKCS12", "-storepass", password)

    def key_pair(alias: str, keystore: str, dname: str, *extra: str) -> None:
        run("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
            "-validity", _VALID_DAYS, "-keystore", keystore, *store, *extra)  # fmt: skip

    def signed(alias: str, keystore: str, certificate: str, *extensions: str) -> None:
        run("-certreq", "-alias", alias, "-keystore", keystore, *store, "-file", f"{alias}.csr")
        run("-gencert", "-alias", "ca", "-keystore", "ca.p12", *store, "-infile", f"{alias}.csr",
            "-outfile", certificate, "-rfc", "-validity", _VALID_DAYS, *extensions)  # fmt: skip
        run("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", keystore, *store)
        run("-importcert", "-noprompt", "-alias", alias, "-file", certificate, "-keystore", keystore, *store)

    key_pair("ca", "ca.p12", "CN=ssi-stream test CA", "-ext", "bc:c")
    run("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", *store, "-file", "ca.pem")
    key_pair("broker", "broker.p12", "CN=127.0.0.1")
    signed("broker", "broker.p12", "broker.pem", "-ext", "san=ip:127.0.0.1")
    key_pair("client", "client.p12", f"CN={client_name}")
    signed("client", "client.p12", "client.pem")

    client_key = client_key_encrypted = None
    openssl = shutil.which("openssl")
    if openssl is not None:
        source = ("-in", "client.p12", "-passin", f"pass:{password}", "-nocerts")
        subprocess.run(
            [openssl, "pkcs12", *source, "-nodes", "-out", "client.key"], cwd=directory, check=True
        )
        subprocess.run(
            [openssl, "pkcs12", *source, "-passout", f"pass:{password}", "-out", "client-encrypted.key"],
            cwd=directory,
            check=True,
        )
        client_key, client_key_encrypted = directory / "client.key", directory / "client-encrypted.key"
    return TlsFiles(
        ca_pem=directory / "ca.pem",
        broker_keystore=directory / "broker.p12",
        password=password,
        client_cert=directory / "client.pem",
        client_key=client_key,
        client_key_encrypted=client_key_encrypted,
    )
