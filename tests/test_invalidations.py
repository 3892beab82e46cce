"""What a publish asks the CDN to drop (`gallery.site.sync.invalidations`): content-named files only, one wildcard per
content, and never more than `MAX_PATHS` paths."""

from __future__ import annotations

from gallery.site.sync import MAX_PATHS, invalidations


def test_fixed_names_are_never_invalidated() -> None:
    """They are served `no-cache`: the CDN keeps them for its minimum TTL (a second), not worth $0.005 a path."""
    assert invalidations(["index.html", "gallery.json", "images/abc/index.html", "tags/café/index.html"]) == []


def test_each_contents_files_go_by_one_wildcard() -> None:
    deleted = [
        "r/1f2e-320.webp",
        "r/1f2e-640.webp",
        "r/1f2e-320.jpg",
        "originals/9a9a.png",
        "originals/9a9a-public.png",
        "images/x/index.html",
    ]
    assert invalidations(deleted) == ["r/1f2e-*", "originals/9a9a*"]


def test_a_name_is_invalidated_as_the_cdn_reads_it() -> None:
    assert invalidations(["r/ab cd-1.webp", "originals/é.png"]) == ["r/ab%20cd-*", "originals/%C3%A9*"]


def test_past_the_limit_one_wildcard_serves_for_everything() -> None:
    many = [f"originals/{n:04x}.png" for n in range(MAX_PATHS)]
    assert len(invalidations(many)) == MAX_PATHS
    assert invalidations([*many, "r/ffff-1.webp"]) == ["*"]
