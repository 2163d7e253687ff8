"""lw.save / lw.load: identical round trips, atomic writes, and a clear ValueError (never an
unpickle) for every file that is not a layerwise model."""

import json
import os
import pathlib
import pickle

import numpy as np
import pytest

import layerwise as lw

st = pytest.importorskip("safetensors.numpy")


def models(dtype):
    return {
        "mlp": lw.MLP([4, 8, 5, 3], rng=0, dtype=dtype),
        "mlp-1-layer": lw.MLP([4, 3], output_activation="sigmoid", rng=0, dtype=dtype),
        "sequential": lw.nn.Sequential(
            lw.nn.Dense(4, 6, "tanh", rng=1, dtype=dtype), lw.nn.LeakyReLU(0.2),
            lw.nn.Linear(6, 5, bias=False, rng=2, dtype=dtype), lw.nn.ReLU(), lw.nn.Sigmoid(),
            lw.nn.Tanh(), lw.nn.Identity(), lw.nn.Dense(5, 3, "none", rng=3, dtype=dtype),
            lw.nn.LogSoftmax(axis=-1)),
        "nested": lw.nn.Sequential(lw.nn.Sequential(lw.nn.Linear(4, 3, rng=4, dtype=dtype)),
                                   lw.nn.Softmax()),
        "dense": lw.nn.Dense(4, 3, "leaky_relu", rng=5, dtype=dtype),
        "linear": lw.nn.Linear(4, 3, rng=6, dtype=dtype),
    }


def randomise(model, seed=0):
    """Non-zero biases too, so that a lost bias would show."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(models(np.float32)))
def test_round_trip_gives_identical_outputs(tmp_path, dtype, name):
    model = randomise(models(dtype)[name])
    path = lw.save(model, tmp_path / "m.safetensors")
    assert path == tmp_path / "m.safetensors"
    loaded = lw.load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    x = np.random.default_rng(1).standard_normal((7, 4)).astype(dtype)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    for (n, p), (m, q) in zip(model.named_parameters(), loaded.named_parameters(), strict=True):
        assert n == m and q.dtype == dtype and q.requires_grad
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("layout", ["transposed", "negative-stride", "big-endian"])
def test_awkward_arrays_are_stored_with_the_right_numbers(tmp_path, layout):
    # safetensors 0.8 writes the memory, not the values, of such arrays (safetensors#825)
    net = randomise(lw.MLP([3, 4, 2], rng=0))
    W = net.layers[0].W
    W.data = {"transposed": lambda a: np.asfortranarray(a), "negative-stride": lambda a: a[::-1],
              "big-endian": lambda a: a.astype(">f4")}[layout](W.data)
    assert not W.data.flags.c_contiguous or W.data.dtype.byteorder == ">"
    lw.save(net, tmp_path / "m.safetensors")
    np.testing.assert_array_equal(st.load_file(tmp_path / "m.safetensors")["layers.0.W"], W.data)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(lw.load(tmp_path / "m.safetensors")(x).data, net(x).data)


def test_header_holds_the_architecture_as_json(tmp_path):
    lw.save(lw.MLP([4, 8, 3], rng=0, dtype=np.float64), tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    meta = header["__metadata__"]
    assert meta["format"] == "layerwise" and meta["format_version"] == "2"
    assert json.loads(meta["architecture"]) == {"dtype": "float64", "model": {
        "module": "MLP", "config": {"layer_sizes": [4, 8, 3], "hidden_activation": "relu",
                                    "output_activation": "softmax", "init": "he"}}}
    assert sorted(k for k in header if k != "__metadata__") == [
        "layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]


@pytest.mark.parametrize("tree", [
    {"type": "MLP", "layers": [
        {"type": "Dense", "n_input": 4, "n_output": 8, "activation": "tanh", "bias": True},
        {"type": "Dense", "n_input": 8, "n_output": 3, "activation": "softmax", "bias": True}]},
    {"type": "Sequential", "layers": [
        {"type": "Linear", "n_input": 4, "n_output": 8, "bias": True},
        {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "Dense", "n_input": 8, "n_output": 3, "activation": "none", "bias": True},
        {"type": "Softmax", "axis": 1}]},
])
def test_format_version_1_files_still_load(tmp_path, tree):
    """Files written by the first release (type-name trees) load into the same model."""
    rng = np.random.default_rng(0)
    tensors = {"layers.0.W": rng.normal(size=(4, 8)), "layers.0.b": rng.normal(size=(1, 8)),
               "layers.1.W": rng.normal(size=(8, 3)), "layers.1.b": rng.normal(size=(1, 3))}
    if tree["type"] == "Sequential":
        tensors = {k.replace("layers.1", "2").replace("layers.0", "0"): v
                   for k, v in tensors.items()}
    st.save_file(tensors, tmp_path / "v1.safetensors", metadata={
        "format": "layerwise", "format_version": "1",
        "architecture": json.dumps({"dtype": "float64", "model": tree})})
    model = lw.load(tmp_path / "v1.safetensors")
    x = rng.normal(size=(5, 4))
    W0, b0 = tensors.get("layers.0.W", tensors.get("0.W")), tensors.get("layers.0.b",
                                                                        tensors.get("0.b"))
    W1, b1 = tensors.get("layers.1.W", tensors.get("2.W")), tensors.get("layers.1.b",
                                                                        tensors.get("2.b"))
    if tree["type"] == "MLP":
        expected = lw.F.softmax(np.tanh(x @ W0 + b0) @ W1 + b1).data
    else:
        h = x @ W0 + b0
        expected = lw.F.softmax(np.where(h > 0, h, 0.2 * h) @ W1 + b1, axis=1).data
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-12)


def test_user_metadata_round_trips(tmp_path):
    net = lw.MLP([2, 2], rng=0)
    lw.save(net, tmp_path / "a.safetensors", metadata={"classes": ["x", "y"], "scale": 0.5})
    model, meta = lw.load(tmp_path / "a.safetensors", return_metadata=True)
    assert meta == {"classes": ["x", "y"], "scale": 0.5} and isinstance(model, lw.MLP)
    lw.save(net, tmp_path / "b.safetensors")
    assert lw.load(tmp_path / "b.safetensors", return_metadata=True)[1] == {}
    with pytest.raises(ValueError, match="metadata must be JSON-serialisable"):
        lw.save(net, tmp_path / "c.safetensors", metadata={"x": object()})
    with pytest.raises(ValueError, match="JSON-serialisable"):
        lw.save(net, tmp_path / "c.safetensors", metadata={"x": float("nan")})
    assert not (tmp_path / "c.safetensors").exists()


def test_loading_draws_no_random_numbers(tmp_path):
    lw.save(lw.MLP([4, 8, 3], rng=0), tmp_path / "m.safetensors")
    np.random.seed(0)
    lw.load(tmp_path / "m.safetensors")
    assert np.random.rand() == np.random.RandomState(0).rand()


@pytest.mark.parametrize("sizes", [[64, 64, 10], [4, 8, 3], [2, 3, 2], [784, 32, 10]])
def test_a_header_length_that_looks_like_a_pickle_still_loads(tmp_path, sizes):
    """The 8-byte header length of a real file may begin with b"\x80\x02" (a 640-byte header),
    the bytes that open a pickle: such a file is still a model (found by the README tour)."""
    path = tmp_path / "m.safetensors"
    net = lw.MLP(sizes, output_activation="none", rng=0)
    lw.save(net, path)
    x = np.ones((2, sizes[0]), dtype=np.float32)
    assert np.array_equal(lw.load(path)(x).data, net(x).data)


def test_a_header_length_beginning_like_a_pickle_loads(tmp_path):
    """A header of 640 bytes starts the file with 0x80 0x02, a pickle's magic (a digits model
    of the first release happened to): the file must still load."""
    path = tmp_path / "m.safetensors"
    net = lw.MLP([64, 64, 10], output_activation="none", rng=0)
    for pad in range(600):
        lw.save(net, path, metadata={"pad": "x" * pad})
        if path.read_bytes()[:2] == b"\x80\x02":
            break
    assert path.read_bytes()[:2] == b"\x80\x02"  # the case above really occurs
    lw.load(path)


# --------------------------------------------------------------------- atomic writes
@pytest.fixture
def saved(tmp_path):
    """A folder holding a good model file, and that model."""
    net = randomise(lw.MLP([4, 8, 3], rng=0))
    lw.save(net, tmp_path / "m.safetensors")
    return tmp_path / "m.safetensors", net


def only_file(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fail_in", ["fsync", "replace"])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_save_that_fails_halfway_leaves_the_old_file(saved, monkeypatch, fail_in, error):
    path, net = saved
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, fail_in, boom)
    with pytest.raises(type(error)):
        lw.save(lw.MLP([4, 8, 3], rng=9), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and only_file(path.parent) == ["m.safetensors"]
    x = np.ones((1, 4), np.float32)
    np.testing.assert_array_equal(lw.load(path)(x).data, net(x).data)


def test_save_keeps_permissions_and_checks_the_folder(saved, tmp_path):
    path, net = saved
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
    os.chmod(path, 0o640)
    lw.save(net, path)
    assert path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere does not exist"):
        lw.save(net, tmp_path / "nowhere" / "m.safetensors")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        lw.save(net, tmp_path)


# ------------------------------------------------------------------ what cannot be saved
@pytest.mark.parametrize("model, message", [
    (lw.nn.Dense(2, 2, activation=lambda z: z * 2, rng=0),
     ("Dense.activation is the function '<lambda>', which cannot be saved: declare it with "
     "lw.register_activation")),
    (lw.nn.Sequential(type("Custom", (lw.nn.Module,), {"forward": lambda self, x: x})()),
     ("Sequential.0 is a Custom, which is neither built in nor registered: decorate its class "
     "with @lw.nn.register")),
    ("mixed", "the parameters mix dtypes ['float32', 'float64']"),
])
def test_unsupported_models_are_refused_by_name(tmp_path, model, message):
    if model == "mixed":
        model = lw.nn.Sequential(lw.nn.Linear(2, 2, rng=0), lw.nn.Linear(2, 2, rng=0,
                                                                       dtype=np.float64))
    with pytest.raises(ValueError) as err:
        lw.save(model, tmp_path / "m.safetensors")
    assert message in str(err.value)
    assert only_file(tmp_path) == []


# --------------------------------------------------------------------- bad files
class Payload:
    """Unpickling this creates the marker file (it would be arbitrary code in real life)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def test_a_pickle_is_never_unpickled(tmp_path):
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(Payload(probe)))
    assert probe.exists()  # the payload works when unpickled...
    marker = tmp_path / "marker"
    for protocol in (2, 3, 4, 5):
        (tmp_path / "model.pkl").write_bytes(pickle.dumps(Payload(marker), protocol=protocol))
        with pytest.raises(ValueError) as err:
            lw.load(tmp_path / "model.pkl")
        assert str(err.value).startswith(f"{tmp_path / 'model.pkl'}: this is a Python pickle")
        assert not marker.exists()  # ...and lw.load never ran it


def test_torch_save_files_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"m.pt: this is a zip archive \(a torch.save"):
        lw.load(tmp_path / "m.pt")


def header_file(path, meta, tensors=None):
    st.save_file(tensors if tensors is not None else {"x": np.zeros(2, np.float32)}, path,
                 metadata=meta)
    return path


def good_meta(tree=None, dtype="float32", version="2"):
    tree = tree or {"module": "Linear", "config": {"n_input": 2, "n_output": 3, "bias": True}}
    return {"format": "layerwise", "format_version": version,
            "architecture": json.dumps({"dtype": dtype, "model": tree})}


def linear(**config):
    return {"module": "Linear", "config": {"n_input": 2, "n_output": 3, "bias": True, **config}}


LINEAR = {"W": np.zeros((2, 3), np.float32), "b": np.zeros((1, 3), np.float32)}


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "not a safetensors file: only 0 bytes"),
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
     "truncated or not a safetensors file: the header should be"),
    (lambda p: p.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{abc}"),
     "not a safetensors file: the header is not JSON"),
    (lambda p: p.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00[]"), "not a JSON object"),
    (lambda p: np.save(p, np.zeros(3)), "this is a NumPy .npy file"),
    (lambda p: header_file(p, None), ("a safetensors file, but not a layerwise model (its "
                                     "metadata has no format='layerwise'); it holds the "
                                     "tensors ['x']")),
    (lambda p: header_file(p, {**good_meta(), "format_version": "3"}),
     "layerwise format version '3'; this layerwise reads versions 1, 2"),
    (lambda p: header_file(p, {"format": "layerwise", "format_version": "2"}),
     "the metadata has no readable architecture (KeyError"),
    (lambda p: header_file(p, {**good_meta(), "architecture": "{not json"}),
     "no readable architecture (JSONDecodeError"),
    (lambda p: header_file(p, good_meta({"module": "Conv2d", "config": {}})),
     ("the architecture in the metadata is invalid: model names the module class 'Conv2d', "
     "which is not registered")),
    (lambda p: header_file(p, good_meta({"type": "Conv2d"}, version="1")),
     "the architecture in the metadata is invalid: model names the module class 'Conv2d'"),
    (lambda p: header_file(p, good_meta(linear(n_input=-2))),
     "n_in must be a positive integer, got -2"),
    (lambda p: header_file(p, good_meta({"module": "Sequential", "config": {"modules": [
        {"module": "Dense", "config": {"n_input": 2, "n_output": 3, "activation": "swish"}}]}})),
     "unknown activation 'swish'"),
    (lambda p: header_file(p, good_meta(linear(width=3))), "Linear takes no argument 'width'"),
    (lambda p: header_file(p, good_meta({"module": "Linear", "config": {"n_input": 2}})),
     "missing 1 required positional argument: 'n_output'"),
    (lambda p: header_file(p, good_meta({"module": "Linear"})),
     "the model is not an object with 'module' and 'config'"),
    (lambda p: header_file(p, good_meta(linear(n_input=20000, n_output=20000))),
     ("the architecture needs a parameter of shape (20000, 20000), more numbers than the file "
     "holds")),
    (lambda p: header_file(p, good_meta(dtype="int8")), "dtype 'int8' is not one of"),
    (lambda p: header_file(p, good_meta(), {"W": np.zeros((3, 2), np.float32),
                                            "b": LINEAR["b"]}),
     ("the tensors do not match the architecture in the metadata: W has shape (3, 2), the "
     "architecture needs (2, 3)")),
    (lambda p: header_file(p, good_meta(), {"W": LINEAR["W"]}), "missing b"),
    (lambda p: header_file(p, good_meta(), {**LINEAR, "c": np.zeros(1, np.float32)}),
     "unexpected c"),
    (lambda p: header_file(p, good_meta(), {"W": LINEAR["W"].astype(np.float64),
                                            "b": LINEAR["b"]}),
     "W has dtype float64, the architecture says float32"),
])
def test_bad_files_raise_value_error_naming_the_file(tmp_path, make, message):
    path = tmp_path / "bad.safetensors"
    make(path)
    if not path.exists():  # np.save added .npy
        path = tmp_path / "bad.safetensors.npy"
    with pytest.raises(ValueError) as err:
        lw.load(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


@pytest.mark.parametrize("keep", [8, 30, -1, -13])
def test_truncated_files_raise_value_error(saved, keep):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(ValueError, match=r"m.safetensors: (truncated|corrupt tensor data|the "
                                         r"architecture.*more numbers than the file holds)"):
        lw.load(path)


def test_tensor_dtypes_numpy_lacks_are_named(tmp_path):
    meta = good_meta(linear(n_input=1, n_output=1, bias=False))
    header = json.dumps({"__metadata__": meta,
                         "W": {"dtype": "BF16", "shape": [1, 1], "data_offsets": [0, 2]}})
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header.encode() + b"\0\0")
    with pytest.raises(ValueError, match="bf16.safetensors: a tensor has the dtype 'BF16'"):
        lw.load(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        lw.load(tmp_path / "nothing.safetensors")


def test_hyper_parameters_are_checked_when_made_saved_and_loaded(tmp_path):
    """Issue 14 items 2 and 7: NaN slopes, huge axes, numpy scalars, deep nesting."""
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        lw.nn.LeakyReLU(float("nan"))
    with pytest.raises(ValueError, match="axis must be a int"):
        lw.nn.Softmax(axis=10**30)
    layer = lw.nn.LeakyReLU(np.float32(0.1))  # a NumPy scalar is fine and saves as JSON
    lw.save(lw.nn.Sequential(lw.nn.Linear(2, 2, rng=0), layer), tmp_path / "ok.safetensors")
    assert lw.load(tmp_path / "ok.safetensors")[1].negative_slope == pytest.approx(0.1)
    for value in ("NaN", "1e999", "1" + "0" * 30):
        tree = {"module": "Sequential", "config": {"modules": [
            {"module": "Linear", "config": {"n_input": 2, "n_output": 2}},
            {"module": "Softmax" if value.startswith("1" + "0") else "LeakyReLU",
             "config": {"axis" if value.startswith("1" + "0") else "negative_slope": 0}}]}}
        arch = json.dumps({"dtype": "float32", "model": tree}).replace(": 0}", f": {value}}}")
        path = tmp_path / "bad.safetensors"
        st.save_file({"0.W": np.zeros((2, 2), np.float32), "0.b": np.zeros((1, 2), np.float32)},
                     path, metadata={"format": "layerwise", "format_version": "2",
                                     "architecture": arch})
        with pytest.raises(ValueError, match=f"^{path}: "):
            lw.load(path)
    deep = lw.nn.Linear(2, 2, rng=0)
    for _ in range(2000):
        deep = lw.nn.Sequential(deep)
    with pytest.raises(ValueError, match="nested deeper than"):
        lw.save(deep, tmp_path / "deep.safetensors")
    assert not (tmp_path / "deep.safetensors").exists()


def test_setting_an_activation_parameter_is_checked_too():
    layer = lw.nn.LeakyReLU(0.1)
    layer.negative_slope = 0.3
    assert layer.get_config() == {"negative_slope": 0.3}  # what is saved is what runs
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        layer.negative_slope = float("nan")
    assert layer.negative_slope == 0.3
