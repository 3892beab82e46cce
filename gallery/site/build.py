"""`gallery build`: load the MkDocs config, hand the gallery plugin the command's request (a `BuildJob` it fills in
with the outcome), build without cleaning (so unchanged files stay), and turn MkDocs' failures into our one-line
errors."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError

from gallery.config import Settings
from gallery.domain import errors
from gallery.site.plugin import BuildJob, BuildRequest, GalleryPlugin

# Used when no MkDocs config is named: it ships with the package, so a build needs no project directory.
DEFAULT_CONFIG = Path(__file__).resolve().parent / "default" / "mkdocs.yml"
DEFAULT_CACHE = "site-cache"  # in the data directory, for builds from the default config


def build_site(config_file: str | None, out: Path, request: BuildRequest, *, clean: bool) -> str:
    """Build the site from `config_file` (default: the packaged one) into `out`; returns the summary line. Raises a
    `GalleryError` saying what went wrong."""
    if config_file is None:
        config_file = str(DEFAULT_CONFIG)
        if request.cache_dir is None:
            request = replace(request, cache_dir=Settings.from_env().data_dir / DEFAULT_CACHE)
    if not Path(config_file).is_file():
        raise errors.ConfigError(f"No MkDocs config at {config_file}")
    if request.cache_dir is not None:
        request = replace(request, cache_dir=request.cache_dir.resolve())
    job = BuildJob(request)
    with _MkDocsLog(job):
        try:
            config = load_config(config_file, site_dir=str(out.resolve()))
        except ConfigurationError as exc:
            raise errors.ConfigError(f"{config_file}: {exc}") from exc
        plugin = config.plugins.get("gallery")
        if not isinstance(plugin, GalleryPlugin):
            raise errors.ConfigError(f"{config_file} does not use the gallery plugin")
        plugin.job = job
        try:
            mkdocs_build(config, dirty=not clean)
        except Abort as exc:
            raise errors.GalleryError(job.error or f"The build did not complete: {exc.message}") from exc
    return job.report.summary()


class _MkDocsLog(logging.Filter):
    """MkDocs' own warnings and errors on stderr during one build, as its CLI shows them. Its info lines stay quiet
    (we print our summary), and so does what the caller reports itself: the plugin's failure, the dirty-build
    warning (an incremental build is the point)."""

    def __init__(self, job: BuildJob) -> None:
        super().__init__()
        self.job = job
        self.handler = logging.StreamHandler()
        self.handler.setFormatter(logging.Formatter("%(levelname)-7s - %(message)s"))
        self.handler.addFilter(self)
        self.logger = logging.getLogger("mkdocs")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "dirty" not in message and message != self.job.error

    def __enter__(self) -> _MkDocsLog:
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.WARNING)
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self.handler)
