"""`gallery export` and `gallery import` for whole scopes, run as the installed command from a folder that is not
the repository, on a real local catalog: a tenant moved with two commands, repeated runs that change nothing,
refusals that stop nothing else, ThingsBoard's own export shapes, and a copy from a live server's REST API."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gallery.config import Settings
from gallery.demo import as_principal
from gallery.domain import errors
from gallery.domain.model import Authority, FileLimits, ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET
from tests.helpers import jpeg, png, svg
from tests.live import live_server

SCRIPT = Path(sys.executable).parent / "gallery"
PASSWORD = "archive-password"

# What ThingsBoard 4.x's `GET /api/images/tenant/{key}/export` returns (field order as its Jackson writes it), and
# the 3.6.2 `ImageExportData` (`isPublic`, no `type`, `link` or public key).
THINGSBOARD_4 = {
    "link": "/api/images/tenant/boiler.png",
    "mediaType": "image/png",
    "fileName": "boiler.png",
    "title": "Boiler room",
    "type": "IMAGE",
    "subType": "IMAGE",
    "resourceKey": "boiler.png",
    "public": True,
    "publicResourceKey": "Zq3vN8pXWkR2bT5mHc7dLs9fGj4aYe6u",
    "data": base64.b64encode(png(90, 60, (200, 80, 20))).decode(),
}
THINGSBOARD_362 = {
    "mediaType": "image/svg+xml",
    "fileName": "valve.svg",
    "title": "Valve",
    "subType": "SCADA_SYMBOL",
    "resourceKey": "valve.svg",
    "isPublic": False,
    "data": base64.b64encode(svg(40, 40)).decode(),
}


class Shell:
    """The installed `gallery` command, run from a folder of its own on one data folder."""

    def __init__(self, folder: Path, data: Path) -> None:
        self.folder = folder
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(folder),
            "LANG": "C.UTF-8",
            "GALLERY_DATA_DIR": str(data),
            "GALLERY_JWT_SECRET": JWT_SECRET,
        }
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(SCRIPT), *args], cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=300
        )
        if check is not None:
            assert done.returncode == check, done.stdout + done.stderr
        return done

    def gallery(self) -> Gallery:
        return Gallery.open(Settings.from_env(self.env))


@pytest.fixture
def source(tmp_path: Path) -> Shell:
    shell = Shell(tmp_path / "source-shell", tmp_path / "source-data")
    shell("tenants", "create", "Plant")
    gallery = shell.gallery()
    tenant = gallery.accounts.resolve_tenant("Plant")
    admin = as_principal(
        gallery.accounts.create_user("admin@plant.example", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    )
    images = gallery.images
    images.upload(admin, "logo.png", png(120, 60, (10, 120, 200)), "Logo", None)
    images.upload(admin, "photo.jpg", jpeg(800, 500), "Photo", None)
    images.upload(admin, "icon.svg", svg(32, 32), "Icon", "SCADA_SYMBOL")
    images.set_public(admin, Scope.TENANT, "photo.jpg", False)
    texts = InfoChange(alt_text="A sunset over the sea", description="Taken\nin May", tags=("sunset", "sea"))
    images.update_info(admin, Scope.TENANT, "photo.jpg", texts)
    gallery.close()
    return shell


def rows(shell: Shell, tenant: str) -> dict[str, ImageInfo]:
    gallery = shell.gallery()
    try:
        return {i.resource_key: i for i in gallery.images.every_image(gallery.accounts.resolve_tenant(tenant).id)}
    finally:
        gallery.close()


def same_images(a: dict[str, ImageInfo], b: dict[str, ImageInfo]) -> None:
    assert set(a) == set(b)
    for key, image in a.items():
        other = b[key]
        assert (other.etag, other.title, other.file_name, other.sub_type, other.public) == (
            image.etag,
            image.title,
            image.file_name,
            image.sub_type,
            image.public,
        )
        assert (other.alt_text, other.description, other.tags) == (image.alt_text, image.description, image.tags)


def test_a_tenant_moves_to_another_gallery_with_two_commands(source: Shell, tmp_path: Path) -> None:
    archive = tmp_path / "plant.zip"
    done = source("export", "--tenant", "Plant", "--out", str(archive))
    assert "exported 3 image(s)" in done.stdout
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        members = [n for n in opened.namelist() if n != "manifest.json"]
        first = json.loads(opened.read(members[0]))
    exported = rows(source, "Plant")
    assert manifest["count"] == 3
    assert manifest["bytes"] == sum(i.size for i in exported.values())
    assert {e["etag"] for e in manifest["images"]} == {i.etag for i in exported.values()}
    assert manifest["tool"].startswith("image-gallery ")
    assert set(first) == set(THINGSBOARD_4) | {"altText", "description", "tags"}  # the export API's own shape
    assert not list(tmp_path.glob(".plant.zip*"))  # no partial file left

    target = Shell(tmp_path / "target-shell", tmp_path / "target-data")
    target("tenants", "create", "Plant")
    done = target("import", str(archive), "--tenant", "Plant")
    assert "imported 3 image(s)" in done.stdout
    moved = rows(target, "Plant")
    same_images(exported, moved)
    # another gallery: the public links are kept (nobody there holds them)
    assert moved["logo.png"].public_key == exported["logo.png"].public_key

    assert moved["photo.jpg"].tags == ("sunset", "sea")

    again = target("import", str(archive), "--tenant", "Plant")
    assert "imported 0 image(s)" in again.stdout
    assert "3 already there with the same bytes" in again.stdout
    assert {k: i.version for k, i in rows(target, "Plant").items()} == {k: i.version for k, i in moved.items()}

    # Texts changed here since are the archive's again after an import: the bytes alone do not make it the same.
    gallery = target.gallery()
    admin = as_principal(
        gallery.accounts.create_user("a@plant.example", PASSWORD, Authority.TENANT_ADMIN, moved["photo.jpg"].tenant_id)
    )
    gallery.images.update_info(admin, Scope.TENANT, "photo.jpg", InfoChange(tags=("changed",)))
    gallery.close()
    done = target("import", str(archive), "--tenant", "Plant")
    assert "imported 1 image(s)" in done.stdout
    assert rows(target, "Plant")["photo.jpg"].tags == ("sunset", "sea")


def test_an_interrupted_import_is_finished_by_running_it_again(source: Shell, tmp_path: Path) -> None:
    archive = tmp_path / "plant.zip"
    source("export", "--tenant", "Plant", "--out", str(archive))
    half = tmp_path / "half"
    half.mkdir()
    with zipfile.ZipFile(archive) as opened:
        member = sorted(n for n in opened.namelist() if n.startswith("images/"))[0]
        (half / "one.json").write_bytes(opened.read(member))
    target = Shell(tmp_path / "target-shell", tmp_path / "target-data")
    target("tenants", "create", "Copy")
    target("import", str(half), "--tenant", "Copy")  # as if stopped after one image
    done = target("import", str(archive), "--tenant", "Copy")
    assert "imported 2 image(s)" in done.stdout
    assert "1 already there" in done.stdout
    same_images(rows(source, "Plant"), rows(target, "Copy"))


def test_refused_files_are_reported_and_the_rest_go_on(source: Shell, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(THINGSBOARD_4))
    (folder / "old.json").write_text(json.dumps(THINGSBOARD_362))
    (folder / "broken.json").write_text("{not json")
    not_an_image = {**THINGSBOARD_4, "resourceKey": "notes.png", "data": base64.b64encode(b"hello").decode()}
    (folder / "notes.json").write_text(json.dumps(not_an_image))
    big = {**THINGSBOARD_4, "resourceKey": "big.jpg", "data": base64.b64encode(jpeg(1600, 1200)).decode()}
    (folder / "big.json").write_text(json.dumps(big))
    gallery = source.gallery()
    small = gallery.accounts.create_tenant_with_limits("Small", FileLimits(max_resource_size=20_000))
    gallery.close()

    dry = source("import", str(folder), "--tenant", "Small", "--dry-run", check=1)
    assert "would import 2 image(s)" in dry.stdout
    assert rows(source, "Small") == {}

    done = source("import", str(folder), "--tenant", "Small", check=1)
    assert "imported 2 image(s)" in done.stdout
    assert "3 refused" in done.stdout
    refusals = {line.split(":")[0].split("/")[-1]: line for line in done.stdout.splitlines() if "refused " in line}
    assert "the file is not valid JSON" in refusals["broken.json"]
    assert "not a supported image" in refusals["notes.json"]
    assert "19 KB" in refusals["big.json"]
    imported = rows(source, "Small")
    assert set(imported) == {"boiler.png", "valve.svg"}
    assert imported["boiler.png"].public is True
    assert imported["valve.svg"].public is False  # 3.6.2's isPublic
    gallery = source.gallery()
    assert gallery.images.usage(small.id) == sum(i.size for i in imported.values())  # the refused cost nothing
    gallery.close()


def test_other_bytes_under_a_key_are_replaced_only_when_asked(source: Shell, tmp_path: Path) -> None:
    file = tmp_path / "logo.json"
    file.write_text(json.dumps({**THINGSBOARD_4, "resourceKey": "logo.png", "title": "New logo"}))
    before = rows(source, "Plant")["logo.png"]
    done = source("import", str(file), "--tenant", "Plant", check=1)
    assert "holds other bytes already (--overwrite replaces them)" in done.stdout
    assert rows(source, "Plant")["logo.png"] == before
    source("import", str(file), "--tenant", "Plant", "--overwrite")
    after = rows(source, "Plant")["logo.png"]
    assert (after.title, after.id) == ("New logo", before.id)
    assert after.public_key == THINGSBOARD_4["publicResourceKey"]  # as the API's import: the file's, being free


def test_the_system_scope_and_mistakes_in_the_command(source: Shell, tmp_path: Path) -> None:
    file = tmp_path / "boiler.json"
    file.write_text(json.dumps(THINGSBOARD_4))
    source("import", str(file), "--system")
    out = tmp_path / "system.zip"
    assert "exported 1 image(s)" in source("export", "--system", "--out", str(out)).stdout
    for wrong in (
        ("export", "--out", str(out)),
        ("export", "--tenant", "Plant", "--system", "--out", str(out)),
        ("import", str(file)),
        ("import", "--tenant", "Plant"),
        ("import", "--tenant", "Plant", "--from", "http://127.0.0.1:9"),
    ):
        done = source(*wrong, check=2)
        assert "Error:" in done.stderr
    missing = source("export", "--tenant", "Nobody", "--out", str(out), check=1)
    assert missing.stderr.strip().startswith("Error:")
    assert len(missing.stderr.strip().splitlines()) == 1


def test_a_live_server_is_copied_through_its_rest_api(source: Shell, tmp_path: Path) -> None:
    """`--from`: the same endpoints tb-rest-client uses (sign in, list pages, export each), against a real
    `gallery serve` on loopback; run twice, the second copies nothing."""
    target = Shell(tmp_path / "target-shell", tmp_path / "target-data")
    target("tenants", "create", "Mirror")
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(tmp_path / "no-site")}
    with live_server(Path(source.env["GALLERY_DATA_DIR"]), extra) as live:
        args = ("import", "--tenant", "Mirror", "--from", live.url, "--username", "admin@plant.example")
        done = target(*args, "--password", PASSWORD)
        assert "imported 3 image(s)" in done.stdout
        target.env["GALLERY_IMPORT_PASSWORD"] = PASSWORD  # out of the command line, as the README shows
        again = target(*args)
        assert "3 already there with the same bytes" in again.stdout
        wrong = target(*args, "--password", "not-the-password", check=1)
        assert "refused the login" in wrong.stderr
    same_images(rows(source, "Plant"), rows(target, "Mirror"))


def test_an_oversized_member_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip from elsewhere may hold a member that unpacks to gigabytes: it is refused by its declared size, the
    rest still read (in process, with the limit lowered to a few bytes so the test stays small)."""
    from gallery.services import archive as archive_module

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as made:
        made.writestr("images/big.json", " " * 50_000)  # compresses to almost nothing
        made.writestr("images/small.json", json.dumps(THINGSBOARD_4)[:10])
    monkeypatch.setattr(archive_module, "MAX_FILE", 20_000)
    found = {Path(e.label.split(":")[-1]).name: e for e in archive_module.entries([bomb])}
    with pytest.raises(errors.BadRequest, match="more than an export file holds"):
        found["big.json"].read()
    with pytest.raises(errors.BadRequest, match="the file is not valid JSON"):
        found["small.json"].read()  # read, and found wanting for what it is
