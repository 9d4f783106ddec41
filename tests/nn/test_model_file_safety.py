"""Crafted, damaged and foreign model files: a clear ModelFileError naming the file, before reading data."""
import io
import json
import pickle
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

import nn
from nn import cli, serialization
from nn.serialization import HEADER_KEY, ModelFileError

GOOD_MODEL = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=5)


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
    return buffer.getvalue()


def npy_header(shape, dtype="<f8"):
    """Only the .npy header: an array that declares ``shape`` but holds no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def write_archive(path, members, compression=zipfile.ZIP_STORED):
    """An .npz written entry by entry: names -> bytes, exactly as given."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def model_members(model=GOOD_MODEL, edit_header=None):
    """The members nn.save would write for ``model``, with the JSON header edited by ``edit_header``."""
    parameters = dict(model.named_parameters())
    header = {"format": "autotensor-model", "format_version": 2,
              "architecture": nn.architecture.describe(model),
              "parameters": {n: {"shape": list(p.shape), "dtype": p.dtype.str} for n, p in parameters.items()},
              "metadata": {}}
    if edit_header is not None:
        edit_header(header)
    members = {f"{HEADER_KEY}.npy": npy(np.array(json.dumps(header)))}
    members.update({f"{name}.npy": npy(p.data) for name, p in parameters.items()})
    return members


def refused(path, *fragments, **load_options):
    """Load ``path``, expect a ModelFileError that names the file and holds every fragment."""
    with pytest.raises(ModelFileError) as raised:
        nn.load(path, **load_options)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------------- members
@pytest.mark.parametrize("name", ["README.txt", "../evil", "layers/"])
def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path, name):
    members = model_members()
    members[name] = b"hello"
    refused(write_archive(tmp_path / "m.npz", members), f"entry {name!r} is not an array (.npy)")


def test_an_unlisted_member_is_refused(tmp_path):
    members = model_members()
    members["../evil.npy"] = npy(np.zeros(2))
    refused(write_archive(tmp_path / "m.npz", members), "entry '../evil' is not a parameter listed in the header")


def test_a_member_listed_twice_is_refused(tmp_path):
    members = model_members()
    path = write_archive(tmp_path / "m.npz", members)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive.writestr("layers.0.b.npy", npy(np.zeros(4)))
    refused(path, "entry 'layers.0.b.npy' appears twice")


def test_an_object_array_that_only_pickle_could_read_is_refused(tmp_path):
    members = model_members()
    members["layers.0.b.npy"] = npy(np.array([{"evil": 1}], dtype=object))
    refused(write_archive(tmp_path / "m.npz", members), "'layers.0.b' is an object array that only unpickling")


@pytest.mark.parametrize(("array", "fragment"), [
    (np.zeros((4,), dtype=np.int64), "has dtype int64, expected float64"),
    (np.zeros((4,), dtype=np.float32), "has dtype float32, expected float64"),
    (np.zeros((5,)), "has shape (5,) but the header records (4,)"),
])
def test_a_member_must_have_the_dtype_and_shape_the_header_records(tmp_path, array, fragment):
    members = model_members()
    members["layers.0.b.npy"] = npy(array)
    refused(write_archive(tmp_path / "m.npz", members), "parameter 'layers.0.b' " + fragment)


def test_a_parameter_listed_in_the_header_but_absent_is_named(tmp_path):
    members = model_members()
    del members["layers.4.W.npy"]
    refused(write_archive(tmp_path / "m.npz", members), "['layers.4.W'] listed in the header are missing")


def test_a_header_that_agrees_with_its_arrays_but_not_with_its_architecture_is_refused(tmp_path):
    def widen(header):
        header["parameters"]["layers.2.W"]["shape"] = [5, 2]

    members = model_members(edit_header=widen)
    members["layers.2.W.npy"] = npy(np.zeros((5, 2)))
    refused(write_archive(tmp_path / "m.npz", members),
            "'layers.2.W' has shape (4, 2) in the architecture but (5, 2) in the file")


def test_damaged_data_is_caught_by_the_crc(tmp_path):
    path = nn.save(GOOD_MODEL, tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        start = archive.getinfo("layers.2.W.npy").header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)  # the member's local header
    data[start + 30 + name_length + extra_length + 128 + 3] ^= 0xFF  # one byte of W's values, past its .npy header
    path.write_bytes(bytes(data))
    refused(path, "entry 'layers.2.W' is truncated or damaged", "CRC")


def test_a_truncated_file_is_refused(tmp_path):
    path = nn.save(GOOD_MODEL, tmp_path / "m.npz")
    path.write_bytes(path.read_bytes()[:1500])
    refused(path, "damaged or truncated .npz archive")


def test_non_finite_weights_are_refused(tmp_path):
    members = model_members()
    members["layers.0.W.npy"] = npy(np.full((3, 4), np.nan))
    refused(write_archive(tmp_path / "m.npz", members), "'layers.0.W' holds NaN or infinite values")


# ---------------------------------------------------------------------- the JSON header
def edit(key, value):
    return lambda header: header.__setitem__(key, value)


@pytest.mark.parametrize(("edit_header", "fragment"), [
    (edit("parameters", {"layers.0.W": 5}), "describes parameter 'layers.0.W' as 5"),
    (edit("parameters", [1, 2]), "'parameters' entry is not an object"),
    (lambda h: h["parameters"]["layers.0.b"].update(shape=["4"]), "shape ['4'], not a list of sizes"),
    (lambda h: h["parameters"]["layers.0.b"].update(shape=[-4]), "shape [-4], not a list of sizes"),
    (lambda h: h["parameters"]["layers.0.b"].update(dtype="object"), "dtype 'object', not a float type"),
    (lambda h: h["parameters"]["layers.0.b"].update(dtype=8), "dtype 8, not a float type"),
    (edit("architecture", 5), "a module is described as {'type': ..., 'config': {...}}, got 5"),
    (edit("architecture", {"type": "Pickle", "config": {}}), "unknown type 'Pickle'"),
    (edit("architecture", {"type": "MLP", "config": []}), "the config of 'MLP' is not an object"),
    (edit("architecture", {"type": "MLP", "config": {"sizes": ["a", 2]}}), "invalid MLP settings"),
    (edit("architecture", {"type": "MLP", "config": {"sizes": [3, 4, 2, 1], "colour": 1}}),
     "cannot rebuild the model as MLP"),
    (edit("metadata", [1]), "the metadata entry is not an object"),
    (edit("format_version", "2"), "invalid format version '2'"),
    (edit("format_version", True), "invalid format version True"),
    (edit("format", "keras"), "not an autotensor-model file"),
])
def test_wrongly_typed_header_values_are_refused(tmp_path, edit_header, fragment):
    refused(write_archive(tmp_path / "m.npz", model_members(edit_header=edit_header)), fragment)


def test_a_version_1_header_with_a_wrongly_typed_shape_is_refused(tmp_path):
    def version_1(header):
        header.update(format_version=1, parameters={"layers.0.W": 5})

    refused(write_archive(tmp_path / "m.npz", model_members(edit_header=version_1)),
            "gives parameter 'layers.0.W' the shape 5")


def test_a_header_that_is_not_json_is_refused(tmp_path):
    members = model_members()
    members[f"{HEADER_KEY}.npy"] = npy(np.array("{not json"))
    refused(write_archive(tmp_path / "m.npz", members), "the header is not valid JSON")
    members[f"{HEADER_KEY}.npy"] = npy(np.zeros(3))
    refused(write_archive(tmp_path / "m.npz", members), f"the {HEADER_KEY!r} entry is not a text string")
    members[f"{HEADER_KEY}.npy"] = npy(np.array("[" * 100_000))
    refused(write_archive(tmp_path / "m.npz", members), "the header is not valid JSON")


def test_huge_numbers_are_refused_with_short_messages(tmp_path):
    members = model_members()
    text = json.dumps({"format": "autotensor-model", "format_version": 1}).replace("1}", "9" * 5000 + "}")
    members[f"{HEADER_KEY}.npy"] = npy(np.array(text))
    message = refused(write_archive(tmp_path / "digits.npz", members), "the header is not valid JSON")
    assert len(message) < 400
    path = write_archive(tmp_path / "newer.npz", model_members(edit_header=edit("format_version", 10 ** 4000)))
    message = refused(path, "by a newer autotensor")
    assert len(message) < 400


def test_the_json_header_has_a_limit_of_its_own(tmp_path):
    members = model_members(edit_header=lambda header: header["metadata"].update(notes="x" * (4 << 20)))
    message = refused(write_archive(tmp_path / "m.npz", members), "more than the header limit of 16 MiB")
    declared = int(message.split("the header declares ")[1].split(" bytes")[0].replace(",", ""))
    assert declared > 16 << 20
    with pytest.raises(ModelFileError, match="more than model files allow .16 MiB.; keep large data out of metadata"):
        nn.save(GOOD_MODEL, tmp_path / "big.npz", metadata={"notes": "x" * (4 << 20)})
    assert not (tmp_path / "big.npz").exists()


def test_an_architecture_far_larger_than_its_arrays_is_refused_before_building(tmp_path):
    # 10^6 x 10^6 weights would be 7.28 TiB; refused from the settings alone, nothing allocated.
    huge = {"type": "MLP", "config": {"sizes": [10 ** 6, 10 ** 6, 1], "activation": "tanh",
                                      "output_activation": "identity"}}
    refused(write_archive(tmp_path / "m.npz", model_members(edit_header=edit("architecture", huge))),
            "the architecture would build 1,000,002,000,001 weights but the file holds 29")


def test_a_declared_shape_too_large_is_refused_before_allocating(tmp_path):
    members = model_members()
    members["layers.0.W.npy"] = npy_header((10 ** 6, 10 ** 6))  # 7.28 TiB declared, no data
    path = write_archive(tmp_path / "m.npz", members)
    assert path.stat().st_size < 4000
    refused(path, "declare 7.28 TiB or more ('layers.0.W' alone 7.28 TiB), more than the limit of 1 GiB")


# ---------------------------------------------------------------------- not an archive at all
@pytest.mark.parametrize(("content", "fragment"), [
    (b"km,fuel,age,price\n38000,Diesel,3,20000\n", "not an .npz archive (a zip file written by nn.save); "
                                                    "it starts with b'km,fuel,age,pric'"),
    (bytes(np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8)), "not an .npz archive"),
    (b"", "the file is empty; not an .npz archive"),
    (pickle.dumps({"layers.0.W": np.zeros((3, 4))}), "holds pickled data, which is never loaded"),
    (npy(np.zeros(3)), "holds a single array (.npy), not an .npz archive"),
])
def test_a_file_that_is_not_an_npz_archive_says_so(tmp_path, content, fragment):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    refused(path, fragment)


def test_missing_files_directories_and_plain_archives(tmp_path):
    refused(tmp_path / "absent.npz", "no such model file")
    refused(tmp_path, "is a directory, not a model file")
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.zeros(3))
    refused(plain, "not a model file written by nn.save")


def test_predict_on_the_command_line_reports_a_csv_given_as_model(tmp_path, capsys):
    csv = tmp_path / "cars.csv"
    csv.write_text("km,fuel,age,price\n38000,Diesel,3,20000\n")
    status = cli.main(["predict", "--model", str(csv), "--km", "38000", "--fuel", "diesel", "--age", "3"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"{csv}: not an .npz archive" in err and "pickle" not in err


# ---------------------------------------------------------------------- the size limit
def test_the_limit_bounds_the_file_and_can_be_raised(tmp_path, monkeypatch):
    path = nn.save(nn.Linear(100, 100), tmp_path / "m.npz")  # 80 kB of weights
    refused(path, "the file is ", "more than the limit of 9.77 KiB (max_bytes)", max_bytes=10_000)
    monkeypatch.setenv(serialization.LIMIT_VARIABLE, "10000")
    refused(path, "more than the limit of 9.77 KiB")
    assert nn.load(path, max_bytes=200_000).model.W.shape == (100, 100)
    monkeypatch.setenv(serialization.LIMIT_VARIABLE, "200000")
    assert nn.load(path).model.W.shape == (100, 100)


def test_the_declared_sizes_count_against_the_limit_even_when_the_file_is_small(tmp_path):
    members = model_members(nn.Linear(100, 100, init="zeros"))
    path = write_archive(tmp_path / "m.npz", members, zipfile.ZIP_DEFLATED)  # 80 kB of zeros, compressed
    assert path.stat().st_size < 5_000
    refused(path, "its arrays declare", "more than the limit of 78.1 KiB", max_bytes=80_000)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "big"])
def test_an_invalid_limit_is_an_argument_error(tmp_path, bad, monkeypatch):
    with pytest.raises(ValueError, match="max_bytes must be a positive number of bytes"):
        nn.load(tmp_path / "m.npz", max_bytes=bad)
    monkeypatch.setenv(serialization.LIMIT_VARIABLE, "lots")
    with pytest.raises(ValueError, match=r"\$AUTOTENSOR_MAX_MODEL_BYTES must be a number of bytes, got 'lots'"):
        nn.load(tmp_path / "m.npz")


BOMB_CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import nn

    def virtual_memory():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))

    cap = virtual_memory() + (96 << 20)  # 96 MiB above what the interpreter uses already
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    report = {}
    try:
        nn.load(sys.argv[1], max_bytes=int(sys.argv[2]))
    except Exception as error:
        report["nn.load"] = f"{type(error).__name__}: {error}"
    try:
        with np.load(sys.argv[1]) as archive:
            archive["layers.0.W"]
        report["np.load"] = "read it"
    except MemoryError:
        report["np.load"] = "MemoryError"
    print(json.dumps(report))
""")


def test_a_decompression_bomb_is_refused_under_a_memory_cap(tmp_path):
    # 256 MiB of compressed zeros in a 1.2 MB file; the child may use 96 MiB more than at start.
    path = tmp_path / "bomb.npz"
    members = model_members()
    del members["layers.0.W.npy"]
    write_archive(path, members, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("layers.0.W.npy", "w", force_zip64=True) as member:
            member.write(npy_header((1 << 15, 1 << 10)))
            chunk = bytes(1 << 20)
            for _ in range(256):
                member.write(chunk)
    assert path.stat().st_size < 2_000_000
    child = subprocess.run([sys.executable, "-c", BOMB_CHILD, str(path), str(64 << 20)], capture_output=True,
                           text=True, timeout=120, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert report["np.load"] == "MemoryError"  # reading it would exceed the cap: the bomb is real
    assert report["nn.load"] == (f"ModelFileError: {path}: its arrays declare 256 MiB or more ('layers.0.W' "
                                 f"alone 256 MiB), more than the limit of 64 MiB (max_bytes)")
