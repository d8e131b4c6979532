"""Writing a file durably: the one writer of every file DL keeps.

    with atomic_write(path) as stream:        # binary ("wb", the default): npz, downloads
        stream.write(data)
    with atomic_write(path, mode="w") as out: # text, UTF-8, newlines as written: CSV, JSON
        out.write(text)
    write_atomically(path, data)              # the same for bytes or a str in hand

The contents go to a temporary file beside `path`, named
`.NAME.HOST.PID.TOKEN.tmp`; when the block ends the temporary is flushed and
fsynced, closed, renamed over `path`, and then the folder is fsynced, so the
rename itself is on disk:

    write -> fsync(temporary) -> rename(temporary, path) -> fsync(folder)

A crash, a SIGKILL or a power cut at any moment leaves the complete old file
or the complete new one, never part of one.  On an exception inside the block
the temporary is deleted and `path` is untouched.  A process killed while
writing cannot delete its temporary, so the next write of the same path (and
`DL.io.load`) deletes the temporaries that writers on this host left when they
died: their PID no longer runs.  Temporaries of running writers, and of other
hosts sharing the folder, are left alone.  Two processes writing the same path
at once is not supported: the last rename wins.

Users: `DL.io.save` (and so checkpoints), downloads (`DL.datasets.files`), the
study store's `results.csv` (`DL.sweep.store`), the graph cache
(`DL.engine.graph_cache`).  This module imports only the standard library, so
the engine can use it without importing model code; `DL.io` re-exports it.
"""
import contextlib
import os
import re
import secrets
import socket

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]+)\.tmp$")
_IN_PROGRESS = set()  # temporaries this process is writing now
_MODES = {"wb": {}, "w": {"encoding": "utf-8", "newline": ""}}  # mode -> os.fdopen's options


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
def atomic_write(path, mode="wb"):
    """A stream whose contents replace `path` only if the block finishes.

    `mode` is "wb" (bytes) or "w" (text: UTF-8, newlines written as they are).

    >>> with atomic_write('model.npz') as stream:
    ...     stream.write(data)

    On an exception the temporary file is deleted and `path` is untouched."""
    if mode not in _MODES:
        raise ValueError("atomic_write writes a whole new file: mode must be 'wb' (bytes) or 'w' (text), "
                         "got %r" % (mode,))
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
        with os.fdopen(descriptor, mode, **_MODES[mode]) as stream:
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


def write_atomically(path, data):
    """Replace `path` by `data` (bytes, or a str written as UTF-8) through `atomic_write`."""
    if isinstance(data, str):
        mode = "w"
    elif isinstance(data, (bytes, bytearray, memoryview)):
        mode = "wb"
    else:
        raise TypeError("write_atomically writes bytes or a str to %s, got %s; for other contents "
                        "write to the stream of `with atomic_write(path) as stream:`"
                        % (os.fspath(path), type(data).__name__))
    with atomic_write(path, mode) as stream:
        stream.write(data)
    return path


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
