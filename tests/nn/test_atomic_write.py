"""Saving is atomic: file modes, failed, interrupted and killed saves (real signals), stale temporaries."""
import os
import select
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import autotensor as at
import nn
from nn import atomic, serialization

X = np.random.default_rng(0).normal(size=(4, 3))


def predictions(model):
    with at.no_grad():
        return model(X).data


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process's umask for one test: ``umask(0o027)``; the previous one comes back after."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP([3, 4, 1], seed=1)
    return model, nn.save(model, tmp_path / "model.npz")


# ---------------------------------------------------------------------- modes
def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask):
    umask(0o027)
    assert mode_of(nn.save(nn.Linear(2, 1), tmp_path / "new.npz")) == 0o640
    umask(0o002)
    assert mode_of(nn.save(nn.Linear(2, 1), tmp_path / "shared.npz")) == 0o664


def test_an_overwritten_file_keeps_its_mode_even_while_being_written(saved, umask, monkeypatch):
    _, path = saved
    path.chmod(0o600)
    umask(0o022)
    seen = []

    def record_the_temporary(file, arrays):
        seen.append(stat.S_IMODE(os.fstat(file.fileno()).st_mode))
        np.savez(file, **arrays)

    monkeypatch.setattr(serialization, "_write_arrays", record_the_temporary)
    nn.save(nn.MLP([3, 4, 1], seed=2), path)
    assert seen == [0o600] and mode_of(path) == 0o600
    path.chmod(0o644)
    nn.save(nn.MLP([3, 4, 1], seed=3), path)
    assert mode_of(path) == 0o644


# ---------------------------------------------------------------------- errors and interrupts in this process
def test_a_failed_save_leaves_the_previous_file_intact_and_no_temporary_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()

    def crash_halfway(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_arrays", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.MLP([3, 4, 1], seed=99), path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(model))


def test_an_interrupted_save_is_cleaned_up_too(tmp_path, monkeypatch):
    def interrupted(file, arrays):
        file.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_arrays", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_the_sigterm_handler_is_installed_only_during_the_save(tmp_path, monkeypatch):
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        during = []

        def look(file, arrays):
            during.append(signal.getsignal(signal.SIGTERM))
            np.savez(file, **arrays)

        monkeypatch.setattr(serialization, "_write_arrays", look)
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz")
        assert callable(during[0]) and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_program_that_handles_sigterm_itself_keeps_its_handler(saved, monkeypatch):
    _, path = saved
    before = path.read_bytes()

    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop

    def signalled_halfway(file, arrays):
        file.write(b"PK\x03\x04 half")
        os.kill(os.getpid(), signal.SIGTERM)  # the program's handler raises Stop here
        file.write(b"never reached")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        monkeypatch.setattr(serialization, "_write_arrays", signalled_halfway)
        with pytest.raises(Stop):
            nn.save(nn.MLP([3, 4, 1], seed=7), path)
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == ["model.npz"]


# ---------------------------------------------------------------------- real signals to a process mid-save
STALLED_SAVE = textwrap.dedent("""
    import sys, time
    import nn
    from nn import serialization

    def stall(file, arrays):
        file.write(b"PK\\x03\\x04" + bytes(200_000))  # part of an archive is on disk
        file.flush()
        print("writing", flush=True)
        time.sleep(60)

    serialization._write_arrays = stall
    nn.save(nn.MLP([3, 64, 1], seed=2), sys.argv[1])
""")


def kill_mid_save(path, signum):
    """Start a save to ``path`` in a child process, send it ``signum`` mid-write; return its exit code."""
    child = subprocess.Popen([sys.executable, "-c", STALLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == "writing\n"
        child.send_signal(signum)
        return child.wait(timeout=60), child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_sigterm_mid_save_removes_the_temporary_file_and_still_ends_the_process(saved):
    model, path = saved
    before = path.read_bytes()
    status, _ = kill_mid_save(path, signal.SIGTERM)
    assert status == -signal.SIGTERM  # ended by the signal, as without the handler
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]
    assert path.read_bytes() == before
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(model))


def test_after_sigkill_mid_save_the_next_save_removes_the_stale_temporary(saved):
    model, path = saved
    before = path.read_bytes()
    status, pid = kill_mid_save(path, signal.SIGKILL)
    assert status == -signal.SIGKILL
    leftovers = [p for p in path.parent.iterdir() if p.name != "model.npz"]
    assert [p.name.split(".")[3] for p in leftovers] == [str(pid)]  # .model.npz.<pid>.<random>.tmp
    assert leftovers[0].stat().st_size >= 200_000
    assert path.read_bytes() == before  # SIGKILL cannot be caught, but the old model is intact
    other = nn.MLP([3, 4, 1], seed=8)
    nn.save(other, path)
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(other))


def test_temporaries_of_live_processes_and_of_other_files_are_kept(tmp_path):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    target = tmp_path / "model.npz"
    dead = tmp_path / atomic.temporary_name(target, finished.pid, "0badc0de")
    alive = tmp_path / atomic.temporary_name(target, 1, "0badc0de")  # pid 1 always runs
    mine = tmp_path / atomic.temporary_name(target, os.getpid(), "0badc0de")  # another thread's save
    other = tmp_path / atomic.temporary_name(tmp_path / "other.npz", finished.pid, "0badc0de")
    unrelated = tmp_path / ".model.npz.notes.tmp"
    for path in (dead, alive, mine, other, unrelated):
        path.write_bytes(b"partial")
    nn.save(nn.Linear(2, 1), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (target, alive, mine, other, unrelated))
