"""Saving and loading parameters as `.npz`, safely.

`save(path, params, **meta)` writes every leaf of the nested `params` (shared
variables or arrays) under a key that spells its place in the nesting
(`p/0/1` is `params[0][1]`), each meta value as JSON under `meta/NAME`, and a
manifest of the parameter keys.  No object arrays are written.

Writes are atomic (`atomic_write`, also used for downloads and checkpoints):
the bytes go to a temporary file beside the target, named
`.NAME.HOST.PID.TOKEN.tmp`, which is flushed to disk and renamed over `path`;
then the folder is flushed too.  A crash or a SIGKILL at any moment leaves the
complete old file or the complete new one, never part of one.  A process
killed while writing cannot delete its temporary file, so the next `save` or
`load` of the same path deletes the temporaries that writers on this host left
when they died (their PID no longer runs; temporaries of running writers, and
of other hosts sharing the folder, are left alone).  Two processes writing the
same path at once is not supported: the last rename wins.

`load(path)` returns `(params, meta)` with the same nesting, which a model
takes back as `params=`.  It refuses pickled content (`allow_pickle=False`),
files that are truncated or corrupted (the zip checksums), and files whose
manifest lists a key they lack, with errors (`LoadError`) that name the file.
"""
import contextlib
import json
import os
import re
import secrets
import socket
import zipfile
import zlib

import numpy

_FORMAT = "DL.io/1"
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]+)\.tmp$")
_IN_PROGRESS = set()  # temporaries this process is writing now


def _host():
    """This machine's name, as it may appear inside a file name."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname() or "localhost")


def _temporary_path(path):
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, ".%s.%s.%d.%s.tmp" % (name, _host(), os.getpid(), secrets.token_hex(4)))


def _writer_is_running(pid, temporary):
    if pid == os.getpid():
        return temporary in _IN_PROGRESS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it runs, under another user
    return True


def remove_stale_temporaries(path):
    """Delete the temporaries of `path` left by writers on this host that died; return them."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = _TEMPORARY.match(entry)
        if not match or match.group("name") != name or match.group("host") != _host():
            continue
        temporary = os.path.join(folder, entry)
        if _writer_is_running(int(match.group("pid")), temporary):
            continue
        try:
            os.unlink(temporary)
            removed.append(temporary)
        except FileNotFoundError:
            pass
    return removed


@contextlib.contextmanager
def atomic_write(path):
    """A binary stream whose bytes replace `path` only if the block finishes.

    >>> with atomic_write('model.npz') as stream:
    ...     stream.write(data)

    On an exception the temporary file is deleted and `path` is untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError("cannot write %s: the folder %s does not exist; create it first"
                                % (path, folder))
    remove_stale_temporaries(path)
    temporary = _temporary_path(path)
    # os.open applies the umask, so the file gets the usual permissions
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    _IN_PROGRESS.add(temporary)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    finally:
        _IN_PROGRESS.discard(temporary)
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Flush the rename to disk (where the system allows opening folders)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


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
