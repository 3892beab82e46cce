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
    assert settings.data_dir == Path(".gallery")
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
