"""Tests for layerwise.datasets: shipped Iris/Digits and the CSV loader."""

import ast
import gzip
import re
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layerwise.datasets as lwd
from layerwise.datasets import load_csv, load_digits, load_iris

DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # per class 0..9
IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)",
                 "petal length (cm)", "petal width (cm)"]


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def message_of(excinfo):
    return str(excinfo.value)


# --------------------------------------------------------------------------- #
# Iris
# --------------------------------------------------------------------------- #
def test_iris_shapes_dtypes_and_counts():
    X, y = load_iris()
    assert X.shape == (150, 4) and y.shape == (150,)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert np.array_equal(y, np.repeat([0, 1, 2], 50))  # sorted by class
    np.testing.assert_array_equal(X[0], np.array([5.1, 3.5, 1.4, 0.2], np.float32))
    np.testing.assert_array_equal(X[-1], np.array([5.9, 3.0, 5.1, 1.8], np.float32))
    # Known summary values of Fisher's data.
    np.testing.assert_allclose(X.astype(np.float64).mean(axis=0),
                               [5.843333, 3.057333, 3.758, 1.199333], atol=1e-5)
    assert X.min() == np.float32(0.1) and X.max() == np.float32(7.9)


def test_iris_return_names():
    X, y, features, classes = load_iris(return_names=True)
    assert features == IRIS_FEATURES
    assert classes == ["setosa", "versicolor", "virginica"]
    assert X.shape == (150, 4) and y.shape == (150,)


def test_iris_dtype_argument():
    X64, _ = load_iris(dtype=np.float64)
    X32, _ = load_iris()
    assert X64.dtype == np.float64
    assert load_iris(dtype="float16")[0].dtype == np.float16
    # float64 is the exact decimal reading, float32 its rounding.
    assert X64[0, 0] == 5.1
    np.testing.assert_array_equal(X64.astype(np.float32), X32)
    with pytest.raises(ValueError, match="floating"):
        load_iris(dtype=np.int64)


def test_iris_equals_sklearn_exactly():
    sk = pytest.importorskip("sklearn.datasets")
    ref = sk.load_iris()
    X, y, features, classes = load_iris(dtype=np.float64, return_names=True)
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    assert features == list(ref.feature_names)
    assert classes == list(ref.target_names)
    np.testing.assert_array_equal(load_iris()[0], ref.data.astype(np.float32))


# --------------------------------------------------------------------------- #
# Digits
# --------------------------------------------------------------------------- #
def test_digits_shapes_dtypes_and_counts():
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == DIGIT_COUNTS
    assert X.min() == 0 and X.max() == 16
    assert np.array_equal(X, np.round(X))  # raw integer pixel values
    assert y[:10].tolist() == list(range(10))
    first = X[0].reshape(8, 8)
    assert first[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert first[:, 0].sum() == 0  # left column of a "0" is blank


def test_digits_return_names_and_dtype():
    X, y, features, classes = load_digits(dtype=np.float64, return_names=True)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert len(features) == 64
    assert features[:2] == ["pixel_0_0", "pixel_0_1"] and features[-1] == "pixel_7_7"
    assert classes == [str(k) for k in range(10)]


def test_digits_equals_sklearn_exactly():
    sk = pytest.importorskip("sklearn.datasets")
    ref = sk.load_digits()
    X, y = load_digits(dtype=np.float64)
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    assert np.bincount(ref.target).tolist() == DIGIT_COUNTS
    np.testing.assert_array_equal(load_digits()[0], ref.data.astype(np.float32))


# --------------------------------------------------------------------------- #
# Packaging
# --------------------------------------------------------------------------- #
def test_data_files_ship_inside_the_package():
    data = files("layerwise.datasets").joinpath("data")
    assert data.joinpath("iris.csv").is_file()
    assert data.joinpath("README.txt").is_file()
    raw = data.joinpath("digits.csv.gz").read_bytes()
    header = gzip.decompress(raw).decode("ascii").split("\n", 1)[0]
    assert header.startswith("pixel_0_0,") and header.endswith(",digit")
    readme = data.joinpath("README.txt").read_text(encoding="utf-8")
    for needed in ("Fisher", "Alpaydin", "CC BY 4.0", "BSD-3-Clause"):
        assert needed in readme


def test_loaders_import_only_numpy_and_stdlib():
    # datasets may also use layerwise.safefile (regular files only), itself NumPy + stdlib
    pkg = Path(lwd.__file__).parent
    for source in [*pkg.glob("*.py"), pkg.parent / "safefile.py"]:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import must stay inside datasets (or be safefile)
                    assert node.level == 1 or (node.level == 2 and node.module == "safefile"), (
                        f"{source.name} imports outside datasets")
                    continue
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root == "numpy" or root in sys.stdlib_module_names, (
                    f"{source.name} imports {root}")


# --------------------------------------------------------------------------- #
# load_csv: successful reads
# --------------------------------------------------------------------------- #
def test_csv_integer_target_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.integers(0, 4, size=20)
    lines = ["a,b,c,label"] + [
        ",".join(repr(float(v)) for v in row) + f",{t}" for row, t in zip(X, y)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    X2, y2 = load_csv(path, target="label", dtype=np.float64)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert y2.dtype == np.int64
    X3, y3 = load_csv(str(path), target="label")  # str path, default dtype
    assert X3.dtype == np.float32 and y3.dtype == np.int64
    np.testing.assert_array_equal(X3, X.astype(np.float32))


def test_csv_integer_valued_floats_become_int64(tmp_path):
    path = write(tmp_path, "x,y\n1.5,1.0\n2.5,0.0\n3.5,2.0\n")
    X, y = load_csv(path, target="y")
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 2]
    assert X[:, 0].tolist() == [1.5, 2.5, 3.5]


def test_csv_float_target_follows_dtype(tmp_path):
    path = write(tmp_path, "x,y\n1,0.25\n2,1.5\n")
    _, y = load_csv(path, target="y")
    assert y.dtype == np.float32 and y.tolist() == [0.25, 1.5]
    _, y64 = load_csv(path, target="y", dtype=np.float64)
    assert y64.dtype == np.float64


def test_csv_target_position_and_column_order(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    X, y, names, classes = load_csv(path, target="b", return_names=True)
    assert names == ["a", "c"] and classes is None
    assert X.tolist() == [[1, 3], [4, 6]] and y.tolist() == [2, 5]
    X0, y0 = load_csv(path, target=0)
    assert X0.tolist() == [[2, 3], [5, 6]] and y0.tolist() == [1, 4]
    Xl, yl = load_csv(path)  # default: last column
    assert Xl.tolist() == [[1, 2], [4, 5]] and yl.tolist() == [3, 6]
    Xn, yn = load_csv(path, target=-2)
    assert Xn.tolist() == [[1, 3], [4, 6]] and yn.tolist() == [2, 5]


def test_csv_string_classes_map_to_sorted_labels(tmp_path):
    path = write(tmp_path, "len,kind,width\n1,tulip,9\n2,rose,8\n3,daisy,7\n4,tulip,6\n")
    X, y, names, classes = load_csv(path, target="kind", return_names=True)
    assert classes == ["daisy", "rose", "tulip"]
    assert y.dtype == np.int64 and y.tolist() == [2, 1, 0, 2]
    assert names == ["len", "width"]
    assert X.tolist() == [[1, 9], [2, 8], [3, 7], [4, 6]]
    X2, y2 = load_csv(path, target="kind")
    assert len((X2, y2)) == 2 and y2.tolist() == [2, 1, 0, 2]


def test_csv_mixed_numbers_and_words_are_classes(tmp_path):
    path = write(tmp_path, "x,t\n1,10\n2,9\n3,cat\n")
    _, y, _, classes = load_csv(path, target="t", return_names=True)
    assert classes == ["10", "9", "cat"]  # string order
    assert y.tolist() == [0, 1, 2]


def test_csv_no_target(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,4\n5,6\n")
    X = load_csv(path, target=None)
    assert isinstance(X, np.ndarray) and X.shape == (3, 2)
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]]
    X2, names = load_csv(path, target=None, return_names=True)
    assert names == ["a", "b"] and np.array_equal(X2, X)


def test_csv_delimiters_spaces_bom_and_blank_lines(tmp_path):
    path = write(tmp_path, "\ufeff a ; b ; label \n\n 1 ; 2.5 ; yes \n;;\n3;4;no\n\n")
    X, y, names, classes = load_csv(path, target="label", delimiter=";",
                                    return_names=True)
    assert names == ["a", "b"] and classes == ["no", "yes"]
    assert X.tolist() == [[1, 2.5], [3, 4]] and y.tolist() == [1, 0]
    tsv = write(tmp_path, "a\tb\n1\t2\n", name="t.tsv")
    X, y = load_csv(tsv, delimiter="\t")
    assert X.tolist() == [[1]] and y.tolist() == [2]


def test_csv_quoted_fields(tmp_path):
    path = write(tmp_path, 'a,"name, with comma"\n1,"red, dark"\n2,blue\n')
    _, y, _, classes = load_csv(path, target="name, with comma", return_names=True)
    assert classes == ["blue", "red, dark"] and y.tolist() == [1, 0]


def test_csv_reads_iris_written_by_hand(tmp_path):
    X, y, features, classes = load_iris(dtype=np.float64, return_names=True)
    lines = [",".join(features + ["species"])]
    lines += [",".join(repr(float(v)) for v in row) + "," + classes[t]
              for row, t in zip(X, y)]
    path = write(tmp_path, "\n".join(lines), name="iris_copy.csv")  # no final newline
    X2, y2, f2, c2 = load_csv(path, target="species", dtype=np.float64, return_names=True)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert (f2, c2) == (features, classes)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                         min_size=3, max_size=3), min_size=1, max_size=15),
       st.data())
def test_csv_float_round_trip_property(tmp_path_factory, rows, data):
    labels = data.draw(st.lists(st.integers(-(2**40), 2**40),
                                min_size=len(rows), max_size=len(rows)))
    text = "p,q,r,y\n" + "".join(
        ",".join(repr(v) for v in row) + f",{t}\n" for row, t in zip(rows, labels))
    path = write(tmp_path_factory.mktemp("prop"), text)
    X, y = load_csv(path, target="y", dtype=np.float64)
    np.testing.assert_array_equal(X, np.array(rows, dtype=np.float64).reshape(-1, 3))
    assert y.dtype == np.int64 and y.tolist() == labels


def test_csv_100k_rows_is_fast(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.random((100_000, 10)).round(6)
    y = rng.integers(0, 5, 100_000)
    header = ",".join(f"f{i}" for i in range(10)) + ",label\n"
    body = "\n".join(",".join(f"{v:.6f}" for v in row) + f",{t}" for row, t in zip(X, y))
    path = write(tmp_path, header + body + "\n", name="big.csv")
    start = time.perf_counter()
    X2, y2 = load_csv(path, target="label", dtype=np.float64)
    elapsed = time.perf_counter() - start
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert elapsed < 10, f"load_csv took {elapsed:.1f} s for 100k rows"


# --------------------------------------------------------------------------- #
# load_csv: errors name the file and what is wrong
# --------------------------------------------------------------------------- #
def test_csv_missing_file(tmp_path):
    path = tmp_path / "no_such_file.csv"
    with pytest.raises(FileNotFoundError, match="no_such_file.csv"):
        load_csv(path)


@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_csv_empty_file(tmp_path, text):
    path = write(tmp_path, text, name="empty.csv")
    with pytest.raises(ValueError, match="empty") as exc:
        load_csv(path)
    assert "empty.csv" in message_of(exc)


@pytest.mark.parametrize("text", ["a,b,c\n", "a,b,c", "a,b,c\n\n,,\n"])
def test_csv_header_only(tmp_path, text):
    path = write(tmp_path, text, name="header_only.csv")
    with pytest.raises(ValueError, match="no data rows") as exc:
        load_csv(path, target="c")
    assert "header_only.csv" in message_of(exc)


def test_csv_unknown_target_lists_columns(tmp_path):
    path = write(tmp_path, "alpha,beta\n1,2\n", name="cols.csv")
    with pytest.raises(ValueError) as exc:
        load_csv(path, target="gamma")
    msg = message_of(exc)
    assert "cols.csv" in msg and "'gamma'" in msg
    assert "'alpha'" in msg and "'beta'" in msg


def test_csv_target_index_out_of_range(tmp_path):
    path = write(tmp_path, "alpha,beta\n1,2\n", name="cols.csv")
    for bad in (2, -3):
        with pytest.raises(ValueError, match="out of range") as exc:
            load_csv(path, target=bad)
        assert "cols.csv" in message_of(exc) and "'beta'" in message_of(exc)
    with pytest.raises(TypeError):
        load_csv(path, target=1.0)


def test_csv_ambiguous_target_name(tmp_path):
    path = write(tmp_path, "a,a,b\n1,2,3\n", name="dup.csv")
    with pytest.raises(ValueError, match="2 columns are named 'a'") as exc:
        load_csv(path, target="a")
    assert "dup.csv" in message_of(exc)
    X, y = load_csv(path, target=1)  # a position still works
    assert X.tolist() == [[1, 3]] and y.tolist() == [2]


def test_csv_non_numeric_feature_names_line_column_and_value(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,oops,1\n", name="bad.csv")
    with pytest.raises(ValueError) as exc:
        load_csv(path, target="label")
    msg = message_of(exc)
    assert "bad.csv" in msg
    assert re.search(r"\bline 4\b", msg), msg
    assert "'b'" in msg and "'oops'" in msg and "non-numeric" in msg


def test_csv_non_numeric_feature_when_target_is_first(tmp_path):
    path = write(tmp_path, "label,a,b\n0,1,2\n1,x7,3\n", name="bad2.csv")
    with pytest.raises(ValueError) as exc:
        load_csv(path, target=0)
    msg = message_of(exc)
    assert "bad2.csv" in msg and re.search(r"\bline 3\b", msg)
    assert "'a'" in msg and "'x7'" in msg


def test_csv_string_in_feature_column_without_target(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,4\n5,6\n7,seven\n", name="notarget.csv")
    with pytest.raises(ValueError) as exc:
        load_csv(path, target=None)
    msg = message_of(exc)
    assert "notarget.csv" in msg and re.search(r"\bline 5\b", msg)
    assert "'b'" in msg and "'seven'" in msg


def test_csv_ragged_row(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8\n", name="ragged.csv")
    with pytest.raises(ValueError) as exc:
        load_csv(path)
    msg = message_of(exc)
    assert "ragged.csv" in msg and re.search(r"\bline 3\b", msg)
    assert "2 fields" in msg and "header has 3" in msg


def test_csv_ragged_row_too_long(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,4\n5,6,7\n", name="long.csv")
    with pytest.raises(ValueError, match=r"line 4 has 3 fields") as exc:
        load_csv(path)
    assert "long.csv" in message_of(exc)


def test_csv_missing_feature_cell(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3, ,1\n", name="holes.csv")
    with pytest.raises(ValueError, match="missing value") as exc:
        load_csv(path, target="label")
    msg = message_of(exc)
    assert "holes.csv" in msg and re.search(r"\bline 3\b", msg) and "'b'" in msg


def test_csv_missing_target_cell(tmp_path):
    path = write(tmp_path, "a,label\n1,0\n2,1\n3,\n", name="holes.csv")
    with pytest.raises(ValueError, match="missing value") as exc:
        load_csv(path, target="label")
    msg = message_of(exc)
    assert "holes.csv" in msg and re.search(r"\bline 4\b", msg) and "'label'" in msg


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_csv_non_finite_feature(tmp_path, bad):
    path = write(tmp_path, f"a,b,label\n1,2,0\n{bad},3,1\n", name="nan.csv")
    with pytest.raises(ValueError, match="non-finite") as exc:
        load_csv(path, target="label")
    msg = message_of(exc)
    assert "nan.csv" in msg and re.search(r"\bline 3\b", msg)
    assert "'a'" in msg and repr(bad) in msg


def test_csv_non_finite_target(tmp_path):
    path = write(tmp_path, "a,label\n1,0.5\n2,nan\n", name="nant.csv")
    with pytest.raises(ValueError, match="non-finite") as exc:
        load_csv(path, target="label")
    msg = message_of(exc)
    assert "nant.csv" in msg and re.search(r"\bline 3\b", msg) and "'label'" in msg


def test_csv_error_line_numbers_count_blank_lines(tmp_path):
    # Line numbers are the file's own (header = line 1), blank lines included.
    path = write(tmp_path, "a,b\n\n1,2\n\n\n3,x\n", name="gaps.csv")
    with pytest.raises(ValueError, match=r"'x' at line 6, column 'b'"):
        load_csv(path, target=None)


def test_csv_bad_dtype(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match="floating"):
        load_csv(path, dtype=np.int32)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="UTF-8") as exc:
        load_csv(path)
    assert "latin1.csv" in message_of(exc)


def test_docstrings_have_examples():
    for fn in (load_iris, load_digits, load_csv):
        doc = fn.__doc__
        assert doc and "Example" in doc and ">>>" in doc
