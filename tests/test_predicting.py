"""Streaming prediction: predict_file over .npy / CSV / Parquet equals in-memory prediction,
and the CLI scores a .npy file larger than the memory it is allowed."""

import os
import resource
import subprocess
import sys

import numpy as np
import pytest

import layerwise as lw
from layerwise.predicting import predict_array, predict_file

LAYERWISE = os.path.join(os.path.dirname(sys.executable), "layerwise")


def _net(out="none"):
    return lw.MLP([5, 7, 3], output_activation=out, rng=0, dtype=np.float64)


def _X(n=101):
    return np.random.default_rng(0).normal(size=(n, 5))


@pytest.mark.parametrize("batch_size", [None, 1, 7, 1000])
def test_predict_array_equals_the_forward_pass(batch_size):
    net, X = _net(), _X()
    np.testing.assert_allclose(predict_array(net, X, batch_size), net(X).data, rtol=0,
                               atol=1e-14)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        predict_array(net, X, 0)


@pytest.mark.parametrize("source", ["npy", "csv", "csv-no-header", "parquet"])
@pytest.mark.parametrize("target", ["npy", "csv"])
def test_predict_file_equals_in_memory(tmp_path, source, target):
    net, X = _net(), _X()
    path = tmp_path / f"X.{source.split('-')[0]}"
    if source == "npy":
        np.save(path, X)
    elif source == "parquet":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.table({f"x{j}": X[:, j] for j in range(5)}), path, row_group_size=30)
    else:
        header = "" if source == "csv-no-header" else "a,b,c,d,e"
        np.savetxt(path, X, delimiter=",", header=header, comments="", fmt="%.17g")
    out = tmp_path / f"p.{target}"
    assert predict_file(net, path, out, chunk_rows=17, progress=False) == len(X)
    got = np.load(out) if target == "npy" else np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(got, net(X).data, rtol=0, atol=1e-14)


def test_predict_file_reports_progress_and_picks_columns(tmp_path, capsys):
    net, X = _net(), _X(50)
    wide = np.hstack([X[:, :2], np.zeros((50, 1)), X[:, 2:]])
    np.save(tmp_path / "w.npy", wide)
    predict_file(net, tmp_path / "w.npy", tmp_path / "p.npy", chunk_rows=10,
                 columns=[0, 1, 3, 4, 5], transform=lambda z: z[:, :1])
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), net(X).data[:, :1], atol=1e-14)
    assert "50/50 rows" in capsys.readouterr().err


def test_predict_file_errors_name_the_problem(tmp_path):
    net = _net()
    with pytest.raises(ValueError, match="must be a .npy, .csv, .parquet file"):
        predict_file(net, tmp_path / "X.txt", tmp_path / "p.npy")
    (tmp_path / "bad.csv").write_text("a,b,c,d,e\n1,2,3,4,5\n1,2,x,4,5\n")
    with pytest.raises(ValueError, match=r"bad.csv: rows 2-3 are not 5 numbers per row"):
        predict_file(net, tmp_path / "bad.csv", tmp_path / "p.csv", progress=False)
    np.save(tmp_path / "X.npy", np.ones((4, 6)))
    with pytest.raises(ValueError, match="expected input"):
        predict_file(net, tmp_path / "X.npy", tmp_path / "p.npy", progress=False)


def test_cli_streams_a_npy_file_larger_than_its_memory_cap(tmp_path):
    pytest.importorskip("safetensors")
    cap = 160 * 2**20  # the child's heap and private mappings (RLIMIT_DATA)
    n, d = 2_000_000, 16  # 256 MB of float64, memory-mapped by the CLI
    net = lw.MLP([d, 32, 4], output_activation="none", rng=0, dtype=np.float64)
    lw.save(net, tmp_path / "m.safetensors", metadata={"loss": "mse"})  # values written as they are
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64,
                                    shape=(n, d))
    for i in range(0, n, 250_000):
        big[i:i + 250_000] = np.random.default_rng(i).normal(size=(250_000, d))
    big.flush()
    assert big.nbytes > cap

    def limit():
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    run = {"preexec_fn": limit, "env": env, "capture_output": True, "text": True,
           "timeout": 300}
    # the cap bites: reading the file into memory fails under it
    read_whole = f"import numpy as np; np.load({str(tmp_path / 'big.npy')!r}).sum()"
    whole = subprocess.run([sys.executable, "-c", read_whole], check=False, **run)
    assert whole.returncode != 0 and "MemoryError" in whole.stderr
    result = subprocess.run([LAYERWISE, "predict", str(tmp_path / "m.safetensors"), "--data",
                             str(tmp_path / "big.npy"), "--out", str(tmp_path / "p.npy"),
                             "--chunk-rows", "20000"], check=False, **run)
    assert result.returncode == 0, result.stderr
    assert f"{n:,}/{n:,} rows" in result.stderr
    out = np.load(tmp_path / "p.npy", mmap_mode="r")
    assert out.shape == (n, 4)
    for i in range(0, n, 500_000):  # against the in-memory forward pass, a block at a time
        np.testing.assert_allclose(out[i:i + 500_000], net(big[i:i + 500_000]).data, rtol=0,
                                   atol=1e-13)


def test_cli_positional_npy_streams_and_classifiers_get_probabilities(tmp_path):
    pytest.importorskip("safetensors")
    net, X = _net(), _X()
    lw.save(net, tmp_path / "m.safetensors", metadata={"loss": "cross_entropy"})
    np.save(tmp_path / "X.npy", X)
    result = subprocess.run([LAYERWISE, "predict", str(tmp_path / "m.safetensors"),
                             str(tmp_path / "X.npy"), "--out", str(tmp_path / "p.csv")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    got = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(got, lw.F.softmax(net(X)).data, rtol=0, atol=1e-14)
    missing_out = subprocess.run([LAYERWISE, "predict", str(tmp_path / "m.safetensors"),
                                  "--data", str(tmp_path / "X.npy")], capture_output=True,
                                 text=True, check=False)
    assert missing_out.returncode == 2 and "need --out" in missing_out.stderr
