"""Raster images compared by decoded pixels (Pillow), never by base64 text."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class PixelVerdict:
    """How two images differ: sizes, and pixels whose channels differ by more than the tolerance."""

    expected_size: tuple[int, int] | None
    got_size: tuple[int, int] | None
    differing: int = 0
    total: int = 0
    largest: int = 0
    problem: str | None = None

    @property
    def equal(self) -> bool:
        return self.problem is None and self.expected_size == self.got_size and self.differing == 0

    def describe(self) -> str:
        if self.problem is not None:
            return self.problem
        if self.expected_size != self.got_size:
            return f"size {_size(self.expected_size)} expected, got {_size(self.got_size)}"
        share = 100.0 * self.differing / self.total if self.total else 0.0
        return (
            f"{self.differing} of {self.total} pixels differ ({share:.2f}%), "
            f"largest channel difference {self.largest} (size {_size(self.got_size)})"
        )


def _size(size: tuple[int, int] | None) -> str:
    return "?" if size is None else f"{size[0]}x{size[1]}"


def _decode(payload: object) -> Image:
    from PIL import Image as PILImage

    text = "".join(payload) if isinstance(payload, list) else str(payload)
    raw = base64.b64decode(text.replace("\n", ""), validate=False)
    image = PILImage.open(io.BytesIO(raw))
    image.load()
    return image.convert("RGBA")


def compare_pixels(expected: object, got: object, tolerance: int) -> PixelVerdict:
    """Compare two base64 image payloads pixel by pixel."""
    from PIL import ImageChops, UnidentifiedImageError

    try:
        left = _decode(expected)
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as exc:
        return PixelVerdict(None, None, problem=f"the stored image does not decode: {exc}")
    try:
        right = _decode(got)
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as exc:
        return PixelVerdict(None, None, problem=f"the new image does not decode: {exc}")
    if left.size != right.size:
        return PixelVerdict(left.size, right.size)
    difference = ImageChops.difference(left, right)
    # per pixel: the largest difference over its four channels
    largest_channel = difference.split()
    per_pixel = largest_channel[0]
    for channel in largest_channel[1:]:
        per_pixel = ImageChops.lighter(per_pixel, channel)
    histogram = per_pixel.histogram()
    differing = sum(histogram[tolerance + 1 :])
    largest = max((value for value, count in enumerate(histogram) if count), default=0)
    return PixelVerdict(left.size, right.size, differing=differing, total=left.size[0] * left.size[1], largest=largest)
