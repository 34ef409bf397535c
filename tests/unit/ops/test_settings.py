import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.settings import Settings, SettingsError, env_names


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.broker == ""
    assert settings.events_topic == "ssi.events"
    assert settings.partitions == 8


def test_every_field_is_read_from_its_ssi_variable() -> None:
    settings = Settings.from_env(
        {"SSI_BROKER": "127.0.0.1:9999", "SSI_PARTITIONS": "12", "SSI_WORKER_ID": "w7"}
    )
    assert (settings.broker, settings.partitions, settings.worker_id) == ("127.0.0.1:9999", 12, "w7")
    assert "SSI_GRACE_SECONDS" in env_names()
    assert all(name.startswith("SSI_") for name in env_names())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSI_PARTITIONS", "eight"),
        ("SSI_PARTITIONS", "0"),
        ("SSI_WEB_PORT", "-1"),
        ("SSI_BATCH_MAX", "0"),
        ("SSI_BATCH_MS", "0"),
        ("SSI_MAX_EVENT_BYTES", "0"),  # DecodeLimits refuses it: a clear error, not a traceback
        ("SSI_STANDBY_REPLICAS", "-1"),
        ("SSI_STANDBY_REPLICAS", "one"),
        ("SSI_SHUTDOWN_TIMEOUT_SECONDS", "0"),  # a stop must have a bound
    ],
)
def test_unusable_numbers_are_refused_with_the_variable_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_standby_replicas_default_to_zero_and_are_read_from_their_variable() -> None:
    assert Settings.from_env({}).standby_replicas == 0
    assert Settings.from_env({"SSI_STANDBY_REPLICAS": "1"}).standby_replicas == 1
    assert "SSI_STANDBY_REPLICAS" in env_names()


def test_standby_replicas_on_the_memory_store_are_reported_as_gaining_nothing() -> None:
    """Faust's memory store keeps no changelog offsets: a promoted standby restores from the start."""
    memory = Settings.from_env({"SSI_STORE": "memory://", "SSI_STANDBY_REPLICAS": "1"})
    assert [re.findall(r"SSI_\w+", problem) for problem in memory.ineffective_settings()] == [
        ["SSI_STANDBY_REPLICAS", "SSI_STORE"]
    ]
    assert (
        Settings.from_env({"SSI_STORE": "rocksdb://", "SSI_STANDBY_REPLICAS": "1"}).ineffective_settings()
        == []
    )
    assert Settings.from_env({"SSI_STORE": "memory://"}).ineffective_settings() == []


def test_the_effects_topic_follows_the_app_id_unless_it_is_set() -> None:
    """Internal topics share the app id's prefix (one prefixed ACL; no collision between deployments)."""
    assert Settings.from_env({}).effects_topic == "ssi-stream-effects"
    assert Settings.from_env({"SSI_APP_ID": "team-a"}).effects_topic == "team-a-effects"
    legacy = {"SSI_APP_ID": "team-a", "SSI_EFFECTS_TOPIC": "ssi.effects"}  # the name before the prefix
    assert Settings.from_env(legacy).effects_topic == "ssi.effects"
    assert Settings.from_env({"SSI_EFFECTS_TOPIC": ""}).effects_topic == "ssi-stream-effects"
    assert replace(Settings(), app_id="b", effects_topic="").effects_topic == "b-effects"


def test_kafka_security_settings_are_names_and_files_never_secrets() -> None:
    kafka = [name for name in env_names() if name.startswith("SSI_KAFKA_")]
    assert "SSI_KAFKA_SASL_PASSWORD_FILE" in kafka and "SSI_KAFKA_PROPERTIES_FILE" in kafka
    assert not [name for name in kafka if "PASSWORD" in name and not name.endswith("_FILE")]


def test_the_advertised_web_url_is_ssi_web_url_or_the_web_host_and_port() -> None:
    assert Settings.from_env({}).advertised_web_url == "http://127.0.0.1:6066"
    assert Settings.from_env({"SSI_WEB_PORT": "7000"}).advertised_web_url == "http://127.0.0.1:7000"
    url = "http://ssi-worker-0.ssi-worker:6066"
    assert Settings.from_env({"SSI_WEB_HOST": "0.0.0.0", "SSI_WEB_URL": url}).advertised_web_url == url
    for wrong in ("ssi-worker-0:6066", "ftp://x:1", "http://"):
        with pytest.raises(SettingsError, match="SSI_WEB_URL"):
            _ = Settings.from_env({"SSI_WEB_URL": wrong}).advertised_web_url


def readme_settings_table() -> dict[str, str]:
    """The README's Configuration table: variable -> its default as written (a shared row split in two)."""
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ")]
    table: dict[str, str] = {}
    for names, defaults in re.findall(r"^\| (`SSI_\w+`(?: / `SSI_\w+`)*) \| ([^|]+?) \|", section, re.M):
        split = defaults.split(" / ")
        assert len(split) == names.count("`") // 2, f"{names}: one default per variable"
        for name, default in zip(re.findall(r"`(\w+)`", names), split, strict=True):
            table[name] = README_WORDS.get(default, default.strip("`"))
    return table


#: How the README writes the defaults that are not a value.
README_WORDS = {
    "*(empty)*": "",
    "*(packaged default)*": "",
    "`<SSI_APP_ID>-effects`": "ssi-stream-effects",
    "`<SSI_APP_ID>-quarantine`": "ssi-stream-quarantine",
}


def test_the_readme_settings_table_has_every_setting_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = readme_settings_table()
    assert set(table) == {*env_names(), "SSI_STREAM_HOME"}
    defaults = Settings()
    for field in fields(Settings):
        assert table[f"SSI_{field.name.upper()}"] == str(getattr(defaults, field.name)), field.name
    # SSI_STREAM_HOME is read by ops/home.py, not Settings: its default with neither it nor XDG_CACHE_HOME set
    monkeypatch.delenv("SSI_STREAM_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert ssi_home() == Path(table["SSI_STREAM_HOME"]).expanduser().resolve()


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SSI_SCHEMA_REGISTRY_FRAMING": "strip"}, "SSI_SCHEMA_REGISTRY_FRAMING must be one of reject, skip"),
        ({"SSI_SCHEMA_REGISTRY_FRAMING": "check"}, "needs the schema ids"),
        ({"SSI_SCHEMA_REGISTRY_IDS": "7"}, "only used by framing 'check'"),
        ({"SSI_SCHEMA_REGISTRY_FRAMING": "check", "SSI_SCHEMA_REGISTRY_IDS": "7;8"}, "separated by commas"),
        ({"SSI_SCHEMA_REGISTRY_FRAMING": "check", "SSI_SCHEMA_REGISTRY_IDS": "-3"}, "from 0 to 2147483647"),
    ],
)
def test_an_unusable_framing_rule_is_refused_naming_the_variable(
    environment: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environment)


def test_the_framing_rule_reaches_the_decoder_limits() -> None:
    limits = Settings.from_env(
        {
            "SSI_SCHEMA_REGISTRY_FRAMING": "check",
            "SSI_SCHEMA_REGISTRY_IDS": " 7, 12 ",
            "SSI_MAX_EVENT_BYTES": "999",
        }
    ).decode_limits()
    assert (limits.max_bytes, limits.framing.mode, limits.framing.schema_ids) == (999, "check", {7, 12})
    assert Settings().decode_limits().framing.mode == "reject"  # the default: a framed value is refused


@pytest.mark.parametrize("value", ["0", "3", "two"])
def test_a_frame_format_other_than_1_or_2_is_refused_with_its_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="SSI_FRAME_FORMAT"):
        Settings.from_env({"SSI_FRAME_FORMAT": value})


def test_both_frame_formats_are_accepted_and_2_is_the_default() -> None:
    assert Settings.from_env({}).frame_format == 2
    assert Settings.from_env({"SSI_FRAME_FORMAT": "1"}).frame_format == 1
    with pytest.raises(SettingsError, match="SSI_FRAME_FORMAT"):
        Settings(frame_format=5)
