"""Alt text, description and tags on the management page, in real headless Chromium against a live `gallery serve`:
edited in the edit dialog (tags as chips), shown on rows and cards, a gentle hint where alt text is missing, the list
filtered by tag (from a chip, from the toolbar's menu, and in the URL), and tags added to and taken from a selection.
What the API then holds is checked each time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from gallery.demo import as_principal
from gallery.domain.model import Scope
from gallery.services.images import InfoChange
from gallery.wiring import Gallery
from tests.browser import audit, screenshot
from tests.conftest import Seed
from tests.live import LiveServer

AddImages = Callable[..., Any]


def titles(page: Any) -> list[str]:
    return sorted(page.locator(".m-table tbody .m-title").all_inner_texts())


def test_the_edit_dialog_sets_alt_text_description_and_tags(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    (pump,) = add_images("Pump")
    admin = as_principal(seed.users["admin"])
    as_admin()
    row = page.locator("tr", has_text="Pump")
    hint = row.get_by_role("button", name="Add alt text: Pump")
    expect(hint).to_be_visible()
    hint.click()  # the hint opens the dialog in the field it is about
    dialog = page.get_by_role("dialog", name="Edit image")
    alt = dialog.get_by_role("textbox", name="Alt text")
    expect(alt).to_be_focused()
    alt.fill("A red pump beside the boiler")
    dialog.get_by_role("textbox", name="Description").fill("Line one\n\n<b>not bold</b>")
    tags = dialog.get_by_role("combobox", name="Tags")
    tags.fill("Boiler Room")
    tags.press("Enter")
    tags.type("pump,")
    tags.type("red")  # typed, not yet added: saved too
    expect(dialog.locator(".m-chip")).to_have_text(["boiler-room", "pump"])
    dialog.get_by_role("button", name="Remove tag pump").click()
    expect(dialog.locator(".m-chip")).to_have_text(["boiler-room"])
    assert audit(dialog) == []
    screenshot(page, "manage-edit-texts")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".m-toast")).to_contain_text("Saved “Pump”")
    expect(dialog.locator(".m-chip")).to_have_text(["boiler-room", "red"])
    stored = gallery.images.info(admin, Scope.TENANT, pump.resource_key)
    assert (stored.alt_text, stored.description, stored.tags) == (
        "A red pump beside the boiler",
        "Line one\n\n<b>not bold</b>",
        ("boiler-room", "red"),
    )
    # a tag the server refuses: said in the dialog, nothing written
    tags.fill("a/b")
    tags.press("Enter")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("must be letters and digits")
    assert gallery.images.info(admin, Scope.TENANT, pump.resource_key).tags == ("boiler-room", "red")
    page.keyboard.press("Escape")
    expect(row.get_by_role("button", name="Add alt text: Pump")).to_have_count(0)
    expect(row.locator(".m-tag")).to_have_text(["boiler-room", "red"])


def test_the_list_is_filtered_by_tag_from_chips_the_menu_and_the_url(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    made = add_images("Pump", "Valve", "Boiler")
    admin = as_principal(seed.users["admin"])
    for image, tags in zip(made, [("pump", "red"), ("red",), ("boiler",)], strict=True):
        gallery.images.update_info(admin, Scope.TENANT, image.resource_key, InfoChange(tags=tags))
    as_admin()
    assert titles(page) == ["Boiler", "Pump", "Valve"]
    page.locator("tr", has_text="Valve").get_by_role("button", name="Show images tagged red").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert titles(page) == ["Pump", "Valve"]
    assert "tags=red" in page.url
    expect(page.locator("#m-filters .m-chip")).to_have_text(["red"])
    menu = page.get_by_role("combobox", name="Filter by tag")
    expect(menu.locator("option")).to_have_text(["Filter by tag…", "boiler (1)", "pump (1)"])
    menu.select_option("pump")
    expect(page.locator(".m-table tbody tr")).to_have_count(1)
    assert "tags=red%2Cpump" in page.url
    screenshot(page, "manage-tag-filter")
    page.get_by_role("button", name="Stop filtering by red").click()
    page.get_by_role("button", name="Stop filtering by pump").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(3)
    page.goto(server.url + "/manage/?tags=boiler,red")
    expect(page.locator(".m-empty")).to_contain_text("No images tagged “boiler” and “red”.")
    page.go_back()
    expect(page.locator(".m-table tbody tr")).to_have_count(3)
    # the grid's cards carry the chips too
    page.get_by_role("button", name="Grid view").click()
    card = page.locator(".m-card", has_text="Pump")
    expect(card.locator(".m-tag")).to_have_text(["pump", "red"])
    expect(card.get_by_role("button", name="Edit image: Pump")).to_be_attached()  # named for screen readers
    assert audit(card.locator(".m-card-body")) == []  # (its actions show on hover and focus)
    page.get_by_role("button", name="List view").click()
    assert audit(page.locator("#m-results")) == []
    assert audit(page.locator(".m-toolbar")) == []


def test_a_tag_is_added_to_and_taken_from_a_selection(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    made = add_images("Pump", "Valve", "Boiler")
    admin = as_principal(seed.users["admin"])
    gallery.images.update_info(admin, Scope.TENANT, made[0].resource_key, InfoChange(tags=("old",)))
    as_admin()
    for title in ("Pump", "Valve"):
        page.get_by_role("checkbox", name=f"Select {title}").check()
    page.get_by_role("button", name="Add tag").click()
    dialog = page.get_by_role("dialog", name="Add a tag to 2 images")
    dialog.get_by_role("combobox", name="Tag").fill("Main Hall")
    dialog.get_by_role("button", name="Add tag").click()
    expect(page.locator(".m-toast").first).to_contain_text("Tagged 2 images “main-hall”")
    tags = {i.title: i.tags for i in gallery.images.every_image(admin.tenant_id)}
    assert tags == {"Pump": ("old", "main-hall"), "Valve": ("main-hall",), "Boiler": ()}
    page.get_by_role("button", name="Remove tag").click()
    dialog = page.get_by_role("dialog", name="Remove a tag from 2 images")
    dialog.get_by_role("combobox", name="Tag").fill("old")
    dialog.get_by_role("button", name="Remove tag").click()
    expect(page.locator(".m-toast", has_text="Untagged")).to_contain_text("Untagged 2 images “old”")
    tags = {i.title: i.tags for i in gallery.images.every_image(admin.tenant_id)}
    assert tags == {"Pump": ("main-hall",), "Valve": ("main-hall",), "Boiler": ()}
