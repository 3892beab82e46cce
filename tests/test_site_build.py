"""The static gallery: `gallery build` (the site builder) over a real local catalog — pages, renditions, exports,
incremental rebuilds, removals, bad images."""

from __future__ import annotations

import base64
import gzip
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from gallery.cli import main
from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, Scope
from gallery.domain.serving import extension_for
from gallery.services.images import InfoChange
from gallery.site import render as render_module
from gallery.site.build import builder_for, selection_for
from gallery.site.builder import SiteOptions
from gallery.site.render import Cache
from gallery.storage.backends import BlobsOf
from gallery.wiring import Gallery
from tests.conftest import Seed, make_app, make_settings
from tests.helpers import jpeg, png, sha256, site_cards, sitemap_urls, svg
from tests.site_fixtures import build
from tests.storage_fixtures import AWS_ENV
from tests.storage_fixtures import image as image_row
from tests.test_layers import imported


def inodes(site: Path) -> dict[str, int]:
    """Every file by its inode: a build writes a changed file as a new one, so a changed inode is a write."""
    found = [p for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")]  # not the build's own
    return {p.relative_to(site).as_posix(): p.stat().st_ino for p in found}


def page(site: Path, image: ImageInfo) -> str:
    return (site / "images" / image.id / "index.html").read_text()


def files_under(site: Path, folder: str) -> set[str]:
    return {p.relative_to(site).as_posix() for p in (site / folder).rglob("*") if p.is_file()}


def original(site: Path, image: ImageInfo) -> Path:
    """Where the site keeps an image's original: named by its ETag and the type we sniffed, never by its key."""
    return site / "originals" / f"{image.etag}.{extension_for(image.original.media_type)}"


def export_offered(site: Path, image: ImageInfo) -> dict[str, object] | None:
    """The export as the page's script assembles it (the fields on the page, the original the button names), or
    None when the page offers none. `test_site_browser` clicks the real button."""
    html = page(site, image)
    fields = re.search(r'<script type="application/json" id="export-fields">(.*?)</script>', html)
    button = re.search(r'<button type="button" class="button" data-export="\.\./\.\./([^"]+)"', html)
    if fields is None or button is None:
        assert (fields, button) == (None, None)
        assert "Export JSON" not in html
        return None
    data = base64.b64encode((site / button.group(1)).read_bytes()).decode()
    return {**json.loads(fields.group(1)), "data": data}


def test_every_public_image_gets_a_page_files_and_an_export(site: Path, uploaded: dict[str, ImageInfo]) -> None:
    index = (site / "index.html").read_text()
    assert "5 images: 4 tenant, 1 system" in index  # the private one is not on the site
    for name, image in uploaded.items():
        if name == "private":
            continue
        assert f'href="./images/{image.id}/"' in index
        assert original(site, image).read_bytes() != b""
        exported = export_offered(site, image)
        assert exported is not None
        assert (exported["resourceKey"], exported["title"]) == (image.resource_key, image.title)
        assert base64.b64decode(str(exported["data"])) == original(site, image).read_bytes()
    assert not (site / "exports").exists()  # no second, base64 copy of every original
    photo = page(site, uploaded["photo"])
    assert "Sunset &amp; &lt;sea&gt;" in photo
    assert "1600×1000" in photo
    assert "JPEG" in photo
    assert 'download="photo.jpg"' in photo
    # Cards: lazy, sized, with alt text; never 10,000 at once (paged).
    listed = index.split('id="cards"')[1].split("</ul>")[0]  # the cards, not the empty one of the template
    cards = re.findall(r"<img [^>]*>", listed)
    assert len(cards) == 5
    for tag in cards:
        assert all(attr in tag for attr in ('alt="', 'width="', 'height="', 'loading="lazy"', 'decoding="async"')), tag


def test_renditions_are_webp_with_a_fallback_at_several_widths(site: Path, uploaded: dict[str, ImageInfo]) -> None:
    photo = page(site, uploaded["photo"])
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)"', photo)
    assert webp is not None
    # The page's own URLs: relative to the page (`images/<id>/`), so they resolve wherever the site is published.
    assert all(entry.startswith("../../r/") for entry in webp.group(1).split(", ")), webp.group(1)
    widths = [int(w) for w in re.findall(r" (\d+)w", webp.group(1))]
    assert widths == [320, 640, 1280]
    names = re.findall(r"r/([0-9a-f]{16}-\d+\.(?:webp|jpg))", photo)
    # One fallback, for the rare browser without WebP: the widest up to 640 px, as the <img>'s only source.
    assert sorted({n.split("-")[1] for n in names}) == ["1280.webp", "320.webp", "640.jpg", "640.webp"]
    assert re.search(r'<img src="[^"]+-640\.jpg" srcset="\.\./\.\./r/[0-9a-f]{16}-640\.jpg 640w"', photo), photo
    for name in set(names):
        width = int(name.split("-")[1].split(".")[0])
        with Image.open(site / "r" / name) as rendered:
            assert rendered.size == (width, round(1000 * width / 1600))
            assert rendered.format == ("WEBP" if name.endswith(".webp") else "JPEG")
    # Transparency keeps a PNG fallback; an image narrower than a width is not upscaled.
    logo = page(site, uploaded["logo"])
    assert "1280w" not in logo
    assert set(re.findall(r"r/[0-9a-f]{16}-(\d+)\.webp", logo)) == {"320", "640", "700"}
    assert set(re.findall(r"r/[0-9a-f]{16}-(\d+)\.png", logo)) == {"640"}


def test_svg_is_a_file_never_inlined_and_gifs_stay_animated(site: Path, uploaded: dict[str, ImageInfo]) -> None:
    icon = uploaded["icon"]
    html = page(site, icon)
    assert "<svg" not in html
    assert f'src="../../originals/{icon.etag}.svg"' in html
    assert original(site, icon).read_bytes() == svg(90, 30)
    spinner = uploaded["spinner"]
    with Image.open(original(site, spinner)) as opened:
        assert getattr(opened, "n_frames", 1) == 4  # the page's download and the original stay animated
    assert 'href="../../originals/' in page(site, spinner)


def test_snippets_cover_public_markdown_srcset_and_authenticated(site: Path, uploaded: dict[str, ImageInfo]) -> None:
    photo = uploaded["photo"]
    html = page(site, photo)
    public = f"/api/images/public/{photo.public_key}"
    assert (
        f"&lt;img src=&#34;{public}&#34; alt=&#34;Sunset &amp;amp; &amp;lt;sea&amp;gt;&#34; width=&#34;1600&#34;"
        in html
    )
    assert f"![Sunset &amp; \\&lt;sea\\&gt;]({public})" in html  # `<`, `>` escaped for Markdown too
    assert "&lt;picture&gt;" in html
    assert "srcset=" in html
    assert "&lt;gallery-img src=&#34;/api/images/tenant/photo.jpg&#34;" in html
    assert "| image | async" in html
    assert html.count("data-copy=") == 5


def test_private_images_only_with_include_private_and_a_loud_warning(
    site: Path, tmp_path: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    private = uploaded["private"]
    assert not (site / "images" / private.id).exists()
    assert not original(site, private).exists()
    assert private.title not in [card["t"] for card in site_cards(site)]
    out = tmp_path / "with-private"
    code, output = build(out, "--tenant", seed.tenants["A"].name, "--include-private")
    assert code == 0, output
    assert "PRIVATE images are included" in output
    assert "readable by anyone who can reach this site" in output
    shown = page(out, private)
    assert "/api/images/public/" not in shown
    assert "has no public link" in shown
    assert export_offered(out, private) is None  # its public key stays off the site
    assert private.public_key not in shown
    assert "Export JSON" not in shown
    # made private: gone from the (public) site at the next build, every file of it
    photo = uploaded["photo"]
    renditions = {f"r/{n}" for n in re.findall(r"r/([0-9a-f]{16}-\d+\.\w+)", page(site, photo))}
    gallery.images.set_public(as_principal(seed.users["admin"]), Scope.TENANT, photo.resource_key, False)
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    assert not (site / "images" / photo.id).exists()
    assert not original(site, photo).exists()
    assert not renditions & files_under(site, "r")
    assert photo.title not in [card["t"] for card in site_cards(site)]
    assert uploaded["logo"].title in [card["t"] for card in site_cards(site)]  # (the cards are read)


def test_nothing_in_an_export_closes_its_block_on_the_page(
    tmp_path: Path, gallery: Gallery, seed: Seed, env: dict[str, str]
) -> None:
    title = "</script><script>alert(1)</script><!--"
    name = "<!--<script>.png"
    image = gallery.images.upload(as_principal(seed.users["admin"]), name, png(64, 48), title, None)
    out = tmp_path / "hostile"
    code, output = build(out, "--tenant", seed.tenants["A"].name)
    assert code == 0, output
    html = page(out, image)
    assert html.count("<script") == html.count("</script>") == 2  # the fields' block and the theme's script
    exported = export_offered(out, image)
    assert exported is not None
    assert (exported["title"], exported["fileName"]) == (title, name)


def test_an_export_file_imports_back_through_the_api(
    site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    photo = uploaded["photo"]
    exported = export_offered(site, photo)
    admin = as_principal(seed.users["admin"])
    gallery.images.delete(admin, Scope.TENANT, "photo.jpg", force=True)
    client = make_app(gallery=gallery).test_client()
    token = gallery.sessions.tokens.issue(seed.users["admin"]).token
    response = client.put("/api/image/import", json=exported, headers={"X-Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["etag"] == photo.etag
    assert response.get_json()["publicResourceKey"] == photo.public_key


def test_a_rebuild_without_changes_renders_nothing_and_rewrites_no_file(
    site: Path, tmp_path: Path, env: dict[str, str], seed: Seed
) -> None:
    before = inodes(site)  # every write is a new file: an unchanged inode was not written
    assert len([p for p in before if p.startswith("images/")]) == 5
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    assert "5 image(s), 0 rendered, 0 failed" in output
    assert inodes(site) == before


def test_a_rebuild_renders_exactly_the_pages_whose_inputs_changed_or_that_are_gone(
    site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    """Pages are rendered by fingerprint of what they are made from, not compared after rendering: so a rename
    renders its page and the index page holding its card, a page removed by hand comes back, and a change of
    what every page is made with (the site's URL) renders them all."""

    def rebuild(*extra: str) -> tuple[dict[Path, int], str]:
        code, output = build(site, "--tenant", seed.tenants["A"].name, "--system", *extra)
        assert code == 0, output
        return {p: p.stat().st_ino for p in site.rglob("index.html")}, output

    before, _ = rebuild()
    photo = uploaded["photo"]
    gallery.images.update_info(
        as_principal(seed.users["admin"]), Scope.TENANT, photo.resource_key, InfoChange(title="Dusk")
    )
    after, _ = rebuild()
    changed = {p.relative_to(site).as_posix() for p in before if after[p] != before[p]}
    assert changed == {f"images/{photo.id}/index.html", "index.html"}
    assert "Dusk" in page(site, photo)
    (site / "images" / photo.id / "index.html").unlink()
    (site / "index.html").unlink()
    rebuild()
    assert "Dusk" in page(site, photo)
    assert "Dusk" in (site / "index.html").read_text()
    # what every page is made with: a site URL makes absolute snippets on every page
    rebuild("--site-url", "https://img.example/")
    for name, image in uploaded.items():
        if name != "private":
            assert "https://img.example/" in page(site, image), name


def test_an_upload_leaves_the_index_pages_after_the_first_as_they_were(
    tmp_path: Path, env: dict[str, str], gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    """Pages after the first are blocks counted from the oldest image, so a new image changes the first page only
    (until the newest block fills up): at 10,000 images an upload no longer rewrites 209 pages."""
    out = tmp_path / "paged"
    admin = as_principal(seed.users["admin"])
    tenant = seed.tenants["A"].name

    def build_and_read() -> dict[str, bytes]:
        args = ["build", "--page-size", "2", "--out", str(out), "--cache", str(tmp_path / "c"), "--tenant", tenant]
        result = CliRunner().invoke(main, [*args, "--system"])
        assert result.exit_code == 0, result.output
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in [out / "index.html", *out.glob("page/*/*")]}

    gallery.images.upload(admin, "sixth.png", png(20, 20, (1, 1, 1)), "Sixth", None)  # 6 public: three full pages
    before = build_and_read()
    assert sorted(before) == ["index.html", "page/1/index.html", "page/2/index.html"]
    gallery.images.upload(admin, "seventh.png", png(20, 20, (2, 2, 2)), "Seventh", None)
    after = build_and_read()
    assert sorted(after) == sorted(before)
    assert {name for name in after if after[name] != before[name]} == {"index.html"}
    assert "Seventh" in after["index.html"].decode()

    for key in ("sixth.png", "seventh.png", "logo.png"):  # 4 left: the first page and one block
        gallery.images.delete(admin, Scope.TENANT, key, force=True)
    options = SiteOptions(selection_for(gallery, tenant, system=True), page_size=2)
    state = builder_for(gallery, options, tmp_path / "c").build(out)
    assert not (out / "page" / "2").exists()
    assert state.removed.count("page/2/index.html") == 1  # read in the folder and known from the fingerprints: once


def test_transparency_comes_from_the_catalog_and_an_older_row_learns_it_once(
    site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    assert (uploaded["logo"].has_alpha, uploaded["photo"].has_alpha) == (True, False)  # recorded at upload
    photo = uploaded["photo"]
    gallery.storage.catalog.update_image(replace(photo, has_alpha=None), photo.version, 0)  # a row from before
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    assert "5 image(s), 1 rendered, 0 failed" in output  # decoded to learn it...
    learnt = gallery.storage.catalog.get_image(photo.tenant_id, photo.resource_key)
    assert learnt == photo  # ...and kept: the same row, the same version
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert "5 image(s), 0 rendered, 0 failed" in output, output


def test_rendering_workers_open_the_bytes_alone(tmp_path: Path) -> None:
    """What a worker is handed (pickled, as a process pool sends it) opens the blob store and no database (the
    catalog is the parent's to read); the render code reaches storage through nothing else."""
    settings = make_settings(tmp_path / "fresh")
    opener = pickle.loads(pickle.dumps(BlobsOf(settings)))  # noqa: S301 (our own bytes, just made)
    assert opener == BlobsOf(settings)  # a lasting pool tells whether it serves the same store
    assert list(opener().etags()) == []
    assert not (tmp_path / "fresh" / "catalog.sqlite3").exists()
    used = set(imported(Path(render_module.__file__)))
    assert not {m for m in used if m.startswith(("gallery.wiring", "gallery.storage.backends", "gallery.services"))}


def test_an_updated_image_is_rendered_again_and_its_old_files_go(
    site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    photo = uploaded["photo"]
    old = files_under(site, "r") & {f"r/{n}" for n in re.findall(r"r/([0-9a-f]{16}-\d+\.\w+)", page(site, photo))}
    assert old
    gallery.images.update_bytes(
        as_principal(seed.users["admin"]), Scope.TENANT, "photo.jpg", "photo.jpg", jpeg(800, 800, (250, 0, 0))
    )
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    assert "5 image(s), 1 rendered, 0 failed" in output
    assert "800×800" in page(site, photo)
    assert not old & files_under(site, "r")
    assert not original(site, photo).exists()
    (new_original,) = [p for p in (site / "originals").iterdir() if p.read_bytes() == jpeg(800, 800, (250, 0, 0))]
    assert new_original.name == f"{sha256(new_original.read_bytes())}.jpg"


def test_a_deleted_image_leaves_nothing_behind(
    site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    logo = uploaded["logo"]
    names = set(re.findall(r"r/([0-9a-f]{16}-\d+\.\w+)", page(site, logo)))
    gallery.images.delete(as_principal(seed.users["admin"]), Scope.TENANT, "logo.png", force=True)
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 0, output
    assert not (site / "images" / logo.id).exists()
    assert not original(site, logo).exists()
    assert not {f"r/{n}" for n in names} & files_under(site, "r")
    cache = Cache(site.parent / "cache")
    assert not any(cache.rendition(n).exists() for n in names)
    assert logo.id not in (site / "index.html").read_text()


def test_bad_images_are_reported_and_skipped_and_the_build_fails(
    site: Path, gallery: Gallery, seed: Seed, uploaded: dict[str, ImageInfo]
) -> None:
    tenant = seed.tenants["A"].id
    corrupt = png(50, 50)[:60]
    gallery.storage.blobs.put(sha256(corrupt), corrupt)
    gallery.storage.catalog.insert_image(image_row(tenant, "broken.png", data=corrupt, title="Broken", created=5), 0)
    gallery.storage.catalog.insert_image(
        image_row(tenant, "gone.png", data=b"never stored", title="Gone", created=6), 0
    )
    code, output = build(site, "--tenant", seed.tenants["A"].name, "--system")
    assert code == 1
    assert "Broken (broken.png): The PNG image is corrupt" in output
    assert "Gone (gone.png): its bytes cannot be read" in output
    assert "7 image(s)" not in output
    assert "5 image(s), 0 rendered, 2 failed" in output
    assert (site / "images" / uploaded["photo"].id / "index.html").is_file()  # the rest still built


def test_selection_by_system(tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Seed) -> None:
    out = tmp_path / "system-only"
    code, output = build(out, "--system")
    assert code == 0, output
    assert "\n1 image(s), 1 rendered, 0 failed" in output
    assert (out / "images" / uploaded["system"].id / "index.html").is_file()
    assert not (out / "images" / uploaded["photo"].id).exists()
    public = tmp_path / "public"
    code, output = build(public, "--tenant", seed.tenants["A"].name)  # public images only: the default
    assert code == 0, output
    assert "\n4 image(s)" in output  # the tenant's five, less the private one; no system image
    assert not (public / "images" / uploaded["system"].id).exists()
    assert (public / "images" / uploaded["photo"].id / "index.html").is_file()


def test_mistakes_are_one_line_errors(tmp_path: Path, env: dict[str, str]) -> None:
    code, output = build(tmp_path / "x", "--tenant", "No such tenant")
    assert code == 1
    assert "No tenant named or with id 'No such tenant'" in output
    result = CliRunner().invoke(main, ["build", "--templates", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "No folder of templates at" in result.output
    aws: dict[str, str | None] = {
        "GALLERY_BACKEND": "aws",
        "GALLERY_BUCKET": "b",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    for env_extra, message in [
        ({**aws, "AWS_DEFAULT_REGION": None, "AWS_REGION": None}, "No AWS region is configured"),
        ({**aws, **AWS_ENV}, "Storage is temporarily unavailable"),
    ]:
        result = CliRunner().invoke(main, ["build", "--out", str(tmp_path / "y")], env=env_extra)
        assert result.exit_code == 1
        assert result.output.startswith("Error: Cannot open the catalog: ")
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_an_upgrade_renders_again_exactly_the_pages_it_changes(
    site: Path, tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    """A page's fingerprint holds the templates it is drawn with and the code that makes it: a changed template
    (a theme's override here) or rendering module (a package whose `contexts.py` changed, as an upgrade brings)
    renders the pages made with it again, and writes exactly those whose bytes changed."""
    scope = ("--tenant", seed.tenants["A"].name, "--system")
    image_pages = {f"images/{image.id}/index.html" for name, image in uploaded.items() if name != "private"}
    theme = tmp_path / "theme"
    (theme / "gallery").mkdir(parents=True)
    packaged = Path(render_module.__file__).parent / "theme" / "gallery" / "image.html"
    (theme / "gallery" / "image.html").write_text(packaged.read_text().replace("<h2>Embed</h2>", "<h2>Embed it</h2>"))
    before = inodes(site)
    code, output = build(site, *scope, "--templates", str(theme))
    assert code == 0, output
    after = inodes(site)
    assert {p for p in after if after[p] != before.get(p)} == image_pages
    assert "<h2>Embed it</h2>" in page(site, uploaded["photo"])

    package = tmp_path / "upgraded"
    shutil.copytree(
        Path(render_module.__file__).parents[1], package / "gallery", ignore=shutil.ignore_patterns("__pycache__")
    )
    contexts = package / "gallery" / "site" / "contexts.py"
    contexts.write_text(contexts.read_text().replace('SIZES = "(max-width: 700px) 100vw, 640px"', 'SIZES = "90vw"'))
    before = inodes(site)
    done = subprocess.run(
        [sys.executable, "-m", "gallery", "build", "--out", str(site), "--cache", str(site.parent / "cache"), *scope],
        env={**os.environ, **env, "PYTHONPATH": str(package)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = inodes(site)
    assert {p for p in after if after[p] != before.get(p)} == image_pages  # the index's cards have no `sizes`
    assert 'sizes="90vw"' in page(site, uploaded["photo"])


def test_a_site_url_gives_a_sitemap_absolute_snippets_and_a_404_that_works_at_any_depth(
    tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    out = tmp_path / "published"
    code, output = build(out, "--tenant", seed.tenants["A"].name, "--system", "--site-url", "https://img.example/pics/")
    assert code == 0, output
    sitemap = sitemap_urls(out, "https://img.example/pics/")
    photo = uploaded["photo"]
    assert f"https://img.example/pics/images/{photo.id}/" in sitemap
    assert "https://img.example/pics/" in sitemap
    assert len(sitemap) == len(set(sitemap))
    assert gzip.decompress((out / "sitemap.xml.gz").read_bytes()) == (out / "sitemap.xml").read_bytes()
    assert not any(uploaded["private"].id in url for url in sitemap)
    # The API is at the site's origin, not under its path; the site's own files are under the path.
    assert f"https://img.example/api/images/public/{photo.public_key}" in page(out, photo)
    assert "https://img.example/pics/r/" in page(out, photo)
    # A 404 is served for any missing path, so its links are root-absolute (MkDocs made them `//assets/…`).
    missing = (out / "404.html").read_text()
    assert 'href="/pics/assets/gallery.css"' in missing
    assert "//assets" not in missing
