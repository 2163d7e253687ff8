"""Reading files that may be hostile: regular files only, bounded reads, bounded JSON.

Every file layerwise reads (model files, CSV tables) goes through :func:`open_regular`, which
refuses folders, devices (``/dev/zero``), FIFOs and sockets before reading a byte: such a
"file" may never end or never answer. Model files are then read in two steps
(:func:`read_model_file`): the 8-byte header length and the JSON header first, with the
header's size capped and every tensor's byte range checked against the file's size, and only
then the tensor data, so a bad multi-gigabyte file is refused after reading its first bytes.

JSON from a file (the safetensors header, the architecture, the user metadata) is parsed by
:func:`parse_json`: nesting deeper than :data:`MAX_JSON_DEPTH` is refused before the parser
sees it (Python's parser would otherwise raise ``RecursionError`` or exhaust the stack), and
the non-standard constants ``NaN`` / ``Infinity`` and numbers that overflow to infinity are
refused.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import time

import numpy as np

__all__ = ["MAX_HEADER_BYTES", "MAX_JSON_DEPTH", "STALE_TEMP_SECONDS", "open_regular",
           "parse_json", "read_model_file", "remove_stale_temp_files", "safetensors_header",
           "temp_prefix"]

MAX_JSON_DEPTH = 100
"""Deepest nesting of JSON arrays and objects accepted from a file (a ``Sequential`` costs
two levels: its object and its list of layers)."""

MAX_HEADER_BYTES = 16 * 2**20
"""Largest safetensors JSON header accepted (16 MiB; a layerwise model's header is a few KiB,
its user metadata included, unless that metadata is huge)."""

STALE_TEMP_SECONDS = 600
"""A temporary file of a save that has not been written to for this long (10 minutes) is
stale, whoever wrote it."""

_FOREIGN = [  # (magic bytes, what the file is)
    (b"\x80\x02", "a Python pickle"), (b"\x80\x03", "a Python pickle"),
    (b"\x80\x04", "a Python pickle"), (b"\x80\x05", "a Python pickle"),
    (b"PK\x03\x04", "a zip archive (a torch.save or np.savez file?)"),
    (b"\x93NUMPY", "a NumPy .npy file"), (b"\x89HDF", "an HDF5 file (a Keras .h5 model?)"),
]

# Bytes per element of the safetensors dtypes (the format's own names).
_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
             "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


# ------------------------------------------------------------------------------ files
def _kind(mode) -> str:
    for test, what in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def open_regular(path):
    """Open ``path`` for binary reading if it is a regular file; return ``(file, size)``.

    Raises:
        FileNotFoundError / PermissionError: as ``open`` does.
        IsADirectoryError: ``path`` is a folder.
        ValueError: ``path`` is a device, FIFO or socket (named in the message).

    The file is opened non-blocking, so a FIFO with no writer is refused, not waited on.

    >>> from layerwise.safefile import open_regular
    >>> open_regular("/dev/zero")
    Traceback (most recent call last):
    ...
    ValueError: /dev/zero is a character device, not a regular file; layerwise reads only regular files
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(name, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, f"{name} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is {_kind(info.st_mode)}, not a regular file; layerwise "
                             "reads only regular files")
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def _read_exactly(f, n: int, name) -> bytes:
    data = f.read(n)
    if len(data) != n:  # the file shrank while we read it
        raise ValueError(f"{name}: truncated: expected {n} more bytes, read {len(data)}")
    return data


# ------------------------------------------------------------------------------- JSON
# A JSON string: no bracket inside one counts towards the nesting depth.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_depth(text) -> int:
    """How deeply arrays and objects nest in JSON ``text`` (str or bytes), without parsing it.

    >>> json_depth('{"a": [1, [2]], "b": "[[[["}')
    3
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    codes = np.frombuffer(_JSON_STRING.sub(b"", data), dtype=np.uint8)
    step = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
            - np.isin(codes, (ord("]"), ord("}"))))
    return int(np.cumsum(step).max(initial=0))


def _refuse_constant(name):
    raise ValueError(f"the non-standard JSON constant {name} is not allowed")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} overflows a float")
    return value


def parse_json(text, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads`` for untrusted text: bounded nesting, standard JSON only.

    Raises:
        ValueError (``json.JSONDecodeError`` for malformed text): nesting deeper than
            ``max_depth``, ``NaN``/``Infinity``, a number that overflows to infinity, or an
            integer with more digits than Python converts.

    >>> parse_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json('[' * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: JSON nested 100000 levels deep; at most 100 are allowed
    """
    depth = json_depth(text)
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth} levels deep; at most {max_depth} are allowed")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise ValueError("JSON nested too deeply") from None


# ------------------------------------------------------------------------ safetensors
def safetensors_header(prefix: bytes, size: int, name) -> tuple:
    """Check the start of a safetensors file; return ``(header dict, header length)``.

    ``prefix`` holds at least the first ``8 + header length`` bytes of a file of ``size``
    bytes (or all of it, if shorter). Checks: the file is not a pickle, zip, .npy or HDF5
    file; the header length is at most :data:`MAX_HEADER_BYTES` and fits in the file; the
    header is a JSON object of bounded nesting; ``__metadata__`` maps strings to strings;
    each tensor has a dtype, a shape of non-negative ints and data offsets inside the file
    that hold exactly its bytes. Raises ``ValueError`` starting with ``name``.
    """
    def bad(what):
        return ValueError(f"{name}: {what}")

    # A safetensors header (JSON) starts at byte 8; only a file without one is sniffed for a
    # foreign format (its 8-byte length may itself begin with b"\x80\x02", as a pickle does).
    for magic, what in _FOREIGN if prefix[8:9] != b"{" else ():
        if prefix.startswith(magic):
            raise bad(f"this is {what}, not a safetensors model; layerwise never loads pickles "
                      "or other formats that can run code (save models with lw.save)")
    if size < 8:
        raise bad(f"not a safetensors file: only {size} bytes")
    length = int.from_bytes(prefix[:8], "little")
    if length > size - 8:
        start = prefix[:8].decode("ascii", "replace")
        text = (f" (it starts with the text {start!r}: a CSV or other text file?)"
                if start.isprintable() else "")
        raise bad(f"truncated or not a safetensors file: the header should be {length} bytes "
                  f"but only {size - 8} follow{text}")
    if length > MAX_HEADER_BYTES:
        raise bad(f"not a safetensors file: its first 8 bytes give a header length of {length} "
                  f"bytes, over the {MAX_HEADER_BYTES}-byte limit")
    try:
        header = parse_json(prefix[8:8 + length])
    except (UnicodeDecodeError, ValueError) as err:
        raise bad(f"not a safetensors file: the header is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise bad("not a safetensors file: the header is not a JSON object")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("not a safetensors file: __metadata__ is not an object of strings")
    data_size = size - 8 - length
    for key, entry in header.items():
        if key != "__metadata__":
            _check_entry(key, entry, data_size, bad)
    return header, length


def _check_entry(key, entry, data_size, bad):
    """One tensor's header entry: well-formed, and its bytes inside the file."""
    if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str):
        raise bad(f"corrupt tensor data (the header entry of {key!r} has no dtype)")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise bad(f"corrupt tensor data ({key!r} has the shape {shape!r})")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(n) is int for n in offsets) or not 0 <= offsets[0] <= offsets[1]):
        raise bad(f"corrupt tensor data ({key!r} has the data offsets {offsets!r})")
    if offsets[1] > data_size:
        raise bad(f"truncated: the tensor {key!r} ends at byte {offsets[1]} of the data, but "
                  f"the file holds only {data_size} bytes of data")
    itemsize = _ITEMSIZE.get(entry["dtype"])
    if itemsize is not None and math.prod(shape) * itemsize != offsets[1] - offsets[0]:
        raise bad(f"corrupt tensor data ({key!r} of shape {shape} and dtype {entry['dtype']} "
                  f"needs {math.prod(shape) * itemsize} bytes, its offsets give "
                  f"{offsets[1] - offsets[0]})")


def read_model_file(path) -> bytes:
    """The bytes of the safetensors file ``path``, read only once its header checks out.

    Reads the 8-byte header length and the header, checks them with
    :func:`safetensors_header` (which bounds both), and only then reads the tensor data.
    Raises ``OSError`` (missing, unreadable, a folder) or ``ValueError`` (a device or FIFO,
    or a header that is not a safetensors header), each naming the file.
    """
    name = os.fspath(path)
    f, size = open_regular(name)
    with f:
        prefix = f.read(8)
        length = int.from_bytes(prefix[:8], "little") if len(prefix) == 8 else 0
        if len(prefix) == 8 and length <= min(MAX_HEADER_BYTES, size - 8):
            prefix += _read_exactly(f, length, name)
        safetensors_header(prefix, size, name)
        return prefix + _read_exactly(f, size - len(prefix), name)


# ------------------------------------------------------------------------ temporary files
def temp_prefix(path) -> str:
    """The start of the name of a temporary file that a save to ``path`` writes:
    ``.NAME.PID-`` (hidden, beside ``path``; PID names the writing process)."""
    return f".{os.path.basename(path)}.{os.getpid()}-"


def _writer_is_gone(pid: int) -> bool:
    """True only when no process ``pid`` runs on this machine (the check cannot tell for a
    process of another machine writing to a shared folder: that case is left to the age)."""
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: no signal is sent, only the process's existence checked
    except ProcessLookupError:
        return True
    except OSError:  # it exists but is another user's
        return False
    return False


def remove_stale_temp_files(path) -> list:
    """Remove the temporary files that earlier, killed saves to ``path`` left behind.

    Only files named as :func:`temp_prefix` names them (``.NAME.PID-XXXXXXXX.tmp``, and
    ``.NAME.XXXXXXXX.tmp`` from layerwise 0.1, which did not record the PID) are candidates,
    and only when their writer is certainly finished: the process PID is not running on this
    machine, or the file has not been written to for :data:`STALE_TEMP_SECONDS`. A save in
    progress, in this process or another, is never touched. Errors are ignored (a file
    another save removed first, a folder we may not write). Returns the paths removed.
    """
    folder, base = os.path.split(os.fspath(path))
    pattern = re.compile(rf"\.{re.escape(base)}\.(?:(\d+)-)?[a-z0-9_]{{8}}\.tmp")
    removed: list[str] = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    now = time.time()
    for entry in names:
        match = pattern.fullmatch(entry)
        if match is None:
            continue
        candidate = os.path.join(folder, entry)
        try:
            info = os.lstat(candidate)
            old = now - info.st_mtime > STALE_TEMP_SECONDS
            if stat.S_ISREG(info.st_mode) and (
                    old or (match[1] is not None and _writer_is_gone(int(match[1])))):
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            continue
    return removed
