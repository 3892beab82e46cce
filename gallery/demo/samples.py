"""Sample images drawn by our own code, so a fresh gallery has something to show and nothing is downloaded."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

_BRAND = (37, 99, 235)
_ACCENT = (245, 158, 11)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def logo() -> bytes:
    image = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, 152, 152), radius=28, fill=_BRAND)
    draw.polygon([(40, 120), (80, 40), (120, 120)], fill=_ACCENT)
    draw.text((180, 50), "Image Gallery", fill=(30, 41, 59), font_size=44)
    return _encode(image, "PNG")


def icon() -> bytes:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 60, 60), fill=_ACCENT)
    draw.ellipse((20, 20, 44, 44), fill=(255, 255, 255))
    return _encode(image, "PNG")


def background() -> bytes:
    width, height = 1600, 900
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (horizontal, vertical, Image.new("L", (width, height), 200)))
    return _encode(image, "JPEG", quality=85)


def spinner() -> bytes:
    frames = []
    for step in range(8):
        frame = Image.new("P", (48, 48), 0)
        frame.putpalette([255, 255, 255, *_BRAND, *_ACCENT])
        draw = ImageDraw.Draw(frame)
        draw.arc((6, 6, 42, 42), start=step * 45, end=step * 45 + 270, fill=1, width=6)
        frames.append(frame)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return out.getvalue()


def badge_svg() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        b'<rect width="120" height="40" rx="8" fill="#2563eb"/>'
        b'<text x="60" y="26" font-family="sans-serif" font-size="16" fill="#fff" text-anchor="middle">gallery</text>'
        b"</svg>"
    )


def all_samples() -> list[tuple[str, str, bytes]]:
    """(file name, title, bytes) for each sample."""
    return [
        ("logo.png", "Logo", logo()),
        ("icon.png", "Icon", icon()),
        ("background.jpg", "Background", background()),
        ("spinner.gif", "Spinner", spinner()),
        ("badge.svg", "Badge", badge_svg()),
    ]
