#!/usr/bin/env python
"""DL against PyTorch (and legacy Theano) on the same work, in one run.

Every side trains the same model, with the same sizes, the same initial
weights, the same update rule and the same minibatches in the same order:

    mlp20       MLP 784-500-10 (tanh, softmax) on MNIST, SGD lr 0.01, batch 20
    mlp256      the same, batch 256
    lstm16      IMDB (reviews of at most 100 words, 10000-word vocabulary, padded to
                100 steps), batch 16: embedding 128 -> LSTM 128 -> mean over the valid
                steps -> softmax 2, adadelta
    lstm64      the same, batch 64 (`lstm` is another name for it)
    lstm32x400  IMDB at bilstm-imdb's shapes (reviews of at most 400 words, padded to
                400 steps), batch 32: embedding 64 -> LSTM 64 (one direction: the
                recipe's is bidirectional) -> mean -> softmax 2, adadelta
    gru16, gru64, gru32x400
                the same three with a GRU in place of the LSTM: DL's DL.models.GRU,
                PyTorch's torch.nn.GRU.  The two differ: DL's resets before the product
                with U (g = tanh(x W_g + (r * h) U_g + b_g), Keras' reset_after=False),
                nn.GRU after it (tanh(x W_g + b_g + r * (h U_g))).  nn.GRU is timed, as
                that is what PyTorch users run; the losses are checked against a
                reset-before GRU written with torch operations (the same function as
                DL's; run for the check only, never timed), and PyTorch's own row says
                how far nn.GRU's losses are from it.
    rnn         Elman RNN 5-50-3 on the lag task (lag_softmax, 20 steps), batch 20, SGD
    lenet64     the deeplearning.net tutorial's LeNet on MNIST (conv 20@5x5, max pool 2x2,
                tanh, conv 50@5x5, max pool 2x2, tanh, 500 tanh units, softmax), SGD lr 0.1,
                batch 64; PyTorch's side is nn.Conv2d, nn.MaxPool2d and tanh
    lenet256    the same, batch 256

Sides: DL on PyTensor (the default mode, and any --dl-modes), PyTorch (CPU,
eager, --threads threads) and, when .venv-theano exists
(scripts/theano-env.sh builds it), DL on legacy Theano 1.0.5.

Every side runs with its library's defaults: no allocator settings are added
(neither DL_MALLOC_TUNING nor glibc's tunables; whatever the caller's
environment holds is passed on).  DL's side calls its compiled functions
in the block DL's training loop (optimize) trains in, DL.backend.while_training()
(denormal floats flushed to zero, and what DL itself does with freed memory
while it trains), or DL.backend.flush_denormals() on a DL without it: on every
workload, as optimize does.  PyTorch's side calls torch.set_flush_denormal(True)
for the recurrent workloads (lstm*, gru* and rnn), where gradients carried back
through time underflow, and keeps PyTorch's default (not flushed) for mlp* and
lenet*.  Both set the CPU's flags in the thread that steps; the worker threads
of a multithreaded BLAS keep their own, so with --threads 1 everything is
flushed.  The engines line under the table says which block and flag each ran.

Each side runs in its own processes, so compile caches and peak resident
memory (VmHWM, which sees C allocations) are its own:
  cold   a process with a fresh, empty compile directory: building the graph
         and compiling the three functions (train, validate, test), then the
         first call of each (PyTensor's default linker compiles lazily there);
  warm   a second process on the now filled directory: the same two times;
         this process then trains.
Importing the library (DL and its engine, or torch) comes before both and is
timed apart: it is printed under the table, not counted as compiling.
The timed part alternates the sides, `--steps` minibatches each, `--repeats`
times (order reversed every other round), so a ratio is taken between runs a
few seconds apart; the table gives medians.  Every side's losses over the
first minibatches are compared with PyTorch's (float32, relative tolerance
--tolerance): the check that both compute the same thing.

    python benchmarks/compare.py                              # everything (an hour or more on 2 cores)
    python benchmarks/compare.py --workloads mlp20 --scale 0.2 --repeats 3   # a quick look
    python benchmarks/compare.py --dl-modes CVM,NUMBA         # also DL in other PyTensor modes
    python benchmarks/compare.py --workloads lenet64,lenet256 --threads 1 --theano no   # the convolutional net
    python benchmarks/compare.py --workloads lstm16,lstm64,lstm32x400,gru16,gru64,gru32x400 --threads 1 --theano no
                                                              # the recurrent nets (issue 26)
    python benchmarks/compare.py --threads 1 --native-openblas  # how benchmarks/README.md's tables were made

On a machine shared with other jobs, two threads per side measure the
scheduler (threads waiting for each other) more than the libraries: prefer
--threads 1 there.
"""
import argparse
import contextlib
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THEANO_PYTHON = os.path.join(ROOT, ".venv-theano", "bin", "python")
CHECK_STEPS = 5

SGD = ("sgd", {"learning_rate": 0.01})
LENET_SGD = ("sgd", {"learning_rate": 0.1})  # the tutorial's step size
ADADELTA = ("adadelta", {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-6})

MLP_SIZES = dict(n_in=784, n_hidden=500, n_out=10)
LENET_SIZES = dict(n_filters=(20, 50), filter_size=5, n_hidden=500, n_out=10)
RNN_SIZES = dict(n_in=5, n_hidden=50, n_out=3, n_timesteps=20, n_sequences=3000)
# IMDB for the recurrent classifiers: lstm-imdb's shapes, and one direction of bilstm-imdb's
IMDB100 = dict(vocabulary=10000, n_timesteps=100, n_embedding=128, n_units=128, n_out=2)
IMDB400 = dict(vocabulary=10000, n_timesteps=400, n_embedding=64, n_units=64, n_out=2)
# DL's column blocks of W, U and b (DL.models.LSTM.GATE_ORDER, DL.models.GRU.GATE_ORDER;
# DL's worker checks them); PyTorch's worker reads them here, without importing DL
GATE_ORDERS = {"lstm": "ifoc", "gru": "zrg"}
RECURRENT = ("lstm", "gru", "rnn")  # PyTorch flushes denormals on these (DL on every workload)


def recurrent_workload(cell, sizes, batch_size, steps):
    """An embedding -> `cell` -> mean -> softmax workload on IMDB at `sizes`, adadelta."""
    shapes = ("IMDB shapes (%d words, %d steps, embedding %d)"
              % (sizes["vocabulary"], sizes["n_timesteps"], sizes["n_embedding"]))
    if sizes is IMDB400:
        shapes = "bilstm-imdb's %s, one direction" % shapes
    layer = {"lstm": "LSTM %d" % sizes["n_units"],
             "gru": "GRU %d (DL: reset before U; PyTorch: nn.GRU, reset after)" % sizes["n_units"]}[cell]
    workload = dict(kind=cell, sizes=sizes, batch_size=batch_size, rule=ADADELTA, steps=steps,
                    title="%s, %s, adadelta, batch %d" % (layer, shapes, batch_size))
    if cell == "gru":  # the losses are checked against PyTorch's reset-before GRU, not nn.GRU
        workload["reference"] = "gru_reset_before"
    return workload


WORKLOADS = {
    "mlp20": dict(kind="mlp", sizes=MLP_SIZES, batch_size=20, rule=SGD, steps=1500,
                  title="MLP 784-500-10, MNIST, SGD, batch 20"),
    "mlp256": dict(kind="mlp", sizes=MLP_SIZES, batch_size=256, rule=SGD, steps=250,
                   title="MLP 784-500-10, MNIST, SGD, batch 256"),
    "lstm16": recurrent_workload("lstm", IMDB100, 16, steps=120),
    "lstm64": recurrent_workload("lstm", IMDB100, 64, steps=30),
    "lstm32x400": recurrent_workload("lstm", IMDB400, 32, steps=50),
    "gru16": recurrent_workload("gru", IMDB100, 16, steps=120),
    "gru64": recurrent_workload("gru", IMDB100, 64, steps=30),
    "gru32x400": recurrent_workload("gru", IMDB400, 32, steps=50),
    "rnn": dict(kind="rnn", sizes=RNN_SIZES, batch_size=20, rule=SGD, steps=400,
                title="RNN 5-50-3, lag task (lag_softmax, 20 steps), SGD, batch 20"),
    "lenet64": dict(kind="lenet", sizes=LENET_SIZES, batch_size=64, rule=LENET_SGD, steps=60,
                    title="LeNet 20@5x5-pool-50@5x5-pool-500-10 (tanh), MNIST, SGD, batch 64"),
    "lenet256": dict(kind="lenet", sizes=LENET_SIZES, batch_size=256, rule=LENET_SGD, steps=15,
                     title="LeNet 20@5x5-pool-50@5x5-pool-500-10 (tanh), MNIST, SGD, batch 256"),
}
ALIASES = {"lstm": "lstm64"}  # the name of the one LSTM workload compare.py had before issue 26


# --- the same data and initial weights for every side ---------------------------
# The parent makes them once and saves them; every worker loads the same file
# (NumPy only, so no side's memory holds another's engine).

def glorot(rng, n_in, n_out):
    import numpy
    bound = numpy.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_in, n_out)).astype("float32")


def zeros(*shape):
    import numpy
    return numpy.zeros(shape, dtype="float32")


def orthogonal_blocks(rng, n, count):
    import numpy
    return numpy.concatenate([numpy.linalg.qr(rng.normal(size=(n, n)))[0].astype("float32")
                              for _ in range(count)], axis=1)


def mlp_data(sizes):
    """MNIST: [x (n, 784) float32, t (n,) int64] for train, valid, test."""
    from DL import datasets
    return datasets.mnist()


def mlp_weights(rng, s):
    return {"W_h": glorot(rng, s["n_in"], s["n_hidden"]), "b_h": zeros(s["n_hidden"]),
            "W_o": glorot(rng, s["n_hidden"], s["n_out"]), "b_o": zeros(s["n_out"])}


def imdb_data(s):
    """IMDB reviews of at most s["n_timesteps"] words, ids of an s["vocabulary"]-word vocabulary,
    padded at the end to the longest (n_timesteps): [ids (n, T) int64, mask (n, T) float32, labels (n,) int64]."""
    from DL import datasets
    sets = datasets.dataset_pad_and_mask(
        datasets.imdb(validation_ratio=0.1, vocabulary_size=s["vocabulary"], maxlen=s["n_timesteps"]), 0)
    return [[ids, mask, labels] for ids, labels, mask in sets]


def recurrent_weights(rng, s, gate_order):
    """Embedding, recurrent layer (one block per gate side by side, in DL's order, W and U
    orthogonal, b zero) and softmax weights: DL's LSTM's and GRU's layout."""
    n = s["n_units"]
    if s["n_embedding"] != n:
        raise ValueError("W is drawn as orthogonal blocks and DL's LSTM reads inputs of its own size: "
                         "n_embedding must equal n_units")
    W_emb = (0.01 * rng.uniform(-1, 1, size=(s["vocabulary"], s["n_embedding"]))).astype("float32")
    return {"W_emb": W_emb, "W": orthogonal_blocks(rng, n, len(gate_order)),
            "U": orthogonal_blocks(rng, n, len(gate_order)), "b": zeros(len(gate_order) * n),
            "W_o": glorot(rng, n, s["n_out"]), "b_o": zeros(s["n_out"])}


def rnn_data(s):
    """The lag task (DL.datasets.lag_softmax): x (n, T, 5) float32, t (n, T) class ids."""
    from DL import datasets
    sets = datasets.lag_softmax(n_sequences=s["n_sequences"], n_timesteps=s["n_timesteps"], seed=0)
    return [[x, t.astype("int64")] for x, t in sets]


def rnn_weights(rng, s):
    """DL's RNN: h0, W_h over [x_t, h_{t-1}] (n_in + n_hidden, n_hidden), b_h, W_o, b_o."""
    return {"h0": zeros(s["n_hidden"]), "W_h": glorot(rng, s["n_in"] + s["n_hidden"], s["n_hidden"]),
            "b_h": zeros(s["n_hidden"]), "W_o": glorot(rng, s["n_hidden"], s["n_out"]),
            "b_o": zeros(s["n_out"])}


def conv_glorot(rng, n_in, n_out, side):
    """Filters (n_out, n_in, side, side), Glorot-uniform over fan_in + fan_out = (n_in + n_out) side^2."""
    import numpy
    bound = numpy.sqrt(6.0 / ((n_in + n_out) * side * side))
    return rng.uniform(-bound, bound, size=(n_out, n_in, side, side)).astype("float32")


def lenet_weights(rng, s):
    """DL's LeNet: two convolutions (W1, b1), (W2, b2), the hidden layer (W3 (800, 500), b3), the softmax."""
    (n_1, n_2), side = s["n_filters"], s["filter_size"]
    flat = n_2 * ((((28 - side + 1) // 2) - side + 1) // 2) ** 2
    return {"W1": conv_glorot(rng, 1, n_1, side), "b1": zeros(n_1), "W2": conv_glorot(rng, n_1, n_2, side),
            "b2": zeros(n_2), "W3": glorot(rng, flat, s["n_hidden"]), "b3": zeros(s["n_hidden"]),
            "W4": glorot(rng, s["n_hidden"], s["n_out"]), "b4": zeros(s["n_out"])}


# kind -> data(sizes), weights(rng, sizes)
DATA = {"mlp": mlp_data, "lstm": imdb_data, "gru": imdb_data, "rnn": rnn_data, "lenet": mlp_data}
WEIGHTS = {"mlp": mlp_weights, "rnn": rnn_weights, "lenet": lenet_weights,
           "lstm": lambda rng, s: recurrent_weights(rng, s, GATE_ORDERS["lstm"]),
           "gru": lambda rng, s: recurrent_weights(rng, s, GATE_ORDERS["gru"])}


def workload_file(spec):
    """The file name of a workload's data and weights: workloads of one kind and sizes
    (lstm16 and lstm64) share theirs."""
    sizes = spec["sizes"]
    if spec["kind"] in ("lstm", "gru"):
        return "%s-%dx%d.npz" % (spec["kind"], sizes["n_timesteps"], sizes["n_units"])
    return "%s.npz" % spec["kind"]


def save_workload(spec, path):
    """Data and initial weights of the workload `spec` in one .npz file."""
    import numpy
    kind, sizes = spec["kind"], spec["sizes"]
    arrays = {"weight_" + name: value
              for name, value in WEIGHTS[kind](numpy.random.RandomState(1234), sizes).items()}
    for set_index, data_set in enumerate(DATA[kind](sizes)):
        for element, array in enumerate(data_set):
            arrays["set%d_%d" % (set_index, element)] = array
    numpy.savez(path, **arrays)


def load_workload(path):
    """(sets, weights) as save_workload wrote them."""
    import numpy
    with numpy.load(path) as stored:
        weights = {key[len("weight_"):]: stored[key] for key in stored.files if key.startswith("weight_")}
        sets = [[stored["set%d_%d" % (s, e)] for e in range(len(stored.files))
                 if "set%d_%d" % (s, e) in stored.files] for s in range(3)]
    return sets, weights


# --- DL's side ------------------------------------------------------------------

def dl_model(kind, w, s):
    """(symbolic inputs, model, cost) for workload `kind` at sizes `s`, every weight from `w`.

    The inputs are in the order of the workload's sets; the last is the target."""
    import numpy
    from DL.backend import T
    rng = numpy.random.RandomState(0)  # unused: every weight is given
    if kind == "mlp":
        from DL.models.MLP import MLP
        x, t = T.matrix("x"), T.lvector("t")
        model = MLP(rng=rng, input=x, n_in=s["n_in"], n_hidden=s["n_hidden"], n_out=s["n_out"],
                    activation="tanh", outputActivation="softmax",
                    params=[[w["W_h"], w["b_h"]], [w["W_o"], w["b_o"]]])
        return [x, t], model, model.loss(t)
    if kind in ("lstm", "gru"):
        return dl_recurrent_classifier(rng, w, kind, s)
    if kind == "lenet":
        from DL.models.LeNet import LeNet
        x, t = T.matrix("x"), T.lvector("t")
        model = LeNet(rng=rng, input=x, params=[[w["W%d" % i], w["b%d" % i]] for i in (1, 2, 3, 4)], **s)
        return [x, t], model, model.loss(t)
    if kind == "rnn":
        from DL.models.RNN import RNN
        x, t = T.tensor3("x"), T.lmatrix("t")
        model = RNN(rng=rng, input=x, n_in=s["n_in"], n_hidden=s["n_hidden"], n_out=s["n_out"],
                    activation="tanh", outputActivation="softmax",
                    params=[w["h0"], [w["W_h"], w["b_h"]], [w["W_o"], w["b_o"]]])
        return [x, t], model, model.loss(t)
    raise ValueError("unknown workload kind %r" % kind)


def dl_recurrent_classifier(rng, w, cell, s):
    """Embedding -> LSTM or GRU (`cell`) -> mean over the valid steps -> softmax, from DL's layers."""
    from DL.backend import T
    from DL.models.EmbeddingLayer import EmbeddingLayer
    from DL.models.GRU import GRU
    from DL.models.HiddenLayer import HiddenLayer
    from DL.models.LSTM import LSTM
    from DL.models.base import Model
    from DL.pooling import mean_pool
    layer_class = {"lstm": LSTM, "gru": GRU}[cell]
    if layer_class.GATE_ORDER != GATE_ORDERS[cell]:  # PyTorch's side reorders by GATE_ORDERS
        raise RuntimeError("DL's %s keeps its gates as %r, compare.py expects %r"
                           % (layer_class.__name__, layer_class.GATE_ORDER, GATE_ORDERS[cell]))
    ids, mask, t = T.lmatrix("ids"), T.matrix("mask"), T.lvector("t")
    embedding = EmbeddingLayer(rng, ids, s["vocabulary"], s["n_embedding"], params=[w["W_emb"]])
    recurrent = layer_class(rng, embedding.output, mask, s["n_units"], params=[w["W"], w["U"], w["b"]])
    classifier = HiddenLayer(rng, mean_pool(recurrent.output, mask), s["n_units"], s["n_out"],
                             params=[w["W_o"], w["b_o"]], activation="softmax")
    model = Model()
    model.layers = [embedding, recurrent, classifier]
    model.outputActivation = "softmax"
    model.output = classifier.output
    model.output_deterministic = classifier.output_deterministic
    return [ids, mask, t], model, model.loss(t)


def torch_lenet(w):
    """The same LeNet in PyTorch, as a PyTorch user writes it (pool before tanh, as DL's
    and the tutorial's), holding the weights `w` (DL's layout: dense W is (n_in, n_out))."""
    import torch
    from torch import nn
    from peers.torch_peers import linear

    def conv(W, b):
        layer = nn.Conv2d(W.shape[1], W.shape[0], W.shape[2:])
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
        return layer
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                         conv(w["W1"], w["b1"]), nn.MaxPool2d(2), nn.Tanh(),
                         conv(w["W2"], w["b2"]), nn.MaxPool2d(2), nn.Tanh(), nn.Flatten(),
                         linear(w["W3"], w["b3"]), nn.Tanh(), linear(w["W4"], w["b4"]))


class DLTrainer(object):
    """DL's compiled functions, compiled as DL.optimizers.optimize compiles them
    (its training step is guarded: no update when a cost or gradient is not finite)."""

    def __init__(self, kind, sizes, sets, weights, batch_size, rule, mode):
        from DL import updates as update_rules
        from DL.optimizers import training
        from DL.utils import flatten, load_data
        inputs, model, cost = dl_model(kind, weights, sizes)
        dataset = load_data(sets)
        name, hyper = rule
        arguments = (dataset, inputs, cost, flatten(model.params), model.errors(inputs[-1]), batch_size,
                     update_rules.get(name), dict(hyper), model.updates, None, mode)
        if hasattr(training, "compile_training"):
            self.train, errors = training.compile_training(*arguments, guard=True)[:2]
            self.guarded = True
        else:
            self.train, errors = training.compile_functions(*arguments)[:2]
            self.guarded = False
        self.error_functions = [errors["valid"], errors["test"]]

    def step(self, index):
        if self.guarded:
            cost, finite = self.train(index)
            if not finite:
                raise FloatingPointError("DL's training cost became %r at minibatch %d" % (cost, index))
            return float(cost)
        return float(self.train(index))


# --- a worker: one side, one workload, one process ------------------------------

def peak_resident_mb():
    """This process's peak resident memory.  VmHWM starts afresh at exec; getrusage's
    ru_maxrss does not (Linux keeps it across execve, so a worker would report
    at least its parent's size)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def openblas_cores():
    """The kernel family each OpenBLAS loaded in this process runs (e.g. Haswell, SkylakeX)."""
    import ctypes
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "openblas" in path.lower() and ".so" in path:
                paths.add(path)
    cores = []
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            corename = getattr(library, symbol, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                cores.append(corename().decode())
                break
    return sorted(set(cores))


def worker(args):
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # engine chatter goes to the log, the protocol keeps stdout
    sys.stdout = sys.stderr

    def send(**message):
        protocol.write(json.dumps(message) + "\n")

    spec = WORKLOADS[args.workload]
    kind, batch_size = spec["kind"], spec["batch_size"]
    sets, weights = load_workload(args.data)
    n_batches = len(sets[0][0]) // batch_size
    mode = None if args.mode in (None, "default") else args.mode

    # Importing the libraries is timed apart: it is not compiling (the table says both).
    start = time.perf_counter()
    if args.worker == "torch":
        import torch
        from peers import torch_peers
    else:
        import DL.models  # noqa: F401
        import DL.optimizers.training  # noqa: F401
    import_seconds = time.perf_counter() - start

    start = time.perf_counter()
    if args.worker == "torch":
        torch.set_num_threads(args.threads)
        # PyTorch's default is not to flush; the recurrent workloads flush, as DL does (module docstring)
        flushed = kind in RECURRENT and torch.set_flush_denormal(True)
        if kind == "lenet":  # flat rows in, logits out: trained as the MLP is
            torch.manual_seed(0)
            trainer = torch_peers.Trainer("mlp", torch_lenet(weights), sets[0], batch_size, *spec["rule"])
        else:
            trainer = torch_peers.build(kind, weights, sets[0], batch_size, spec["rule"][0],
                                        spec["rule"][1], GATE_ORDERS.get(kind))
        error_functions = []
        engine = "torch %s, %d threads" % (torch.__version__, torch.get_num_threads())
        stepping = contextlib.nullcontext()
    else:
        from DL import backend
        from DL.backend import BACKEND, floatX
        trainer = DLTrainer(kind, spec["sizes"], sets, weights, batch_size, spec["rule"], mode)
        error_functions = trainer.error_functions
        # the engine itself (DL.backend.theano is DL's view of it, without a version)
        version = importlib.import_module(BACKEND).__version__
        engine = "%s %s, floatX %s, mode %s, OpenBLAS %s" % (
            BACKEND, version, floatX, args.mode or "default", "/".join(openblas_cores()) or "?")
        # The calls here run in the block DL's training loop (optimize) runs its steps in:
        # backend.while_training (denormals flushed, freed arrays kept for reuse), or on a DL
        # without it backend.flush_denormals (DL.engine.denormals)
        block = "while_training" if hasattr(backend, "while_training") else "flush_denormals"
        stepping = getattr(backend, block)(True)
        from DL.engine import denormals
        flushed = denormals.available()
        engine += ", steps in DL.backend.%s()" % block
    engine += ", denormals %s" % ("flushed" if flushed else "not flushed")
    build_seconds = time.perf_counter() - start

    with stepping:
        start = time.perf_counter()
        for function in error_functions:
            function(0)
        first_errors_seconds = time.perf_counter() - start
        start = time.perf_counter()
        losses = [trainer.step(0)]
        first_step_seconds = time.perf_counter() - start
        losses += [trainer.step(i % n_batches) for i in range(1, CHECK_STEPS)]
        send(event="ready", engine=engine, import_seconds=import_seconds, build_seconds=build_seconds,
             first_call_seconds=first_errors_seconds + first_step_seconds,
             first_step_seconds=first_step_seconds, losses=losses)

        step = CHECK_STEPS
        for line in sys.stdin:
            command = line.split()
            if command[0] == "run":
                count = int(command[1])
                start = time.perf_counter()
                for _ in range(count):
                    loss = trainer.step(step % n_batches)
                    step += 1
                send(event="ran", seconds=time.perf_counter() - start, loss=loss)
            elif command[0] == "quit":
                done = dict(event="done", maxrss_mb=peak_resident_mb())  # before any reference model
                if "reference" in command[1:]:
                    done["reference_losses"] = reference_losses(spec, sets, weights, n_batches)
                send(**done)
                return


def reference_losses(spec, sets, weights, n_batches):
    """The first losses of PyTorch's model of spec["reference"] (a reset-before GRU: DL's
    function), trained from the same weights on the same minibatches; not timed."""
    from peers import torch_peers
    name, hyper = spec["rule"]
    trainer = torch_peers.build(spec["reference"], weights, sets[0], spec["batch_size"], name, hyper,
                                GATE_ORDERS[spec["kind"]])
    return [trainer.step(i % n_batches) for i in range(CHECK_STEPS)]


# --- the parent: start workers, alternate them, print the table -----------------

class WorkerFailed(RuntimeError):
    pass


class Worker(object):

    def __init__(self, side, workload, data, compiledir, threads, log_folder, phase, native_openblas=False):
        self.side = side
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, ROOT, env.get("PYTHONPATH")]))
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[variable] = str(threads)  # --threads, whatever the caller's environment says
        if native_openblas and side["kind"] != "dl-theano":
            # (legacy Theano's NumPy 1.23 bundles an OpenBLAS too old to know recent
            # CPUs: left to itself it falls back to slow generic kernels)
            env.pop("OPENBLAS_CORETYPE", None)
            env.pop("OPENBLAS_L2_SIZE", None)
        # no allocator settings: every side runs with its library's defaults (DL_MALLOC_TUNING
        # or GLIBC_TUNABLES in the caller's environment are passed on as they are)
        if side["kind"] == "dl-theano":
            env["DL_BACKEND"] = "theano"
            env["THEANO_FLAGS"] = ",".join(filter(None, [env.get("THEANO_FLAGS"), "blas.ldflags=",
                                                          "base_compiledir=" + compiledir]))
        elif side["kind"] == "dl":
            env["DL_BACKEND"] = "pytensor"
            env["PYTENSOR_FLAGS"] = ",".join(filter(None, [env.get("PYTENSOR_FLAGS"),
                                                            "base_compiledir=" + compiledir]))
        self.log_path = os.path.join(log_folder, "%s-%s-%s.log" % (workload, side["slug"], phase))
        command = [side["python"], os.path.abspath(__file__), "--worker",
                   "torch" if side["kind"] == "torch" else "dl", "--workload", workload,
                   "--mode", side.get("mode") or "default", "--threads", str(threads),
                   "--data", data]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, env=env, text=True, cwd=ROOT)

    def receive(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            with open(self.log_path) as log:
                tail = log.read()[-3000:]
            raise WorkerFailed("%s stopped (exit %s); the end of %s:\n%s"
                               % (self.side["name"], self.process.returncode, self.log_path, tail))
        return json.loads(line)

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def run(self, steps):
        self.send("run %d" % steps)
        return self.receive()

    def quit(self, reference=False):
        """Ends the worker; with `reference`, PyTorch's worker first computes the reference
        model's losses (after reading its peak memory)."""
        self.send("quit reference" if reference else "quit")
        done = self.receive()
        self.process.wait()
        return done

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def measure(workload, sides, args, log_folder):
    """Cold and warm starts of every side, then alternating timed runs."""
    spec = WORKLOADS[workload]
    data = os.path.join(args.data_folder, workload_file(spec))
    if not os.path.exists(data):
        save_workload(spec, data)
    steps = max(1, int(round(spec["steps"] * args.scale)))
    results = {}
    compiledirs = {}
    try:
        for side in list(sides):
            compiledirs[side["name"]] = tempfile.mkdtemp(prefix="dl-bench-%s-" % side["slug"])
            cold = Worker(side, workload, data, compiledirs[side["name"]], args.threads, log_folder, "cold",
                          args.native_openblas)
            try:
                ready = cold.receive()
                done = cold.quit()
            except WorkerFailed as error:
                if side["kind"] != "dl-theano":
                    raise
                # legacy Theano is a guest here: its failure is reported, the others still run
                results[side["name"]] = {"failed": str(error)}
                sides = [other for other in sides if other is not side]
                print("  %-14s FAILED: %s" % (side["name"], str(error).strip().splitlines()[-1]), flush=True)
                continue
            finally:
                cold.kill()
            results[side["name"]] = {"cold": ready, "cold_maxrss_mb": done["maxrss_mb"], "rates": []}
            print("  %-14s cold start: build %.2f s, first calls %.2f s"
                  % (side["name"], ready["build_seconds"], ready["first_call_seconds"]), flush=True)

        workers = {}
        try:
            for side in sides:
                workers[side["name"]] = Worker(side, workload, data, compiledirs[side["name"]],
                                               args.threads, log_folder, "warm", args.native_openblas)
                results[side["name"]]["warm"] = workers[side["name"]].receive()
            for side in sides:  # warm-up, not timed
                workers[side["name"]].run(max(1, steps // 4))
            order = list(sides)
            for repeat in range(args.repeats):
                for side in order:
                    ran = workers[side["name"]].run(steps)
                    results[side["name"]]["rates"].append(steps * spec["batch_size"] / ran["seconds"])
                order.reverse()
            for side in sides:
                reference = "reference" in spec and side["kind"] == "torch"
                done = workers[side["name"]].quit(reference)
                results[side["name"]]["maxrss_mb"] = done["maxrss_mb"]
                if reference:
                    results["_reference_losses"] = done["reference_losses"]
        finally:
            for running in workers.values():
                running.kill()
    finally:
        for folder in compiledirs.values():
            shutil.rmtree(folder, ignore_errors=True)
    results["_steps"] = steps
    return results


def loss_check(losses, reference, tolerance):
    """(agrees, largest relative difference) of two lists of first losses."""
    worst = max(abs(a - b) / max(abs(b), 1e-3) for a, b in zip(losses, reference))
    return worst <= tolerance, worst


def summarize(workload, results, sides, tolerance, reference_losses=None):
    """One table row per side, with ratios to PyTorch taken repeat by repeat.  The losses
    are checked against PyTorch's, or against `reference_losses` when the workload has a
    reference model (the GRU's): PyTorch's row then says how far its own are from them."""
    reference = results.get("PyTorch")
    rows = []
    for side in sides:
        result = results[side["name"]]
        if "failed" in result:
            rows.append({"workload": workload, "side": side["name"], "failed": result["failed"],
                         "engine": side["kind"], "rates": []})
            continue
        rates = result["rates"]
        row = {"workload": workload, "side": side["name"], "engine": result["warm"]["engine"],
               "examples_per_second": statistics.median(rates), "rates": rates,
               "cold_build": result["cold"]["build_seconds"], "cold_first": result["cold"]["first_call_seconds"],
               "warm_build": result["warm"]["build_seconds"], "warm_first": result["warm"]["first_call_seconds"],
               "warm_import": result["warm"]["import_seconds"],
               "maxrss_mb": max(result["maxrss_mb"], result["cold_maxrss_mb"]),
               "losses": result["warm"]["losses"], "ratio": None, "check": None}
        if reference is not None:
            paired = [mine / theirs for mine, theirs in zip(rates, reference["rates"])]
            row["ratio"] = statistics.median(paired)
            agrees, worst = loss_check(result["warm"]["losses"],
                                       reference_losses or reference["warm"]["losses"], tolerance)
            if reference_losses and side["kind"] == "torch":
                row["check"] = "(reset after) %.0e" % worst  # what the function's difference makes
            else:
                row["check"] = ("ok" if agrees else "DIFFERS") + " %.0e" % worst
        rows.append(row)
    return rows


def print_table(rows, steps_of):
    header = ("| workload | side | examples/s | vs PyTorch | compile cold (+1st calls) "
              "| compile warm (+1st calls) | peak RSS | losses agree |")
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    for row in rows:
        if "failed" in row:
            print("| %s | %s | failed: %s | | | | | |" % (row["workload"], row["side"],
                                                        row["failed"].strip().splitlines()[-1][:80]))
            continue
        print("| %s | %s | %.0f | %s | %.2f s (+%.2f s) | %.2f s (+%.2f s) | %.0f MB | %s |" % (
            row["workload"], row["side"], row["examples_per_second"],
            "%.2fx" % row["ratio"] if row["ratio"] is not None else "-",
            row["cold_build"], row["cold_first"], row["warm_build"], row["warm_first"],
            row["maxrss_mb"], row["check"] or "-"))
    print()
    engines = {}
    for row in rows:
        if "failed" not in row:
            engines.setdefault(row["side"], row["engine"])
    print("engines: " + "; ".join("%s = %s" % item for item in engines.items()))
    imports = {}
    for row in rows:
        if "failed" not in row:
            imports.setdefault(row["side"], []).append(row["warm_import"])
    print("importing the library (warm, median over the workloads; not in the compile columns): "
          + ", ".join("%s %.2f s" % (side, statistics.median(seconds)) for side, seconds in imports.items()))
    for workload, steps in steps_of.items():
        print("%s: %s; %d minibatches of %d per timed run" % (
            workload, WORKLOADS[workload]["title"], steps, WORKLOADS[workload]["batch_size"]))
    checked = [workload for workload in steps_of if "reference" in WORKLOADS[workload]]
    if checked:
        print("%s: losses checked against a reset-before GRU written with torch operations (DL's "
              "function; not timed); PyTorch's row: how far nn.GRU's (reset after) are from it"
              % ", ".join(checked))


def ratio_between(rows, workload, mine, theirs):
    found = {row["side"]: row for row in rows if row["workload"] == workload and row["rates"]}
    if mine not in found or theirs not in found:
        return None
    return statistics.median(a / b for a, b in zip(found[mine]["rates"], found[theirs]["rates"]))


def print_targets(rows):
    """Issue 5's targets (and issue 24's for LeNet), judged on this run."""
    def judged(name, value, goal, unit="x", at_least=True):
        if value is None:
            return print("  %-44s not measured" % name)
        passed = value >= goal if at_least else value < goal
        print("  %-44s %6.2f%s  (target %s %g%s)  %s" % (name, value, unit, ">=" if at_least else "<",
                                                           goal, unit, "PASS" if passed else "FAIL"))
    by = {(row["workload"], row["side"]): row for row in rows if "failed" not in row}
    print("targets:")
    for workload, goal in (("mlp20", 1.2), ("mlp256", 1.0), ("lstm64", 0.8), ("lenet64", 1.2), ("lenet256", 1.2)):
        row = by.get((workload, "DL"))
        judged("%s: DL / PyTorch" % workload, row and row["ratio"], goal)
    for workload in ("mlp20", "mlp256"):
        judged("%s: DL / DL-Theano" % workload, ratio_between(rows, workload, "DL", "DL-Theano"), 2.0)
    row = by.get(("mlp20", "DL"))
    judged("MLP warm compile, 3 functions (+1st calls)",
           row and row["warm_build"] + row["warm_first"], 3.0, " s", at_least=False)


def machine_description():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = ", ".join("%s=%s" % (k, v) for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_"))
    return "%s, %d cores (nproc), %s, Python %s%s" % (
        model, os.cpu_count(), platform.platform(terse=True), platform.python_version(),
        "; " + blas if blas else "")


def choose_sides(args):
    sides = [{"name": "DL", "slug": "dl", "kind": "dl", "python": sys.executable, "mode": None}]
    for mode in filter(None, args.dl_modes.split(",")):
        sides.append({"name": "DL[%s]" % mode, "slug": "dl-" + mode.lower(), "kind": "dl",
                      "python": sys.executable, "mode": mode})
    sides.append({"name": "PyTorch", "slug": "torch", "kind": "torch", "python": sys.executable})
    if args.theano != "no" and os.path.exists(THEANO_PYTHON):
        sides.append({"name": "DL-Theano", "slug": "theano", "kind": "dl-theano", "python": THEANO_PYTHON})
    elif args.theano == "yes":
        sys.exit("no %s: build it with scripts/theano-env.sh" % THEANO_PYTHON)
    return sides


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated, from: %s (default: all; %s)" % (", ".join(WORKLOADS), ", ".join(
                            "%s is %s" % alias for alias in ALIASES.items())))
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every workload's minibatches per timed run (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every side (default 2)")
    parser.add_argument("--dl-modes", default="", help="also run DL with these modes, e.g. FAST_RUN,NUMBA")
    parser.add_argument("--theano", choices=("auto", "yes", "no"), default="auto",
                        help="DL on legacy Theano: when .venv-theano exists (auto), required, or not")
    parser.add_argument("--tolerance", type=float, default=1e-3,
                        help="largest relative difference of the first losses (default 1e-3)")
    parser.add_argument("--native-openblas", action="store_true",
                        help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the DL and PyTorch workers, "
                             "so OpenBLAS picks the kernels of this CPU (some machines force older ones); "
                             "DL-Theano keeps them: its older OpenBLAS needs them on new CPUs")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement to PATH")
    parser.add_argument("--logs", metavar="FOLDER", help="keep the workers' logs here (default: a temporary folder)")
    parser.add_argument("--worker", choices=("dl", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    workloads = [ALIASES.get(name.strip(), name.strip()) for name in args.workloads.split(",") if name.strip()]
    workloads = list(dict.fromkeys(workloads))  # once each (`lstm,lstm64` is one workload)
    unknown = [name for name in workloads if name not in WORKLOADS]
    if unknown:
        parser.error("unknown workload(s) %s; choose from %s (or %s)" % (
            ", ".join(unknown), ", ".join(WORKLOADS), ", ".join("%s, another name for %s" % alias
                                                                 for alias in ALIASES.items())))
    if args.repeats < 1 or args.scale <= 0:
        parser.error("--repeats must be >= 1 and --scale > 0")
    sides = choose_sides(args)
    log_folder = args.logs or tempfile.mkdtemp(prefix="dl-bench-logs-")
    os.makedirs(log_folder, exist_ok=True)

    print("command: %s" % " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print("machine: %s" % machine_description())
    print("load average at start: %.2f %.2f %.2f; %s" % (os.getloadavg() + (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),)))
    print("sides: %s; %d thread(s) each; logs in %s"
          % (", ".join(side["name"] for side in sides), args.threads, log_folder))
    if args.native_openblas:
        print("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the DL and PyTorch workers (--native-openblas)")
    sys.stdout.flush()

    rows, steps_of, failures = [], {}, []
    args.data_folder = tempfile.mkdtemp(prefix="dl-bench-data-")
    try:
        for workload in workloads:
            print("%s: %s" % (workload, WORKLOADS[workload]["title"]), flush=True)
            try:
                results = measure(workload, sides, args, log_folder)
            except WorkerFailed as error:
                failures.append((workload, str(error)))
                print("  FAILED: %s" % error, flush=True)
                continue
            steps_of[workload] = results.pop("_steps")
            rows += summarize(workload, results, sides, args.tolerance, results.pop("_reference_losses", None))
    finally:
        shutil.rmtree(args.data_folder, ignore_errors=True)

    print()
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    if rows:
        print_table(rows, steps_of)
        print("examples/s: median of %d timed runs; vs PyTorch: median of the run-by-run ratios; compile: "
              "building the graph and compiling train/validate/test (after the imports), then (+) their first calls; "
              "peak RSS: the larger of the side's two processes" % args.repeats)
        print()
        print_targets(rows)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine_description(), "rows": rows, "failures": failures}, out, indent=1)
    for workload, error in failures:
        print("%s failed: %s" % (workload, error.splitlines()[0]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
