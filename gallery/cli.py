"""The `gallery` command. Every command reads its settings from the environment (`GALLERY_DATA_DIR`, …).

A `GalleryError` anywhere becomes one line on stderr and exit status 1; the library code never exits.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from gallery.domain import errors
from gallery.domain.access import Principal
from gallery.domain.model import MAX_BYTES, NULL_UUID, SYSTEM_TENANT_ID, Authority, FileLimits
from gallery.site.templates import SITE_NAME
from gallery.web.server import DEFAULT_THREADS, create_server
from gallery.wiring import Gallery

if TYPE_CHECKING:
    from gallery.web.observe import Metrics

P = ParamSpec("P")
R = TypeVar("R")
FOLDER = click.Path(file_okay=False, path_type=Path)  # a folder's path (made if missing), never a file's


def _reported(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except errors.GalleryError as error:
            raise click.ClickException(error.message) from error

    return wrapper


def _open() -> Gallery:
    return Gallery.open()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Image Gallery: a centralized image library with a ThingsBoard-compatible API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=int, help="Worker threads.")
@click.option("--demo", is_flag=True, help="On first run, add a demo tenant, its users and sample images.")
@click.option(
    "--tenant",
    default=None,
    help="The tenant (name or id) whose public images the gallery at / shows, with the system's "
    "(default: the demo tenant with --demo, else the system's images alone).",
)
@click.option(
    "--no-rebuild",
    is_flag=True,
    help="Serve the static gallery in GALLERY_SITE_DIR as it is: do not build it, nor keep it current.",
)
@_reported
def serve(host: str, port: int, threads: int, demo: bool, tenant: str | None, no_rebuild: bool) -> None:
    """Serve the API (with waitress, a production WSGI server), the management page at /manage/ and the static
    gallery at /, which is built at start and rebuilt in the background after every change."""
    from gallery.demo import DEMO_TENANT, first_run
    from gallery.site.shell import prepare_shell
    from gallery.web.app import create_app
    from gallery.web.observe import Metrics

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gallery = _open()
    logins = first_run(gallery, demo)
    if logins:
        click.echo("First run: created these logins (change the passwords for anything but a demo):")
        for login in logins:
            click.echo(f"  {login.role.value:<14} {login.email}  password: {login.password}")
    if tenant is None and demo:
        tenant = DEMO_TENANT
    if tenant is not None:
        gallery.accounts.resolve_tenant(tenant)  # a name that is no tenant stops here, not in every build
    stop = threading.Event()
    site = gallery.settings.site_dir
    shell = prepare_shell(gallery.settings.data_dir / "shell")
    metrics = Metrics()
    first_build = _keep_site_current(gallery, site, tenant, stop, metrics) if not no_rebuild else None
    click.echo(f"{gallery.settings.describe_storage()}", err=True)
    click.echo(
        f"Serving on http://{host}:{port}/ : the gallery at /, managing images at /manage/, the API at /api/", err=True
    )
    gallery.uploads.sweep_in_background(stop)
    try:
        app = create_app(gallery=gallery, shell=shell, first_build=first_build, metrics=metrics)
        create_server(app, host, port, threads).run()
    finally:
        stop.set()


def _keep_site_current(
    gallery: Gallery, site: Path, tenant: str | None, stop: threading.Event, metrics: Metrics
) -> Callable[[], str | None] | None:
    """The static gallery, built now and after each change, in the background (the API answers meanwhile).
    Returns what the first build is doing, for `/` to say until there is a page to show."""
    from gallery.site.build import builder_for, selection_for
    from gallery.site.builder import SiteOptions
    from gallery.site.live import LiveSite

    options = SiteOptions(selection_for(gallery, tenant, system=True))
    live = LiveSite(site, builder_for(gallery, options), gallery.site.change_count)
    live.on_built = lambda outcome: metrics.site_built(outcome.seconds, failed=outcome.state is None)
    live.generations.adopt()
    live.start(stop)

    def close_when_stopped() -> None:
        stop.wait()
        live.close()  # its render processes, before the interpreter waits on them at exit

    threading.Thread(target=close_when_stopped, name="gallery-site-close", daemon=True).start()
    if gallery.site.change_count() is None:
        click.echo(
            "The gallery at / is built once at start: on AWS the publisher keeps the published one current", err=True
        )
    return live.first_build


_BYTES = click.IntRange(min=0, max=MAX_BYTES)


@main.group()
def tenants() -> None:
    """Create and list tenants."""


@tenants.command("create")
@click.argument("name")
@click.option("--max-resource-size", type=_BYTES, default=0, help="Largest image, bytes (0: none).")
@click.option("--max-resources-bytes", type=_BYTES, default=0, help="Total bytes (0: unlimited).")
@_reported
def create_tenant(name: str, max_resource_size: int, max_resources_bytes: int) -> None:
    """Create tenant NAME and print its id."""
    tenant = _open().accounts.create_tenant_with_limits(name, FileLimits(max_resource_size, max_resources_bytes))
    click.echo(tenant.id)


@tenants.command("list")
@_reported
def list_tenants() -> None:
    """Print each tenant: id, usage in bytes, name."""
    from gallery.domain.model import PageQuery

    gallery = _open()
    page = 0
    while True:
        result = gallery.accounts.list_tenants(PageQuery(500, page))
        for tenant in result.data:
            click.echo(f"{tenant.id}\t{gallery.images.usage(tenant.id)}\t{tenant.name}")
        if not result.has_next:
            return
        page += 1


@main.group()
def users() -> None:
    """Create users."""


@users.command("create")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="GALLERY_USER_PASSWORD",
    help="At least 6 characters; asked for when not given (or GALLERY_USER_PASSWORD), kept out of shell history.",
)
@click.option("--role", required=True, type=click.Choice([a.value for a in Authority]))
@click.option("--tenant", "tenant", default=None, help="Tenant name or id (not for SYS_ADMIN).")
@_reported
def create_user(email: str, password: str, role: str, tenant: str | None) -> None:
    """Create a user and print its id."""
    gallery = _open()
    tenant_id = gallery.accounts.resolve_tenant(tenant).id if tenant else None
    user = gallery.accounts.create_user(email, password, Authority(role), tenant_id)
    click.echo(user.id)


@main.command()
@click.option("--tenant", default=None, help="A tenant's images (name or id); with --system, system images too.")
@click.option("--system", is_flag=True, help="Include the system images (without --tenant: only them).")
@click.option(
    "--include-private",
    is_flag=True,
    help="Also PRIVATE images: anyone who can reach the site sees them, without signing in (default: public only).",
)
@click.option(
    "--out",
    default=None,
    type=FOLDER,
    help="Where the site goes (default: GALLERY_SITE_DIR, which `gallery serve` serves).",
)
@click.option("--clean", is_flag=True, help="Render every page again instead of only those whose inputs changed.")
@click.option(
    "--cache",
    default=None,
    type=FOLDER,
    help="Rendition cache (default: site-cache in the data dir).",
)
@click.option(
    "--templates",
    default=None,
    type=FOLDER,
    help="A folder of templates that override the packaged theme's (e.g. gallery/image.html, main.html).",
)
@click.option("--site-name", default=SITE_NAME, show_default=True, help="The site's name, in every title.")
@click.option("--site-url", default="", help="Where the site is published: snippets get absolute URLs, and a sitemap.")
@click.option("--api-url", default="", help="The API's origin when not the site's: public links and /manage/ use it.")
@click.option("--page-size", default=48, show_default=True, type=click.IntRange(1, 10_000), help="Cards per page.")
@_reported
def build(
    tenant: str | None,
    system: bool,
    include_private: bool,
    out: Path | None,
    clean: bool,
    cache: Path | None,
    templates: Path | None,
    site_name: str,
    site_url: str,
    api_url: str,
    page_size: int,
) -> None:
    """Build the static gallery (incremental: only what changed is rendered and written)."""
    from gallery.site.build import PRIVATE_WARNING, build_once, builder_for, selection_for
    from gallery.site.builder import BuildRun, SiteOptions
    from gallery.site.progress import progress_bar

    gallery = _open_catalog()
    try:
        selection = selection_for(gallery, tenant, system, include_private)
        options = SiteOptions(
            selection, page_size=page_size, site_name=site_name, site_url=site_url.rstrip("/"),
            api_url=api_url.rstrip("/"),
        )  # fmt: skip
        if include_private:
            click.echo(f"Warning: {PRIVATE_WARNING}", err=True)
        out = out or gallery.settings.site_dir
        builder = builder_for(gallery, options, cache, templates)
        state = build_once(builder, out, BuildRun(progress=progress_bar("Rendering images")), clean=clean)
    finally:
        gallery.close()
    click.echo(f"{state.summary()}; site in {out}")


def _open_catalog() -> Gallery:
    """The catalog for a command that signs nothing (it needs no token secret)."""
    try:
        return Gallery.open(signing=False)
    except errors.GalleryError as exc:
        raise errors.GalleryError(f"Cannot open the catalog: {exc.message}") from exc


@main.command()
@click.option("--bucket", required=True, help="S3 bucket the site is served from.")
@click.option("--prefix", default="", help="Key prefix inside the bucket.")
@click.option("--distribution", default=None, help="CloudFront distribution id whose cache to invalidate.")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.option(
    "--site",
    default=None,
    type=FOLDER,
    help="The built site (default: GALLERY_SITE_DIR, where `gallery build` puts it).",
)
@_reported
def publish(bucket: str, prefix: str, distribution: str | None, dry_run: bool, site: Path | None) -> None:
    """Upload the built site to S3 with CDN cache headers; skip what is unchanged, delete what is gone."""
    from gallery.config import Settings
    from gallery.site.progress import progress_bar
    from gallery.site.sync import publish as publish_site
    from gallery.storage.aws.site_bucket import S3SiteBucket

    settings = Settings.from_env()
    target = S3SiteBucket(settings, bucket, prefix, distribution)
    plan = publish_site(site or settings.site_dir, target, dry_run, progress_bar("Uploading"))
    if dry_run:
        for upload in plan.uploads:
            click.echo(f"upload  {target.prefix}{upload.key}  ({upload.content_type}; {upload.cache_control})")
        for key in plan.deletes:
            click.echo(f"delete  {target.prefix}{key}")
    click.echo(plan.summary(dry_run))


def _scope(gallery: Gallery, tenant: str | None, system: bool) -> tuple[Principal, str]:
    """The operator acting on one scope, as its administrator would (every rule applies; the CLI is trusted to
    choose whose), and the scope's name."""
    if (tenant is None) == (not system):
        raise click.UsageError("Name one scope: --tenant NAME_OR_ID or --system")
    if system:
        return Principal("gallery-cli", "gallery-cli", Authority.SYS_ADMIN, SYSTEM_TENANT_ID, NULL_UUID), "system"
    assert tenant is not None
    found = gallery.accounts.resolve_tenant(tenant)
    return Principal("gallery-cli", "gallery-cli", Authority.TENANT_ADMIN, found.id, NULL_UUID), found.name


@main.command("export")
@click.option("--tenant", default=None, help="The tenant (name or id) whose images to export.")
@click.option("--system", is_flag=True, help="Export the system images.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip to write.")
@_reported
def export_images(tenant: str | None, system: bool, out: Path) -> None:
    """Every image of a tenant (or the system's) into one zip of ThingsBoard export JSON files, with a manifest."""
    from gallery.services.archive import export_archive
    from gallery.site.progress import progress_bar

    gallery = _open()
    principal, name = _scope(gallery, tenant, system)
    summary = export_archive(gallery.images, principal.tenant_id, name, out, progress_bar("Exporting"))
    click.echo(summary.describe(out))


@main.command("import")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--tenant", default=None, help="The tenant (name or id) to import into.")
@click.option("--system", is_flag=True, help="Import as system images.")
@click.option("--overwrite", is_flag=True, help="Replace an image whose key holds other bytes (default: refuse it).")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--from", "from_url", default=None, help="A ThingsBoard (or compatible) server to copy images from.")
@click.option("--username", default=None, help="With --from: the login whose images to copy.")
@click.option(
    "--password",
    default=None,
    envvar="GALLERY_IMPORT_PASSWORD",
    help="With --from: its password (or the environment's GALLERY_IMPORT_PASSWORD, kept out of shell history).",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1, max=3600),
    help="With --from: the seconds one request to the server may take in all (connecting, waiting, reading).",
)
@_reported
def import_images(
    sources: tuple[Path, ...],
    tenant: str | None,
    system: bool,
    overwrite: bool,
    dry_run: bool,
    from_url: str | None,
    username: str | None,
    password: str | None,
    timeout: float,
) -> None:
    """Import ThingsBoard export JSON: zips made by `gallery export`, folders of export files, single files, or
    every image a ThingsBoard server shows a login (--from). Images already there with the same bytes are skipped,
    so a run can be repeated; each refused file is reported, and the exit status is 1 if any was."""
    from gallery.services.archive import entries, import_entries
    from gallery.site.progress import progress_bar

    gallery = _open()
    principal, _ = _scope(gallery, tenant, system)
    if from_url is not None:
        from gallery.services.remote import Remote

        if not username or password is None:
            raise click.UsageError("--from needs --username and --password (or GALLERY_IMPORT_PASSWORD)")
        found = list(Remote(from_url, username, password, timeout=timeout).entries())
    elif sources:
        found = list(entries(sources))
    else:
        raise click.UsageError("Name what to import: files, folders or zips, or --from URL")
    report = import_entries(
        gallery.transfer,
        principal,
        found,
        overwrite=overwrite,
        dry_run=dry_run,
        progress=progress_bar("Importing"),
        total=len(found),
    )
    click.echo(report.describe(dry_run))
    if report.refused:
        raise SystemExit(1)


@main.command()
@_reported
def provision() -> None:
    """Create the aws backend's DynamoDB table and S3 bucket if they are missing (safe to re-run)."""
    from gallery.config import Settings

    settings = Settings.from_env()
    if settings.backend != "aws":
        raise errors.ConfigError("`gallery provision` is for GALLERY_BACKEND=aws; the local backend needs no set-up")
    from gallery.storage.aws.provision import provision as provision_aws

    for line in provision_aws(settings):
        click.echo(line)


@main.command()
@_reported
def gc() -> None:
    """Remove stored bytes that no image refers to (left behind by a crash mid-upload) and large uploads that
    were staged but never finished."""
    gallery = _open()
    removed = gallery.images.keeper.collect_garbage()
    click.echo(f"removed {len(removed)} unreferenced blob(s)")
    click.echo(f"removed {gallery.uploads.sweep()} abandoned upload(s)")
    # A write in progress is seconds old; one begun an hour ago was interrupted (a crash, a full disk).
    before = time.time() - 3600
    interrupted = gallery.storage.blobs.remove_leftovers(before) + gallery.storage.staging.remove_leftovers(before)
    click.echo(f"removed {interrupted} interrupted write(s)")
