"""Finding, fetching and safely reading data files.

Files are looked for in `$DL_DATA_DIR`, then `./datasets/`.  A missing file is
downloaded from its original address into the first of those folders, with a
progress bar, through DL's one file writer (`DL.durable.atomic_write`): it is
checked against its SHA-256 and only then fsynced and renamed into place, so a
truncated or corrupted download (or one killed half way) never takes the
file's name, and is deleted.  Offline, the error names the file, the folders
searched and the address.  A file already in place is not hashed again: it is
either a verified download or the user's own.

Pickles are read with `SafeUnpickler`, which admits plain containers,
numbers, strings and NumPy arrays, and nothing that could run code.
"""
import codecs
import gzip
import hashlib
import http.client
import io
import os
import pickle
import urllib.request
import zlib

import numpy

from DL.durable import atomic_write


def search_folders():
    """Where data files are looked for, in order."""
    folders = []
    if os.environ.get("DL_DATA_DIR"):
        folders.append(os.path.abspath(os.path.expanduser(os.environ["DL_DATA_DIR"])))
    folders.append(os.path.abspath("datasets"))
    return folders


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DataFileError(OSError):
    """A data file that is missing, or that failed its checksum."""


def _download(url, destination, sha256):
    """Fetch `url` to `destination`, atomically, if its SHA-256 is `sha256`."""
    from tqdm import tqdm

    folder, name = os.path.split(destination)
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha256()
    with atomic_write(destination) as out, urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc="downloading " + name) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                digest.update(block)
                bar.update(len(block))
        if sha256 and digest.hexdigest() != sha256:
            raise DataFileError(
                "the download of %s from %s is corrupt or truncated (SHA-256 %s, expected %s); it "
                "was deleted, not put in %s: try again, or fetch it by hand into that folder"
                % (name, url, digest.hexdigest(), sha256, folder))


def locate(name, url, sha256=None, alternatives=(), download=True):
    """The path of data file `name` (or one of `alternatives`), fetching it if missing."""
    folders = search_folders()
    for folder in folders:
        for candidate in (name,) + tuple(alternatives):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    destination = os.path.join(folders[0], name)
    if not download:
        raise DataFileError(_missing_message(name, folders, url, "downloads are turned off"))
    try:
        _download(url, destination, sha256)
    except DataFileError:
        raise
    except (OSError, http.client.HTTPException) as error:  # offline, refused, cut half way
        raise DataFileError(_missing_message(name, folders, url, error)) from None
    return destination


def _missing_message(name, folders, url, reason):
    return ("data file %s was not found in %s, and fetching it failed (%s). Download it from %s "
            "and put it in %s (or point DL_DATA_DIR at the folder that has it)."
            % (name, " or ".join(folders), reason, url, folders[0]))


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle that asks for something other than plain data."""


# What a pickle of plain data may call.  Each is NumPy's or Python's own
# constructor, checked so that it can build only data.

def _latin1_encode(text, encoding="latin1", errors="strict"):
    """`_codecs.encode`, as protocol-2 pickles of bytes use it, and no more."""
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise UnsafePickleError("refusing _codecs.encode(%r, %r) in a data file: only latin-1 "
                                "strings encode bytes" % (type(text).__name__, encoding))
    return text.encode("latin1", errors)


def _bytes(*args):
    """`bytes()` (protocol 2 pickles b'' so) or a copy of bytes."""
    if not args:
        return b""
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytes(args[0])
    raise UnsafePickleError("refusing bytes(%s) in a data file" % ", ".join(type(a).__name__ for a in args))


def _frombuffer(buffer, dtype, *shape_and_order):
    """NumPy's protocol-5 array reconstruction, for plain (non-object) dtypes."""
    if numpy.dtype(dtype).hasobject:
        raise UnsafePickleError("refusing an object array in a data file")
    return _numpy_numeric()._frombuffer(buffer, dtype, *shape_and_order)


def _reconstruct_array(cls, base, state):
    """`copyreg._reconstructor`, for NumPy array classes only."""
    import copyreg
    if not (isinstance(cls, type) and issubclass(cls, numpy.ndarray)):
        raise UnsafePickleError("refusing to reconstruct %r from a data file" % (cls,))
    return copyreg._reconstructor(cls, base, state)


def _numpy_numeric():
    import importlib
    return importlib.import_module("numpy._core.numeric" if _has_module("numpy._core") else "numpy.core.numeric")


_CHECKED = {
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "bytes"): _bytes, ("builtins", "bytes"): _bytes,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer, ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("copy_reg", "_reconstructor"): _reconstruct_array, ("copyreg", "_reconstructor"): _reconstruct_array,
}

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("__builtin__", "object"), ("builtins", "object"),
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain containers, numbers, strings and NumPy arrays only."""

    def find_class(self, module, name):
        if (module, name) in _CHECKED:
            return _CHECKED[module, name]
        if (module, name) in _ALLOWED_GLOBALS:
            import importlib
            if module == "numpy.core.multiarray" and _has_module("numpy._core"):
                module = "numpy._core.multiarray"
            return getattr(importlib.import_module(module), name)
        raise UnsafePickleError("refusing to unpickle %s.%s: data files may hold only plain "
                                "containers, numbers and arrays" % (module, name))


def _has_module(name):
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _open(path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def load_pickles(path, count=1):
    """The first `count` pickles in `path` (gzip or plain), read safely."""
    try:
        with _open(path) as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataFileError("%s is corrupt or truncated (%s); delete it and fetch it again"
                            % (path, error)) from None
    buffer = io.BytesIO(data)
    objects = []
    for _ in range(count):
        try:
            objects.append(SafeUnpickler(buffer, encoding="latin1").load())
        except UnsafePickleError as error:
            raise UnsafePickleError("%s: %s" % (path, error)) from None
        except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as error:
            raise DataFileError("%s is corrupt or truncated (%s: %s)"
                                % (path, type(error).__name__, error)) from None
    return objects
