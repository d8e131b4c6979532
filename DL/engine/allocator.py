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
when reserving; the rest is faulted in once, by the step that uses it.  On
leaving the outermost block of the thread the fence is freed and the heap is
trimmed (`malloc_trim`), so what was kept goes back to the system.

No malloc setting is changed (mallopt's thresholds and its M_TOP_PAD would
each switch glibc's dynamic thresholds off for the rest of the process): the
reserve is memory DL holds while it trains, as a caching allocator would.
Arrays above glibc's largest dynamic mmap threshold (32 MB) are mapped afresh
each time, as before.  Nothing happens with DL_MALLOC_TUNING=0 or on other C
libraries.
"""
import contextlib
import ctypes
import threading

from DL.engine import switched_off

RESERVE = 256 << 20    # heap kept beneath the fence while DL trains
BLOCK = 120 << 10      # under glibc's smallest mmap threshold (128 KiB): every block is heap

_local = threading.local()  # this thread's (depth, fence)
_libc = None                # the C library's (malloc, free, malloc_trim), or () where not glibc
_holding = 0                # fences held, over every thread
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


def _reserve():
    """The fence: the highest of RESERVE / BLOCK heap blocks, the others freed (None
    when memory ran out: then nothing is kept)."""
    malloc, free, _ = _functions()
    blocks = [malloc(BLOCK) for _ in range(RESERVE // BLOCK)]
    fence = max(blocks) if all(blocks) else None
    for block in blocks:
        if block and block != fence:
            free(block)
    return fence


def _release(fence):
    _, free, malloc_trim = _functions()
    free(fence)
    malloc_trim(0)


@contextlib.contextmanager
def kept_heap(enabled=True):
    """Within the block, the calling thread's freed heap stays with the process for reuse
    (see the module's docstring); blocks nest.  enabled=False, or where `available()` is
    False: a block that changes nothing."""
    global _holding
    if not (enabled and available()):
        yield
        return
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        _local.fence = _reserve()
        with _count:
            _holding += _local.fence is not None
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth -= 1
        if _local.depth == 0 and _local.fence is not None:
            _release(_local.fence)
            _local.fence = None
            with _count:
                _holding -= 1


def kept():
    """True while some thread holds a reserve (inside a `kept_heap()` block)."""
    return _holding > 0
