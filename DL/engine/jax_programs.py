"""JAX programs kept on disk, so that a process running a known graph skips JAX's tracing.

On a warm start JAX's persistent compilation cache (DL.engine.jax_linker) spares
XLA's compile, but not what comes before it: JAX traces the Python function
PyTensor wrote for the graph and lowers it to StableHLO in every process, since
the cache's key is computed from the lowered program.  For an LSTM that was about
0.5 s of a 2 s start.  This module keeps each program DL's JAX mode compiles as
JAX exports it (`jax.export`: the StableHLO with its input and output types,
serialized), and a later process loads it and calls it instead of tracing:

    first call of a compiled function --key--> hit:  the stored program, loaded
                                               miss: traced and exported, then stored
    either way the function runs the exported program (`Exported.call` under
    `jax.jit`, whose compile JAX's persistent cache answers), so a hit and a miss
    run the very same program.

The key: the graph's key in DL's graph cache (DL.engine.graph_cache: the graph as
built, the function's settings, the mode, PyTensor's configuration, the versions
and DL's engine code; it decides the rewritten graph, and so the Python function
PyTensor writes for it), the arguments' structure, shapes and types, the 64-bit
setting, JAX's and jaxlib's versions and the platform.  A function whose graph has
no such key (the graph cache off or the graph uncacheable), holds an Op whose JAX
code is neither PyTensor's nor DL's (`known_code`: a user's Op could change its
code without changing the key), has arguments JAX takes as static values, or that
JAX cannot export is traced as before.  Entries are
written whole or not at all (`DL.durable`); one that cannot be read or does not fit
its arguments is traced and written again.

Stored in `programs` inside DL's JAX folder (`DL.engine.jax_linker.cache_dir`,
also when JAX's compiled programs go to a cache folder of your own);
`DL_JAX_CACHE=0` turns this off with DL's setting of JAX's cache.  Serializing
needs the `flatbuffers` package (DL's `jax` extra installs it); without it
functions are traced as before.
"""
import hashlib
import importlib.util
import os

import numpy

from DL.durable import write_atomically
from DL.engine import switched_off

FORMAT_VERSION = 1


def folder():
    """`programs` in DL's JAX folder; None with DL_JAX_CACHE=0 or without flatbuffers."""
    from DL.engine.jax_linker import cache_dir
    if switched_off("DL_JAX_CACHE") or importlib.util.find_spec("flatbuffers") is None:
        return None
    path = os.path.join(cache_dir(), "programs")
    os.makedirs(path, exist_ok=True)
    return path


def key_of(graph_key, args, wide):
    """The entry's name: the graph's key and everything of the call that shapes the program."""
    import jax
    import jaxlib
    leaves, structure = jax.tree_util.tree_flatten(args)
    arguments = [(numpy.shape(leaf), str(getattr(leaf, "dtype", type(leaf).__name__))) for leaf in leaves]
    description = (FORMAT_VERSION, graph_key, str(structure), arguments, bool(wide),
                   jax.__version__, jaxlib.__version__, jax.default_backend())
    return hashlib.sha256(repr(description).encode()).hexdigest()


def known_code(fgraph):
    """True when the JAX code of every Op of `fgraph` (inner graphs included) is PyTensor's
    or DL's, whose versions and engine code are in the key.  An Op with JAX code of its
    own (a user's) could change that code without changing the key: its graph is traced
    every time."""
    from pytensor.link.jax.dispatch import jax_funcify
    return all(jax_funcify.dispatch(type(op)).__module__.split(".")[0] in ("pytensor", "DL")
               for op in _ops(fgraph))


def _ops(fgraph):
    """Every Op of `fgraph`, of its nodes' scalar Ops and of their inner graphs."""
    from pytensor.graph.fg import FunctionGraph
    for node in fgraph.apply_nodes:
        for op in (node.op, getattr(node.op, "scalar_op", None)):
            if op is None:
                continue
            yield op
            inner = getattr(op, "fgraph", None)
            if isinstance(inner, FunctionGraph):
                yield from _ops(inner)


def _load(path):
    """The Exported stored at `path`, or None if there is none or it cannot be read."""
    from jax import export
    try:
        with open(path, "rb") as file:
            return export.deserialize(bytearray(file.read()))
    except Exception:  # none; or written by another version, or damaged: traced and written again
        return None


def _exported(jitted, args, path):
    """`jitted` traced and exported for `args`, and stored at `path`; None if JAX cannot export it."""
    from jax import export
    try:
        exported = export.export(jitted)(*args)
        data = exported.serialize()
    except Exception:  # (e.g. an effect or a callback that has no serialized form)
        return None
    write_atomically(path, bytes(data))
    return exported


def first_call(jitted, graph_key, args, wide, donated=()):
    """Call `jitted` (a `jax.jit` function, on its first call) on `args`, through a stored
    program when there is one, else through the program exported now; the arguments at
    the positions `donated` are donated, as `jitted` donates them.  Returns the outputs,
    the function to call from then on, and what happened: 'loaded', 'exported' or
    'traced' (no key, switched off, or JAX could not export it)."""
    programs = None if graph_key is None else folder()
    if programs is None:
        return jitted(*args), jitted, "traced"
    import jax
    path = os.path.join(programs, key_of(graph_key, args, wide) + ".jaxprogram")
    stored = _load(path)
    if stored is not None:
        program = jax.jit(stored.call, donate_argnums=donated)
        try:
            return program(*args), program, "loaded"
        except Exception:  # it does not fit these arguments: export it again
            pass
    exported = _exported(jitted, args, path)
    if exported is None:
        return jitted(*args), jitted, "traced"
    program = jax.jit(exported.call, donate_argnums=donated)
    return program(*args), program, "exported"
