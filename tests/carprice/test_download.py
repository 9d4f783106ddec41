"""Fetching the real listings into the cache: checksum-verified, atomic, offline once cached."""

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from nn.carprice import DataError, cache_directory, cached_data_path, fetch


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(directory))
    return directory


@pytest.fixture
def loopback_url(car_csv_path, monkeypatch):
    """An http:// address on 127.0.0.1 serving the real file, never through a proxy."""
    monkeypatch.setenv("no_proxy", "*")
    handler = functools.partial(QuietHandler, directory=str(car_csv_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{car_csv_path.name}"
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_copies_a_file_url_into_the_cache(car_csv_path, cache):
    path = fetch(url=car_csv_path.as_uri())
    assert path == cache / "car_features.csv"
    assert path.read_bytes() == car_csv_path.read_bytes()
    assert cached_data_path() == path
    assert sorted(p.name for p in cache.iterdir()) == ["car_features.csv"]


def test_fetch_downloads_over_http(car_csv_path, cache, loopback_url):
    path = fetch(url=loopback_url)
    assert path.read_bytes() == car_csv_path.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == ["car_features.csv"]


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path, cache):
    source = tmp_path / "tampered.csv"
    source.write_bytes(b"km,fuel,age,price\n1,Diesel,1,99999\n")
    expected = "0" * 64
    with pytest.raises(DataError) as raised:
        fetch(url=source.as_uri(), sha256=expected)
    assert expected in str(raised.value) and sha256_of(source.read_bytes()) in str(raised.value)
    assert list(cache.iterdir()) == []


def test_failed_download_raises_and_leaves_no_file(tmp_path, cache):
    with pytest.raises(DataError, match="cannot download"):
        fetch(url=(tmp_path / "missing.csv").as_uri())
    assert list(cache.iterdir()) == []


def test_a_valid_cached_file_is_reused_without_downloading(tmp_path):
    content = b"km,fuel,age,price\n1,Diesel,1,2000\n"
    source = tmp_path / "source.csv"
    source.write_bytes(content)
    first = fetch(url=source.as_uri(), sha256=sha256_of(content), cache_dir=tmp_path / "c")
    offline = "http://invalid.invalid/nothing.csv"
    second = fetch(url=offline, sha256=sha256_of(content), cache_dir=tmp_path / "c")
    assert first == second and second.read_bytes() == content


def test_a_corrupted_cached_file_is_ignored_and_replaced(tmp_path):
    content = b"km,fuel,age,price\n1,Diesel,1,2000\n"
    source = tmp_path / "source.csv"
    source.write_bytes(content)
    cache_dir = tmp_path / "c"
    cache_dir.mkdir()
    (cache_dir / "car_features.csv").write_bytes(b"truncated")
    assert cached_data_path(sha256_of(content), cache_dir) is None
    path = fetch(url=source.as_uri(), sha256=sha256_of(content), cache_dir=cache_dir)
    assert path.read_bytes() == content


def test_cache_directory_follows_the_environment_and_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path / "mine"))
    assert cache_directory() == tmp_path / "mine"
    monkeypatch.delenv("AUTOTENSOR_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "autotensor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_directory() == tmp_path / ".cache" / "autotensor"
    monkeypatch.setattr("sys.platform", "darwin")
    assert cache_directory() == tmp_path / "Library" / "Caches" / "autotensor"
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_directory() == tmp_path / "local" / "autotensor"
