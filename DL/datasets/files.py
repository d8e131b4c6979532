"""Finding, fetching and safely reading data files.

Files are looked for in `$DL_DATA_DIR`, then `./datasets/`.  A missing file is
downloaded from its original address into the first of those folders, with a
progress bar, checked against its SHA-256 and only then renamed into place; a
truncated or corrupted download is deleted.  Offline, the error names the
file, the folders searched and the address.

Pickles are read with `SafeUnpickler`, which admits plain containers,
numbers, strings and NumPy arrays, and nothing that could run code.
"""
import gzip
import hashlib
import io
import os
import pickle
import tempfile
import urllib.request


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
    from tqdm import tqdm

    folder = os.path.dirname(destination)
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(destination) + ".",
                                             suffix=".part", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True,
                      desc="downloading " + os.path.basename(destination)) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        found = sha256_of(temporary)
        if sha256 and found != sha256:
            raise DataFileError("the download of %s from %s is corrupt or truncated (SHA-256 %s, "
                                "expected %s); it was deleted, try again"
                                % (os.path.basename(destination), url, found, sha256))
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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
    except OSError as error:
        raise DataFileError(_missing_message(name, folders, url, error)) from None
    return destination


def _missing_message(name, folders, url, reason):
    return ("data file %s was not found in %s, and fetching it failed (%s). Download it from %s "
            "and put it in %s (or point DL_DATA_DIR at the folder that has it)."
            % (name, " or ".join(folders), reason, url, folders[0]))


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle that asks for something other than plain data."""


_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),
    ("__builtin__", "object"), ("builtins", "object"),
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain containers, numbers, strings and NumPy arrays only."""

    def find_class(self, module, name):
        if (module, name) == ("copy_reg", "_reconstructor") or (module, name) == ("copyreg", "_reconstructor"):
            import copyreg
            return _checked_reconstructor(copyreg._reconstructor)
        if (module, name) in _ALLOWED_GLOBALS:
            import importlib
            if module == "numpy.core.multiarray":
                module = "numpy._core.multiarray" if _has_module("numpy._core.multiarray") else module
            return getattr(importlib.import_module(module), name)
        raise UnsafePickleError("refusing to unpickle %s.%s: data files may hold only plain "
                                "containers, numbers and arrays" % (module, name))


def _checked_reconstructor(reconstructor):
    import numpy

    def reconstruct(cls, base, state):
        if not (isinstance(cls, type) and issubclass(cls, numpy.ndarray)):
            raise UnsafePickleError("refusing to reconstruct %r from a data file" % (cls,))
        return reconstructor(cls, base, state)
    return reconstruct


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
    except (OSError, EOFError) as error:
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
