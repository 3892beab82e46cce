"""`gallery build`: load the MkDocs config, apply the command's selection to the plugin, build without cleaning
(so unchanged files stay), and turn MkDocs' failures into our one-line errors."""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError

from gallery import errors


def build_site(
    config_file: str,
    out: str,
    *,
    tenant: str | None,
    system: bool,
    public_only: bool,
    clean: bool,
    cache: str | None = None,
) -> str:
    """Build the site; returns the summary line. Raises a `GalleryError` saying what went wrong."""
    if not Path(config_file).is_file():
        raise errors.ConfigError(f"No MkDocs config at {config_file}: run from the project or pass --config")
    _log_to_stderr()
    try:
        config = load_config(config_file, site_dir=str(Path(out).resolve()))
    except ConfigurationError as exc:
        raise errors.ConfigError(f"{config_file}: {exc}") from exc
    plugin = config.plugins.get("gallery")
    if plugin is None:
        raise errors.ConfigError(f"{config_file} does not use the gallery plugin")
    if tenant is not None:
        plugin.config.tenant, plugin.config.system = tenant, system
    elif system:
        plugin.config.tenant, plugin.config.system = None, True
    if public_only:
        plugin.config.public_only = True
    if cache is not None:
        plugin.config.cache_dir = str(Path(cache).resolve())
    try:
        mkdocs_build(config, dirty=not clean)
    except Abort as exc:
        raise errors.GalleryError(plugin.error or f"The build did not complete: {exc.message}") from exc
    summary: str = plugin.report.summary()
    return summary


def _log_to_stderr() -> None:
    """MkDocs' own warnings, as its CLI shows them (its info lines stay quiet: we print our summary)."""
    logger = logging.getLogger("mkdocs")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-7s - %(message)s"))
        handler.addFilter(lambda record: "dirty" not in record.getMessage())  # our incremental build is the point
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
