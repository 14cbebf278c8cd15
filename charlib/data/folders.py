"""Load a folder of your own character images as one uint8 array, with a report of what happened.

Put your pictures in a folder such as ``./data/my_character`` (sub-folders are fine) and call
:func:`load_image_folder` on it: you get a uint8 RGB array (N, size, size, 3) the models can train
on, plus a :class:`FolderReport` of the files used, skipped (and why), ignored and converted. Every
image ends up upright, opaque, RGB and square without being stretched; a broken or enormous file is
a line in the report (or, with ``strict=True``, an error naming it), never a Pillow stack trace.
"""

from __future__ import annotations

import os
import pathlib
import struct
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import ExifTags, Image, ImageOps

from charlib.errors import ImageFolderError, ShapeError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")  # any case

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_INT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}

# What Pillow raises on a file it cannot decode; anything else would be a bug in this module.
# (OSError includes UnidentifiedImageError and "image file is truncated")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                  ZeroDivisionError, struct.error, Image.DecompressionBombError)


@dataclass(frozen=True)
class SkippedFile:
    """An image file that could not be used, and why."""

    path: pathlib.Path
    reason: str


@dataclass
class FolderReport:
    """What :func:`load_image_folder` did with each file under ``root``.

    ``loaded`` is in the order of the returned images (image ``i`` came from ``loaded[i]``),
    ``skipped`` lists broken image files, ``ignored`` lists non-image and hidden files and folders,
    and ``converted`` counts the conversions made, e.g. ``{"RGBA->RGB": 3, "exif-rotated": 1}``.
    """

    root: pathlib.Path
    loaded: list[pathlib.Path] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    ignored: list[pathlib.Path] = field(default_factory=list)
    converted: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """A few readable lines: the counts, each skipped file with its reason, conversions."""
        n = len(self.loaded)
        lines = [f"Loaded {n} image{'' if n == 1 else 's'} from {self.root} "
                 f"({len(self.skipped)} skipped, {len(self.ignored)} ignored)"]
        lines += [f"  skipped {self._rel(s.path)}: {s.reason}" for s in self.skipped]
        if self.ignored:
            names = ", ".join(self._rel(p) for p in self.ignored[:5])
            more = f" (+{len(self.ignored) - 5} more)" if len(self.ignored) > 5 else ""
            lines.append(f"  ignored: {names}{more}")
        if self.converted:
            counts = ", ".join(f"{key} x{count}" for key, count in sorted(self.converted.items()))
            lines.append(f"  converted: {counts}")
        return "\n".join(lines)

    __str__ = summary

    def _repr_markdown_(self) -> str:
        return "```\n" + self.summary() + "\n```"

    def _rel(self, path: pathlib.Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


class _BadFileError(Exception):
    """One image file cannot be used; the message is the reason shown in the report."""


def load_image_folder(path: str | os.PathLike[str], size: int = 64, *,
                      resize: Literal["crop", "pad"] = "crop",
                      background: tuple[int, int, int] = (255, 255, 255), strict: bool = False,
                      max_pixels: int = 50_000_000,
                      recursive: bool = True) -> tuple[np.ndarray, FolderReport]:
    """Read every image under ``path`` into a uint8 array (N, size, size, 3); image ``i`` came from
    ``report.loaded[i]``.

    Files named with one of :data:`IMAGE_EXTENSIONS` are images; other files, and hidden files and
    folders, go to ``report.ignored``. Sub-folders are walked when ``recursive``, in order of the
    path relative to ``path``, the same on every machine.

    Each image is turned upright from its EXIF orientation, then made RGB: transparency (RGBA,
    LA, palette with a transparent colour) is composited on ``background``; palette, grayscale,
    CMYK and YCbCr are converted; 16-bit images ("I;16", and "I" taken as 0..65535) are divided
    by 257 so 65535 becomes 255; 32-bit float images ("F") are clipped to 0..255. Animated GIF or
    WebP files give their first frame.

    Resizing never distorts: ``resize="crop"`` scales the short side to ``size`` and cuts the
    centre square; ``resize="pad"`` scales the long side to ``size`` and centres the picture on
    a ``background`` square. Shrinking uses Lanczos filtering; enlarging uses nearest neighbour,
    so pixel art stays crisp (photos enlarged this way look blocky).

    Broken files (zero bytes, truncated, corrupt, not really images, or over ``max_pixels``
    pixels, checked from the header before decoding) are listed in ``report.skipped`` with a
    reason; with ``strict=True`` the first one raises :class:`~charlib.errors.ImageFolderError`.
    Pillow's own limit (``Image.MAX_IMAGE_PIXELS``, unchanged) still refuses images over about 179
    million pixels. A missing folder, a folder without images or one where none can be read raises
    :class:`~charlib.errors.ImageFolderError`; bad arguments raise :class:`ShapeError`.
    """
    _check_args(size, resize, background, max_pixels)
    root = pathlib.Path(path)
    if root.is_file():
        raise ImageFolderError(f"{root} is a file; give the folder that contains your images")
    if not root.is_dir():
        where = "" if root.is_absolute() else f" (looked in {root.resolve()})"
        raise ImageFolderError(f"No such folder: {root}{where}")
    candidates, ignored = _walk(root, recursive)
    report = FolderReport(root, ignored=ignored)
    if not candidates:
        raise ImageFolderError(f"No images found in {root} ({len(ignored)} non-image or hidden file(s) "
                               f"ignored). Accepted extensions: {', '.join(IMAGE_EXTENSIONS)}.")
    images = []
    for file in candidates:
        try:
            array, notes = _load_one(file, size, resize, background, max_pixels)
        except _BadFileError as bad:
            if strict:
                raise ImageFolderError(f"Cannot read {file}: {bad}") from bad.__cause__
            report.skipped.append(SkippedFile(file, str(bad)))
            continue
        images.append(array)
        report.loaded.append(file)
        for note in notes:
            report.converted[note] = report.converted.get(note, 0) + 1
    if not images:
        raise ImageFolderError(f"0 of {len(candidates)} images in {root} could be read.\n{report.summary()}")
    return np.stack(images), report


def _check_args(size: int, resize: str, background: tuple[int, int, int], max_pixels: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 8:
        raise ShapeError(f"size must be an int of at least 8 (pixels per side), got {size!r}")
    if resize not in ("crop", "pad"):
        raise ShapeError(f'resize must be "crop" or "pad", got {resize!r}')
    if not isinstance(background, tuple | list) or len(background) != 3 or not all(
            isinstance(c, int) and 0 <= c <= 255 for c in background):
        raise ShapeError(f"background must be three ints in 0..255 (R, G, B), got {background!r}")
    if not isinstance(max_pixels, int) or max_pixels < 1:
        raise ShapeError(f"max_pixels must be a positive int, got {max_pixels!r}")


def _walk(root: pathlib.Path, recursive: bool) -> tuple[list[pathlib.Path], list[pathlib.Path]]:
    """(image files, ignored paths), each sorted by path relative to ``root``."""
    images, ignored = [], []
    pending, seen = [root], {root.resolve()}
    while pending:
        folder = pending.pop()
        try:
            entries = list(folder.iterdir())
        except OSError as exc:
            raise ImageFolderError(f"Cannot list folder {folder}: {exc.strerror}") from exc
        for entry in entries:
            hidden, is_dir = entry.name.startswith("."), entry.is_dir()
            if is_dir and not hidden and recursive and entry.resolve() not in seen:  # seen: no symlink loops
                seen.add(entry.resolve())
                pending.append(entry)
            elif is_dir or hidden or entry.suffix.lower() not in IMAGE_EXTENSIONS:
                ignored.append(entry)
            else:
                images.append(entry)
    return tuple(sorted(found, key=lambda p: p.relative_to(root).parts) for found in (images, ignored))


def _load_one(file: pathlib.Path, size: int, resize: str, background: tuple[int, int, int],
              max_pixels: int) -> tuple[np.ndarray, list[str]]:
    """Decode one file to a (size, size, 3) uint8 array, plus the conversions made; raises
    _BadFileError (chained to Pillow's exception, if any) when the file cannot be used."""
    notes: list[str] = []
    try:
        if file.stat().st_size == 0:
            raise _BadFileError("zero-byte file")
        with warnings.catch_warnings():
            # max_pixels is the policy here, so Pillow's own warning is silenced locally.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as im:
                width, height = im.size  # read from the header; no pixels decoded yet
                if width * height > max_pixels:
                    raise _BadFileError(f"image too large: {width}x{height} = {width * height:,} pixels "
                                        f"exceeds max_pixels={max_pixels:,}")
                if getattr(im, "n_frames", 1) > 1:
                    notes.append("animated: first frame")
                    im.seek(0)
                im.load()  # inside the try, so truncation surfaces here
                if im.getexif().get(ExifTags.Base.Orientation, 1) in range(2, 9):
                    notes.append("exif-rotated")
                    im = ImageOps.exif_transpose(im)
                rgb = _to_rgb(im, background, notes)
                return np.array(_square(rgb, size, resize, background), dtype=np.uint8), notes
    except _DECODE_ERRORS as exc:
        raise _BadFileError(_reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image Pillow can read (unknown format or corrupt header)"
    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large for Pillow ({exc})"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"cannot read file ({exc.strerror})"
    return f"truncated or corrupt image ({type(exc).__name__}: {exc})"


def _to_rgb(im: Image.Image, background: tuple[int, int, int], notes: list[str]) -> Image.Image:
    """Convert any Pillow mode to opaque RGB (see load_image_folder for the rules)."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im
    notes.append(f"{mode}->RGB")
    if mode in _INT_MODES:
        return _gray_to_rgb(np.clip(np.asarray(im).astype(np.float64), 0, 65535) / 257)
    if mode == "F":
        return _gray_to_rgb(np.clip(np.nan_to_num(np.asarray(im, dtype=np.float64)), 0, 255))
    if mode in _ALPHA_MODES or "transparency" in im.info:
        backdrop = Image.new("RGBA", im.size, (*background, 255))
        return Image.alpha_composite(backdrop, im.convert("RGBA")).convert("RGB")
    return im.convert("RGB")


def _gray_to_rgb(levels: np.ndarray) -> Image.Image:
    """(H, W) floats in 0..255 -> RGB image."""
    return Image.fromarray(np.rint(levels).astype(np.uint8)).convert("RGB")


def _square(im: Image.Image, size: int, resize: str, background: tuple[int, int, int]) -> Image.Image:
    """Crop or pad ``im`` to size x size without distortion (see load_image_folder)."""
    side = min(im.size) if resize == "crop" else max(im.size)
    method = Image.Resampling.LANCZOS if side > size else Image.Resampling.NEAREST
    if resize == "crop":
        return ImageOps.fit(im, (size, size), method=method)
    return ImageOps.pad(im, (size, size), method=method, color=background)
