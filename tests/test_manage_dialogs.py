"""Every dialog the management page opens, looked at as a person would: each button on screen and uncovered, every
label and text readable against what is really behind it (4.5:1), and no `null`, `undefined`, `NaN` or
`[object Object]` anywhere. Each state leaves a screenshot in test-artifacts/ (`dialog-*.png`) to look at.

(A delete confirmation once showed only "Cancel": its confirm button was white on transparent, and its question
was followed by the word "null". Every action test still passed, because Playwright clicks what it cannot see.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from gallery.demo import TENANT_ADMIN, as_principal
from gallery.domain.model import Authority, ImageInfo
from gallery.services.dashboards import DashboardDraft
from gallery.wiring import Gallery
from tests.browser import audit, screenshot
from tests.conftest import Seed
from tests.helpers import png
from tests.live import LiveServer
from tests.manage_fixtures import drop_files, loaded

AddImages = Callable[..., list[ImageInfo]]


def looked_at(page: Any, dialog: Any, name: str) -> None:
    """The dialog is open and drawn; nothing in it is invisible, unreadable or blank-looking."""
    expect(dialog).to_be_visible()
    page.wait_for_timeout(50)  # let the opening transition and any focus styles settle before looking
    screenshot(page, f"dialog-{name}")
    assert audit(dialog) == [], f"{name}: {audit(dialog)}"
    for button in dialog.locator("button").all():  # and each button again with the mouse over it
        if button.is_visible() and button.is_enabled():
            button.hover()
            assert audit(button) == [], f"{name}, hovering: {audit(button)}"
    page.mouse.move(0, 0)


def test_the_audit_finds_what_a_person_could_not_see(page: Any) -> None:
    """The check itself: white on transparent, a covered button, a blank label, `null` and faint text are all found."""
    page.set_content(
        """<div id="t" style="background:#fff">
          <button id="white" style="color:#fff;background:transparent;border:0">Delete</button>
          <button id="ok" style="color:#fff;background:#b3261e">Delete</button>
          <div style="position:relative"><button id="under">Under</button>
            <div style="position:absolute;inset:-10px;background:#eee"></div></div>
          <button id="blank" style="width:40px;height:20px"></button>
          <p>Are you sure?</p><p>null</p>
          <p style="color:#bbb">faint</p>
        </div>"""
    )
    found = "\n".join(audit(page.locator("#t")))
    assert found.count("contrast") == 2, found  # the white button and the faint text; the red one passes
    assert 'button "Delete": contrast 1.00:1 < 4.5:1 (rgb(255, 255, 255) on rgb(255,255,255))' in found
    assert 'p "faint": contrast' in found
    assert 'button "Under": covered by div' in found
    assert "has no label" in found
    assert 'reads "null"' in found
    assert "Are you sure" not in found


def test_sign_in_errors(page: Any, server: LiveServer, seed: Seed) -> None:
    page.goto(f"{server.url}/manage/")
    page.get_by_label("Email").fill(seed.users["admin"].email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("Invalid username or password")
    looked_at(page, page.locator("[data-screen=login]"), "sign-in-error")


def test_upload_import_and_update_dialogs(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any], tmp_path: Path
) -> None:
    add_images("Logo")
    as_admin()
    page.locator("#m-upload").click()
    upload = page.get_by_role("dialog", name="Upload image")
    looked_at(page, upload, "upload-empty")
    drop_files(page, ".m-drop", [("logo.png", "image/png", png(64, 32)), ("notes.txt", "text/plain", b"hello")])
    expect(upload.locator(".m-file")).to_have_count(2)
    expect(upload.locator(".m-file", has_text="notes.txt").locator("img")).to_have_count(0)  # no broken preview
    looked_at(page, upload, "upload-files")
    upload.get_by_role("button", name="Cancel").click()
    expect(upload).to_have_count(0)

    page.locator("#m-import").click()
    importing = page.get_by_role("dialog", name="Import images from JSON")
    looked_at(page, importing, "import-empty")
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"title": "x"}))
    importing.locator("input[type=file]").set_input_files([str(broken), str(wrong)])
    importing.get_by_role("button", name="Import").click()
    expect(importing.get_by_role("alert")).to_have_text("Some files could not be imported.")
    looked_at(page, importing, "import-errors")
    importing.get_by_role("button", name="Cancel").click()

    page.locator("tr", has_text="Logo").get_by_role("button", name="Edit image: Logo").click()
    edit = page.get_by_role("dialog", name="Edit image")
    expect(edit.locator(".m-meta")).to_contain_text("40×30")
    edit.get_by_role("textbox", name="Name").fill("Company logo")  # shows the save and undo buttons
    looked_at(page, edit, "edit")
    edit.get_by_role("button", name="Update image").click()
    update = page.get_by_role("dialog", name="Update image")
    looked_at(page, update, "update-empty")
    new = tmp_path / "wider.png"
    new.write_bytes(png(120, 60))
    update.locator("input[type=file]").set_input_files(str(new))
    expect(update.get_by_role("button", name="Update", exact=True)).to_be_enabled()
    looked_at(page, update, "update-file")


def test_embed_dialog_public_and_private(page: Any, add_images: AddImages, as_admin: Callable[..., Any]) -> None:
    add_images('Logo "dark"')
    as_admin()
    page.get_by_role("button", name='Embed image: Logo "dark"').click()
    embed = page.get_by_role("dialog", name="Embed image")
    expect(embed.get_by_label("HTML (public link)")).to_be_visible()
    looked_at(page, embed, "embed-public")
    embed.get_by_role("switch", name="Public link").uncheck()
    expect(embed).to_contain_text("The image is private")
    looked_at(page, embed, "embed-private")


def test_the_edit_dialog_copies_the_link_and_the_public_link(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    """ThingsBoard's "Copy link": the image's link for signed-in use, and its public link while it has one."""
    (logo,) = add_images("Logo")
    as_admin()
    page.locator("tr", has_text="Logo").get_by_role("button", name="Edit image: Logo").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    dialog.get_by_role("button", name="Copy link", exact=True).click()
    expect(page.locator(".m-toast")).to_contain_text("Copied the link of “Logo”")
    assert page.evaluate("navigator.clipboard.readText()") == f"{server.url}/api/images/tenant/logo.png"
    dialog.get_by_role("button", name="Copy public link").click()
    expect(page.locator(".m-toast").last).to_contain_text("Copied the public link of “Logo”")
    assert page.evaluate("navigator.clipboard.readText()") == f"{server.url}/api/images/public/{logo.public_key}"
    looked_at(page, dialog, "edit-copy-link")
    # made private in the embed dialog: its public link goes, here too
    dialog.get_by_role("button", name="Embed", exact=True).click()
    embed = page.get_by_role("dialog", name="Embed image")
    embed.get_by_role("switch", name="Public link").uncheck()
    expect(embed).to_contain_text("The image is private")
    embed.get_by_role("button", name="Done").click()
    expect(dialog.get_by_role("button", name="Copy link", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Copy public link")).to_have_count(0)


def test_delete_dialogs_in_list_and_grid_and_in_use(
    page: Any, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    logo, banner, _ = add_images("Logo", "Banner", "Icon")
    gallery.dashboards.save(
        as_principal(seed.users["admin"]), DashboardDraft("Plant floor", f"tb-image;{banner.link}", {})
    )
    as_admin()
    page.get_by_role("button", name="Delete image: Logo").click()
    confirm = page.get_by_role("dialog", name="Delete image")
    expect(confirm).to_contain_text("Are you sure you want to delete image “Logo”?")
    looked_at(page, confirm, "delete")
    assert confirm.locator(".m-dialog-body").inner_text().strip() == "Are you sure you want to delete image “Logo”?"
    # a person clicks what they see: the mouse, at the button's place on screen
    box = confirm.get_by_role("button", name="Delete", exact=True).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert gallery.images.catalog.get_image(logo.tenant_id, logo.resource_key) is None

    page.get_by_role("button", name="Delete image: Banner").click()
    page.get_by_role("dialog", name="Delete image").get_by_role("button", name="Delete", exact=True).click()
    in_use = page.get_by_role("dialog", name="Image is used by other entities")
    expect(in_use).to_contain_text("dashboard “Plant floor”")
    looked_at(page, in_use, "delete-in-use")
    in_use.get_by_role("button", name="Cancel").click()

    page.get_by_role("button", name="Grid view").click()
    card = page.locator(".m-card", has_text="Icon")
    card.hover()
    card.get_by_role("button", name="Delete image: Icon").click()
    confirm = page.get_by_role("dialog", name="Delete image")
    looked_at(page, confirm, "delete-from-grid")
    confirm.get_by_role("button", name="Cancel").click()


def test_bulk_delete_dialogs(
    page: Any, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    made = add_images("One", "Two", "Three")
    gallery.dashboards.save(as_principal(seed.users["admin"]), DashboardDraft("Lobby", f"tb-image;{made[1].link}", {}))
    as_admin()
    page.get_by_role("checkbox", name="Select every image on this page").check()
    expect(page.locator("#m-selected")).to_have_text("3 images selected")
    page.get_by_role("button", name="Delete selected").click()
    confirm = page.get_by_role("dialog", name="Delete images")
    looked_at(page, confirm, "bulk-delete")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    in_use = page.get_by_role("dialog", name="Images are used by other entities")
    expect(in_use).to_contain_text("1 of them is used by other entities:")
    expect(in_use).to_contain_text("Two")
    looked_at(page, in_use, "bulk-delete-in-use")
    in_use.get_by_role("button", name="Delete anyway").click()
    loaded(page)
    expect(page.locator(".m-empty")).to_contain_text("No images yet.")


def test_the_sign_in_page_names_demo_logins_while_their_passwords_work(
    page: Any, server: LiveServer, gallery: Gallery
) -> None:
    page.goto(f"{server.url}/manage/")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.locator("#login-demo")).to_be_hidden()  # no demo logins here: nothing to say
    gallery.accounts.create_user(*TENANT_ADMIN, Authority.TENANT_ADMIN, gallery.accounts.create_tenant("Demo").id,
                                 weak_password=True)  # fmt: skip
    page.reload()
    notice = page.locator("#login-demo")
    expect(notice).to_contain_text("This is a demo gallery.")
    expect(notice).to_contain_text(f"{TENANT_ADMIN[0]} / {TENANT_ADMIN[1]}")
    looked_at(page, page.locator("[data-screen=login]"), "sign-in-demo")
