"""`gallery build`: load the MkDocs config, apply the command's selection to the plugin, build without cleaning
(so unchanged files stay), and turn MkDocs' failures into our one-line errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError

from gallery.domain import errors

# Used when no MkDocs config is named: it ships with the package, so a build needs no project directory.
DEFAULT_CONFIG = Path(__file__).resolve().parent / "default" / "mkdocs.yml"
DEFAULT_CACHE = "site-cache"  # in the data directory, for builds from the default config


def build_site(
    config_file: str | None,
    out: str,
    *,
    tenant: str | None,
    system: bool,
    include_private: bool | None = None,
    clean: bool,
    cache: str | None = None,
) -> str:
    """Build the site from `config_file` (default: the packaged one); returns the summary line. Raises a
    `GalleryError` saying what went wrong."""
    if config_file is None:
        from gallery.config import Settings

        config_file = str(DEFAULT_CONFIG)
        cache = cache or str(Settings.from_env().data_dir / DEFAULT_CACHE)
    if not Path(config_file).is_file():
        raise errors.ConfigError(f"No MkDocs config at {config_file}")
    with _MkDocsLog() as log:
        try:
            config = load_config(config_file, site_dir=str(Path(out).resolve()))
        except ConfigurationError as exc:
            raise errors.ConfigError(f"{config_file}: {exc}") from exc
        plugin = config.plugins.get("gallery")
        if plugin is None:
            raise errors.ConfigError(f"{config_file} does not use the gallery plugin")
        log.plugin = plugin
        if tenant is not None:
            plugin.config.tenant, plugin.config.system = tenant, system
        elif system:
            plugin.config.tenant, plugin.config.system = None, True
        if include_private is not None:  # None: as the config says
            plugin.config.include_private = include_private
        if cache is not None:
            plugin.config.cache_dir = str(Path(cache).resolve())
        try:
            mkdocs_build(config, dirty=not clean)
        except Abort as exc:
            raise errors.GalleryError(plugin.error or f"The build did not complete: {exc.message}") from exc
    summary: str = plugin.report.summary()
    return summary


class _MkDocsLog(logging.Filter):
    """MkDocs' own warnings and errors on stderr during one build, as its CLI shows them. Its info lines stay quiet
    (we print our summary), and so does what the caller reports itself: the plugin's failure, the dirty-build
    warning (an incremental build is the point)."""

    def __init__(self) -> None:
        super().__init__()
        self.plugin: Any = None
        self.handler = logging.StreamHandler()
        self.handler.setFormatter(logging.Formatter("%(levelname)-7s - %(message)s"))
        self.handler.addFilter(self)
        self.logger = logging.getLogger("mkdocs")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "dirty" not in message and not (self.plugin is not None and message == self.plugin.error)

    def __enter__(self) -> _MkDocsLog:
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.WARNING)
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self.handler)
