"""Character data: procedural sprites with skeletons, your own image folders, and tf.data pipelines.

Everything here produces the same thing, uint8 RGB arrays of shape (N, H, W, 3) plus labels, so
the models downstream never care where the pictures came from. Nothing is downloaded: sprites are
drawn in code, and image folders are read from disk (:func:`charlib.base.images.check_images`
checks that contract).
"""


