"""The management page's rough edges a first-time user met (docs/ux/ has the before and after pictures), each checked
in real headless Chromium as a person sees it: the toolbar on one row with Upload at the right, an upload dialog whose
buttons and result stay in view, a list that stays readable on a phone, the bulk "in use" dialog naming dashboards,
toasts that never hide the pager, small images never blown up, and files dropped on the page or pasted.

Each test takes its screenshot (`ux-<fix>-<phase>.png` in test-artifacts/) before its assertions, so the same file
run against the code before the fixes (GALLERY_UX_PHASE=before) leaves the "before" pictures."""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from gallery.demo import as_principal
from gallery.domain.model import Authority, FileLimits, ImageInfo
from gallery.services.dashboards import DashboardDraft
from gallery.wiring import Gallery
from tests.browser import ARTIFACTS, audit, wait_for
from tests.conftest import PASSWORD, Seed
from tests.helpers import png
from tests.live import LiveServer
from tests.manage_fixtures import drop_files, loaded, sign_in

AddImages = Callable[..., list[ImageInfo]]
PHASE = os.environ.get("GALLERY_UX_PHASE", "after")
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shot(page: Any, fix: str, target: Any = None, *, clip: dict[str, float] | None = None) -> None:
    """What a person looks at for one fix: an element, a region of the viewport, or the viewport."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = str(ARTIFACTS / f"ux-{fix}-{PHASE}.png")
    if target is not None:
        target.screenshot(path=path)
    else:
        page.screenshot(path=path, clip=clip)


def band(page: Any, top: float, bottom: float) -> dict[str, float]:
    """The viewport's full width between two heights (clamped to it)."""
    size = page.viewport_size
    top = max(0.0, top)
    return {"x": 0, "y": top, "width": size["width"], "height": min(size["height"], bottom) - top}


def seen(locator: Any) -> float:
    """How much of the element a person can see: clipped by the viewport and by whatever scrolls around it."""
    ratio: float = locator.evaluate(
        """e => new Promise((done) => {
            const watch = new IntersectionObserver(([entry]) => { watch.disconnect(); done(entry.intersectionRatio); });
            watch.observe(e);
        })"""
    )
    return ratio


def box(locator: Any) -> dict[str, float]:
    found: dict[str, float] | None = locator.bounding_box()
    assert found is not None, f"{locator} is not on the page"
    return found


def middle(locator: Any) -> float:
    found = box(locator)
    return found["y"] + found["height"] / 2


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def unseen_at(page: Any, locator: Any, *sizes: dict[str, int]) -> list[str]:
    """The audit's findings at each viewport size (the page is left at the last)."""
    found = []
    for size in sizes:
        page.set_viewport_size(size)
        page.wait_for_timeout(50)
        found += [f"{size['width']} px: {problem}" for problem in audit(locator)]
    return found


def checkerboard(side: int) -> bytes:
    """A small icon whose pixels show: blurred when blown up, crisp when doubled pixel for pixel."""
    image = Image.new("RGB", (side, side), (255, 255, 255))
    for x in range(side):
        for y in range(side):
            if (x // 6 + y // 6) % 2:
                image.putpixel((x, y), (10, 79, 191))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def photo(width: int, height: int) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def shown_size(page: Any, host: Any) -> dict[str, float]:
    """The size `<gallery-img>`'s own <img> is drawn at, once it has its bytes."""
    wait_for(page, "e => e.shadowRoot.querySelector('img').naturalWidth > 0", arg=host.element_handle())
    size: dict[str, float] = host.evaluate(
        """e => {
            const drawn = e.shadowRoot.querySelector('img').getBoundingClientRect();
            return {width: drawn.width, height: drawn.height};
        }"""
    )
    return size


# A DataTransfer holding files given as {name, type, data (base64)}: what a drag from the desktop or a paste brings.
TRANSFER = """(files) => {
    const transfer = new DataTransfer();
    for (const f of files) {
        const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return transfer;
}"""


def encoded(files: list[tuple[str, str, bytes]]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind, "data": base64.b64encode(data).decode()} for name, kind, data in files]


def drag_files(page: Any, selector: str, files: list[tuple[str, str, bytes]], events: list[str]) -> None:
    """Drag events from the desktop, with the files, on the first element `selector` finds."""
    page.evaluate(
        f"""([selector, files, events]) => {{
            const transfer = ({TRANSFER})(files);
            for (const type of events) {{
                const event = new DragEvent(type, {{ dataTransfer: transfer, bubbles: true, cancelable: true }});
                document.querySelector(selector).dispatchEvent(event);
            }}
        }}""",
        [selector, encoded(files), events],
    )


def paste_image(page: Any, name: str, data: bytes) -> None:
    """Ctrl+V of a copied screenshot, as the browser delivers it: a paste event whose clipboard holds one PNG file."""
    page.evaluate(
        f"""(files) => {{
            const clipboardData = ({TRANSFER})(files);
            document.dispatchEvent(new ClipboardEvent("paste", {{ clipboardData, bubbles: true, cancelable: true }}));
        }}""",
        encoded([(name, "image/png", data)]),
    )


# 1 ------------------------------------------------------------------------------------------------------------------
def test_the_toolbar_is_one_row_with_upload_at_the_right_whatever_the_usage_says(
    page: Any, server: LiveServer, gallery: Gallery
) -> None:
    tenant = gallery.accounts.create_tenant_with_limits("Metered", FileLimits(0, 1024**3))
    user = gallery.accounts.create_user("metered@example.com", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    gallery.images.upload(as_principal(user), "logo.png", png(40, 30), "Logo", None)
    page.set_viewport_size(WIDE)
    sign_in(page, server, user.email)
    toolbar = page.locator(".m-toolbar")
    upload = page.get_by_role("button", name="Upload image")
    search = page.get_by_role("searchbox", name="Search images by name")
    shot(page, "toolbar", clip=band(page, 0, box(toolbar)["y"] + box(toolbar)["height"] + 12))
    page.set_viewport_size(PHONE)
    shot(page, "toolbar-phone", clip=band(page, 0, box(toolbar)["y"] + box(toolbar)["height"] + 12))

    usage = page.locator("#m-usage")
    expect(usage).to_have_text(re.compile(r"^\d+ bytes used of 1 GB$"))
    used = usage.inner_text()
    for size in (WIDE, {"width": 1280, "height": 800}):
        page.set_viewport_size(size)
        assert abs(box(upload)["y"] - box(search)["y"]) < 1, f"Upload image is not on the search box's row at {size}"
        for control in (page.get_by_role("button", name="List view"), page.get_by_role("button", name="Refresh"),
                        page.get_by_role("switch", name="Include system images")):  # fmt: skip
            assert abs(middle(control) - middle(search)) < 1, f"{control} is not on the search box's row at {size}"
        right = box(toolbar)["x"] + box(toolbar)["width"]
        assert abs(box(upload)["x"] + box(upload)["width"] - right) < 1, "Upload image is not at the right"
    expect(page.get_by_role("switch", name="Include system images")).to_be_visible()
    page.set_viewport_size(WIDE)
    before = box(upload)["x"]
    page.get_by_role("button", name="Upload image").click()
    dialog = page.get_by_role("dialog", name="Upload image")
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "gauge.png", "mimeType": "image/png", "buffer": photo(300, 200)}]
    )
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(usage).not_to_have_text(used)
    assert box(upload)["x"] == before, "Upload image moved when the usage changed"
    assert box(usage)["y"] < box(toolbar)["y"], "the usage is not above the toolbar"
    assert unseen_at(page, page.locator(".m-head"), WIDE, PHONE) == []
    assert unseen_at(page, toolbar, WIDE, PHONE) == []
    expect(upload).to_be_in_viewport()  # on a phone too


# 2 ------------------------------------------------------------------------------------------------------------------
def test_the_upload_dialog_keeps_its_buttons_and_its_result_in_view(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages
) -> None:
    add_images("Logo")
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in(page, server, seed.users["admin"].email)
    page.get_by_role("button", name="Upload image").click()
    dialog = page.get_by_role("dialog", name="Upload image")
    files = [(f"pump-{n}.png", "image/png", png(60 + n, 40, (40 * n, 90, 160))) for n in range(1, 5)]
    files += [("fake.png", "image/png", b"not a picture at all"), ("notes.txt", "text/plain", b"hello")]
    drop_files(page, ".m-drop", files)
    expect(dialog.locator(".m-file")).to_have_count(6)
    submit = dialog.get_by_role("button", name="Upload 5 images")
    shot(page, "upload-dialog")
    submit_seen = seen(submit)
    submit.click()
    result = dialog.get_by_role("alert")
    expect(result).to_have_text("4 uploaded; the others could not be.")
    dialog.locator(".m-file").first.scroll_into_view_if_needed()  # back at the top, reading what became of each
    page.wait_for_timeout(50)
    shot(page, "upload-result")

    assert submit_seen == 1, f"with six files, {submit_seen:.0%} of the Upload button is in view"
    assert seen(result) == 1, "the result is out of view"
    assert seen(dialog.get_by_role("button", name="Cancel")) == 1
    assert unseen_at(page, dialog, WIDE, PHONE) == []
    assert seen(result) == 1  # on a phone too
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(5)


def test_the_import_dialog_says_what_failed_beside_its_buttons(
    page: Any, server: LiveServer, seed: Seed, tmp_path: Any
) -> None:
    page.set_viewport_size(WIDE)
    sign_in(page, server, seed.users["admin"].email)
    page.get_by_role("button", name="Import from JSON").click()
    dialog = page.get_by_role("dialog", name="Import images from JSON")
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    dialog.locator("input[type=file]").set_input_files(str(broken))
    dialog.get_by_role("button", name="Import", exact=True).click()
    result = dialog.get_by_role("alert")
    expect(result).to_have_text("Some files could not be imported.")
    assert unseen_at(page, dialog, WIDE, PHONE) == []
    assert seen(result) == 1


# 3 ------------------------------------------------------------------------------------------------------------------
LONG_TITLES = (
    "Company logo for the northern plant",
    "Main entrance camera snapshot at dawn",
    "Boiler room temperature overview chart",
    "Background",
    "Dropped logo",
)
OVERLONG_WORD = "IMG_20240612_083015_HDR_frontgate"

WORDS_SPLIT = """() => [...document.querySelectorAll('.m-table .m-title')].flatMap((title) => {
    const text = title.firstChild;
    const split = [];
    for (const match of text.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(text, match.index);
        range.setEnd(text, match.index + match[0].length);
        if (range.getClientRects().length !== 1) split.push(match[0]);
    }
    return split;
})"""


def test_the_list_on_a_phone_keeps_rows_short_and_words_whole(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages
) -> None:
    add_images(*LONG_TITLES, OVERLONG_WORD)
    page.set_viewport_size(PHONE)
    sign_in(page, server, seed.users["admin"].email)
    rows = page.locator(".m-table tbody tr")
    expect(rows).to_have_count(6)
    shot(page, "phone-list", page.locator("#m-results"))

    heights = rows.evaluate_all("rows => rows.map((r) => Math.round(r.getBoundingClientRect().height))")
    assert max(heights) <= 100, f"rows are {heights} px tall"
    assert page.evaluate(WORDS_SPLIT) in ([], [OVERLONG_WORD]), "a word of a title breaks across lines"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, "the page scrolls sideways"
    for title in (*LONG_TITLES, OVERLONG_WORD):
        row = page.locator("tr", has_text=title)
        expect(row.get_by_role("button", name=f"Edit image: {title}")).to_be_visible()
        expect(row.get_by_role("button", name=f"Delete image: {title}")).to_be_visible()
    assert unseen_at(page, page.locator("#m-results"), WIDE, PHONE) == []
    # download, export and embed are a tap away in the edit dialog
    page.get_by_role("button", name=f"Edit image: {LONG_TITLES[0]}").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    for name in ("Download", "Export to JSON", "Embed"):
        expect(dialog.get_by_role("button", name=name, exact=True)).to_be_visible()


# 4 ------------------------------------------------------------------------------------------------------------------
def test_the_bulk_in_use_dialog_names_the_dashboards_of_each_image(
    page: Any, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    pump, valve, _spare = add_images("Pump", "Valve", "Spare")
    admin = as_principal(seed.users["admin"])
    gallery.dashboards.save(admin, DashboardDraft("Boiler room", f"tb-image;{pump.link}", {}))
    gallery.dashboards.save(admin, DashboardDraft("Plant floor", f"tb-image;{valve.link}", {}))
    page.set_viewport_size(WIDE)
    as_admin()
    page.get_by_role("checkbox", name="Select every image on this page").check()
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_role("dialog", name="Delete images").get_by_role("button", name="Delete", exact=True).click()
    in_use = page.get_by_role("dialog", name="Images are used by other entities")
    expect(in_use).to_contain_text("2 of them are used by other entities")
    shot(page, "bulk-in-use", in_use)

    expect(in_use.locator("li", has_text="Pump").first).to_contain_text("dashboard “Boiler room”")
    expect(in_use.locator("li", has_text="Valve").first).to_contain_text("dashboard “Plant floor”")
    expect(page.locator(".m-table tbody tr")).to_have_count(2)  # Spare is gone from behind the dialog already
    assert unseen_at(page, in_use, WIDE, PHONE) == []
    in_use.get_by_role("button", name="Cancel").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)


# 5 ------------------------------------------------------------------------------------------------------------------
def delete_from_row(page: Any, title: str) -> None:
    page.get_by_role("button", name=f"Delete image: {title}").click()
    page.get_by_role("dialog", name="Delete image").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".m-toast", has_text=f"Deleted “{title}”")).to_be_visible()


def test_a_toast_never_hides_the_pager_on_a_wide_screen(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages
) -> None:
    add_images(*(f"Gauge {n}" for n in range(1, 13)))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, seed.users["admin"].email)
    delete_from_row(page, "Gauge 12")
    pager = page.locator("#m-pager")
    expect(pager.locator(".m-range")).to_have_text("1 – 10 of 11")
    pager.evaluate("e => e.scrollIntoView({block: 'end'})")  # as it first comes into view, scrolling down the list
    toast = page.locator(".m-toast").first
    shot(page, "toast-wide", clip=band(page, box(pager)["y"] - 100, 900))

    assert not overlap(box(toast), box(pager)), f"the toast {box(toast)} covers the pager {box(pager)}"


@pytest.mark.parametrize("width", [390, 900])
def test_a_toast_never_hides_the_pager_scrolled_to_the_bottom_of_a_narrower_screen(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages, width: int
) -> None:
    """Too narrow for toasts beside the pager (a phone, a small window): the page can be scrolled until it is clear."""
    add_images(*(f"Gauge {n}" for n in range(1, 14)))
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, server, seed.users["admin"].email)
    delete_from_row(page, "Gauge 13")
    delete_from_row(page, "Gauge 12")
    expect(page.locator(".m-toast")).to_have_count(2)
    pager = page.locator("#m-pager")
    expect(pager.locator(".m-range")).to_have_text("1 – 10 of 11")
    page.wait_for_timeout(50)
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    page.wait_for_timeout(50)
    if width == PHONE["width"]:
        shot(page, "toast-phone", clip=band(page, 844 - 360, 844))

    for toast in page.locator(".m-toast").all():
        assert not overlap(box(toast), box(pager)), f"a toast {box(toast)} covers the pager {box(pager)}"
    assert audit(page.locator("#m-toasts")) == []


# 6 ------------------------------------------------------------------------------------------------------------------
def test_small_images_are_never_shown_past_twice_their_size(
    page: Any, gallery: Gallery, seed: Seed, as_admin: Callable[..., Any]
) -> None:
    admin = as_principal(seed.users["admin"])
    gallery.images.upload(admin, "status-icon.png", checkerboard(48), "Status icon", None)
    gallery.images.upload(admin, "plant.png", photo(400, 300), "Plant photo", None)
    page.set_viewport_size(WIDE)
    as_admin("/manage/?view=grid")
    icon_card = page.locator(".m-card", has_text="Status icon")
    photo_card = page.locator(".m-card", has_text="Plant photo")
    icon_size = shown_size(page, icon_card.locator("gallery-img"))
    photo_size = shown_size(page, photo_card.locator("gallery-img"))
    frame = box(photo_card.locator(".m-card-preview"))
    rendering = icon_card.locator("gallery-img").evaluate(
        "e => getComputedStyle(e.shadowRoot.querySelector('img')).imageRendering"
    )
    page.mouse.move(0, 0)  # the cards as they rest, not as one looks under the pointer
    page.wait_for_timeout(300)  # (their actions fade out)
    shot(page, "small-images-grid", page.locator(".m-grid"))
    icon_card.hover()
    icon_card.get_by_role("button", name=re.compile("^Edit image")).click()
    dialog = page.get_by_role("dialog", name="Edit image")
    in_dialog = shown_size(page, dialog.locator(".m-large gallery-img"))
    shot(page, "small-images-dialog", dialog.locator(".m-large"))

    assert max(icon_size.values()) <= 96.5, f"the 48 px icon is drawn at {icon_size}"
    assert icon_size["width"] >= 95.5, f"the 48 px icon is not shown at twice its size: {icon_size}"
    assert abs(photo_size["width"] - frame["width"]) < 1, f"the photo {photo_size} does not fill its card {frame}"
    assert rendering == "pixelated", "a doubled icon is smoothed into a blur"
    assert max(in_dialog.values()) <= 96.5, f"in the dialog: {in_dialog}"
    assert unseen_at(page, dialog, WIDE, PHONE) == []


# 7 ------------------------------------------------------------------------------------------------------------------
def test_files_dropped_on_the_images_open_the_upload_dialog(
    page: Any, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Logo")
    page.set_viewport_size(WIDE)
    as_admin()
    gauge = [("gauge.png", "image/png", png(80, 60, (10, 160, 90)))]
    drag_files(page, "#m-results", gauge, ["dragenter", "dragover"])
    hint = page.get_by_text("Drop images to upload")
    page.wait_for_timeout(50)
    shot(page, "drop-hint", clip=band(page, 0, 520))

    expect(hint).to_be_visible()
    assert unseen_at(page, page.locator("[data-images-section]"), PHONE, WIDE) == []
    drag_files(page, "#m-results", gauge, ["drop"])
    expect(hint).to_be_hidden()
    dialog = page.get_by_role("dialog", name="Upload image")
    expect(dialog.get_by_role("textbox", name="Name for gauge.png")).to_have_value("gauge.png")
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".m-table tbody tr", has_text="gauge.png")).to_have_count(1)


def test_an_image_pasted_on_the_page_opens_the_upload_dialog(
    page: Any, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Logo")
    page.set_viewport_size(WIDE)
    as_admin()
    screenshot_bytes = png(120, 90, (200, 120, 20))
    # a paste into the search box is text for the search box
    page.get_by_role("searchbox", name="Search images by name").focus()
    paste_image(page, "image.png", screenshot_bytes)
    page.wait_for_timeout(200)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.evaluate("document.activeElement.blur()")
    paste_image(page, "image.png", screenshot_bytes)
    page.wait_for_timeout(200)
    shot(page, "paste")

    dialog = page.get_by_role("dialog", name="Upload image")
    expect(dialog.get_by_role("textbox", name="Name for image.png")).to_have_value("image.png")
    assert unseen_at(page, dialog, WIDE, PHONE) == []
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog).to_have_count(0)
    loaded(page)
    expect(page.locator(".m-table tbody tr", has_text="image.png")).to_have_count(1)


def test_only_the_focused_field_looks_focused_on_the_sign_in_form(page: Any, server: LiveServer) -> None:
    """The outline once also went on the label after any focused input: with the e-mail field focused, the password's
    label looked focused too."""
    page.goto(server.url + "/manage/")
    email = page.get_by_label("Email")
    email.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # by keyboard, so :focus-visible applies
    expect(email).to_be_focused()
    shot(page, "focus-sign-in", page.locator(".m-login"))
    outlined = page.locator(".m-login label, .m-login input").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).outlineStyle !== 'none')"
        ".map(e => e.tagName + '#' + (e.id || e.htmlFor))"
    )
    assert outlined == ["INPUT#login-user"]
