"""`gallery build`: load the MkDocs config, hand the gallery plugin the command's request (a `BuildJob` it fills in
with the outcome), build without cleaning (so unchanged files stay), and turn MkDocs' failures into our one-line
errors.

MkDocs writes every page on every build, in place. During our builds its two writers are swapped for ours: a file
is written only when its bytes change, and always as a new file renamed over the old (the one file MkDocs writes
by itself, `sitemap.xml.gz`, is removed first, so its write is a new file as well). So a rebuild touches only
what changed (what a publisher must upload, what a visitor's cache must fetch again), and a site cloned with hard
links (`live.py`) can be rebuilt without writing through to the copy being served.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from mkdocs import utils as mkdocs_utils
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError

from gallery.config import Settings
from gallery.domain import errors
from gallery.site.plugin import BuildJob, BuildRequest, GalleryPlugin
from gallery.site.render import write_if_changed

# Used when no MkDocs config is named: it ships with the package, so a build needs no project directory.
DEFAULT_CONFIG = Path(__file__).resolve().parent / "default" / "mkdocs.yml"
DEFAULT_CACHE = "site-cache"  # in the data directory, for builds from the default config


def build_site(config_file: str | None, out: Path, request: BuildRequest, *, clean: bool) -> str:
    """Build the site from `config_file` (default: the packaged one) into `out`; returns the summary line. Raises a
    `GalleryError` saying what went wrong."""
    return run_build(config_file, out, request, clean=clean).report.summary()


def run_build(config_file: str | None, out: Path, request: BuildRequest, *, clean: bool) -> BuildJob:
    """`build_site`, returning the whole job: the report, and which site files were written and removed."""
    if config_file is None:
        config_file = str(DEFAULT_CONFIG)
        if request.cache_dir is None:
            request = replace(request, cache_dir=Settings.from_env().data_dir / DEFAULT_CACHE)
    if not Path(config_file).is_file():
        raise errors.ConfigError(f"No MkDocs config at {config_file}")
    if request.cache_dir is not None:
        request = replace(request, cache_dir=request.cache_dir.resolve())
    job = BuildJob(request)
    with _MkDocsLog(job), _written_when_changed(out.resolve(), job):
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
    return job


@contextlib.contextmanager
def _written_when_changed(site: Path, job: BuildJob) -> Iterator[None]:
    """MkDocs' writers replaced by `write_if_changed` for one build, each write recorded in `job.written`."""

    def record(output_path: str, data: bytes) -> None:
        path = Path(output_path)
        if write_if_changed(path, data):
            job.written.append(path.relative_to(site).as_posix() if path.is_relative_to(site) else output_path)

    def write_file(content: bytes, output_path: str) -> None:
        record(output_path, content)

    def copy_file(source_path: str, output_path: str) -> None:
        if Path(output_path).is_dir():
            output_path = str(Path(output_path) / Path(source_path).name)
        record(output_path, Path(source_path).read_bytes())

    # MkDocs writes the gzipped sitemap with open() itself: unlinked first, its write makes a new file too.
    gzipped = site / "sitemap.xml.gz"
    before = gzipped.read_bytes() if gzipped.is_file() else None
    gzipped.unlink(missing_ok=True)
    saved = mkdocs_utils.write_file, mkdocs_utils.copy_file
    mkdocs_utils.write_file, mkdocs_utils.copy_file = write_file, copy_file
    try:
        yield
    finally:
        mkdocs_utils.write_file, mkdocs_utils.copy_file = saved
        if gzipped.is_file() and gzipped.read_bytes() != before:
            job.written.append(gzipped.name)


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
        self.saved = self.logger.level, self.logger.propagate
        self.logger.addHandler(self.handler)
        # Ours alone: a process that configured logging (`gallery serve`) would print each line twice.
        self.logger.setLevel(logging.WARNING)
        self.logger.propagate = False
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]
