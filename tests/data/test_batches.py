"""lw.data.batches and train_test_split: every row once, aligned pairs, memmaps batch by batch."""

import typing

import numpy as np
import pytest

import layerwise as lw
from layerwise.data import batches, num_batches, train_test_split


def labelled(n, width=3):
    """Rows whose first column is the row id, so alignment with y = ids can be checked."""
    X = np.arange(n * width, dtype=np.float64).reshape(n, width)
    X[:, 0] = np.arange(n)
    return X, np.arange(n)


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 5), (10, 10), (10, 32), (1, 1), (7, 1)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_row_once_aligned_and_short_last_batch(n, batch_size, shuffle):
    X, y = labelled(n)
    got = list(batches(X, y, batch_size=batch_size, shuffle=shuffle, rng=0))
    sizes = [len(yb) for _, yb in got]
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected and len(got) == num_batches(n, batch_size)
    for Xb, yb in got:
        assert type(Xb) is np.ndarray and type(yb) is np.ndarray
        np.testing.assert_array_equal(Xb[:, 0], yb)  # X and y rows stay together
        np.testing.assert_array_equal(Xb, X[yb])
    ids = np.concatenate([yb for _, yb in got])
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(ids, np.arange(n))


def test_drop_last_drops_only_a_short_final_batch():
    X, y = labelled(10)
    assert [len(yb) for _, yb in batches(X, y, 4, drop_last=True)] == [4, 4]
    assert [len(yb) for _, yb in batches(X, y, 5, drop_last=True)] == [5, 5]
    assert list(batches(X, y, 11, drop_last=True)) == []
    assert num_batches(10, 4, drop_last=True) == 2


def test_shuffle_is_a_fresh_permutation_drawn_from_rng():
    X, y = labelled(50)
    # batch_size 1 shows the permutation itself (rows are sorted within a batch)
    first = np.concatenate([yb for _, yb in batches(X, y, 1, shuffle=True, rng=1)])
    again = np.concatenate([yb for _, yb in batches(X, y, 1, shuffle=True, rng=1)])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, np.arange(50))
    np.testing.assert_array_equal(first, np.random.default_rng(1).permutation(50))
    gen = np.random.default_rng(2)  # a Generator advances: two passes differ
    one = np.concatenate([yb for _, yb in batches(X, y, 1, shuffle=True, rng=gen)])
    two = np.concatenate([yb for _, yb in batches(X, y, 1, shuffle=True, rng=gen)])
    assert not np.array_equal(one, two)
    np.random.seed(3)  # rng=None: NumPy's global state
    legacy = np.concatenate([yb for _, yb in batches(X, y, 1, shuffle=True)])
    np.testing.assert_array_equal(legacy, np.random.RandomState(3).permutation(50))


def test_shuffled_batches_take_the_permutations_rows_in_file_order():
    X, y = labelled(20)
    order = np.random.default_rng(5).permutation(20)
    for k, yb in enumerate(yb for _, yb in batches(X, y, 6, shuffle=True, rng=5)):
        np.testing.assert_array_equal(yb, np.sort(order[6 * k:6 * k + 6]))


class Spy(np.memmap):
    """A memmap that records how it is indexed."""

    keys: typing.ClassVar[list] = []

    def __getitem__(self, key):
        Spy.keys.append(key)
        return super().__getitem__(key)


@pytest.mark.parametrize("shuffle", [False, True])
def test_memmap_is_read_batch_by_batch(tmp_path, shuffle):
    X, y = labelled(103, width=4)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r", allow_pickle=False).view(Spy)
    ym = np.load(tmp_path / "y.npy", mmap_mode="r", allow_pickle=False)
    Spy.keys.clear()
    from_disk = list(batches(Xm, ym, 10, shuffle=shuffle, rng=7))
    in_memory = list(batches(X, y, 10, shuffle=shuffle, rng=7))
    assert len(Spy.keys) == 11  # one read per batch, nothing else
    for key in Spy.keys:
        if shuffle:
            assert key.ndim == 1 and len(key) <= 10 and np.all(np.diff(key) > 0)
        else:
            assert isinstance(key, slice)
    for (Xb, yb), (Xe, ye) in zip(from_disk, in_memory, strict=True):
        assert type(Xb) is np.ndarray and Xb.shape == (len(yb), 4)
        np.testing.assert_array_equal(Xb, Xe)
        np.testing.assert_array_equal(yb, ye)


def test_accepts_tensors_and_lists_and_x_alone():
    assert [b.tolist() for b in batches([[1.0], [2.0], [3.0]], batch_size=2)] == [
        [[1.0], [2.0]], [[3.0]]]
    Xb, yb = next(batches(lw.Tensor(np.ones((3, 2))), np.zeros(3), batch_size=3))
    assert Xb.shape == (3, 2) and yb.shape == (3,)


@pytest.mark.parametrize("kwargs, message", [
    ({"y": np.zeros(4)}, "X has 5 rows but y has 4"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": -3}, "got -3"),
    ({"batch_size": 2.5}, "got 2.5"),
    ({"batch_size": True}, "got True"),
])
def test_bad_arguments_fail_at_the_call(kwargs, message):
    with pytest.raises(ValueError) as err:
        batches(np.zeros((5, 2)), **kwargs)  # no next(): the call itself checks
    assert message in str(err.value)
    with pytest.raises(ValueError, match="must have a row axis"):
        batches(np.float64(3.0))


def test_train_test_split_partitions_aligned_rows():
    X, y = labelled(10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, rng=0)
    assert len(y_test) == 3 and len(y_train) == 7  # ceil(0.25 * 10)
    np.testing.assert_array_equal(X_train[:, 0], y_train)
    np.testing.assert_array_equal(X_test[:, 0], y_test)
    np.testing.assert_array_equal(np.sort(np.r_[y_train, y_test]), np.arange(10))
    order = np.random.default_rng(0).permutation(10)
    np.testing.assert_array_equal(y_test, order[:3])
    a, b = train_test_split(X, test_size=4, shuffle=False)
    np.testing.assert_array_equal(a, X[:6])
    np.testing.assert_array_equal(b, X[6:])


@pytest.mark.parametrize("test_size, message", [
    (0.0, "fraction in (0, 1) or a row count"), (1.5, "fraction"),
    (float("nan"), "fraction"), (0, "leaves 0 of 10 rows"), (10, "leaves 10 of 10"),
])
def test_train_test_split_rejects_bad_sizes(test_size, message):
    with pytest.raises(ValueError) as err:
        train_test_split(np.zeros((10, 2)), test_size=test_size)
    assert message in str(err.value)


def test_docstring_examples():
    import doctest

    from layerwise.data import batching, split
    for module in (lw.data, batching, split):
        assert doctest.testmod(module).failed == 0
