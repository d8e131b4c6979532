"""Keep freed memory for reuse: glibc malloc settings for training loops.

A training step allocates and frees the same large arrays every minibatch: an
LSTM on IMDB shapes makes a dozen of 3-13 MB each (the gates, their gradients,
the input projection).  glibc serves an allocation over its mmap threshold
with a fresh mmap, and gives the top of the heap back to the system once more
than its trim threshold is free.  Both thresholds adapt to the sizes it sees,
but a loop like this keeps tripping them: the memory goes back to the system
and comes back every step, and every page of it is faulted in and zeroed
again.  That was 25-30% of DL's LSTM step (benchmarks/RESULTS.md).

So, on Linux with glibc, `keep_freed_memory()` sets

    M_MMAP_THRESHOLD = 32 MB     arrays up to 32 MB come from the heap
    M_TRIM_THRESHOLD = 512 MB    up to 512 MB of freed heap is kept for reuse

for the process (as the GLIBC_TUNABLES glibc.malloc.mmap_threshold and
glibc.malloc.trim_threshold would).  The cost: up to 512 MB of freed memory
stays with the process instead of going back to the system.

It is a process-wide setting, so it is an explicit opt-in: importing DL never
calls it.  Call it at the top of a training script, or set DL_MALLOC_TUNING=1 in
the environment (then importing DL calls it; DL's benchmarks and `make` targets
do this).  It does nothing when the environment already sets glibc.malloc
tunables or MALLOC_*_ variables, with DL_MALLOC_TUNING=0, and on other C libraries.
"""
import ctypes
import os

from DL.engine import switched_off

MMAP_THRESHOLD = 32 << 20  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_THRESHOLD = 512 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)

tuned = False


def _user_set_malloc_options():
    return ("glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")
            or any(name.startswith("MALLOC_") and name.endswith("_") for name in os.environ))


def _setting():
    return os.environ.get("DL_MALLOC_TUNING", "").strip().lower()


def opted_in():
    """True when the environment asks for the tuning at import (DL_MALLOC_TUNING=1)."""
    return _setting() in ("1", "true", "yes", "on")


def opted_out():
    return switched_off("DL_MALLOC_TUNING")


def keep_freed_memory():
    """Set the two thresholds (once; see the module's docstring).  True when set."""
    global tuned
    if tuned:
        return True
    if opted_out():
        return False
    if _user_set_malloc_options():
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this process runs (find_library would spawn ldconfig)
        libc.gnu_get_libc_version  # glibc only: other C libraries' mallopt differ
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return tuned
