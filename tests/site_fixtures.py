"""The static site's fixtures: a local catalog with one image of each kind, and a site built from it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from gallery.cli import main
from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.wiring import Gallery
from tests.browser import ARTIFACTS
from tests.conftest import JWT_SECRET, Seed
from tests.helpers import jpeg, png, svg
from tests.test_imaging_formats import animated_gif

ROOT = Path(__file__).resolve().parent.parent


def rgba_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (700, 350), (10, 200, 30, 128)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def env(gallery: Gallery, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"GALLERY_DATA_DIR": str(gallery.settings.data_dir), "GALLERY_JWT_SECRET": JWT_SECRET}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def uploaded(gallery: Gallery, seed: Seed) -> dict[str, ImageInfo]:
    admin, sysadmin = as_principal(seed.users["admin"]), as_principal(seed.users["sysadmin"])
    images = gallery.images
    made = {
        "photo": images.upload(admin, "photo.jpg", jpeg(1600, 1000), "Sunset & <sea>", None),
        "logo": images.upload(admin, "logo.png", rgba_png(), "Logo", None),
        "spinner": images.upload(admin, "spinner.gif", animated_gif(4, (60, 40)), "Spinner", None),
        "icon": images.upload(admin, "icon.svg", svg(90, 30), "Vector icon", None),
        "private": images.upload(admin, "private.png", png(100, 80), "Private one", None),
        "system": images.upload(sysadmin, "system.png", png(300, 200, (9, 9, 200)), "System image", None),
    }
    made["private"] = images.set_public(admin, Scope.TENANT, "private.png", False)
    return made


# What people write about their pictures, hostile where it can be: alt text and descriptions are users' text.
HOSTILE_ALT = '"><script>alert(1)</script> A sunset over the sea'
DESCRIPTION = "Taken at <b>dusk</b> & before the rain.\nSecond line of the first paragraph.\n\nA second paragraph."
TEXTS = {
    "photo": InfoChange(alt_text=HOSTILE_ALT, description=DESCRIPTION, tags=("sea", "sky", "café")),
    "logo": InfoChange(alt_text="Our logo: a green square", tags=("brand", "sea")),
    "system": InfoChange(description="The system's own picture.", tags=("sea",)),
}


@pytest.fixture
def described(gallery: Gallery, seed: Seed, uploaded: dict[str, ImageInfo]) -> dict[str, ImageInfo]:
    """`uploaded`, with alt text, descriptions and tags on three of them: `sea` on three images (a tenant's two and
    the system's), `sky` and `café` (a tag of more than ASCII) on the photo alone, `brand` on the logo."""
    admin, sysadmin = as_principal(seed.users["admin"]), as_principal(seed.users["sysadmin"])
    made = dict(uploaded)
    for name, change in TEXTS.items():
        image = made[name]
        who, scope = (sysadmin, Scope.SYSTEM) if image.is_system else (admin, Scope.TENANT)
        made[name] = gallery.images.update_info(who, scope, image.resource_key, change)
    return made


def build(out: Path, *args: str) -> tuple[int, str]:
    """`gallery build` into `out`, with the rendition cache beside it (each test its own)."""
    cache = str(out.parent / "cache")
    result = CliRunner().invoke(main, ["build", "--out", str(out), "--cache", cache, *args])
    return result.exit_code, result.output


@pytest.fixture
def site(tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Seed) -> Path:
    out = tmp_path / "build" / "site"
    code, output = build(out, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    return out


def window_shot(page: Any, name: str) -> None:
    """The window alone, under test-artifacts/ (`browser.screenshot` takes the whole page): the viewer covers the
    window, not the page below it."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
