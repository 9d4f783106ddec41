"""The listings cache is written like a model file: umask modes for new files, kept modes, no leftovers."""

import hashlib
import os
import stat

import pytest

from nn.carprice import DataError, fetch

CONTENT = b"km,fuel,age,price\n1,Diesel,1,2000\n"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source.csv"
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_cache_file_gets_the_mode_the_umask_allows(tmp_path, source, umask_027):
    path = fetch(url=source.as_uri(), sha256=SHA256, cache_dir=tmp_path / "cache")
    assert path.read_bytes() == CONTENT and mode_of(path) == 0o640


def test_a_replaced_cache_file_keeps_its_mode(tmp_path, source, umask_027):
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / "car_features.csv"
    stale.write_bytes(b"an older, corrupted copy")
    stale.chmod(0o604)
    path = fetch(url=source.as_uri(), sha256=SHA256, cache_dir=cache)
    assert path.read_bytes() == CONTENT and mode_of(path) == 0o604


def test_a_checksum_mismatch_keeps_the_cached_file_and_leaves_no_temporary(tmp_path, source):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "car_features.csv").write_bytes(b"kept as it was")
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch(url=source.as_uri(), sha256="0" * 64, cache_dir=cache)
    assert [p.name for p in cache.iterdir()] == ["car_features.csv"]
    assert (cache / "car_features.csv").read_bytes() == b"kept as it was"
