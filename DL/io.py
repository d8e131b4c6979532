"""Saving and loading parameters as `.npz`, safely.

`save(path, params, **meta)` writes every leaf of the nested `params` (shared
variables or arrays) under a key that spells its place in the nesting
(`p/0/1` is `params[0][1]`), and each meta value as JSON under `meta/NAME`.
No object arrays are written, and the file is written to a temporary file in
the same folder, flushed to disk and renamed over `path`: a crash leaves the
old file or the new one, never half of one.

`load(path)` returns `(params, meta)` with the same nesting, which a model
takes back as `params=`.  It refuses pickled content (`allow_pickle=False`)
and files that are truncated or lack keys, with errors that name the file.
"""
import json
import os
import tempfile
import zipfile

import numpy

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
    try:
        meta_json = {"meta/" + name: numpy.array(json.dumps(value)) for name, value in meta.items()}
    except TypeError as error:
        raise TypeError("save: meta values must be JSON-serializable (%s)" % error) from None
    arrays.update(meta_json)
    arrays["format"] = numpy.array(_FORMAT)
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                             suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            numpy.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)
    return path


def _fsync_folder(folder):
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LoadError(ValueError):
    """A model file that is not a complete DL.io file."""


def load(path):
    """`(params, meta)` from a file written by `save`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("no model file at %s" % path)
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
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise LoadError("%s is corrupt or truncated (%s: %s)"
                        % (path, type(error).__name__, error)) from None
    leaves = {key: value for key, value in contents.items() if key.startswith("p")}
    params = _nest(leaves)
    if _has_holes(params):
        raise LoadError("%s is missing parameters (a key of the nesting is absent)" % path)
    meta = {key[len("meta/"):]: json.loads(str(value)) for key, value in contents.items()
            if key.startswith("meta/")}
    return params, meta


def _has_holes(nested):
    if nested is None:
        return True
    if isinstance(nested, list):
        return any(_has_holes(item) for item in nested)
    return False
