"""utils.cifar10 and the download command, with tiny CIFAR-10 files served over loopback HTTP.

The tiny dataset has the real format (pickled dicts in data_batch_1..5,
test_batch and batches.meta inside cifar-10-batches-py/ of a tar.gz) but only
a few images per batch. A real http.server on 127.0.0.1 serves it, so the
download code runs exactly as it would against the official site.
"""
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from tqdm import tqdm

from utils import cifar10, data, load_splits
from utils.cifar10 import ARCHIVE_NAME, FOLDER_NAME, CifarError, ChecksumError, MissingDataError

REPO = Path(__file__).resolve().parents[1]
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_SIZES = (3, 4, 2, 5, 3)  # images in data_batch_1..5: any count must load
TEST_SIZE = 4
KNOWN_PIXEL = (1, 2, (10, 20, 30))  # row, column and (R, G, B) planted in the first training image
WRONG_MD5 = "0" * 32


# ---------------------------------------------------------------- tiny CIFAR-10


@dataclass
class Tiny:
    archive: bytes
    md5: str
    train_images: np.ndarray  # uint8 (N, 3, 32, 32), as stored in the files
    train_labels: list
    test_images: np.ndarray
    test_labels: list


def _batch_dict(images, labels, label):
    n = len(images)
    return {
        b"batch_label": label.encode(),
        b"labels": labels,
        # The file stores each image channel-major: 1024 reds, 1024 greens, 1024 blues.
        b"data": images.reshape(n, 3 * 32 * 32),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def _targz(members):
    """A tar.gz (bytes) of ``members``: a list of (TarInfo, bytes or None)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buffer.getvalue()


def _file(name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


def _cifar_members(rng):
    train = [rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8) for n in TRAIN_SIZES]
    row, col, rgb = KNOWN_PIXEL
    train[0][0, :, row, col] = rgb
    train_labels = [rng.integers(0, 10, size=n).tolist() for n in TRAIN_SIZES]
    test = rng.integers(0, 256, size=(TEST_SIZE, 3, 32, 32), dtype=np.uint8)
    test_labels = rng.integers(0, 10, size=TEST_SIZE).tolist()
    files = {f"data_batch_{i + 1}": _batch_dict(images, labels, f"training batch {i + 1} of 5")
             for i, (images, labels) in enumerate(zip(train, train_labels))}
    files["test_batch"] = _batch_dict(test, test_labels, "testing batch 1 of 1")
    files["batches.meta"] = {b"label_names": [name.encode() for name in CLASS_NAMES],
                             b"num_cases_per_batch": 10000, b"num_vis": 3072}
    folder = tarfile.TarInfo(FOLDER_NAME)
    folder.type = tarfile.DIRTYPE
    members = [(folder, None)] + [_file(f"{FOLDER_NAME}/{name}", pickle.dumps(obj, protocol=2))
                                  for name, obj in files.items()]
    return members, np.concatenate(train), sum(train_labels, []), test, test_labels


@pytest.fixture(scope="module")
def tiny():
    members, train, train_labels, test, test_labels = _cifar_members(np.random.default_rng(0))
    archive = _targz(members)
    return Tiny(archive, hashlib.md5(archive).hexdigest(), train, train_labels, test, test_labels)


# ---------------------------------------------------------------- loopback server


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, mode = self.server.routes[self.path]
        self.send_response(200)
        if mode != "no_length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # "cut": promise the whole body, send half, close (a dropped connection).
        self.wfile.write(body[: len(body) // 2] if mode == "cut" else body)

    def log_message(self, *args):
        pass  # keep the test output clean


class _Server:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes, self.httpd.requests = {}, []
        # A short poll interval keeps shutdown() (once per test) fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.httpd.requests

    def serve(self, path, body, mode="normal"):
        self.httpd.routes[path] = (body, mode)
        return self.url(path)

    def url(self, path):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    running = _Server()
    yield running
    running.close()


_PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    # Loopback must not go through a proxy, and the developer's own settings
    # (or ~/.cache) must not leak into the tests.
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    for name in ("KIT_CIFAR10_URL", "KIT_CIFAR10_MD5", "KIT_DATASET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path / "default-data-dir"))


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def _listing(directory):
    """Everything under ``directory`` (hidden files included), as sorted relative paths."""
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob("*"))


# ---------------------------------------------------------------- download and load


def test_download_then_load_gives_uint8_hwc_images_and_labels(server, tiny, data_dir, monkeypatch):
    url = server.serve("/cifar-10-python.tar.gz", tiny.archive)
    folder = cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    assert folder == data_dir / FOLDER_NAME
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)

    X, y, X_test, y_test, class_names, image_shape = cifar10.load(data_dir)

    # uint8 as stored: load_splits widens only the rows each split needs.
    assert X.shape == (sum(TRAIN_SIZES), 3072) and X.dtype == np.uint8
    assert X_test.shape == (TEST_SIZE, 3072) and X_test.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == tiny.train_labels
    assert y_test.dtype == np.int64 and y_test.tolist() == tiny.test_labels
    assert class_names == CLASS_NAMES
    assert image_shape == (32, 32, 3)
    row, col, rgb = KNOWN_PIXEL
    assert X[0].reshape(image_shape)[row, col].tolist() == list(rgb)
    # Every pixel: channel c at (row r, column k) of the file is image[r, k, c].
    for images, loaded in ((tiny.train_images, X), (tiny.test_images, X_test)):
        for i, r, k, c in [(0, 0, 0, 0), (len(images) - 1, 31, 5, 2), (1, 17, 30, 1)]:
            assert loaded[i].reshape(32, 32, 3)[r, k, c] == images[i, c, r, k]
        np.testing.assert_array_equal(loaded.reshape(-1, 32, 32, 3), np.moveaxis(images, 1, -1))


def test_download_shows_byte_progress_bar_with_total_from_content_length(server, tiny, data_dir, capsys):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5)
    captured = capsys.readouterr()
    size = tqdm.format_sizeof(len(tiny.archive), divisor=1024)
    assert ARCHIVE_NAME in captured.err
    assert "100%" in captured.err
    assert f"{size}/{size}" in captured.err and "B/s" in captured.err
    assert f"MD5 verified: {tiny.md5}" in captured.out


def test_download_without_content_length_still_verifies_and_extracts(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive, mode="no_length")
    folder = cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    assert (folder / "data_batch_5").is_file()


def test_second_download_says_present_and_fetches_nothing(server, tiny, data_dir, capsys):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    before = _listing(data_dir)
    capsys.readouterr()

    cifar10.download(data_dir, url=url, md5=tiny.md5)

    assert server.requests == ["/c.tar.gz"]
    assert "already present and verified" in capsys.readouterr().out
    assert _listing(data_dir) == before


def test_lost_folder_is_rebuilt_from_the_kept_archive_without_network(server, tiny, data_dir, monkeypatch):
    url = server.serve("/c.tar.gz", tiny.archive)
    folder = cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    (folder / "test_batch").unlink()

    cifar10.download(data_dir, url=server.url("/gone"), md5=tiny.md5, verbose=False)

    assert server.requests == ["/c.tar.gz"]
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)
    assert cifar10.load(data_dir)[3].tolist() == tiny.test_labels


def test_file_named_like_the_archive_that_fails_the_check_is_downloaded_again(server, tiny, data_dir):
    data_dir.mkdir()
    (data_dir / ARCHIVE_NAME).write_bytes(b"not the archive")
    url = server.serve("/c.tar.gz", tiny.archive)

    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)

    assert hashlib.md5((data_dir / ARCHIVE_NAME).read_bytes()).hexdigest() == tiny.md5


def test_environment_variables_choose_url_data_dir_and_md5(server, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_CIFAR10_URL", server.serve("/mirror.tar.gz", tiny.archive))
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)

    folder = cifar10.download(verbose=False)

    assert folder == tmp_path / "from-env" / FOLDER_NAME
    assert server.requests == ["/mirror.tar.gz"]
    assert cifar10.load()[4] == CLASS_NAMES


def test_defaults_are_the_official_url_and_md5():
    assert cifar10.expected_md5() == "c58f30108f718f92721af3b95e74349a"
    assert cifar10.URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


# ---------------------------------------------------------------- failures leave nothing behind


def test_checksum_mismatch_names_both_md5s_and_leaves_data_dir_empty(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive)
    with pytest.raises(ChecksumError) as caught:
        cifar10.download(data_dir, url=url, md5=WRONG_MD5, verbose=False)
    message = str(caught.value)
    assert f"expected MD5 {WRONG_MD5}" in message and f"got {tiny.md5}" in message
    assert "--url" in message and "\n" not in message
    assert _listing(data_dir) == []


def test_http_404_raises_and_leaves_data_dir_empty(server, tiny, data_dir):
    with pytest.raises(CifarError, match="HTTP 404"):
        cifar10.download(data_dir, url=server.url("/missing.tar.gz"), md5=tiny.md5, verbose=False)
    assert _listing(data_dir) == []


def test_connection_cut_mid_transfer_raises_and_leaves_data_dir_empty(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive, mode="cut")
    with pytest.raises(CifarError, match=rf"stopped after {len(tiny.archive) // 2} of {len(tiny.archive)} bytes"):
        cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    assert _listing(data_dir) == []


def test_interrupted_download_leaves_data_dir_empty(server, tiny, data_dir, monkeypatch):
    class _InterruptingBar(tqdm):
        def update(self, n=1):
            super().update(n)
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the first chunk

    monkeypatch.setattr(cifar10, "tqdm", _InterruptingBar)
    monkeypatch.setattr(cifar10, "_CHUNK_SIZE", 1024)
    url = server.serve("/c.tar.gz", tiny.archive)
    with pytest.raises(KeyboardInterrupt):
        cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    assert _listing(data_dir) == []


def _unsafe_member(kind, tmp_path):
    if kind == "symlink":
        info = tarfile.TarInfo(f"{FOLDER_NAME}/evil-link")
        info.type, info.linkname = tarfile.SYMTYPE, str(tmp_path / "evil-target.txt")
        return info, None
    name = {"parent": "../evil.txt", "nested parent": f"{FOLDER_NAME}/../../evil.txt",
            "absolute": str(tmp_path / "evil-absolute.txt")}[kind]
    return _file(name, b"should never be written")


@pytest.mark.parametrize("kind", ["parent", "nested parent", "absolute", "symlink"])
def test_archive_with_unsafe_member_is_rejected_and_nothing_is_extracted(kind, server, data_dir, tmp_path):
    members = _cifar_members(np.random.default_rng(1))[0]
    archive = _targz(members + [_unsafe_member(kind, tmp_path)])
    url = server.serve("/c.tar.gz", archive)
    with pytest.raises(CifarError, match="unsafe member"):
        cifar10.download(data_dir, url=url, md5=hashlib.md5(archive).hexdigest(), verbose=False)
    assert _listing(data_dir) == []
    assert not [p for p in tmp_path.rglob("evil*")]


def test_archive_without_the_cifar_files_is_rejected(server, data_dir):
    archive = _targz([_file(f"{FOLDER_NAME}/batches.meta", pickle.dumps({b"label_names": []}))])
    url = server.serve("/c.tar.gz", archive)
    with pytest.raises(CifarError, match="lacks data_batch_1"):
        cifar10.download(data_dir, url=url, md5=hashlib.md5(archive).hexdigest(), verbose=False)
    assert _listing(data_dir) == []


# ---------------------------------------------------------------- loading without verified data


def test_load_without_data_says_to_run_the_download_command(data_dir):
    with pytest.raises(MissingDataError, match=r"not found .*run `python -m utils\.data download cifar10"):
        cifar10.load(data_dir)


def test_load_refuses_batch_files_that_were_not_verified(tiny, data_dir, monkeypatch):
    # Unpickling runs code, so files copied in by hand (no marker) are not trusted.
    with tarfile.open(fileobj=io.BytesIO(tiny.archive), mode="r:gz") as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(data_dir, **safe)
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)
    with pytest.raises(MissingDataError, match="download cifar10"):
        cifar10.load(data_dir)


def test_load_refuses_data_verified_against_another_md5(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    # Without the test override, only the official archive's contents are trusted.
    with pytest.raises(MissingDataError, match=f"verified against MD5 {tiny.md5}, not the expected c58f3"):
        cifar10.load(data_dir)


# ---------------------------------------------------------------- load_splits with KIT_DATASET=cifar10


def test_kit_dataset_switches_load_splits_to_cifar10(server, tiny, data_dir, monkeypatch):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)
    monkeypatch.setenv("KIT_DATASET", "cifar10")

    splits = load_splits(data_dir=data_dir, num_train=10, num_val=5, num_test=3, num_dev=4)

    assert splits.name == "cifar10"
    assert splits.class_names == CLASS_NAMES
    assert splits.image_shape == (32, 32, 3)
    assert splits.X_train.shape == (10, 3072) and splits.X_train.dtype == np.float64
    assert splits.X_val.shape == (5, 3072) and splits.X_test.shape == (3, 3072)
    assert splits.X_dev.shape == (4, 3072) and splits.y_dev.dtype == np.int64
    hwc = np.moveaxis(tiny.train_images, 1, -1).reshape(len(tiny.train_images), -1)
    np.testing.assert_array_equal(splits.X_train, hwc[:10])
    np.testing.assert_array_equal(splits.X_val, hwc[10:15])
    assert splits.y_test.tolist() == tiny.test_labels[:3]
    train_rows = {row.tobytes() for row in splits.X_train}
    assert all(row.tobytes() in train_rows for row in splits.X_dev)


def test_compact_cifar10_splits_are_float32_with_the_same_pixels(server, tiny, data_dir, monkeypatch):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)
    sizes = dict(num_train=10, num_val=5, num_test=3, num_dev=4)

    wide = load_splits("cifar10", data_dir=data_dir, **sizes)
    compact = load_splits("cifar10", data_dir=data_dir, compact=True, **sizes)

    for split in ("train", "val", "test", "dev"):
        X = getattr(compact, "X_" + split)
        assert X.dtype == np.float32, split
        np.testing.assert_array_equal(X, getattr(wide, "X_" + split))
        assert getattr(compact, "y_" + split).tolist() == getattr(wide, "y_" + split).tolist()


@pytest.mark.parametrize("purpose", [None, "knn"])
def test_default_cifar10_sizes_on_tiny_data_raise_a_clear_error(purpose, server, tiny, data_dir, monkeypatch):
    url = server.serve("/c.tar.gz", tiny.archive)
    cifar10.download(data_dir, url=url, md5=tiny.md5, verbose=False)
    monkeypatch.setenv("KIT_CIFAR10_MD5", tiny.md5)
    with pytest.raises(ValueError, match=rf"cifar10 has {sum(TRAIN_SIZES)} training and {TEST_SIZE} test examples"
                                         r".*smaller sizes"):
        load_splits("cifar10", purpose=purpose, data_dir=data_dir)


def test_load_splits_cifar10_without_data_says_to_download(data_dir, monkeypatch):
    monkeypatch.setenv("KIT_DATASET", "cifar10")
    with pytest.raises(MissingDataError, match="python -m utils.data download cifar10"):
        load_splits(data_dir=data_dir)


# ---------------------------------------------------------------- command line


def _cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "utils.data", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_downloads_then_reports_present_with_exit_code_zero(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive)
    args = ("download", "cifar10", "--data-dir", str(data_dir), "--url", url)
    first = _cli(*args, env_extra={"KIT_CIFAR10_MD5": tiny.md5})
    assert first.returncode == 0, first.stderr
    assert "extracted to" in first.stdout
    assert (data_dir / FOLDER_NAME / "batches.meta").is_file()

    second = _cli(*args, env_extra={"KIT_CIFAR10_MD5": tiny.md5})
    assert second.returncode == 0, second.stderr
    assert "already present and verified" in second.stdout
    assert server.requests == ["/c.tar.gz"]


def test_cli_failure_prints_one_line_error_and_exits_one(server, data_dir):
    result = _cli("download", "cifar10", "--data-dir", str(data_dir), "--url", server.url("/missing"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "HTTP 404" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_checksum_mismatch_exits_one_naming_both_md5s(server, tiny, data_dir):
    url = server.serve("/c.tar.gz", tiny.archive)
    result = _cli("download", "cifar10", "--data-dir", str(data_dir), "--url", url,
                  env_extra={"KIT_CIFAR10_MD5": WRONG_MD5})
    assert result.returncode == 1
    assert WRONG_MD5 in result.stderr and tiny.md5 in result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(data_dir) == []


@pytest.mark.parametrize("argv", [["--help"], ["download", "--help"]])
def test_cli_help_exits_zero_and_documents_options_and_environment(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        data.main(argv)
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "download" in out and "cifar10" in out
    if argv[0] == "download":
        for text in ("--data-dir", "--url", "KIT_DATA_DIR", "KIT_CIFAR10_URL", "KIT_CIFAR10_MD5"):
            assert text in out, text
