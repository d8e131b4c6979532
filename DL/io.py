"""Saving and loading parameters as `.npz`, safely.

`save(path, params, **meta)` writes every leaf of the nested `params` (shared
variables or arrays) under a key that spells its place in the nesting
(`p/0/1` is `params[0][1]`), each meta value as JSON under `meta/NAME`, and a
manifest of the parameter keys.  No object arrays are written.

Writes are atomic and durable: `save` writes through DL's one file writer,
`atomic_write` (a temporary file beside the target, fsynced, renamed over
`path`, then the folder fsynced), which lives in the small module
`DL.durable` so that the engine can use it without importing this one; it is
re-exported here with `write_atomically` and `remove_stale_temporaries`.  A
crash or a SIGKILL at any moment leaves the complete old file or the complete
new one, and the next `save` or `load` of the path deletes the temporaries
that dead writers left (see DL.durable).

`load(path)` returns `(params, meta)` with the same nesting, which a model
takes back as `params=`.  It refuses pickled content (`allow_pickle=False`),
files that are truncated or corrupted (the zip checksums), and files whose
manifest lists a key they lack, with errors (`LoadError`) that name the file.
"""
import json
import os
import zipfile
import zlib

import numpy

# the writer, re-exported: DL.io is where users find it (and _host names temporaries in tests)
from DL.durable import _host, atomic_write, remove_stale_temporaries, write_atomically  # noqa: F401

_FORMAT = "DL.io/1"


def _leaves(params, prefix="p"):
    if isinstance(params, (list, tuple)):
        if not params:
            yield prefix + "/[]", numpy.zeros(0)
        for i, item in enumerate(params):
            yield from _leaves(item, "%s/%d" % (prefix, i))
    else:
        value = params.get_value() if hasattr(params, "get_value") else params
        array = numpy.asarray(value)
        if array.dtype == object:
            raise TypeError("cannot save %s: it is an object array; params hold numeric arrays "
                            "or shared variables" % prefix)
        yield prefix, array


def _nest(leaves):
    """Rebuild nested lists from {'p/0/1': array, ...}."""
    root = []
    for key in sorted(leaves, key=lambda k: [int(part) if part.isdigit() else -1
                                              for part in k.split("/")[1:]]):
        parts = key.split("/")[1:]
        node = root
        for depth, part in enumerate(parts):
            if part == "[]":
                break
            index = int(part)
            last = depth == len(parts) - 1
            while len(node) <= index:
                node.append(None)
            if last:
                node[index] = leaves[key]
            else:
                if node[index] is None:
                    node[index] = []
                node = node[index]
    return root


def save(path, params, **meta):
    """Write `params` (nested) and JSON-able `meta` to `path` (.npz), atomically."""
    path = os.fspath(path)
    arrays = dict(_leaves(params))
    manifest = sorted(arrays)
    try:
        meta_json = {"meta/" + name: numpy.array(json.dumps(value)) for name, value in meta.items()}
    except TypeError as error:
        raise TypeError("save: meta values must be JSON-serializable (%s)" % error) from None
    arrays.update(meta_json)
    arrays["manifest"] = numpy.array(json.dumps(manifest))
    arrays["format"] = numpy.array(_FORMAT)
    with atomic_write(path) as stream:
        numpy.savez(stream, **arrays)
    return path


class LoadError(ValueError):
    """A model file that is not a complete DL.io file."""


_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"


def _check_magic(path):
    """Refuse, before NumPy parses anything, a file that is not a zip archive."""
    with open(path, "rb") as stream:
        head = stream.read(4)
    if head == _ZIP_MAGIC:
        return
    if head.startswith(_PICKLE_MAGIC):
        raise LoadError("%s is a pickle, which DL refuses to load: it could run code. "
                        "Save parameters with DL.io.save." % path)
    if not head:
        raise LoadError("%s is empty (truncated)" % path)
    raise LoadError("%s is not a DL.io model file (.npz archive); it starts with %r" % (path, head))


def _read_archive(path):
    """Every array of the .npz at `path`, refusing pickles and damage."""
    _check_magic(path)
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if "format" not in keys:
                raise LoadError("%s is not a DL.io model file (no 'format' key); "
                                "it has keys %s" % (path, keys[:8]))
            contents = {key: archive[key] for key in keys}
    except LoadError:
        raise
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise LoadError("%s holds pickled (object) data, which DL refuses to load: "
                            "it could run code. Save parameters with DL.io.save." % path) from None
        raise LoadError("%s is corrupt or truncated (%s)" % (path, error)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, RuntimeError,
            NotImplementedError) as error:
        raise LoadError("%s is corrupt or truncated (%s: %s)"
                        % (path, type(error).__name__, error)) from None
    for key, value in contents.items():
        if not isinstance(value, numpy.ndarray):  # NumPy hands back raw bytes for a non-.npy member
            raise LoadError("%s is not a DL.io model file: its member %s is not an array" % (path, key))
    return contents


def _json_value(path, key, value):
    try:
        return json.loads(str(value))
    except ValueError:
        raise LoadError("%s is corrupt: its entry %s is not JSON" % (path, key)) from None


def load(path):
    """`(params, meta)` from a file written by `save`."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise LoadError("%s is a folder, not a model file" % path)
    if not os.path.exists(path):
        raise FileNotFoundError("no model file at %s" % path)
    remove_stale_temporaries(path)
    contents = _read_archive(path)
    leaves = {key: value for key, value in contents.items() if key.startswith("p/")}
    if "manifest" in contents:
        missing = sorted(set(_json_value(path, "manifest", contents["manifest"])) - set(contents))
        if missing:
            raise LoadError("%s is missing parameters %s (keys its manifest lists)"
                            % (path, ", ".join(missing[:8])))
    params = contents["p"] if "p" in contents else _nest(leaves)  # "p": a lone array
    if _has_holes(params):
        raise LoadError("%s is missing parameters (a key of the nesting is absent)" % path)
    meta = {key[len("meta/"):]: _json_value(path, key, value) for key, value in contents.items()
            if key.startswith("meta/")}
    return params, meta


def _has_holes(nested):
    if nested is None:
        return True
    if isinstance(nested, list):
        return any(_has_holes(item) for item in nested)
    return False
