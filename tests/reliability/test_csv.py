"""load_csv against hostile and odd files (issue 14 items 3 and 5): a clear ValueError naming
the file, the line and the column, never a silent misreading, a leaked warning or a hang;
and its three paths (np.loadtxt, csv module, careful) agree wherever they all apply."""

import os
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerwise.datasets import load_csv, loaders


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def refused(path, match, **kwargs):
    """load_csv raises a ValueError starting with the file's name and matching ``match``,
    and no warning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=match) as err:
            load_csv(path, **kwargs)
    assert str(err.value).startswith(f"{path}: ")
    return str(err.value)


# ------------------------------------------------------------------ special files
def test_dev_zero_is_refused():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with pytest.raises(ValueError, match="^/dev/zero is a character device, not a regular"):
        load_csv("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_error_of(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load_csv blocked on a FIFO")
    assert outcome == [(f"{fifo} is a FIFO (named pipe), not a regular file; layerwise reads "
                       "only regular files")]


def _error_of(path):
    try:
        load_csv(path)
    except ValueError as err:
        return str(err)
    return None


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        load_csv(tmp_path)


# ----------------------------------------------------------------------- quoting
def test_an_unterminated_quote_is_refused_at_its_line(tmp_path):
    path = write(tmp_path, 'a,b,label\n1,2,x\n3,4,"y\n5,6,z\n7,8,w\n')
    refused(path, r"line 3: a quoted field is never closed")


def test_a_field_over_the_csv_limit_is_refused_at_its_line(tmp_path):
    path = write(tmp_path, "a,label\n1,x\n2," + "y" * 200_000 + "\n")
    refused(path, r"line 3: a field is longer than 131,072 characters")
    quoted = write(tmp_path, 'a,label\n1,x\n2,"' + "y" * 200_000 + '"\n', name="q.csv")
    refused(quoted, r"line 3: a field is longer than 131,072 characters")


def test_bad_quoting_is_refused(tmp_path):
    path = write(tmp_path, 'a,label\n1,"x"y\n')
    refused(path, r"line 2: not valid CSV")


def test_quoted_files_still_load(tmp_path):
    path = write(tmp_path, 'a,"b",label\n"1",2,"setosa"\n3,"4.5","virginica, too"\n')
    X, y, names, classes = load_csv(path, return_names=True)
    assert X.tolist() == [[1, 2], [3, 4.5]] and names == ["a", "b"]
    assert classes == ["setosa", "virginica, too"] and y.tolist() == [0, 1]


# -------------------------------------------------------------- numbers and ranges
def test_a_value_beyond_float32_is_refused_without_a_warning(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,1e39,1\n")
    msg = refused(path, r"value '1e39' at line 3, column 'b' is beyond the range of float32")
    assert "dtype=np.float64" in msg
    X, _ = load_csv(path, dtype=np.float64)
    assert X[1, 1] == 1e39


def test_a_float_target_beyond_float32_is_refused(tmp_path):
    path = write(tmp_path, "a,y\n1,0.5\n2,-1e39\n3,1e300\n")
    refused(path, r"value '-1e39' at line 3, target column 'y' is beyond the range of float32")
    _, y = load_csv(path, dtype=np.float64)
    assert y.tolist() == [0.5, -1e39, 1e300]


@pytest.mark.parametrize("cell, why", [
    ("1_000", "digit separators such as _ are not accepted"),
    ("\u0661\u0662", r"U\+0661 \(ARABIC-INDIC DIGIT ONE\)"),
    ("\uff11\uff12", r"U\+FF11 \(FULLWIDTH DIGIT ONE\)"),
    ("\u00a012\u00a0", r"U\+00A0 \(NO-BREAK SPACE\)"),
    ("12\u2003", r"U\+2003 \(EM SPACE\)"),
    ("0x10", "numbers such as 1.5"),
    ("1d5", "numbers such as 1.5"),
])
def test_numbers_python_would_accept_but_a_table_should_not(tmp_path, cell, why):
    assert cell in ("0x10", "1d5") or float(cell)  # Python's float() takes the others
    path = write(tmp_path, f"a,b,label\n1,2,0\n3,{cell},1\n")
    msg = refused(path, rf"non-numeric value .* at line 3, column 'b' .*{why}")
    assert repr(cell) in msg


def test_ascii_spaces_and_tabs_around_numbers_are_fine(tmp_path):
    path = write(tmp_path, "a,b,label\n 1 ,\t2\t,x\n3,  4.5,y\n")
    X, y = load_csv(path)
    assert X.tolist() == [[1, 2], [3, 4.5]] and y.tolist() == [0, 1]


# ------------------------------------------------------------------- delimiters
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_delimiter_is_read_from_the_header(tmp_path, sep):
    path = write(tmp_path, sep.join(["a", "b", "label"]) + "\n"
                 + sep.join(["1.5", "2", "x"]) + "\n" + sep.join(["3", "4", "y"]) + "\n")
    X, _y, names, classes = load_csv(path, return_names=True)
    assert names == ["a", "b"] and X.tolist() == [[1.5, 2], [3, 4]]
    assert classes == ["x", "y"]


def test_a_comma_in_the_header_wins(tmp_path):
    path = write(tmp_path, "a;x,b\n1,2\n")
    X, y, names, _ = load_csv(path, return_names=True)
    assert names == ["a;x"] and X.tolist() == [[1]] and y.tolist() == [2]


def test_an_explicit_wrong_delimiter_is_named(tmp_path):
    path = write(tmp_path, "a;b;label\n1;2;0\n")
    refused(path, r"split at ',', the header is one column, 'a;b;label'; the file looks "
                  r"';'-delimited: pass delimiter=';'", delimiter=",")


@pytest.mark.parametrize("bad", ["", ",,", '"', "\n", 5])
def test_a_bad_delimiter_argument_is_refused(tmp_path, bad):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match="delimiter must be one character"):
        load_csv(path, delimiter=bad)


def test_a_target_only_file_is_refused(tmp_path):
    path = write(tmp_path, "label\n1\n2\n")
    refused(path, r"the only column, 'label', is the target, which leaves no feature columns")
    refused(path, r"no feature columns", target="label")
    assert load_csv(path, target=None).tolist() == [[1], [2]]


# ------------------------------------------------------------------------ encoding
def test_a_utf8_error_names_the_line(tmp_path):
    path = write(tmp_path, b"a,label\n1,x\n2,caf\xe9\n3,y\n")
    refused(path, r"line 3, byte 6: cannot be read as UTF-8 text \(invalid continuation byte")


def test_non_ascii_class_names_are_fine(tmp_path):
    path = write(tmp_path, "a,label\n1,caf\u00e9\n2,\u00e9t\u00e9\n3,caf\u00e9\n")
    _, y, _, classes = load_csv(path, return_names=True)
    assert classes == ["caf\u00e9", "\u00e9t\u00e9"] and y.tolist() == [0, 1, 0]


# --------------------------------------------------- the three paths agree
def careful_only(monkeypatch):
    def refuse(*args, **kwargs):
        raise loaders._NeedsLineNumbers

    monkeypatch.setattr(loaders, "_fast_columns", lambda *args, **kwargs: None)
    monkeypatch.setattr(loaders, "_quick_columns", refuse)


def quick_only(monkeypatch):
    monkeypatch.setattr(loaders, "_fast_columns", lambda *args, **kwargs: None)


def outcome(text, **kwargs):
    try:
        out = loaders._parse_table(text, "t.csv", dtype=None, return_names=True, **kwargs)
    except ValueError as err:
        return "error", str(err)
    return "ok", tuple(v.tolist() if isinstance(v, np.ndarray) else v for v in out), \
        tuple(v.dtype.name for v in out if isinstance(v, np.ndarray))


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
cell = st.one_of(
    finite.map(repr), st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-Infinity", "1e39", "1_0", "x", "\u00a01", "1e",
                     ".", "+", "0x1", "\u0661", " 3 ", "\t4", "5\t", "''", "-.5e-3"]),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=0, max_size=8),
       line_end=st.sampled_from(["\n", "\r\n"]),
       blank=st.sampled_from(["", ",,", "   ", "\t"]),
       target=st.sampled_from([-1, 0, None, "c"]))
def test_fast_quick_and_careful_paths_give_the_same_outcome(rows, line_end, blank, target):
    lines = ["a,b,c"] + [",".join(r) for r in rows]
    if rows:
        lines.insert(2, blank)
    text = line_end.join(lines) + line_end
    expected = outcome(text, target=target, delimiter=None)
    with pytest.MonkeyPatch.context() as mp:
        quick_only(mp)
        assert outcome(text, target=target, delimiter=None) == expected
    with pytest.MonkeyPatch.context() as mp:
        careful_only(mp)
        assert outcome(text, target=target, delimiter=None) == expected


def test_the_fast_path_is_taken_for_plain_files(tmp_path, monkeypatch):
    calls = []
    real = loaders._quick_columns
    monkeypatch.setattr(loaders, "_quick_columns", lambda *a: calls.append(1) or real(*a))
    path = write(tmp_path, "a,b,label\n1,2,x\r\n3,4,y\n")
    assert load_csv(path)[0].tolist() == [[1, 2], [3, 4]] and calls == []
    load_csv(write(tmp_path, 'a,b,label\n1,2,"x"\n', name="q.csv"))
    assert calls == [1]


def test_a_large_quoted_file_reads_in_chunks_the_same(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_000, 3))
    labels = rng.choice(["a b", "c,d", "e"], size=10_000)
    body = "".join(",".join(repr(float(v)) for v in r) + f",\"{lab}\"\n"
                   for r, lab in zip(X, labels))
    X2, y, _, classes = load_csv(write(tmp_path, "p,q,r,s\n" + body), dtype=np.float64,
                                 return_names=True)
    np.testing.assert_array_equal(X2, X)
    assert [classes[k] for k in y] == labels.tolist()


# ------------------------------------------------------------------- csv_header
def test_csv_header_reads_as_load_csv_does(tmp_path):
    path = write(tmp_path, '\ufeff\n a ;"b;c"; label \n1;2;x\n')
    assert loaders.csv_header(path) == ["a", "b;c", "label"]
    assert loaders.csv_header(path, delimiter=",") == ['a ;"b;c"; label']
    with pytest.raises(ValueError, match="t2.csv: the file is empty"):
        loaders.csv_header(write(tmp_path, "\n ,\n", name="t2.csv"))
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="is a character device"):
            loaders.csv_header("/dev/zero")


def test_docstring_examples_run():
    import doctest

    from layerwise import safefile

    for module in (safefile, loaders):
        assert doctest.testmod(module).failed == 0
