"""Pictures: image grids, sprite sheets, skeleton overlays and captioned figures.

Generative models are judged by eye first, so every notebook needs the same few pictures: a grid of
samples, a sprite sheet of an animation cycle, a skeleton drawn over its frame, from uint8 arrays
(N, H, W, 3) with pixel art enlarged without blur. :func:`latent_sliders` is the one interactive
picture: a decoded character that follows ipywidgets sliders. :func:`image_grid`, :func:`enlarge`,
:func:`png_bytes` and :func:`save_png` are those of :mod:`charlib.base.images`.
"""

from __future__ import annotations

import numpy as np

from charlib.base.images import enlarge as enlarge
from charlib.base.images import image_grid, png_bytes
from charlib.base.images import save_png as save_png
from charlib.data import skeleton as sk
from charlib.errors import ShapeError


def sprite_sheet(sequences: np.ndarray, pad: int = 0) -> np.ndarray:
    """Lay out animation cycles (N, T, H, W, 3) as a sheet: one row per cycle, one column per frame."""
    seq = np.asarray(sequences)
    if seq.ndim != 5:
        raise ShapeError(f"sequences must have shape (N, T, H, W, 3), got {seq.shape}")
    n, t = seq.shape[:2]
    return image_grid(seq.reshape(n * t, *seq.shape[2:]), ncols=t, pad=pad)


def show_images(images: np.ndarray, ncols: int | None = None, title: str | None = None,
                caption: str | None = None, scale: float = 1.0, ax=None):
    """Show a grid of images with matplotlib, a title on top and a caption below; returns the figure.
    ``scale`` multiplies the default figure size (about 1.2 inches per tile)."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, ncols=ncols)
    n = len(images)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    if ax is None:
        fig, ax = plt.subplots(figsize=(scale * 1.2 * ncols, scale * 1.2 * nrows + (0.4 if title else 0)))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93 if title else 0.99)
    else:
        fig = ax.figure
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if caption:
        add_caption(fig, caption)
    return fig


def add_caption(fig, caption: str) -> None:
    """Put a caption under a matplotlib figure (wrapped to the figure's width)."""
    import textwrap

    width = max(40, int(fig.get_figwidth() * 12))
    fig.text(0.5, 0.0, textwrap.fill(caption, width), ha="center", va="top", fontsize=9,
             style="italic")


def draw_skeleton(ax, joints: np.ndarray, color: str = "lime", linewidth: float = 2.0,
                  joint_size: float = 12.0) -> None:
    """Draw a skeleton (15, 2) in pixel coordinates on a matplotlib axis showing its frame (shifted by
    half a pixel: pixel centres sit at integer + 0.5 in charlib's coordinates, at integers in imshow's)."""
    j = np.asarray(joints, dtype=float) - 0.5
    if j.shape != (len(sk.JOINTS), 2):
        raise ShapeError(f"joints must have shape ({len(sk.JOINTS)}, 2), got {j.shape}")
    for a, b in sk.BONES:
        ax.plot(j[[a, b], 0], j[[a, b], 1], color=color, linewidth=linewidth)
    ax.scatter(j[:, 0], j[:, 1], s=joint_size, color="white", edgecolors="black", zorder=3)


def latent_sliders(decode_fn, z0: np.ndarray, dims, limit: float = 3.0, step: float = 0.1,
                   scale: int = 8):
    """A live picture of ``decode_fn(z)`` with one slider per latent coordinate in ``dims``.

    ``decode_fn`` maps codes (N, latent_dim) float32 to pictures (N, H, W, 3) uint8; ``z0``
    (latent_dim,) is the starting code. Returns ``ipywidgets.HBox([Image, VBox(sliders)])``.
    """
    import ipywidgets as widgets

    z = np.array(z0, dtype=np.float32)
    if z.ndim != 1:
        raise ShapeError(f"z0 must be one code of shape (latent_dim,), got {z.shape}")
    dims = [int(j) for j in dims]
    if not dims or any(not 0 <= j < len(z) for j in dims):
        raise ShapeError(f"dims must be a non-empty list of coordinates in [0, {len(z)}), got {dims}")
    sliders = [widgets.FloatSlider(value=float(np.clip(z[j], -limit, limit)), min=-limit, max=limit,
                                   step=step, description=f"z[{j}]", continuous_update=True)
               for j in dims]
    for j, slider in zip(dims, sliders, strict=True):
        z[j] = slider.value
    picture = widgets.Image(value=png_bytes(decode_fn(z[None])[0], scale), format="png")

    def redraw(_change) -> None:
        for j, slider in zip(dims, sliders, strict=True):
            z[j] = slider.value
        picture.value = png_bytes(decode_fn(z[None])[0], scale)

    for slider in sliders:
        slider.observe(redraw, names="value")
    return widgets.HBox([picture, widgets.VBox(sliders)])
