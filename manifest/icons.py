"""Draws the app's two icons (Teams: a 192x192 colour icon and a 32x32 white outline on
transparent): a baton passed between two hands, as two arcs and an arrow. Run it to redraw
manifest/color.png and manifest/outline.png."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
ACCENT = (36, 99, 235, 255)
WHITE = (255, 255, 255, 255)


def _baton(draw: ImageDraw.ImageDraw, size: int, colour: tuple[int, int, int, int]) -> None:
    margin, width = size // 6, max(2, size // 12)
    box = (margin, margin, size - margin, size - margin)
    draw.arc(box, start=200, end=340, fill=colour, width=width)
    draw.arc(box, start=20, end=160, fill=colour, width=width)
    mid = size // 2
    head = size // 6
    draw.line((margin + width, mid, size - margin - width, mid), fill=colour, width=width)
    right = size - margin - width
    draw.polygon(
        [(right, mid - head // 2 - width), (right + head, mid), (right, mid + head // 2 + width)],
        fill=colour,
    )


def colour_icon() -> Image.Image:
    image = Image.new("RGBA", (192, 192), ACCENT)
    _baton(ImageDraw.Draw(image), 192, WHITE)
    return image


def outline_icon() -> Image.Image:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    _baton(ImageDraw.Draw(image), 32, WHITE)
    return image


def main() -> None:
    colour_icon().save(HERE / "color.png")
    outline_icon().save(HERE / "outline.png")


if __name__ == "__main__":
    main()
