import pytest

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
        ("SSI_STANDBY_REPLICAS", "-1"),
        ("SSI_STANDBY_REPLICAS", "one"),
    ],
)
def test_unusable_numbers_are_refused_with_the_variable_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_standby_replicas_default_to_none_and_are_read_from_their_variable() -> None:
    assert Settings.from_env({}).standby_replicas == 0
    assert Settings.from_env({"SSI_STANDBY_REPLICAS": "1"}).standby_replicas == 1
    assert "SSI_STANDBY_REPLICAS" in env_names()


def test_every_setting_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[3] / "README.md").read_text()
    documented = {name for name in env_names() if f"`{name}`" in readme}
    # SSI_WEB_HOST and SSI_WEB_PORT share a row
    assert set(env_names()) - documented <= {"SSI_WEB_HOST", "SSI_WEB_PORT"}
    assert "`SSI_WEB_HOST` / `SSI_WEB_PORT`" in readme
