"""lw.load and lw.save against hostile files and faults (issue 14 items 2, 3, 4, 6, 8, 12).

Each test builds the bad file the issue describes and checks for a clear error naming the
file (or, for saves, that nothing is lost and no temp file is left behind)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

import layerwise as lw
from layerwise import safefile

st = pytest.importorskip("safetensors.numpy")


def linear_file(path, meta_extra=None, tensors=None, tree=None):
    """A valid layerwise file for Linear(2 -> 3), with metadata fields added or replaced."""
    tree = tree or {"type": "Linear", "n_input": 2, "n_output": 3, "bias": True}
    meta = {"format": "layerwise", "format_version": "1",
            "architecture": json.dumps({"dtype": "float32", "model": tree}), **(meta_extra or {})}
    tensors = tensors or {"W": np.ones((2, 3), np.float32), "b": np.zeros((1, 3), np.float32)}
    st.save_file(tensors, path, metadata=meta)
    return path


def raw_file(path, header: bytes, data: bytes = b""):
    path.write_bytes(len(header).to_bytes(8, "little") + header + data)
    return path


# ------------------------------------------------------------------ item 3: special files
@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused_by_name(special):
    if not os.path.exists(special):
        pytest.skip(f"no {special} here")
    with pytest.raises(ValueError, match=f"^{special} is a character device, not a regular "
                                         "file; layerwise reads only regular files$"):
        lw.load(special)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            lw.load(fifo)
        except ValueError as err:
            outcome.append(str(err))

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():  # unblock the thread (open a writer), then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("lw.load blocked on a FIFO")
    assert outcome == [(f"{fifo} is a FIFO (named pipe), not a regular file; layerwise reads "
                        "only regular files")]


def test_a_folder_is_refused_by_name(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"{tmp_path} is a folder, not a file"):
        lw.load(tmp_path)


def test_a_huge_header_length_is_refused_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "big.safetensors"
    size = safefile.MAX_HEADER_BYTES + 1
    with open(path, "wb") as f:  # a sparse file: the claimed header really "fits"
        f.write(size.to_bytes(8, "little"))
        f.truncate(8 + size + 10)
    with pytest.raises(ValueError, match=f"header length of {size} bytes, over the "
                                         f"{safefile.MAX_HEADER_BYTES}-byte limit"):
        lw.load(path)


def test_tensor_offsets_past_the_end_are_refused_before_the_data_is_read(tmp_path,
                                                                         monkeypatch):
    path = linear_file(tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    with open(path, "ab") as f:  # a 64 MiB (sparse) tail the header claims as the weights
        f.truncate(len(data) + 64 * 2**20)
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_len])
    header["W"]["data_offsets"][1] = 10**12
    raw_file(path, json.dumps(header).encode(), bytes(data[8 + header_len:]))
    reads = []
    real_read = safefile._read_exactly

    def counting(f, n, name):
        reads.append(n)
        return real_read(f, n, name)

    monkeypatch.setattr(safefile, "_read_exactly", counting)
    with pytest.raises(ValueError, match="truncated: the tensor 'W' ends at byte 1000000000000"):
        lw.load(path)
    assert reads == [len(json.dumps(header))]  # the header only, never the data


def test_a_multi_gigabyte_file_with_a_bad_header_is_refused_at_once(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:  # 4 GiB, sparse: reading it all would take the memory
        f.write((5).to_bytes(8, "little") + b"{abc}")
        f.truncate(4 * 2**30)
    with pytest.raises(ValueError, match="the header is not JSON"):
        lw.load(path)


# ------------------------------------------------------------------------ item 2: nesting
@pytest.mark.parametrize("depth", [101, 1_000, 100_000])
def test_deeply_nested_header_json_is_a_value_error(tmp_path, depth):
    path = raw_file(tmp_path / "m.safetensors", b"[" * depth + b"]" * depth)
    with pytest.raises(ValueError, match=f"the header is not JSON .JSON nested {depth} levels "
                                         "deep; at most 100 are allowed"):
        lw.load(path)


def test_unbalanced_nesting_is_a_value_error_too(tmp_path):
    path = raw_file(tmp_path / "m.safetensors", b'{"a": ' + b"[" * 100_000)
    with pytest.raises(ValueError, match="nested 100001 levels deep"):
        lw.load(path)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 1000, "b": ["]]]\\\"[[" * 50]})
    assert safefile.json_depth(text) == 2
    assert safefile.parse_json(text)["a"] == "[" * 1000


@pytest.mark.parametrize("field", ["architecture", "user"])
def test_deeply_nested_architecture_or_user_metadata_is_a_value_error(tmp_path, field):
    nested = "[" * 50_000 + "]" * 50_000
    path = linear_file(tmp_path / "m.safetensors", {field: nested})
    with pytest.raises(ValueError, match="nested 50000 levels deep") as err:
        lw.load(path, return_metadata=True)
    assert str(err.value).startswith(f"{path}: ")


def test_nesting_up_to_the_limit_still_loads(tmp_path):
    user = {"a": [[[[[[[[[[[["deep"]]]]]]]]]]]]}
    path = linear_file(tmp_path / "m.safetensors", {"user": json.dumps(user)})
    assert lw.load(path, return_metadata=True)[1] == user


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999"])
def test_non_standard_json_numbers_are_refused(text):
    with pytest.raises(ValueError, match="non-standard JSON constant|overflows a float"):
        safefile.parse_json(text)


# ---------------------------------------------------------- item 6: user metadata is a dict
@pytest.mark.parametrize("user", ["[1,2]", "5", '"text"', "null", "true"])
def test_user_metadata_that_is_not_an_object_is_refused(tmp_path, user):
    path = linear_file(tmp_path / "m.safetensors", {"user": user})
    with pytest.raises(ValueError, match=f"{path}: the user metadata must be a JSON object"):
        lw.load(path)
    with pytest.raises(ValueError, match="the user metadata must be a JSON object"):
        lw.load(path, return_metadata=True)


def test_user_metadata_that_is_not_json_is_refused(tmp_path):
    path = linear_file(tmp_path / "m.safetensors", {"user": "{oops"})
    with pytest.raises(ValueError, match="the user metadata is not JSON"):
        lw.load(path)


# ------------------------------------------------------------- item 8: non-finite weights
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("tensor", ["W", "b"])
def test_a_non_finite_weight_is_refused_naming_the_tensor(tmp_path, bad, tensor):
    tensors = {"W": np.ones((2, 3), np.float32), "b": np.zeros((1, 3), np.float32)}
    tensors[tensor][0, 1] = bad
    path = linear_file(tmp_path / "m.safetensors", tensors=tensors)
    with pytest.raises(ValueError, match=rf"{path}: the tensor {tensor} holds 1 non-finite "
                                         r"value\(s\) \(NaN or infinity\), the first at index "
                                         r"\(0, 1\)"):
        lw.load(path)


def test_a_saved_model_with_a_nan_weight_cannot_be_loaded(tmp_path):
    net = lw.MLP([3, 4, 2], rng=0)
    net.layers[1].W.data[2, 1] = np.nan
    path = lw.save(net, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=r"layers.1.W holds 1 non-finite .* index \(2, 1\)"):
        lw.load(path)


# ------------------------------------------------------------------ item 4: temp files
def dead_pid():
    """The id of a process that has certainly ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_later_save_removes_the_temp_files_of_killed_saves(tmp_path):
    path = tmp_path / "model.safetensors"
    dead = tmp_path / f".model.safetensors.{dead_pid()}-abcd1234.tmp"
    old = tmp_path / ".model.safetensors.k2j4h5g6.tmp"  # layerwise 0.1's name, no pid
    for stale in (dead, old):
        stale.write_bytes(b"x" * 1000)
    long_ago = time.time() - safefile.STALE_TEMP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    lw.save(lw.MLP([2, 2], rng=0), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_temp_files_of_running_saves_and_other_files_are_kept(tmp_path):
    path = tmp_path / "model.safetensors"
    keep = [
        f".model.safetensors.{os.getpid()}-abcd1234.tmp",  # a save running in this process
        ".model.safetensors.zz9yy8xx.tmp",  # pid unknown, written just now
        f".other.safetensors.{dead_pid()}-abcd1234.tmp",  # another target's
        ".model.safetensors.notes.txt", "model.safetensors.tmp",
    ]
    for name in keep:
        (tmp_path / name).write_bytes(b"x")
    lw.save(lw.MLP([2, 2], rng=0), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep + ["model.safetensors"])


def test_a_save_names_its_temp_file_with_its_pid(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    lw.save(lw.MLP([2, 2], rng=0), tmp_path / "m.safetensors")
    assert len(seen) == 1 and seen[0].startswith(f".m.safetensors.{os.getpid()}-")
    assert safefile.remove_stale_temp_files(tmp_path / "m.safetensors") == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user")
def test_a_save_error_names_the_target_not_the_temp_file(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as err:
            lw.save(lw.MLP([2, 2], rng=0), folder / "m.safetensors")
    finally:
        folder.chmod(0o700)
    assert f"cannot write {folder / 'm.safetensors'}" in str(err.value)
    assert ".tmp" not in str(err.value)


@pytest.mark.parametrize("fail_in", ["fsync", "replace", "mkstemp"])
def test_a_failing_write_names_the_target_and_keeps_the_error_type(tmp_path, monkeypatch,
                                                                    fail_in):
    path = tmp_path / "m.safetensors"
    lw.save(lw.MLP([2, 2], rng=0), path)
    before = path.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", "/somewhere/.m.safetensors.1-abc.tmp")

    monkeypatch.setattr(tempfile if fail_in == "mkstemp" else os, fail_in, no_space)
    with pytest.raises(OSError) as err:
        lw.save(lw.MLP([2, 2], rng=1), path)
    monkeypatch.undo()
    assert str(err.value) == f"[Errno 28] lw.save: cannot write {path}: No space left on device"
    assert err.value.errno == 28 and ".tmp" not in str(err.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_permission_errors_stay_permission_errors(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/x/.m.tmp")

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(PermissionError, match="cannot write .*m.safetensors: Permission denied"):
        lw.save(lw.MLP([2, 2], rng=0), tmp_path / "m.safetensors")


# ------------------------------------------------------------------ item 12: symlinks
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_saving_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    target = store / "real.safetensors"
    lw.save(lw.MLP([2, 2], rng=0), target)
    link = tmp_path / "current.safetensors"
    link.symlink_to(target)
    new = lw.MLP([2, 3], rng=1)
    lw.save(new, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.safetensors", "store"]
    assert sorted(p.name for p in store.iterdir()) == ["real.safetensors"]
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(lw.load(target)(x).data, new(x).data)
    np.testing.assert_array_equal(lw.load(link)(x).data, new(x).data)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_dangling_symlink_is_saved_through_to_its_target(tmp_path):
    link = tmp_path / "link.safetensors"
    link.symlink_to(tmp_path / "made.safetensors")
    lw.save(lw.MLP([2, 2], rng=0), link)
    assert link.is_symlink() and (tmp_path / "made.safetensors").is_file()


def test_a_text_file_is_called_text_not_a_huge_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,x\n")
    with pytest.raises(ValueError, match=r"the header should be \d+ bytes but only 8 follow "
                                         r"\(it starts with the text 'a,b,labe': a CSV or other "
                                         r"text file\?\)"):
        lw.load(path)
