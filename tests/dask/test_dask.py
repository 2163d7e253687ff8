"""layerwise.dask on a real two-process LocalCluster: lazy prediction equal to in-memory, no
module object in the task graph, data-parallel training equal to lw.fit in float64."""

import io

import numpy as np
import pytest

pytest.importorskip("distributed")
import cloudpickle
import dask.array as da
from distributed import Client, LocalCluster

import layerwise as lw
import layerwise.dask as lwd


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def _net(sizes=(6, 16, 3), out="softmax", seed=0):
    return lw.MLP(list(sizes), output_activation=out, rng=seed, dtype=np.float64)


def _data(n=1000, d=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_predict_over_uneven_chunks_equals_in_memory(client):
    net, X = _net(), _data()
    lazy = lwd.predict(net, da.from_array(X, chunks=((300, 1, 450, 249), (4, 2))),
                       batch_size=128)
    assert lazy.chunks == ((300, 1, 450, 249), (3,)) and lazy.dtype == np.float64
    out = client.compute(lazy).result()
    # equal up to the last bit BLAS may round differently for a different number of rows
    np.testing.assert_allclose(out, net(X).data, rtol=0, atol=1e-13)


def test_predict_over_a_dataframe_keeps_the_index(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    net, X = _net(out="none"), _data(200)
    frame = pd.DataFrame(X, columns=list("abcdef"), index=np.arange(200) * 3)
    out = client.compute(lwd.predict(net, dd.from_pandas(frame, npartitions=3))).result()
    assert list(out.columns) == ["prediction_0", "prediction_1", "prediction_2"]
    np.testing.assert_array_equal(out.index, frame.index)
    np.testing.assert_allclose(out.to_numpy(), net(X).data, rtol=0, atol=1e-13)


class _Recorder(cloudpickle.CloudPickler):
    """Pickles a graph as distributed would, recording the type of every object on the way."""

    def __init__(self, file):
        super().__init__(file)
        self.seen, self.blobs = set(), []

    def persistent_id(self, obj):
        self.seen.add(type(obj))
        if isinstance(obj, bytes) and len(obj) > 64:
            self.blobs.append(obj)


def test_the_task_graph_holds_the_model_file_not_a_module():
    net = _net()
    lazy = lwd.predict(net, da.from_array(_data(100), chunks=(30, 6)))
    graph = dict(lazy.__dask_graph__())
    recorder = _Recorder(io.BytesIO())
    recorder.dump(graph)
    modules = [t for t in recorder.seen if issubclass(t, lw.nn.Module)]
    tensors = [t for t in recorder.seen if issubclass(t, lw.Tensor)]
    assert not modules and not tensors
    [data] = set(recorder.blobs)  # the model file (weights and architecture), once
    np.testing.assert_array_equal(lw.serialization.loads(data)(np.ones((2, 6))).data,
                                  net(np.ones((2, 6))).data)


@pytest.mark.parametrize("make_optimizer", [
    lambda p: lw.optim.Adam(p, lr=0.01),
    lambda p: lw.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
], ids=["adam", "sgd-nesterov"])
def test_data_parallel_training_equals_single_process(client, make_optimizer):
    X, y = _data(203), np.random.default_rng(1).integers(0, 3, 203)  # 7 batches, the last short
    ours, ref = _net(out="none"), _net(out="none")
    history = lwd.fit(ours, X, y, lw.nn.CrossEntropyLoss(), make_optimizer(ours.parameters()),
                      epochs=3, batch_size=32, client=client)
    expected = lw.fit(ref, X, y, lw.nn.CrossEntropyLoss(), make_optimizer(ref.parameters()),
                      epochs=3, batch_size=32, shuffle=False, progress=False)
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-12)
    assert not np.allclose(ours.layers[0].W.data, _net(out="none").layers[0].W.data)


def test_data_parallel_regression_with_a_function_loss(client):
    X = _data(90, 4)
    y = X @ np.arange(1.0, 9.0).reshape(4, 2) / 10
    ours, ref = _net((4, 8, 2), "none", 3), _net((4, 8, 2), "none", 3)
    lwd.fit(ours, X, y, lw.F.mse_loss, lw.optim.SGD(ours.parameters(), lr=0.1), epochs=2,
            batch_size=40, client=client)
    lw.fit(ref, X, y, lw.F.mse_loss, lw.optim.SGD(ref.parameters(), lr=0.1), epochs=2,
           batch_size=40, shuffle=False, progress=False)
    for p, q in zip(ours.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-12)


def test_predict_file_through_the_cluster_equals_in_process(client, tmp_path):
    from layerwise.predicting import predict_file

    net, X = _net(), _data(1000)
    np.save(tmp_path / "X.npy", X)
    n = predict_file(net, tmp_path / "X.npy", tmp_path / "p.npy", chunk_rows=170,
                     progress=False, client=client)
    assert n == 1000
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), net(X).data, rtol=0, atol=1e-13)
    np.savetxt(tmp_path / "X.csv", X, delimiter=",", header="a,b,c,d,e,f", comments="")
    predict_file(net, tmp_path / "X.csv", tmp_path / "p.csv", chunk_rows=333, progress=False,
                 client=client)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1),
                               net(X).data, rtol=0, atol=1e-13)


def test_clear_errors():
    with pytest.raises(TypeError, match="dask.array or a dask DataFrame"):
        lwd.predict(_net(), _data(10))
    with pytest.raises(ValueError, match="expected input"):
        lwd.predict(_net(), da.ones((10, 5), chunks=5))
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        lwd.fit(_net(), _data(10), np.zeros(9), lw.nn.MSELoss(), None, 1, 2)
