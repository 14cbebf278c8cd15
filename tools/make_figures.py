"""Make the pictures the README shows (committed under docs/figures/).

* ``sprites.png``: 48 random sprites (seed 0), 64x64, enlarged 2x.
* ``actions.png``: one character doing each action in each direction, 8 frames a row.
* ``walk.gif``: four characters walking, side by side.

Usage: python tools/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charlib.animation import save_gif
from charlib.data import skeleton as sk
from charlib.data import sprites as sp
from charlib.viz import image_grid, save_png, sprite_sheet

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures"


def main() -> None:
    s = sp.sample_sprites(48, size=64, seed=0)
    save_png(image_grid(s.images, ncols=12, pad=0), OUT / "sprites.png", scale=2)
    attrs = np.array([1, 3, 1, 0])
    rows = [sp.render(np.repeat(attrs[None], 8, 0), a, d, np.arange(8), 64)
            for a in sk.ACTIONS for d in sk.DIRECTIONS]
    save_png(sprite_sheet(np.stack(rows)), OUT / "actions.png", scale=1)
    people = sp.attributes_of(np.array([100, 555, 901, 1234]))
    walks = [sp.render(np.repeat(a[None], 8, 0), "walk", "left", np.arange(8), 64) for a in people]
    frames = np.concatenate(walks, axis=2)  # side by side: (8, 64, 256, 3)
    save_gif(frames, OUT / "walk.gif", fps=8, scale=2)
    print("wrote", *sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
