"""Tests for charlib.data.folders: every fixture is drawn with Pillow/numpy in tmp_path."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from charlib.data.folders import FolderReport, SkippedFile, load_image_folder
from charlib.errors import CharlibError, ImageFolderError, ShapeError

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255,) * 3, (0, 0, 0)


def save(path: Path, image: Image.Image, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


def solid(path: Path, color=RED, size=(16, 16), mode="RGB", **kwargs) -> Path:
    return save(path, Image.new(mode, size, color), **kwargs)


def noise_bytes(fmt: str) -> bytes:
    """An incompressible 64x64 image, so that cutting the file in half cuts pixel data."""
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def load_one(path: Path, size=16, **kwargs) -> tuple[np.ndarray, FolderReport]:
    images, report = load_image_folder(path.parent, size, **kwargs)
    assert images.shape == (1, size, size, 3)
    assert images.dtype == np.uint8
    return images[0], report


def assert_color(image: np.ndarray, color, tol=2) -> None:
    assert np.abs(image.astype(int) - np.array(color)).max() <= tol, image[0, 0]


# --- mode conversions -------------------------------------------------------------------------


def test_rgba_is_composited_on_background(tmp_path):
    path = solid(tmp_path / "a.png", (255, 0, 0, 0), mode="RGBA")
    image, report = load_one(path, background=BLUE)
    assert_color(image, BLUE, tol=0)
    assert report.converted == {"RGBA->RGB": 1}


def test_half_transparent_rgba_blends_with_background(tmp_path):
    image, _ = load_one(solid(tmp_path / "a.png", (255, 0, 0, 128), mode="RGBA"))
    assert_color(image, (255, 127, 127))


def test_la_is_composited_on_background(tmp_path):
    image, report = load_one(solid(tmp_path / "a.png", (0, 0), mode="LA"), background=GREEN)
    assert_color(image, GREEN, tol=0)
    assert report.converted == {"LA->RGB": 1}


def palette_image(index: int) -> Image.Image:
    image = Image.new("P", (16, 16), index)
    image.putpalette([*RED, *GREEN] + [0] * 762)
    return image


def test_palette_with_transparent_index_is_composited_on_background(tmp_path):
    path = save(tmp_path / "p.png", palette_image(0), transparency=0)
    image, report = load_one(path, background=BLUE)
    assert_color(image, BLUE, tol=0)
    assert report.converted == {"P->RGB": 1}


def test_palette_is_converted_to_rgb(tmp_path):
    image, report = load_one(save(tmp_path / "p.png", palette_image(1)))
    assert_color(image, GREEN, tol=0)
    assert report.converted == {"P->RGB": 1}


def test_grayscale_is_repeated_on_three_channels(tmp_path):
    image, report = load_one(solid(tmp_path / "g.png", 77, mode="L"))
    assert_color(image, (77, 77, 77), tol=0)
    assert report.converted == {"L->RGB": 1}


def test_one_bit_white_becomes_255(tmp_path):
    image, report = load_one(solid(tmp_path / "b.png", 1, mode="1"))
    assert_color(image, WHITE, tol=0)
    assert report.converted == {"1->RGB": 1}


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    levels = np.full((16, 16), 257 * 100, np.uint16)
    levels[:, 8:] = 65535
    path = save(tmp_path / "deep.png", Image.fromarray(levels))
    image, report = load_one(path)
    assert (image[:, :8] == 100).all()
    assert (image[:, 8:] == 255).all()
    assert report.converted == {"I;16->RGB": 1}


def test_cmyk_is_converted_to_rgb(tmp_path):
    image, report = load_one(solid(tmp_path / "c.tif", (0, 255, 255, 0), mode="CMYK"))
    assert_color(image, RED, tol=0)
    assert report.converted == {"CMYK->RGB": 1}


def test_float_image_is_clipped_to_0_255(tmp_path):
    values = np.full((16, 16), 300.0, np.float32)
    values[:, :8] = 100.25
    values[:4] = -5.0
    image, report = load_one(save(tmp_path / "f.tif", Image.fromarray(values)))
    assert (image[4:, :8] == 100).all()
    assert (image[4:, 8:] == 255).all()
    assert (image[:4] == 0).all()
    assert report.converted == {"F->RGB": 1}


@pytest.mark.parametrize(
    ("orientation", "red_rows", "red_cols"),
    [(6, slice(1, 5), slice(19, 23)), (8, slice(27, 31), slice(9, 13))],
    ids=["rotate-clockwise", "rotate-counterclockwise"],
)
def test_exif_orientation_is_applied(tmp_path, orientation, red_rows, red_cols):
    picture = np.full((16, 32, 3), 255, np.uint8)  # wide, with a red top-left corner
    picture[:6, :6] = RED
    image = Image.fromarray(picture)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = save(tmp_path / "photo.jpg", image, exif=exif, quality=95)
    out, report = load_one(path, size=32, resize="pad", background=BLACK)
    # Upright, the picture is tall (16 wide, in columns 8..23): black padding left and right.
    assert_color(out[:, :7], BLACK, tol=8)
    assert_color(out[:, 25:], BLACK, tol=8)
    assert_color(out[red_rows, red_cols], RED, tol=40)
    assert_color(out[12:20, 12:20], WHITE, tol=8)
    assert report.converted == {"exif-rotated": 1}


# --- resize policy -----------------------------------------------------------------------------


def half_and_half(path: Path) -> Path:
    picture = np.zeros((16, 32, 3), np.uint8)
    picture[:, :16] = RED
    picture[:, 16:] = BLUE
    return save(path, Image.fromarray(picture))


def test_crop_keeps_the_centre_square(tmp_path):
    image, _ = load_one(half_and_half(tmp_path / "wide.png"), resize="crop")
    assert_color(image[:, :8], RED, tol=0)
    assert_color(image[:, 8:], BLUE, tol=0)


def test_pad_centres_the_whole_picture_on_background(tmp_path):
    image, _ = load_one(half_and_half(tmp_path / "wide.png"), resize="pad", background=GREEN)
    assert_color(image[:4], GREEN, tol=0)
    assert_color(image[12:], GREEN, tol=0)
    assert_color(image[5:11, :6], RED, tol=8)
    assert_color(image[5:11, 10:], BLUE, tol=8)


def test_enlarging_keeps_pixel_art_crisp(tmp_path):
    checker = np.array([[RED, BLUE], [BLUE, RED]], np.uint8)
    image, _ = load_one(save(tmp_path / "tiny.png", Image.fromarray(checker)), size=8)
    assert_color(image[:4, :4], RED, tol=0)
    assert_color(image[:4, 4:], BLUE, tol=0)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) == 2


# --- folders, order, formats -------------------------------------------------------------------


def test_nested_folders_are_walked_in_sorted_order(tmp_path):
    solid(tmp_path / "b.png", RED)
    solid(tmp_path / "a" / "z.png", GREEN)
    solid(tmp_path / "a" / "b" / "c.PNG", BLUE)
    images, report = load_image_folder(tmp_path, 16)
    assert [p.relative_to(tmp_path).as_posix() for p in report.loaded] == [
        "a/b/c.PNG",
        "a/z.png",
        "b.png",
    ]
    assert [tuple(int(v) for v in im[0, 0]) for im in images] == [BLUE, GREEN, RED]


def test_non_recursive_ignores_sub_folders(tmp_path):
    solid(tmp_path / "top.png")
    solid(tmp_path / "sub" / "deep.png")
    _, report = load_image_folder(tmp_path, 16, recursive=False)
    assert report.loaded == [tmp_path / "top.png"]
    assert report.ignored == [tmp_path / "sub"]


def test_non_image_and_hidden_files_are_ignored(tmp_path):
    solid(tmp_path / "good.png")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    solid(tmp_path / ".hidden.png")
    solid(tmp_path / ".ipynb_checkpoints" / "good-checkpoint.png")
    _, report = load_image_folder(tmp_path, 16)
    assert report.loaded == [tmp_path / "good.png"]
    assert report.skipped == []
    names = {p.name for p in report.ignored}
    assert names == {"notes.txt", ".DS_Store", ".hidden.png", ".ipynb_checkpoints"}


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in (RED, BLUE, GREEN)]
    path = tmp_path / "walk.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    image, report = load_one(path)
    assert_color(image, RED, tol=0)
    assert report.converted["animated: first frame"] == 1


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_webp_is_read(tmp_path):
    image, _ = load_one(solid(tmp_path / "a.webp", GREEN, lossless=True))
    assert_color(image, GREEN, tol=0)


def test_bmp_is_read(tmp_path):
    image, _ = load_one(solid(tmp_path / "a.bmp", BLUE))
    assert_color(image, BLUE, tol=0)


# --- broken files ------------------------------------------------------------------------------


def make_zero_byte(folder: Path) -> Path:
    (path := folder / "empty.png").write_bytes(b"")
    return path


def make_truncated_png(folder: Path) -> Path:
    data = noise_bytes("PNG")
    (path := folder / "half.png").write_bytes(data[: len(data) // 2])
    return path


def make_truncated_jpeg(folder: Path) -> Path:
    data = noise_bytes("JPEG")
    (path := folder / "half.jpg").write_bytes(data[: len(data) // 2])
    return path


def make_text_as_png(folder: Path) -> Path:
    (path := folder / "readme.png").write_text("this is not a picture\n")
    return path


def make_garbage_after_png_header(folder: Path) -> Path:
    (path := folder / "garbage.png").write_bytes(noise_bytes("PNG")[:33] + b"\xff" * 200)
    return path


def make_bomb(folder: Path) -> Path:
    return solid(folder / "bomb.png", size=(100, 100))  # 10,000 pixels > MAX_PIXELS


MAX_PIXELS = 5000  # above the 64x64 noise images, below the bomb
BAD_FILES = {  # how to make the file: what its reason starts with
    make_zero_byte: "zero-byte file",
    make_truncated_png: "truncated or corrupt image",
    make_truncated_jpeg: "truncated or corrupt image",
    make_text_as_png: "not an image",
    make_garbage_after_png_header: "not an image",
    make_bomb: "image too large: 100x100 = 10,000 pixels exceeds max_pixels=5,000",
}


@pytest.mark.parametrize("make_bad", BAD_FILES, ids=lambda f: f.__name__[5:])
def test_bad_file_is_skipped_with_a_reason(tmp_path, make_bad):
    good = solid(tmp_path / "good.png", size=(8, 8))
    bad = make_bad(tmp_path)
    images, report = load_image_folder(tmp_path, 8, max_pixels=MAX_PIXELS)
    assert images.shape == (1, 8, 8, 3)
    assert report.loaded == [good]
    assert report.skipped == [SkippedFile(bad, report.skipped[0].reason)]
    assert report.skipped[0].reason.startswith(BAD_FILES[make_bad])


@pytest.mark.parametrize("make_bad", BAD_FILES, ids=lambda f: f.__name__[5:])
def test_strict_mode_raises_naming_the_bad_file(tmp_path, make_bad):
    solid(tmp_path / "good.png", size=(8, 8))
    bad = make_bad(tmp_path)
    with pytest.raises(ImageFolderError, match=bad.name):
        load_image_folder(tmp_path, 8, max_pixels=MAX_PIXELS, strict=True)


def test_all_bad_files_together_are_listed_and_good_ones_loaded(tmp_path):
    good = [solid(tmp_path / "good1.png", size=(8, 8)), solid(tmp_path / "z" / "good2.jpg")]
    bad = sorted(make(tmp_path) for make in BAD_FILES)
    images, report = load_image_folder(tmp_path, 8, max_pixels=MAX_PIXELS)
    assert len(images) == 2
    assert report.loaded == good
    assert sorted(s.path for s in report.skipped) == bad
    summary = report.summary()
    assert summary.startswith(f"Loaded 2 images from {tmp_path} (6 skipped, 0 ignored)")
    for path in bad:
        assert path.name in summary
    assert str(report) == summary


def test_header_claiming_900_million_pixels_is_skipped_before_decoding(tmp_path):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
    tail = chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + header + tail)
    solid(tmp_path / "good.png")
    limit = Image.MAX_IMAGE_PIXELS
    for max_pixels in (50_000_000, 10**10):  # ours refuses it, or else Pillow's own limit does
        _, report = load_image_folder(tmp_path, 16, max_pixels=max_pixels)
        assert [s.path.name for s in report.skipped] == ["bomb.png"]
        assert "too large" in report.skipped[0].reason
        assert "900" in report.skipped[0].reason
    assert limit == Image.MAX_IMAGE_PIXELS


def test_strict_mode_chains_the_original_error(tmp_path):
    make_truncated_png(tmp_path)
    with pytest.raises(ImageFolderError, match=r"half\.png") as caught:
        load_image_folder(tmp_path, 8, strict=True)
    assert isinstance(caught.value.__cause__, OSError)


def test_pillow_truncation_setting_is_left_alone(tmp_path):
    from PIL import ImageFile

    make_truncated_png(tmp_path)
    before = (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)
    with pytest.raises(ImageFolderError):
        load_image_folder(tmp_path, 8)
    assert before == (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)


# --- folder-level errors and arguments ---------------------------------------------------------


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ImageFolderError, match=r"No such folder: .*nowhere"):
        load_image_folder(tmp_path / "nowhere")


def test_file_instead_of_folder_is_refused(tmp_path):
    path = solid(tmp_path / "a.png")
    with pytest.raises(ImageFolderError, match="is a file; give the folder"):
        load_image_folder(path)


def test_empty_folder_says_no_images(tmp_path):
    with pytest.raises(ImageFolderError, match="No images found"):
        load_image_folder(tmp_path)


def test_folder_of_non_images_counts_them_and_lists_extensions(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.psd").write_bytes(b"8BPS")
    with pytest.raises(ImageFolderError, match=r"2 non-image.*\.png"):
        load_image_folder(tmp_path)


def test_all_broken_folder_says_none_could_be_read(tmp_path):
    make_zero_byte(tmp_path)
    make_text_as_png(tmp_path)
    with pytest.raises(ImageFolderError, match="0 of 2 images") as caught:
        load_image_folder(tmp_path)
    assert "empty.png" in str(caught.value)
    assert "readme.png" in str(caught.value)


@pytest.mark.parametrize("size", [4, 0, -64, 64.0, "64", True, None])
def test_invalid_size_raises_shape_error(tmp_path, size):
    solid(tmp_path / "a.png")
    with pytest.raises(ShapeError, match="size"):
        load_image_folder(tmp_path, size)


@pytest.mark.parametrize(
    "kwargs",
    [{"resize": "stretch"}, {"background": (0, 0)}, {"background": (0, 0, 256)}, {"max_pixels": 0}],
)
def test_invalid_options_raise_value_errors(tmp_path, kwargs):
    solid(tmp_path / "a.png")
    with pytest.raises(ValueError, match="must be") as caught:
        load_image_folder(tmp_path, **kwargs)
    assert isinstance(caught.value, CharlibError)


def test_string_paths_are_accepted_and_skipped_file_is_a_value(tmp_path):
    solid(tmp_path / "a.png")
    images, report = load_image_folder(str(tmp_path))
    assert images.shape == (1, 64, 64, 3)
    assert report.root == tmp_path
    assert SkippedFile(tmp_path, "x") == SkippedFile(tmp_path, "x")
