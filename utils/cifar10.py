"""CIFAR-10: a verified, atomic download and a loader for the python batches.

``python -m utils.data download cifar10`` fetches ``cifar-10-python.tar.gz``,
checks its MD5 before anything is unpacked, and extracts it into
``<data dir>/cifar-10-batches-py``. ``load()`` then reads the six batch files.

Layout of the data directory after a successful download::

    <data dir>/cifar-10-python.tar.gz         the verified archive (kept, so a
                                              lost folder is rebuilt offline)
    <data dir>/cifar-10-batches-py/           data_batch_1..5, test_batch, batches.meta
    <data dir>/cifar-10-batches-py/.verified-md5   written last: the MD5 the
                                              archive was checked against

Settings (arguments win over environment variables, which win over defaults):

- data directory: ``data_dir`` / ``--data-dir``, else ``$KIT_DATA_DIR``,
  else ``~/.cache/nn-course-kit``;
- archive URL: ``url`` / ``--url``, else ``$KIT_CIFAR10_URL``, else ``URL``;
- expected MD5: ``md5``, else ``$KIT_CIFAR10_MD5``, else ``MD5``. Override it
  only to test with a small archive from a mirror of your own: the loader
  trusts exactly the files whose archive matched the expected MD5.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
from tqdm import tqdm

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
MARKER_NAME = ".verified-md5"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
_FILES = (*TRAIN_FILES, TEST_FILE, META_FILE)
IMAGE_SHAPE = (32, 32, 3)

ENV_DATA_DIR = "KIT_DATA_DIR"
ENV_URL = "KIT_CIFAR10_URL"
ENV_MD5 = "KIT_CIFAR10_MD5"
DEFAULT_DATA_DIR = Path("~/.cache/nn-course-kit")
DOWNLOAD_COMMAND = "python -m utils.data download cifar10"

_CHUNK_SIZE = 1 << 20  # bytes per read: small enough for a smooth progress bar
_TIMEOUT = 60  # seconds without data before the download gives up


class CifarError(Exception):
    """CIFAR-10 could not be downloaded, verified, extracted or loaded.

    The message is one line that says what failed and what to do next.
    """


class ChecksumError(CifarError):
    """The downloaded archive's MD5 is not the expected one."""


class MissingDataError(CifarError, FileNotFoundError):
    """No verified CIFAR-10 folder in the data directory."""


def resolve_data_dir(path=None):
    """The data directory: ``path``, else ``$KIT_DATA_DIR``, else ``~/.cache/nn-course-kit``."""
    chosen = path or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def expected_md5(md5=None):
    """The MD5 the archive must have: ``md5``, else ``$KIT_CIFAR10_MD5``, else ``MD5``."""
    return (md5 or os.environ.get(ENV_MD5) or MD5).strip().lower()


def download(data_dir=None, url=None, md5=None, verbose=True):
    """Download, verify and extract CIFAR-10, unless it is already there.

    Parameters
    ----------
    data_dir : path, optional
        Where the archive and the extracted folder go (see the module docstring).
    url : str, optional
        Where to fetch ``cifar-10-python.tar.gz``; default ``$KIT_CIFAR10_URL`` or ``URL``.
    md5 : str, optional
        Expected MD5 of the archive; default ``$KIT_CIFAR10_MD5`` or ``MD5`` (for testing mirrors).
    verbose : bool
        Print what happens and show a progress bar (on stderr).

    Returns
    -------
    Path
        The extracted ``cifar-10-batches-py`` folder.

    Raises
    ------
    CifarError
        The download failed, the checksum did not match (``ChecksumError``) or
        the archive is not a safe CIFAR-10 archive. Nothing that looks complete
        is left behind.
    """
    root = resolve_data_dir(data_dir)
    url = url or os.environ.get(ENV_URL) or URL
    md5 = expected_md5(md5)
    say = print if verbose else (lambda *args, **kwargs: None)
    folder = root / FOLDER_NAME
    if _is_complete(folder, md5):
        say(f"CIFAR-10 is already present and verified in {folder}; nothing to do.")
        return folder

    root.mkdir(parents=True, exist_ok=True)
    archive = root / ARCHIVE_NAME
    found = _md5_of_file(archive) if archive.is_file() else None
    if found == md5:
        # The archive can only get its final name after passing the check, so
        # this is an interrupted extraction (or a copy the user placed here).
        say(f"Using the verified archive {archive}")
    else:
        if found is not None:
            # A file that looks like the archive but is not: it must go.
            say(f"Deleting {archive}: its MD5 is {found}, expected {md5}")
            archive.unlink()
        say(f"Downloading {url}")
        _download_verified(url, archive, md5, progress=verbose)
        say(f"MD5 verified: {md5}")
    _extract(archive, folder, md5)
    say(f"CIFAR-10 extracted to {folder}")
    return folder


def load(data_dir=None):
    """Load the verified CIFAR-10 batches as flattened uint8 images.

    The pixels stay uint8 (150 MB for the training images): ``utils.data`` widens
    only the rows each split needs, to the dtype the notebook asks for.

    Shapes: N = 50000 training images and M = 10000 test images for the real
    dataset (any number the batch files hold is accepted); D = 32 * 32 * 3.

    Parameters
    ----------
    data_dir : path, optional
        The directory that holds ``cifar-10-batches-py`` (see ``resolve_data_dir()``).

    Returns
    -------
    X : ndarray of uint8, shape (N, D)
        Training images, each row an image in height-width-channel order,
        so ``X[i].reshape(32, 32, 3)`` is displayable; values 0..255.
    y : ndarray of int64, shape (N,)
    X_test : ndarray of uint8, shape (M, D)
    y_test : ndarray of int64, shape (M,)
    class_names : tuple of str
        The 10 names from ``batches.meta`` ("airplane", ..., "truck").
    image_shape : tuple
        ``(32, 32, 3)``.

    Raises
    ------
    MissingDataError
        No verified folder: run ``python -m utils.data download cifar10``.
    CifarError
        A batch file is malformed.
    """
    folder = resolve_data_dir(data_dir) / FOLDER_NAME
    found = _verified_md5(folder)
    wanted = expected_md5()
    # The batch files are pickles, and unpickling runs code named in the file.
    # Only files from an archive that matched the expected MD5 (the official
    # one unless overridden) are trusted; the marker records that check.
    if found is None:
        raise MissingDataError(
            f"CIFAR-10 not found in {folder}; run `{DOWNLOAD_COMMAND}"
            f"{'' if data_dir is None else ' --data-dir ' + str(data_dir)}` first"
        )
    if found != wanted:
        raise MissingDataError(
            f"CIFAR-10 in {folder} was verified against MD5 {found}, not the expected {wanted}; "
            f"delete the folder and run `{DOWNLOAD_COMMAND}` again"
        )
    train = [_read_batch(folder / name) for name in TRAIN_FILES]
    X = np.concatenate([images for images, _ in train])
    y = np.concatenate([labels for _, labels in train])
    X_test, y_test = _read_batch(folder / TEST_FILE)
    meta = _unpickle(folder / META_FILE)
    class_names = tuple(_text(name) for name in _field(meta, "label_names", folder / META_FILE))
    return _to_hwc(X), y, _to_hwc(X_test), y_test, class_names, IMAGE_SHAPE


# ---------------------------------------------------------------- download


def _download_verified(url, archive, md5, progress):
    """Fetch ``url`` into ``archive`` atomically, only if its MD5 is ``md5``."""
    # A temporary name in the same directory (so os.replace is atomic) that
    # does not look like the archive: a cut download is never mistaken for it.
    handle, partial = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".part")
    partial = Path(partial)
    try:
        with os.fdopen(handle, "wb") as out:
            actual, received, total = _fetch(url, out, progress)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and received != total:
            raise CifarError(
                f"download of {url} stopped after {received} of {total} bytes; "
                f"check the connection and run `{DOWNLOAD_COMMAND}` again"
            )
        if actual != md5:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected MD5 {md5}, got {actual}; the file is "
                f"corrupt or not the official archive, so it was deleted. Run `{DOWNLOAD_COMMAND}` "
                f"again, or pass --url with a mirror that serves the official file"
            )
        os.replace(partial, archive)
        _fsync_directory(archive.parent)
    except BaseException:
        # Also on Ctrl-C: the partial file must not survive.
        partial.unlink(missing_ok=True)
        raise


def _fetch(url, out, progress):
    """Stream ``url`` into the open file ``out``; return (md5 hex, bytes received, Content-Length)."""
    digest = hashlib.md5()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=ARCHIVE_NAME, disable=not progress) as bar:
                while chunk := response.read(_CHUNK_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise CifarError(f"download of {url} failed: HTTP {exc.code} {exc.reason}; check the URL "
                         f"(--url or ${ENV_URL}) and try again") from None
    except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CifarError(f"download of {url} failed: {reason}; check the URL and the network "
                         f"and run `{DOWNLOAD_COMMAND}` again") from None
    return digest.hexdigest(), received, total


def _md5_of_file(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_directory(path):
    """Make a rename in ``path`` durable (POSIX only; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- extract


def _extract(archive, folder, md5):
    """Extract the verified ``archive`` so that ``folder`` appears complete or not at all."""
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".cifar-10-extract."))
    try:
        try:
            extracted = _unpack(archive, staging)
        except CifarError:
            # The archive matched the expected MD5 but is unusable: do not keep it.
            archive.unlink(missing_ok=True)
            raise
        # The marker goes in last, inside the folder, so it moves with it.
        (extracted / MARKER_NAME).write_text(md5 + "\n")
        if folder.exists():
            # An unverified or incomplete folder: move it aside (deleted below).
            os.rename(folder, staging / "stale")
        os.rename(extracted, folder)
        _fsync_directory(folder.parent)
    except OSError as exc:
        raise CifarError(f"cannot extract {archive} into {folder.parent}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive, staging):
    """Unpack ``archive`` into ``staging`` after checking every member; return the CIFAR folder."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member)
            if hasattr(tarfile, "data_filter"):
                # Python >= 3.11.4 (and 3.8.17+ security releases): the standard
                # library's own guard as a second line of defence.
                tar.extractall(staging, members=members, filter="data")
            else:
                tar.extractall(staging, members=members)
    except (tarfile.TarError, EOFError) as exc:
        raise CifarError(f"{archive} is not a readable tar.gz archive ({exc}); it was deleted") from None
    extracted = staging / FOLDER_NAME
    missing = [name for name in _FILES if not (extracted / name).is_file()]
    if missing:
        raise CifarError(f"{archive} is not the CIFAR-10 python archive: {FOLDER_NAME}/ lacks "
                         f"{', '.join(missing)}; it was deleted")
    return extracted


def _check_member(member):
    """Refuse anything but plain files and folders inside the archive's own tree."""
    posix, windows = PurePosixPath(member.name), PureWindowsPath(member.name)
    if posix.is_absolute() or windows.anchor:
        problem = "absolute path"
    elif ".." in posix.parts or ".." in windows.parts:
        problem = "'..' would leave the target folder"
    elif not (member.isfile() or member.isdir()):
        problem = "not a regular file or folder"
    else:
        return
    raise CifarError(f"unsafe member {member.name!r} in the archive ({problem}); archive rejected and deleted")


def _verified_md5(folder):
    """The MD5 recorded by a completed extraction into ``folder``, or None."""
    try:
        return (folder / MARKER_NAME).read_text().strip().lower() or None
    except OSError:
        return None


def _is_complete(folder, md5):
    """True if ``folder`` was extracted from an archive with ``md5`` and still has every file."""
    return _verified_md5(folder) == md5 and all((folder / name).is_file() for name in _FILES)


# ---------------------------------------------------------------- load


def _read_batch(path):
    """One batch file -> (uint8 images (n, 3072) in channel-major order, int64 labels (n,))."""
    batch = _unpickle(path)
    images = np.asarray(_field(batch, "data", path))
    labels = np.asarray(_field(batch, "labels", path), dtype=np.int64)
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != int(np.prod(IMAGE_SHAPE)):
        raise CifarError(f"{path}: expected uint8 data of shape (n, 3072), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),):
        raise CifarError(f"{path}: {len(images)} images but {labels.size} labels")
    return images, labels


def _to_hwc(images):
    """(n, 3072) channel-major uint8 (all red, then green, then blue) -> (n, 3072) uint8 in HWC order."""
    height, width, channels = IMAGE_SHAPE
    hwc = images.reshape(-1, channels, height, width).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(hwc).reshape(len(images), -1)


def _unpickle(path):
    """Read one pickle from the verified folder (see the trust note in ``load``)."""
    try:
        with open(path, "rb") as f:
            # The official files were pickled by Python 2: keep their str as bytes.
            return pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise MissingDataError(f"{path} is missing; run `{DOWNLOAD_COMMAND}` again") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise CifarError(f"{path} is not a CIFAR-10 batch file: {exc}") from None


def _field(record, key, path):
    """``record[b"key"]`` (Python 2 pickles) or ``record["key"]``."""
    for candidate in (key.encode(), key):
        if isinstance(record, dict) and candidate in record:
            return record[candidate]
    raise CifarError(f"{path} has no {key!r} entry; is it a CIFAR-10 python batch?")


def _text(name):
    return name.decode() if isinstance(name, bytes) else str(name)


