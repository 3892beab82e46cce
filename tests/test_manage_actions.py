"""Every action of the management page in real headless Chromium against a live `gallery serve`: upload (dropped
files, several at once, the size limit, big files through the presigned path), import from JSON, download, export,
the embed dialog, the edit dialog, delete one and bulk delete, with what the API then holds checked each time."""

from __future__ import annotations

import io
import json
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from gallery.demo import as_principal
from gallery.domain.model import Authority, FileLimits, ImageInfo, PageQuery, Scope, SortOrder, SubType, User
from gallery.services.dashboards import DashboardDraft
from gallery.wiring import Gallery
from tests.browser import screenshot, wait_for
from tests.conftest import PASSWORD, Seed
from tests.helpers import png, svg
from tests.live import LiveServer
from tests.manage_fixtures import drop_files, loaded, sign_in

AddImages = Callable[..., list[ImageInfo]]


def listed(gallery: Gallery, user: User) -> list[ImageInfo]:
    query = PageQuery(100, 0, sort_property="title", sort_order=SortOrder.ASC)
    return list(gallery.images.list_images(as_principal(user), query, SubType.IMAGE, False).data)


def titles(gallery: Gallery, seed: Seed) -> list[str]:
    return [image.title for image in listed(gallery, seed.users["admin"])]


def api_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url.split('/', 3)[3]}") if "/api/" in r.url else None)
    return seen


def noise_png(width: int, height: int) -> bytes:
    """Incompressible pixels: a PNG about as big as its raw bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG", compress_level=0)
    return out.getvalue()


def test_dropped_files_upload_together_with_names_prefilled_and_the_size_limit_checked_first(
    page: Any, server: LiveServer, gallery: Gallery
) -> None:
    tenant = gallery.accounts.create_tenant_with_limits("Small", FileLimits(max_resource_size=20_000))
    user = gallery.accounts.create_user("small@example.com", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    sign_in(page, server, user.email)
    seen = api_requests(page)
    page.locator("#m-upload").click()
    dialog = page.get_by_role("dialog", name="Upload image")
    expect(dialog).to_contain_text("Maximum upload file size: 19 KB")
    too_big = noise_png(120, 120)
    drop_files(page, ".m-drop", [("logo.png", "image/png", png(64, 32)), ("icon.svg", "image/svg+xml", svg(30, 10))])
    drop_files(page, ".m-drop", [("photo.png", "image/png", too_big), ("notes.txt", "text/plain", b"hello")])
    expect(dialog.get_by_role("textbox", name="Name for logo.png")).to_have_value("logo.png")
    expect(dialog.get_by_role("textbox", name="Name for icon.svg")).to_have_value("icon.svg")
    expect(dialog.locator(".m-file", has_text="photo.png").locator(".m-error")).to_contain_text(
        "the largest image allowed is 19 KB"  # the server says 19 KB too: one format
    )
    not_an_image = dialog.locator(".m-file", has_text="notes.txt").locator(".m-error")
    expect(not_an_image).to_have_text("This is not an image file.")
    dialog.get_by_role("textbox", name="Name for logo.png").fill("Company logo")
    screenshot(page, "manage-upload-dialog")
    dialog.get_by_role("button", name="Upload 2 images").click()
    # the refused files stay, so the dialog says what happened to the others
    expect(dialog.locator(".m-file", has_text="logo.png").locator(".m-status")).to_have_text("Uploaded")
    expect(dialog.get_by_role("alert")).to_have_text("2 uploaded; the others could not be.")
    assert [v for v in dialog.locator("progress").evaluate_all("ps => ps.map(p => p.value)") if v] == [1, 1]
    dialog.get_by_role("button", name="Remove photo.png").click()
    dialog.get_by_role("button", name="Remove notes.txt").click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert sorted(page.locator(".m-name .m-title").all_inner_texts()) == ["Company logo", "icon.svg"]
    assert sum(1 for r in seen if r == "POST api/image") == 2  # the refused ones never left the browser
    assert [(i.title, i.original.media_type) for i in listed(gallery, user)] == [
        ("Company logo", "image/png"),
        ("icon.svg", "image/svg+xml"),
    ]


def test_a_big_file_goes_straight_to_storage_through_the_presigned_form(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, as_admin: Callable[..., Any], tmp_path: Path
) -> None:
    big = tmp_path / "poster.png"
    big.write_bytes(noise_png(1300, 1100))  # about 4.3 MB: above the 4 MiB a direct request may carry
    as_admin()
    seen = api_requests(page)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.locator("#m-upload").click()
    dialog = page.get_by_role("dialog", name="Upload image")
    dialog.locator("input[type=file]").set_input_files(str(big))
    dialog.get_by_role("textbox", name="Name for poster.png").fill("Poster")
    with page.expect_response(lambda r: r.url.endswith("/api/image/uploads")) as started:
        dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog).to_have_count(0)
    # the bytes went to the form's own URL: S3's (moto's) on aws, our staging endpoint (a path of the API's) locally
    assert urllib.parse.urljoin(f"{server.url}/", started.value.json()["url"]) in posted
    expect(page.locator(".m-toast")).to_contain_text("Uploaded “Poster”")
    expect(page.locator("tr", has_text="Poster").locator(".m-resolution")).to_have_text("1300×1100")
    assert "POST api/image/uploads" in seen
    assert any(re.fullmatch(r"POST api/image/uploads/[\w.-]+", r) for r in seen)
    assert "POST api/image" not in seen
    (image,) = listed(gallery, seed.users["admin"])
    assert image.title == "Poster"
    assert image.original.size == big.stat().st_size
    with (
        gallery.downloads.image(as_principal(seed.users["admin"]), Scope.TENANT, image.resource_key, False)
        .content()
        .open() as f
    ):
        assert f.read() == big.read_bytes()


def test_import_from_json_takes_one_or_many_files_and_names_the_bad_ones(
    page: Any,
    server: LiveServer,
    gallery: Gallery,
    seed: Seed,
    add_images: AddImages,
    as_admin: Callable[..., Any],
    tmp_path: Path,
) -> None:
    admin = as_principal(seed.users["admin"])
    made = add_images("Logo", "Banner", "Icon")
    exports = [gallery.transfer.export(admin, Scope.TENANT, image.resource_key) for image in made]
    for image in made:
        gallery.images.delete(admin, Scope.TENANT, image.resource_key, True)
    (tmp_path / "logo.json").write_text(json.dumps(exports[0]))
    (tmp_path / "two.json").write_text(json.dumps(exports[1:]))
    (tmp_path / "broken.json").write_text("{not json")
    as_admin()
    page.get_by_role("button", name="Import from JSON").click()
    dialog = page.get_by_role("dialog", name="Import images from JSON")
    files = [str(tmp_path / name) for name in ("logo.json", "two.json", "broken.json")]
    dialog.locator("input[type=file]").set_input_files(files)
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.locator(".m-file", has_text="logo.json")).to_contain_text("Imported “Logo”")
    expect(dialog.locator(".m-file", has_text="two.json")).to_contain_text("Imported 2 images")
    expect(dialog.locator(".m-file", has_text="broken.json")).to_contain_text("This file is not JSON")
    expect(dialog.get_by_role("alert")).to_have_text("Some files could not be imported.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(3)
    assert titles(gallery, seed) == ["Banner", "Icon", "Logo"]
    # the same key and public link as before the delete: embedded links keep working
    assert {i.resource_key: i.public_key for i in made} == {e["resourceKey"]: e["publicResourceKey"] for e in exports}


def test_download_and_export_save_the_original_and_its_json(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    (logo,) = add_images("Logo")
    admin = as_principal(seed.users["admin"])
    as_admin()
    row = page.locator("tr", has_text="Logo")
    with page.expect_download() as download:
        row.get_by_role("button", name="Download image: Logo").click()
    assert download.value.suggested_filename == "logo.png"
    with gallery.downloads.image(admin, Scope.TENANT, logo.resource_key, False).content().open() as stored:
        assert Path(download.value.path()).read_bytes() == stored.read()
    with page.expect_download() as exported:
        row.get_by_role("button", name="Export image to JSON: Logo").click()
    assert exported.value.suggested_filename == "logo.png.json"
    assert json.loads(Path(exported.value.path()).read_text()) == gallery.transfer.export(
        admin, Scope.TENANT, logo.resource_key
    )


def test_the_embed_dialog_switches_the_public_link_and_copies_snippets(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    (logo,) = add_images('Logo "dark"')
    as_admin()
    page.locator("tr", has_text="Logo").get_by_role("button", name=re.compile("^Embed image")).click()
    dialog = page.get_by_role("dialog", name="Embed image")
    public = dialog.get_by_role("switch", name="Public link")
    expect(public).to_be_checked()
    expect(dialog).to_contain_text("A public link works for anyone who has it, without signing in.")
    html = dialog.get_by_label("HTML (public link)")
    link = f"{server.url}/api/images/public/{logo.public_key}"
    expect(html).to_have_value(f'<img src="{link}" alt="Logo &quot;dark&quot;" width="40" height="30">')
    expect(dialog.get_by_label("Markdown (public link)")).to_have_value(f'![Logo "dark"]({link})')
    with urllib.request.urlopen(link) as response:  # no token: it really is public
        assert response.headers["Content-Type"] == "image/png"
    key = logo.resource_key.replace('"', "%22")  # the link, percent-encoded, never ends the attribute early
    component = dialog.get_by_label("HTML for signed-in visitors (web component)")
    expect(component).to_have_value(
        f'<script type="module" src="{server.url}/assets/gallery-img.js"></script>\n'
        f'<gallery-img src="/api/images/tenant/{key}" alt="Logo &quot;dark&quot;" width="40" height="30">'
        "</gallery-img>"
    )
    angular = dialog.get_by_label("ThingsBoard (Angular template)")
    expect(angular).to_have_value(f"<img [src]=\"'/api/images/tenant/{key}' | image | async\" />")
    screenshot(page, "manage-embed-dialog")
    dialog.locator(".m-snippet", has_text="Angular").get_by_role("button", name="Copy").click()
    expect(dialog.locator(".m-snippet", has_text="Angular").get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == angular.input_value()
    public.uncheck()
    expect(dialog).to_contain_text("The image is private")
    expect(html).to_have_count(0)
    admin = as_principal(seed.users["admin"])
    assert gallery.images.info(admin, Scope.TENANT, logo.resource_key).public is False
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(link)
    public.check()
    expect(html).to_be_visible()
    assert gallery.images.info(admin, Scope.TENANT, logo.resource_key).public is True


def test_the_edit_dialog_renames_with_undo_and_updates_the_bytes_in_place(
    page: Any,
    server: LiveServer,
    gallery: Gallery,
    seed: Seed,
    add_images: AddImages,
    as_admin: Callable[..., Any],
    tmp_path: Path,
) -> None:
    (logo,) = add_images("Logo")
    admin = as_principal(seed.users["admin"])
    as_admin()
    page.locator("tr", has_text="Logo").get_by_role("button", name="Edit image: Logo").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    expect(dialog.locator(".m-meta")).to_have_text(re.compile(r"^40×30 \| \d+ bytes$"))
    name = dialog.get_by_role("textbox", name="Name", exact=True)
    save = dialog.get_by_role("button", name="Save")
    expect(save).to_be_disabled()
    name.fill("Company logo")
    expect(save).to_be_enabled()
    name.fill("Logo")
    expect(save).to_be_disabled()  # back as it was: nothing to save
    name.fill("Company logo")
    screenshot(page, "manage-edit-dialog")
    name.press("Enter")
    expect(page.locator(".m-toast")).to_contain_text("Saved “Company logo”")
    expect(save).to_be_disabled()
    expect(page.locator(".m-table .m-title")).to_have_text("Company logo")
    assert gallery.images.info(admin, Scope.TENANT, logo.resource_key).title == "Company logo"
    # update image: new bytes, same key, same links
    new = tmp_path / "wider.png"
    new.write_bytes(png(120, 60))
    dialog.get_by_role("button", name="Update image").click()
    update = page.get_by_role("dialog", name="Update image")
    update.locator("input[type=file]").set_input_files(str(new))
    update.get_by_role("button", name="Update").click()
    expect(update).to_have_count(0)
    expect(dialog.locator(".m-meta")).to_have_text(re.compile(r"^120×60 \| "))
    wait_for(
        page, "() => document.querySelector('dialog .m-large-img').shadowRoot.querySelector('img').naturalWidth === 120"
    )
    after = gallery.images.info(admin, Scope.TENANT, logo.resource_key)
    assert (after.original.width, after.public_key, after.title) == (120, logo.public_key, "Company logo")
    assert after.etag != logo.etag
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    expect(page.locator(".m-table td.m-resolution")).to_have_text("120×60")


def test_delete_asks_first_and_again_when_the_image_is_in_use(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    _logo, banner = add_images("Logo", "Banner")
    admin = as_principal(seed.users["admin"])
    gallery.dashboards.save(admin, DashboardDraft("Plant floor", f"tb-image;{banner.link}", {}))
    as_admin()
    page.get_by_role("button", name="Delete image: Logo").click()
    confirm = page.get_by_role("dialog", name="Delete image")
    expect(confirm).to_contain_text("Are you sure you want to delete image “Logo”?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Delete image: Logo").click()
    page.get_by_role("dialog", name="Delete image").get_by_role("button", name="Delete").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(1)
    assert titles(gallery, seed) == ["Banner"]
    page.get_by_role("button", name="Delete image: Banner").click()
    page.get_by_role("dialog", name="Delete image").get_by_role("button", name="Delete").click()
    in_use = page.get_by_role("dialog", name="Image is used by other entities")
    expect(in_use).to_contain_text("dashboard “Plant floor”")
    in_use.get_by_role("button", name="Delete anyway").click()
    expect(page.locator(".m-empty")).to_contain_text("No images yet.")
    assert titles(gallery, seed) == []


def test_bulk_delete_of_the_selected_images(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    made = add_images("One", "Two", "Three", "Four")
    admin = as_principal(seed.users["admin"])
    gallery.dashboards.save(admin, DashboardDraft("Lobby", f"tb-image;{made[1].link}", {}))
    as_admin()
    page.get_by_role("checkbox", name="Select One").check()
    expect(page.locator("#m-selected")).to_have_text("1 image selected")
    page.get_by_role("checkbox", name="Select every image on this page").check()
    expect(page.locator("#m-selected")).to_have_text("4 images selected")
    page.get_by_role("checkbox", name="Select Four").uncheck()
    expect(page.locator("#m-selected")).to_have_text("3 images selected")
    expect(page.locator("tr.selected")).to_have_count(3)
    page.get_by_role("button", name="Delete selected").click()
    confirm = page.get_by_role("dialog", name="Delete images")
    expect(confirm).to_contain_text("Are you sure you want to delete 3 images?")
    confirm.get_by_role("button", name="Delete").click()
    in_use = page.get_by_role("dialog", name="Images are used by other entities")
    expect(in_use).to_contain_text("Two")
    in_use.get_by_role("button", name="Cancel").click()  # keep the one in use
    expect(page.locator(".m-toast").first).to_contain_text("Deleted 2 images")
    loaded(page)
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert titles(gallery, seed) == ["Four", "Two"]
    expect(page.locator("#m-selected")).to_have_text("1 image selected")  # the one still there stays selected
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_role("dialog", name="Delete images").get_by_role("button", name="Delete").click()
    in_use = page.get_by_role("dialog", name="Images are used by other entities")
    in_use.get_by_role("button", name="Delete anyway").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(1)
    assert titles(gallery, seed) == ["Four"]
    expect(page.locator("#m-selection")).to_be_hidden()
