"""Saying what a long first call is doing: compiling for this machine.

On the Numba engine (DL's default) a compiled function's first call is where
its machine code is made: tens of seconds for a recurrent model with cold
caches, then milliseconds.  `first_call(what, write)` wraps that call; if it
is still running after `after` seconds it writes

    DL: compiling the training step for this machine (the first run only: later runs load it from the cache)

then a line every `every` seconds with the time so far, and when the call
returns

    DL: compiled the training step in 41.3 s

A call that returns within `after` seconds (a warm cache) writes nothing.  The
lines go through `write` (optimize's progress bar's, which keeps the bar intact).
"""
import contextlib
import threading
import time


@contextlib.contextmanager
def first_call(what, write, after=1.0, every=10.0):
    """A block (the first call of a compiled function) that says so when it takes longer than `after`
    seconds; `write(line)` writes a line, or None to say nothing."""
    if write is None:
        yield
        return
    finished, announced, start = threading.Event(), [], time.perf_counter()

    def watch():
        if finished.wait(after):
            return
        announced.append(True)
        write("DL: compiling %s for this machine (the first run only: later runs load it from the cache)"
              % what)
        while not finished.wait(every):
            write("DL: compiling %s: %.0f s so far" % (what, time.perf_counter() - start))

    watcher = threading.Thread(target=watch, name="DL first-call notice", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
        if announced:
            write("DL: compiled %s in %.1f s" % (what, time.perf_counter() - start))


class FirstCalls(object):
    """The first call of each named function goes through `first_call`; later ones do not."""

    def __init__(self, write=None, after=1.0, every=10.0):
        self.write, self.after, self.every = write, after, every
        self.seen = set()

    def __call__(self, what):
        if what in self.seen:
            return contextlib.nullcontext()
        self.seen.add(what)
        return first_call(what, self.write, self.after, self.every)
