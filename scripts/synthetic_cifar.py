"""A CIFAR-10 stand-in of the real size and format, with learnable classes, for tests and benchmarks.

The machines that test the kit cannot download CIFAR-10, yet grading on it must be
tried at its real size: 50000 training and 10000 test images of 32 x 32 x 3 in
``data_batch_1..5`` and ``test_batch`` (pickled dicts, channel-major uint8 rows,
as the official files), with ``batches.meta``. Each class is a smooth random
template; an image is its class's template plus noise, so kNN, linear
classifiers and the two-layer net all learn it, each to its own accuracy.

    python -m scripts.synthetic_cifar DATA_DIR [--seed N]

writes ``DATA_DIR/cifar-10-batches-py`` and prints the ``KIT_CIFAR10_MD5`` to use with it.
"""
from __future__ import annotations

import argparse
import hashlib
import pickle
from pathlib import Path

import numpy as np

from utils import cifar10

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCH_SIZE = 10000  # images per file, as in the official batches
TRAIN_BATCHES = 5
TEMPLATE_CONTRAST = 24.0  # how far a template strays from mid-grey, in pixel levels
NOISE_LEVEL = 48.0  # standard deviation of each pixel's noise: the classes overlap, as real ones do


def write(data_dir, seed=0, batch_size=BATCH_SIZE):
    """Write the synthetic dataset into ``data_dir`` as the download would leave it.

    Parameters
    ----------
    data_dir : path
        The data directory (``KIT_DATA_DIR``); ``cifar-10-batches-py`` is made in it.
    seed : int
    batch_size : int
        Images per batch file (10000 for the real size; fewer for quick tries).

    Returns
    -------
    str
        The MD5 recorded as verified: set ``KIT_CIFAR10_MD5`` to it so that ``utils.cifar10``
        trusts these files (it is the digest of the batch files, not of any archive).
    """
    folder = Path(data_dir) / cifar10.FOLDER_NAME
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    templates = _templates(rng)
    digest = hashlib.md5()
    names = [*cifar10.TRAIN_FILES, cifar10.TEST_FILE]
    for index, name in enumerate(names):
        labels = rng.integers(0, len(CLASS_NAMES), size=batch_size)
        batch = {
            b"batch_label": (f"training batch {index + 1} of {TRAIN_BATCHES}" if index < TRAIN_BATCHES
                             else "testing batch 1 of 1").encode(),
            b"labels": labels.tolist(),
            b"data": _images(rng, templates, labels),
            b"filenames": [f"synthetic_{index}_{i}.png".encode() for i in range(batch_size)],
        }
        payload = pickle.dumps(batch, protocol=2)
        digest.update(payload)
        (folder / name).write_bytes(payload)
    meta = {b"label_names": [n.encode() for n in CLASS_NAMES], b"num_cases_per_batch": batch_size, b"num_vis": 3072}
    (folder / cifar10.META_FILE).write_bytes(pickle.dumps(meta, protocol=2))
    md5 = digest.hexdigest()
    (folder / cifar10.MARKER_NAME).write_text(md5 + "\n")
    return md5


def _templates(rng):
    """(10, 3, 32, 32) float templates: coarse random colour fields, smooth as photographs are."""
    coarse = rng.normal(size=(len(CLASS_NAMES), 3, 4, 4))
    smooth = coarse.repeat(8, axis=2).repeat(8, axis=3)  # 4 x 4 patches of 8 x 8 pixels
    return 128.0 + TEMPLATE_CONTRAST * smooth


def _images(rng, templates, labels):
    """(n, 3072) channel-major uint8 images of the given labels."""
    noise = rng.normal(scale=NOISE_LEVEL, size=(len(labels), 3, 32, 32)).astype(np.float32)
    noise += templates[labels].astype(np.float32)
    return np.clip(np.rint(noise), 0, 255).astype(np.uint8).reshape(len(labels), -1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.synthetic_cifar", description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="the data directory to write cifar-10-batches-py into")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    md5 = write(args.data_dir, args.seed)
    print(f"wrote {Path(args.data_dir) / cifar10.FOLDER_NAME}; use it with\n"
          f"  KIT_DATASET=cifar10 KIT_DATA_DIR={args.data_dir} KIT_CIFAR10_MD5={md5}")


if __name__ == "__main__":
    main()
