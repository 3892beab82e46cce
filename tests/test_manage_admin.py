"""The administration screens in Chromium: the system administrator sets up a tenant profile with limits in human
units (byte-exact), a tenant on it, a user for it, disables and enables the user, resets a password that then
works, and deletes the tenant after a confirmation; a tenant administrator sees what their images take against
their limit beside the upload button. Keyboard, phone width, and what a person can read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from gallery.domain.model import Authority, FileLimits, ImageInfo
from gallery.wiring import Gallery
from tests.browser import audit, screenshot
from tests.conftest import PASSWORD, Seed
from tests.helpers import png
from tests.live import LiveServer
from tests.manage_fixtures import loaded, sign_in


def test_the_system_administrator_sets_up_and_removes_a_tenant(page: Any, server: LiveServer, seed: Seed) -> None:
    sign_in(page, server, seed.users["sysadmin"].email)
    tabs = page.get_by_role("navigation", name="Sections")
    expect(tabs).to_be_visible()

    # a profile: 2 MB per image, 1 GB in all, entered in human units and shown byte-exact
    tabs.get_by_role("button", name="Tenant profiles").click()
    expect(page.get_by_role("heading", name="Tenant profiles")).to_be_visible()
    page.get_by_role("button", name="Create profile").click()
    dialog = page.get_by_role("dialog", name="Create tenant profile")
    dialog.get_by_label("Name").fill("Small plant")
    dialog.get_by_label("Largest image", exact=True).fill("2")
    dialog.get_by_label("Largest image: unit").select_option("MB")
    expect(dialog).to_contain_text("2,097,152 bytes")
    dialog.get_by_label("All images together", exact=True).fill("1")
    dialog.get_by_label("All images together: unit").select_option("GB")
    expect(dialog).to_contain_text("1,073,741,824 bytes")
    assert audit(dialog) == []
    screenshot(page, "admin-profile-dialog")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    row = page.locator("tr", has_text="Small plant")
    expect(row).to_contain_text("2 MB")
    expect(row).to_contain_text("1 GB")

    # a tenant on it
    tabs.get_by_role("button", name="Tenants").click()
    page.get_by_role("button", name="Create tenant").click()
    dialog = page.get_by_role("dialog", name="Create tenant")
    dialog.get_by_label("Name").fill("Boiler plant")
    dialog.get_by_label("Tenant profile").select_option(label="Small plant (largest image 2 MB, total 1 GB)")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)
    tenant_row = page.locator("tr", has_text="Boiler plant")
    expect(tenant_row).to_contain_text("Small plant")
    expect(tenant_row).to_contain_text("0 bytes of 1 GB")

    # a user for it; wrong input is said in plain words and changes nothing
    tabs.get_by_role("button", name="Users").click()
    page.get_by_role("button", name="Create user").click()
    dialog = page.get_by_role("dialog", name="Create user")
    dialog.get_by_label("E-mail").fill("operator@boiler.example")
    dialog.get_by_label("Password").fill("short")
    dialog.get_by_label("Role").select_option("TENANT_ADMIN")
    dialog.get_by_label("Tenant").select_option(label="Boiler plant")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("at least 8 characters")
    dialog.get_by_label("Password").fill("first-password")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)
    user_row = page.locator("tr", has_text="operator@boiler.example")
    expect(user_row).to_contain_text("Tenant administrator")
    expect(user_row).to_contain_text("Boiler plant")
    expect(user_row).to_contain_text("Enabled")
    user_row.get_by_role("button", name="Disable").click()
    expect(page.locator("tr", has_text="operator@boiler.example")).to_contain_text("Disabled")
    page.locator("tr", has_text="operator@boiler.example").get_by_role("button", name="Enable").click()
    expect(page.locator("tr", has_text="operator@boiler.example")).to_contain_text("Enabled")
    page.locator("tr", has_text="operator@boiler.example").get_by_role("button", name="Reset password").click()
    dialog = page.get_by_role("dialog", name="Reset password")
    dialog.get_by_label("New password").fill("second-password")
    dialog.get_by_role("button", name="Set password").click()
    expect(dialog).to_have_count(0)
    assert audit(page.locator("#m-admin")) == []
    screenshot(page, "admin-users")

    # the new password works (in a page of its own)
    other = page.context.browser.new_context().new_page()
    other.goto(server.url + "/manage/")
    other.get_by_label("Email").fill("operator@boiler.example")
    other.get_by_label("Password").fill("second-password")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", name="Images")).to_be_visible()
    expect(other.locator("#m-usage")).to_have_text("0 bytes used of 1 GB")
    other.context.close()

    # delete the tenant, after saying what goes with it
    tabs.get_by_role("button", name="Tenants").click()
    page.get_by_role("button", name="Delete tenant: Boiler plant").click()
    confirm = page.get_by_role("dialog", name="Delete tenant")
    expect(confirm).to_contain_text("its 0 image(s), its users and its dashboards")
    assert audit(confirm) == []
    confirm.get_by_role("button", name="Delete tenant").click()
    expect(page.locator("tr", has_text="Boiler plant")).to_have_count(0)
    tabs.get_by_role("button", name="Images").click()
    expect(page.get_by_role("heading", name="Images")).to_be_visible()
    loaded(page)


def test_sections_work_from_the_keyboard_and_at_phone_width(page: Any, server: LiveServer, seed: Seed) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, server, seed.users["sysadmin"].email)
    tenants = page.get_by_role("navigation", name="Sections").get_by_role("button", name="Tenants")
    tenants.focus()
    page.keyboard.press("Enter")
    expect(tenants).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    expect(page.locator("tr", has_text="Tenant A")).to_be_visible()
    assert audit(page.locator("#m-admin")) == []
    assert "null" not in page.locator("#m-admin").inner_text()
    screenshot(page, "admin-tenants-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"


def test_a_tenant_administrator_sees_their_usage_beside_their_name(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: Callable[..., list[ImageInfo]]
) -> None:
    tenant = gallery.accounts.create_tenant_with_limits("Metered", FileLimits(0, 10 * 1024 * 1024))
    user = gallery.accounts.create_user("metered@example.com", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    sign_in(page, server, user.email)
    usage = page.locator("#m-usage")
    expect(usage).to_have_text("0 bytes used of 10 MB")
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()  # not theirs
    page.locator("#m-upload").click()
    dialog = page.get_by_role("dialog", name="Upload image")
    picture = {"name": "gauge.png", "mimeType": "image/png", "buffer": png(200, 100, (10, 200, 90))}
    dialog.locator("input[type=file]").set_input_files(files=[picture])
    dialog.get_by_role("button", name="Upload", exact=True).click()
    expect(dialog).to_have_count(0)
    size = len(picture["buffer"])
    expect(usage).to_have_text(f"{size} bytes used of 10 MB")
    expect(page.locator(".m-account")).to_contain_text(f"{size} bytes used of 10 MB {user.email}")
    assert audit(page.locator(".m-head")) == []
    assert audit(page.locator(".m-toolbar")) == []
    screenshot(page, "manage-usage")


def test_profiles_are_edited_and_removed_and_users_deleted(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed
) -> None:
    gallery.accounts.create_profile("Spare", FileLimits(1024, 0))
    gallery.accounts.create_user("leaving@example.com", PASSWORD, Authority.SYS_ADMIN)
    sign_in(page, server, seed.users["sysadmin"].email)
    tabs = page.get_by_role("navigation", name="Sections")
    tabs.get_by_role("button", name="Tenant profiles").click()
    expect(page.locator("tr", has_text="Spare")).to_contain_text("1 KB")
    page.get_by_role("button", name="Edit profile: Spare").click()
    dialog = page.get_by_role("dialog", name="Edit tenant profile")
    expect(dialog.get_by_label("Largest image", exact=True)).to_have_value("1")
    expect(dialog.get_by_label("Largest image: unit")).to_have_value("KB")
    dialog.get_by_label("Largest image", exact=True).fill("512")
    expect(dialog).to_contain_text("524,288 bytes")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="Spare")).to_contain_text("512 KB")
    assert gallery.accounts.resolve_tenant(seed.tenants["A"].name)  # untouched
    page.get_by_role("button", name="Delete profile: Spare").click()
    page.get_by_role("dialog", name="Delete tenant profile").get_by_role("button", name="Delete profile").click()
    expect(page.locator("tr", has_text="Spare")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete profile: Default")).to_have_count(0)  # the default stays
    tabs.get_by_role("button", name="Users").click()
    expect(page.get_by_role("button", name=f"Delete user: {seed.users['sysadmin'].email}")).to_have_count(
        0
    )  # not yourself
    page.get_by_role("button", name="Delete user: leaving@example.com").click()
    page.get_by_role("dialog", name="Delete user").get_by_role("button", name="Delete user").click()
    expect(page.locator("tr", has_text="leaving@example.com")).to_have_count(0)
