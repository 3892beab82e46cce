"""Settings are declared once: parsing, errors, and the README table generated from the declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from gallery.config import SETTINGS, Settings, markdown_table, parse_bool
from gallery.domain.errors import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_declared_setting_is_a_field_and_back() -> None:
    import dataclasses

    assert [s.field for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.backend == "local"
    assert settings.data_dir == Path.home() / ".local" / "share" / "image-gallery"
    assert settings.site_dir == settings.data_dir / "site"
    assert settings.etag_cache_ttl == 44640
    assert settings.system_browser_ttl == settings.tenant_browser_ttl == 0


def test_environment_is_read() -> None:
    settings = Settings.from_env({"CACHE_SPECS_IMAGE_TENANT_BROWSER_TTL": "5", "GALLERY_DATA_DIR": "/tmp/x"})
    assert settings.tenant_browser_ttl == 5
    assert settings.data_dir == Path("/tmp/x")


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("GALLERY_BACKEND", "s3"),
        ("CACHE_SPECS_IMAGE_ETAGS_TTL", "-1"),
        ("GALLERY_MAX_IMAGE_PIXELS", "lots"),
        ("GALLERY_MAX_PAGE_SIZE", "0"),
    ],
)
def test_malformed_values_name_the_variable(env: str, value: str) -> None:
    with pytest.raises(ConfigError, match=env):
        Settings.from_env({env: value})


@pytest.mark.parametrize(("text", "expected"), [("True", True), ("FALSE", False), ("1", True), ("off", False)])
def test_parse_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_readme_configuration_table_matches_the_declaration() -> None:
    assert markdown_table() in README.read_text()


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (
            "GALLERY_MAX_PAGE_SIZE",
            "abc",
            "GALLERY_MAX_PAGE_SIZE='abc' is not accepted: expected a whole number of at least 1",
        ),
        (
            "CACHE_SPECS_IMAGE_ETAGS_TTL",
            "-5",
            "CACHE_SPECS_IMAGE_ETAGS_TTL='-5' is not accepted: expected a whole number of at least 0",
        ),
        ("GALLERY_BACKEND", "s3", "GALLERY_BACKEND='s3' is not accepted: expected 'local' or 'aws'"),
        ("GALLERY_PUBLIC_URL", "ftp://x", "GALLERY_PUBLIC_URL='ftp://x' is not accepted: expected a base URL such as"),
    ],
)
def test_an_error_names_the_setting_the_value_and_what_it_accepts(env: str, value: str, message: str) -> None:
    """What an operator reads: never Python's own words ("invalid literal for int() with base 10")."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({env: value})
    assert str(raised.value.message).startswith(message)
    assert "literal" not in raised.value.message


def test_a_secret_is_never_echoed_in_an_error() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"GALLERY_SECRETS_PATH": "no-slashes"})
    assert "no-slashes" in raised.value.message  # a path is not a secret
    assert not [s for s in SETTINGS if s.secret and s.parse is not str]  # secrets take any text: nothing to echo


def test_nothing_defaults_to_the_folder_a_command_starts_in(tmp_path: Path) -> None:
    settings = Settings.from_env({"XDG_DATA_HOME": "ignored: read from the process"}, data_dir=tmp_path / "d")
    assert settings.site_dir == tmp_path / "d" / "site"  # the site follows the data folder
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert Settings.from_env({}).data_dir == tmp_path / "xdg" / "image-gallery"
    assert Settings.from_env({"GALLERY_SITE_DIR": "~/public"}).site_dir == Path.home() / "public"
