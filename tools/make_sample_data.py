"""Make the sample image folders shipped in data/ (run once; the output is committed).

* ``data/sample_characters/``: 120 character images as a learner might collect them: PNGs with
  transparent backgrounds at 2x and 3x pixel scale, palette GIFs, JPEG photos-of-sprites on white,
  BMP and WebP files, nested in two sub-folders, plus a README that the loader ignores.
* ``data/messy_folder/``: a dozen good images next to the kinds of file that break naive loaders
  (zero-byte, truncated PNG and JPEG, text saved as .png, an image whose header claims
  40000x40000 pixels, a hidden .DS_Store, notes.txt), for the bad-file report in 01_data.

Usage: python tools/make_sample_data.py
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from charlib.data import sprites as sp
from charlib.data.sprites import P

ROOT = Path(__file__).resolve().parents[1] / "data"


def _rgba(size: int, seed: int, scale: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    attrs = np.array([rng.integers(0, k) for k in sp.ATTRIBUTE_SIZES])
    action, direction, frame = rng.integers(0, 3), rng.integers(0, 3), rng.integers(0, 8)
    rgb = sp.render(attrs, action, direction, frame, size)[0]
    maps = sp.canonical_part_maps(size)
    skirt = int(sp.ATTRIBUTES[3].styles[attrs[3]] == "skirt")
    alpha = np.where(maps[action, direction, frame, attrs[1], skirt] == P["background"], 0, 255)
    img = Image.fromarray(np.dstack([rgb, alpha]).astype(np.uint8), "RGBA")
    return img.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression-bomb stand-in)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def sample_characters(folder: Path) -> None:
    (folder / "heroes").mkdir(parents=True, exist_ok=True)
    (folder / "villagers").mkdir(parents=True, exist_ok=True)
    for i in range(120):
        img = _rgba(32 if i % 2 else 48, seed=1000 + i, scale=2 + i % 2)
        sub = folder / ("heroes" if i < 60 else "villagers")
        kind = i % 6
        if kind in (0, 1):
            img.save(sub / f"char_{i:03d}.png")
        elif kind == 2:
            img.convert("RGBA").save(sub / f"char_{i:03d}.gif", transparency=0)
        elif kind == 3:
            flat = Image.new("RGB", img.size, (255, 255, 255))
            flat.paste(img, mask=img.getchannel("A"))
            flat.save(sub / f"char_{i:03d}.jpg", quality=92)
        elif kind == 4:
            flat = Image.new("RGB", img.size, (250, 246, 236))
            flat.paste(img, mask=img.getchannel("A"))
            flat.save(sub / f"char_{i:03d}.bmp")
        else:
            img.save(sub / f"char_{i:03d}.webp", lossless=True)
    (folder / "README.txt").write_text(
        "Sample character images for charlib's load_image_folder (made by "
        "tools/make_sample_data.py from the course's procedural sprites; no license restrictions).\n"
    )


def messy_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(12):
        _rgba(32, seed=5000 + i, scale=2).save(folder / f"good_{i:02d}.png")
    (folder / "empty.png").write_bytes(b"")
    buf = io.BytesIO()
    _rgba(32, seed=1, scale=4).save(buf, format="PNG")
    (folder / "cut_in_half.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    buf = io.BytesIO()
    _rgba(32, seed=2, scale=4).convert("RGB").save(buf, format="JPEG")
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    (folder / "not_really.png").write_text("this is a text file with an image extension\n")
    (folder / "huge_header.png").write_bytes(_png_header_only(40_000, 40_000))
    (folder / "notes.txt").write_text("Learner's notes: not an image, ignored by the loader.\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")


if __name__ == "__main__":
    sample_characters(ROOT / "sample_characters")
    messy_folder(ROOT / "messy_folder")
    print("wrote", ROOT / "sample_characters", "and", ROOT / "messy_folder")
