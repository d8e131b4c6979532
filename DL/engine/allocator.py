"""Keep the training loop's freed memory for reuse while DL trains: `with kept_heap(): ...`.

A training step allocates and frees the same large arrays every minibatch: an
LSTM on IMDB shapes makes a dozen of 3-13 MB each (the gates, their gradients,
the input projection).  glibc's malloc serves them from its heap, and when the
free space at the top of the heap grows past its trim threshold (twice the
largest freed block, dynamically), free() gives it back to the operating system.
In a step that frees its arrays in the middle and at the end, that happens
several times a step: the memory comes back at the next allocation, and every
page of it is faulted in and zeroed again by the kernel.  Measured on the
lstm-imdb shapes (batch 64, 100 steps, 128 units; `benchmarks/RESULTS.md`):
14,400 minor page faults a step, 25 % of the step's time in the kernel.

glibc only ever gives back the top of its heap.  So, inside `kept_heap()`, DL
reserves RESERVE bytes of heap beneath a small block of its own (the fence):
it allocates the reserve in blocks smaller than any mmap threshold, keeps the
highest one and frees the others.  The freed reserve is one free chunk below
the fence, which the step's arrays reuse and which free() never trims: 148
faults a step, under 1 % system time.  Only a block's header page is touched
when reserving; the rest is faulted in once, by the step that uses it.  Objects
that outlive a step and are made inside the block (a first call that compiles
leaves Numba's and LLVM's) can take parts of the reserve, until the step's
arrays no longer fit in it: DL's training loop calls each step through the
reserve (`Reserve.run`), which watches the step's page faults and, when two
steps in a row take more than 1024 page faults each (a step that fits takes
a few dozen to a few hundred), makes a new reserve above the fence
(at most 8 in all), after giving the free pages of the heap back to the
system (`malloc_trim`), so that what the outgrown reserves held does not stay
resident.  On leaving the outermost block of the thread the fences
are freed and the heap is trimmed (`malloc_trim`), so what was kept goes back
to the system.

No malloc setting is changed (mallopt's thresholds and its M_TOP_PAD would
each switch glibc's dynamic thresholds off for the rest of the process): the
reserve is memory DL holds while it trains, as a caching allocator would.
Arrays above glibc's largest dynamic mmap threshold (32 MB) are mapped afresh
each time, as before.  Nothing happens with DL_MALLOC_TUNING=0 or on other C
libraries.
"""
import contextlib
import ctypes
import resource
import threading

from DL.engine import switched_off

RESERVE = 256 << 20    # heap kept beneath a fence while DL trains
BLOCK = 120 << 10      # under glibc's smallest mmap threshold (128 KiB): every block is heap
SPILL = 1024           # page faults of a step that say its arrays no longer fit the reserve
MOST_RESERVES = 8      # a thread's reserve grows to at most this many RESERVEs (virtual memory)

_local = threading.local()  # this thread's (depth, reserve)
_libc = None                # the C library's (malloc, free, malloc_trim), or () where not glibc
_holding = 0                # reserves held, over every thread
_count = threading.Lock()


def _functions():
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL(None)  # the C library this process runs (find_library would spawn ldconfig)
            libc.gnu_get_libc_version  # glibc only: its heap is what this module knows
            malloc, free, malloc_trim = libc.malloc, libc.free, libc.malloc_trim
        except (OSError, AttributeError):
            _libc = ()
        else:
            malloc.argtypes, malloc.restype = (ctypes.c_size_t,), ctypes.c_void_p
            free.argtypes, free.restype = (ctypes.c_void_p,), None
            malloc_trim.argtypes, malloc_trim.restype = (ctypes.c_size_t,), ctypes.c_int
            _libc = (malloc, free, malloc_trim)
    return _libc


def available():
    """True when `kept_heap()` keeps memory here (glibc, and not DL_MALLOC_TUNING=0)."""
    return bool(_functions()) and not switched_off("DL_MALLOC_TUNING")


_THREAD = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)


def _minor_faults():
    return resource.getrusage(_THREAD).ru_minflt


def _fence_above(floor):
    """A fence with RESERVE bytes of free heap beneath it, above the address `floor`:
    BLOCK-sized blocks fill the heap's holes (those below `floor` do not count) until
    RESERVE / BLOCK of them lie above it; the highest is kept, the others freed.  None
    when memory ran out (then nothing is kept)."""
    malloc, free, _ = _functions()
    blocks, above = [], 0
    while above < RESERVE // BLOCK and len(blocks) < 4 * RESERVE // BLOCK:
        block = malloc(BLOCK)
        if not block:
            break
        blocks.append(block)
        above += block > floor
    fence = max(blocks) if above == RESERVE // BLOCK else None
    for block in blocks:
        if block != fence:
            free(block)
    return fence


class Reserve(object):
    """A thread's reserve while it trains: its fences, highest last.  `run(step, *arguments)`
    calls one training step and watches its page faults: when two steps in a row fault
    more than SPILL page faults each, the step's arrays no longer fit beneath the fences (long-lived
    objects made in the block, e.g. by a first call that compiled, took part of the
    reserve), and a new reserve is made above the highest fence."""

    def __init__(self):
        self.fences, self.spilled = [], 0
        self.grow()

    def grow(self):
        if len(self.fences) < MOST_RESERVES:
            if self.fences:  # the free pages of the outgrown reserves go back (touched again if reused)
                _functions()[2](0)
            fence = _fence_above(self.fences[-1] if self.fences else 0)
            if fence:
                self.fences.append(fence)

    def run(self, step, *arguments):
        before = _minor_faults()
        result = step(*arguments)
        self.spilled = self.spilled + 1 if _minor_faults() - before > SPILL else 0
        if self.spilled == 2:
            self.grow()
            self.spilled = 0
        return result

    def release(self):
        _, free, malloc_trim = _functions()
        for fence in self.fences:
            free(fence)
        malloc_trim(0)  # what was kept goes back now, not at some later free


class _NoReserve(object):
    """What `kept_heap()` yields where it keeps nothing."""
    fences = ()

    def run(self, step, *arguments):
        return step(*arguments)


@contextlib.contextmanager
def kept_heap(enabled=True):
    """Within the block, the calling thread's freed heap stays with the process for reuse
    (see the module's docstring); blocks nest.  Yields the thread's Reserve: call each
    training step through its `run`, so that the reserve grows when the steps outgrow it.
    enabled=False, or where `available()` is False: a block that changes nothing."""
    global _holding
    if not (enabled and available()):
        yield _NoReserve()
        return
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        _local.reserve = Reserve()
        with _count:
            _holding += 1
    _local.depth = depth + 1
    try:
        yield _local.reserve
    finally:
        _local.depth -= 1
        if _local.depth == 0:
            _local.reserve.release()
            _local.reserve = None
            with _count:
                _holding -= 1


def kept():
    """True while some thread holds a reserve (inside a `kept_heap()` block)."""
    return _holding > 0
