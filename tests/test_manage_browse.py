"""The management page in real headless Chromium against a live `gallery serve`: signing in and out, tokens that
refresh, what each role sees, the list and grid views, search, sorting and paging kept in the URL, empty and error
states, the keyboard and a phone-width screen."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from playwright.sync_api import expect

from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, Scope
from gallery.wiring import Gallery
from tests.browser import screenshot, static_server, wait_for
from tests.conftest import JWT_SECRET, PASSWORD, Seed
from tests.helpers import png
from tests.live import LiveServer, live_server
from tests.manage_fixtures import backend_env, loaded, sign_in
from tests.site_fixtures import build

AddImages = Callable[..., list[ImageInfo]]


def names(page: Any) -> list[str]:
    found: list[str] = page.locator(".m-table tbody .m-title").all_inner_texts()
    return found


def list_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/api/images?" in request.url else None)
    return seen


def test_a_wrong_password_is_refused_in_plain_words_then_the_list_shows(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages
) -> None:
    add_images("Logo", "Banner")
    page.goto(server.url + "/manage/")
    page.get_by_label("Email").fill(seed.users["admin"].email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("Invalid username or password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert names(page) == ["Banner", "Logo"]  # newest first
    row = page.locator("tr", has_text="Logo")
    expect(row.locator(".m-resolution")).to_have_text("40×30")
    expect(row.locator(".m-created")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    expect(page.locator(".m-user")).to_contain_text(seed.users["admin"].email)
    expect(page.locator(".m-table th.m-system")).to_have_count(0)  # only with system images included
    # the previews are fetched with the token and shown
    wait_for(
        page,
        "[...document.querySelectorAll('.m-thumb')].every(e => e.shadowRoot.querySelector('img').naturalWidth > 0)",
    )
    expect(page.locator("#m-pager .m-range")).to_have_text("1 – 2 of 2")
    screenshot(page, "manage-list-view")


def test_tenant_users_see_system_images_read_only(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Tenant logo")
    add_images("Platform icon", who="sysadmin")
    as_admin()
    assert names(page) == ["Tenant logo"]
    page.get_by_role("switch", name="Include system images").check()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert "includeSystemImages=true" in page.url
    system_row = page.locator("tr", has_text="Platform icon")
    expect(system_row.locator(".m-system .badge")).to_have_text("System")
    expect(system_row.get_by_role("button", name="Delete image: Platform icon")).to_be_disabled()
    expect(system_row.get_by_role("checkbox")).to_be_disabled()
    expect(system_row.get_by_role("button", name="Edit image: Platform icon")).to_have_count(0)  # no pencil
    system_row.get_by_role("button", name="Image details: Platform icon (read-only)").click()
    dialog = page.get_by_role("dialog", name="Image details")
    expect(dialog.get_by_role("note")).to_contain_text("only the system administrator can change it")
    for field in ("Name", "Alt text", "Description"):
        expect(dialog.get_by_role("textbox", name=field, exact=True)).to_have_attribute("readonly", "")
    expect(dialog.get_by_role("button", name="Save")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Update image")).to_have_count(0)
    dialog.get_by_role("button", name="Embed").click()
    expect(page.get_by_role("dialog", name="Embed image").get_by_role("switch")).to_be_disabled()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    tenant_row = page.locator("tr", has_text="Tenant logo")
    expect(tenant_row.get_by_role("button", name="Delete image: Tenant logo")).to_be_enabled()
    page.reload()
    expect(page.get_by_role("switch", name="Include system images")).to_be_checked()
    expect(page.locator(".m-table tbody tr")).to_have_count(2)


def test_the_system_administrator_has_no_system_toggle_and_edits_system_images(
    page: Any, server: LiveServer, seed: Seed, add_images: AddImages
) -> None:
    add_images("Platform icon", who="sysadmin")
    add_images("Tenant logo")
    sign_in(page, server, seed.users["sysadmin"].email)
    expect(page.locator("[data-system-toggle]")).to_be_hidden()
    assert names(page) == ["Platform icon"]
    row = page.locator("tr", has_text="Platform icon")
    expect(row.get_by_role("button", name="Delete image: Platform icon")).to_be_enabled()
    row.get_by_role("button", name="Edit image: Platform icon").click()
    expect(page.get_by_role("dialog", name="Edit image").get_by_role("button", name="Update image")).to_be_visible()


def test_customer_users_are_told_the_page_is_for_administrators(page: Any, server: LiveServer, seed: Seed) -> None:
    page.goto(server.url + "/manage/")
    page.get_by_label("Email").fill(seed.users["customer"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Images are managed by administrators")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to manage images")).to_be_visible()


def test_sign_out_forgets_the_tokens(page: Any, server: LiveServer, as_admin: Callable[..., Any]) -> None:
    as_admin()
    assert page.evaluate("localStorage.getItem('gallery.refreshToken')")
    page.locator(".m-user").get_by_role("button", name="Sign out").click()
    expect(page.locator("#login-error")).to_have_text("You have signed out.")
    assert page.evaluate("[localStorage.getItem('gallery.token'), localStorage.getItem('gallery.refreshToken')]") == [
        None,
        None,
    ]
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to manage images")).to_be_visible()


def expired_copy(token: str) -> str:
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    now = int(time.time())
    return jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, JWT_SECRET, algorithm="HS256")


def store_tokens(page: Any, token: str, refresh: str | None = None) -> None:
    """Put tokens where the page keeps them: its own copy and the pair its tabs share."""
    page.evaluate(
        """async ([token, refresh]) => {
            if (refresh !== null) localStorage.setItem('gallery.refreshToken', refresh);
            localStorage.setItem('gallery.token', token);
            const { writePair } = await import('/assets/manage/tokens.js');
            await writePair({ token, refreshToken: localStorage.getItem('gallery.refreshToken') });
        }""",
        [token, refresh],
    )


def test_an_expired_token_is_refreshed_and_a_dead_session_asks_to_sign_in_again(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Logo")
    as_admin()
    stale = expired_copy(page.evaluate("localStorage.getItem('gallery.token')"))
    store_tokens(page, stale)
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/api/auth/token") else None)
    page.reload()
    expect(page.locator(".m-table tbody tr")).to_have_count(1)
    assert len(refreshes) == 1
    assert page.evaluate("localStorage.getItem('gallery.token')") not in (stale, None)
    # a browser clock two hours slow believes an expired token: the server refuses it, the page refreshes it once
    # and repeats the call
    page.clock.install(time=time.time() - 7200)
    page.reload()
    store_tokens(page, stale)
    refreshes.clear()
    with page.expect_response(lambda r: "/api/images?" in r.url and r.status == 200):
        page.get_by_role("button", name="Refresh").click()
    loaded(page)
    assert len(refreshes) == 1
    # a refresh token that no longer works ends the session
    store_tokens(page, "", "revoked")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#login-error")).to_have_text("Your session has ended. Please sign in again.")
    expect(page.get_by_label("Email")).to_be_focused()


def test_two_tabs_with_an_expired_token_refresh_once_and_both_go_on(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    """Tabs share the tokens, and a refresh token works once (its reuse ends every session): the tabs must not both
    spend it. One refresh between them; the other tab takes the token the first one stored."""
    add_images("Logo")
    as_admin()
    stale = expired_copy(page.evaluate("localStorage.getItem('gallery.token')"))
    store_tokens(page, stale)
    second = page.context.new_page()
    # Refreshes are held until both tabs have had time to want one: the race a slow network makes. Once released,
    # any later one goes straight through (a request held and never released would hang its tab and the lock).
    held: list[Any] = []
    asked: list[str] = []
    released = False

    def hold(route: Any) -> None:
        asked.append(route.request.url)
        if released:
            route.continue_()
        else:
            held.append(route)

    page.context.route("**/api/auth/token", hold)
    second.goto(server.url + "/manage/", wait_until="commit")
    page.reload(wait_until="commit")
    for _ in range(100):  # the first refresh, however slow the machine
        if held:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1500)  # time for the other tab to want one too
    released = True
    while held:
        held.pop().continue_()
    for tab in (page, second):
        expect(tab.locator(".m-table tbody tr")).to_have_count(1)
    assert len(asked) == 1
    # and the session is whole: both tabs go on working
    for tab in (page, second):
        tab.get_by_role("button", name="Refresh").click()
        loaded(tab)
        expect(tab.locator(".m-table tbody tr")).to_have_count(1)
    second.close()


def test_sorting_page_size_and_pages_live_in_the_url(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    titles = [f"Image {n:02d}" for n in range(12)]
    add_images(*titles)
    as_admin()
    expect(page.locator("#m-pager .m-range")).to_have_text("1 – 10 of 12")
    assert names(page) == titles[::-1][:10]
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#m-pager .m-range")).to_have_text("11 – 12 of 12")
    assert names(page) == ["Image 01", "Image 00"]
    assert "page=1" in page.url
    page.reload()
    expect(page.locator("#m-pager .m-range")).to_have_text("11 – 12 of 12")
    page.get_by_role("button", name="Name", exact=True).click()
    expect(page.locator("th", has_text="Name")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#m-pager .m-range")).to_have_text("1 – 10 of 12")  # a new order starts at the first page
    assert names(page)[:2] == ["Image 00", "Image 01"]
    page.get_by_role("button", name="Name", exact=True).click()
    expect(page.locator("th", has_text="Name")).to_have_attribute("aria-sort", "descending")
    assert names(page)[:2] == ["Image 11", "Image 10"]
    assert "property=title" in page.url
    assert "direction" not in page.url
    page.get_by_label("Items per page").select_option("20")
    expect(page.locator(".m-table tbody tr")).to_have_count(12)
    assert "pageSize=20" in page.url
    page.go_back()  # the previous state comes back with the browser's Back button
    expect(page.locator(".m-table tbody tr")).to_have_count(10)
    expect(page.get_by_label("Items per page")).to_have_value("10")


def test_search_is_debounced_and_restored_from_the_url(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Company logo", "Background", "Logo dark")
    as_admin()
    expect(page.locator(".m-table tbody tr")).to_have_count(3)
    seen = list_requests(page)
    page.get_by_label("Search images by name").press_sequentially("logo", delay=20)
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert len(seen) == 1
    assert "textSearch=logo" in seen[0]
    assert "textSearch=logo" in page.url
    page.reload()
    expect(page.get_by_label("Search images by name")).to_have_value("logo")
    assert sorted(names(page)) == ["Company logo", "Logo dark"]
    page.get_by_label("Search images by name").fill("zebra")
    expect(page.locator(".m-empty")).to_have_text("No images match “zebra”.")


def test_what_is_typed_in_the_search_box_is_never_overwritten_by_a_redraw(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    """Within the debounce, a click that redraws the page once wrote the old search back into the box, for good."""
    add_images("Company logo", "Background", "Logo dark")
    as_admin("/manage/?textSearch=logo")
    box = page.get_by_label("Search images by name")
    expect(box).to_have_value("logo")
    expect(page.locator(".m-table tbody tr")).to_have_count(2)
    # Time stands still between the keystroke and the click, so the click always lands inside the 150 ms.
    page.clock.install()
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    box.fill("")
    page.get_by_role("button", name="Grid view").click()
    expect(page.locator(".m-card")).to_have_count(3)
    expect(box).to_have_value("")
    page.clock.run_for(1000)  # the debounced handler now runs, late
    page.wait_for_timeout(100)
    expect(box).to_have_value("")
    expect(page.locator(".m-card")).to_have_count(3)
    assert "textSearch" not in page.url
    assert "view=grid" in page.url
    # new text, then at once a sort: the sort applies to what was typed
    page.get_by_role("button", name="List view").click()
    box.fill("back")
    page.get_by_role("button", name="Name").click()
    expect(page.locator(".m-table tbody tr")).to_have_count(1)
    page.clock.run_for(1000)
    page.clock.resume()
    expect(box).to_have_value("back")
    assert names(page) == ["Background"]
    assert "textSearch=back" in page.url
    # state that comes from the URL does write the box: Back to the grid without a search
    page.go_back()
    page.go_back()
    expect(box).to_have_value("")
    expect(page.locator(".m-card")).to_have_count(3)


def test_an_empty_gallery_invites_an_upload(page: Any, server: LiveServer, as_admin: Callable[..., Any]) -> None:
    as_admin()
    empty = page.locator(".m-empty")
    expect(empty).to_contain_text("No images yet.")
    empty.get_by_role("button", name="Upload image").click()
    expect(page.get_by_role("dialog", name="Upload image")).to_be_visible()


def test_grid_view_is_remembered_and_shows_actions_on_focus(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("Logo", "Banner")
    add_images("Platform icon", who="sysadmin")
    as_admin("/manage/?includeSystemImages=true")
    page.get_by_role("button", name="Grid view").click()
    cards = page.locator(".m-card")
    expect(cards).to_have_count(3)
    expect(page.get_by_role("button", name="Grid view")).to_have_attribute("aria-pressed", "true")
    logo = page.locator(".m-card", has_text="Logo")
    expect(logo.locator(".m-card-meta")).to_have_text(re.compile(r"^40×30 \| \d+ bytes$"))
    expect(page.locator(".m-card", has_text="Platform icon").locator(".badge")).to_have_text("System")
    actions = logo.locator(".m-card-actions")
    assert actions.evaluate("e => getComputedStyle(e).opacity") == "0"
    logo.get_by_role("button", name="Download image: Logo").focus()
    wait_for(page, "e => getComputedStyle(e).opacity === '1'", arg=actions.element_handle())
    page.mouse.move(0, 0)
    banner = page.locator(".m-card", has_text="Banner")
    banner.hover()  # actions show on hover too
    banner_actions = banner.locator(".m-card-actions").element_handle()
    wait_for(page, "e => getComputedStyle(e).opacity === '1'", arg=banner_actions)
    screenshot(page, "manage-grid-view")
    page.goto(server.url + "/manage/")  # no view in the URL: the one chosen last
    expect(page.locator(".m-card")).to_have_count(2)
    page.get_by_role("button", name="List view").click()
    page.goto(server.url + "/manage/")
    expect(page.locator(".m-table")).to_be_visible()


def test_api_failures_are_put_in_plain_words(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    (logo,) = add_images("Logo")
    as_admin()
    page.locator("tr", has_text="Logo").get_by_role("button", name="Edit image: Logo").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    gallery.images.delete(as_principal(seed.users["admin"]), Scope.TENANT, logo.resource_key, False)
    dialog.get_by_role("textbox", name="Name", exact=True).fill("Renamed")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "That image no longer exists: someone may have deleted it. Refresh to see the current list."
    )
    page.keyboard.press("Escape")
    # the API out of reach
    page.route("**/api/images?*", lambda route: route.abort())
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#m-results .m-error")).to_contain_text("The gallery could not be reached.")
    page.unroute("**/api/images?*")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator(".m-empty")).to_contain_text("No images yet.")


def test_keyboard_only_and_a_phone_width_screen(
    page: Any, server: LiveServer, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    add_images("A rather long image name for a small screen", "Logo")
    page.set_viewport_size({"width": 375, "height": 740})
    as_admin()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width} px)"
    expect(page.locator(".m-table th.m-created")).to_be_hidden()
    upload = page.get_by_role("button", name="Upload image")
    expect(upload).to_be_in_viewport()
    upload.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Upload image")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 375
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('dialog') !== null")  # focus stays in the dialog
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(upload).to_be_focused()  # and comes back to the button that opened it
    # select a row and sort from the keyboard
    checkbox = page.get_by_role("checkbox", name="Select Logo")
    checkbox.focus()
    page.keyboard.press("Space")
    expect(page.locator("#m-selected")).to_have_text("1 image selected")
    expect(page.get_by_role("checkbox", name="Select Logo")).to_be_focused()
    page.get_by_role("button", name="Name", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("th", has_text="Name")).to_have_attribute("aria-sort", "ascending")
    screenshot(page, "manage-phone")


def test_new_bytes_show_at_once_after_an_update_elsewhere(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, add_images: AddImages, as_admin: Callable[..., Any]
) -> None:
    (logo,) = add_images("Logo")
    as_admin()
    thumb = page.locator(".m-thumb")
    wait_for(page, "e => e.shadowRoot.querySelector('img').naturalWidth > 0", arg=thumb.element_handle())
    before = thumb.get_attribute("src")
    gallery.images.update_bytes(
        as_principal(seed.users["admin"]), Scope.TENANT, logo.resource_key, "logo.png", png(90, 45)
    )
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".m-table td.m-resolution")).to_have_text("90×45")
    assert page.locator(".m-thumb").get_attribute("src") != before


def test_a_page_published_elsewhere_talks_to_the_api_across_origins(
    page: Any, gallery: Gallery, seed: Seed, add_images: AddImages, env: dict[str, str], tmp_path: Path
) -> None:
    """The site on one origin (as on a CDN), the API on another that allows it: `api_url` names the API."""
    add_images("Logo")
    out = tmp_path / "published"
    out.mkdir()
    with static_server(out) as site_url:
        extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_CORS_ORIGINS": site_url}
        with live_server(gallery.settings.data_dir, {**extra, **backend_env(gallery.settings)}) as api:
            code, output = build(out, "--site-name", "Published gallery", "--api-url", api.url)
            assert code == 0, output
            sign_in(page, LiveServer(site_url, {}, api.log, api.pid), seed.users["admin"].email)
            assert names(page) == ["Logo"]
            wait_for(page, "document.querySelector('.m-thumb').shadowRoot.querySelector('img').naturalWidth > 0")
            page.locator("tr", has_text="Logo").get_by_role("button", name="Embed image: Logo").click()
            component = page.get_by_role("dialog", name="Embed image").get_by_label(
                "HTML for signed-in visitors (web component)"
            )
            expect(component).to_contain_text(f'api-base="{api.url}"')
            page.keyboard.press("Escape")
            page.locator("#m-upload").click()
            dialog = page.get_by_role("dialog", name="Upload image")
            dialog.locator("input[type=file]").set_input_files(
                {"name": "banner.png", "mimeType": "image/png", "buffer": png(80, 20)}
            )
            dialog.get_by_role("button", name="Upload", exact=True).click()
            expect(page.locator(".m-table tbody tr")).to_have_count(2)
    assert page.url.startswith(site_url)
