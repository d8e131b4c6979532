"""The bad-input matrix: every public entry point, given input a user gets wrong,
fails at once with an exception of the expected type whose message contains a word
that says what to fix (the argument's name, the expected shape, the valid choices).

Each case is (what is wrong, a call, the exception expected, a word of its message).
Nothing here compiles: the errors come while the graph is built or the arguments
checked.  `python -m pytest tests/test_bad_input.py -q` prints how many cases there
are and how many fail."""
import gzip
import os
import pickle
from types import SimpleNamespace

import numpy
import pytest

import DL.datasets
from DL import activations, io, losses, updates, viz
from DL.backend import T, shared
from DL.checkpoint import CheckpointError, TrainingState
from DL.datasets import DataFileError
from DL.io import LoadError
from DL.models import (DBN, DBNC, EUSE, GRU, MLP, MRNN, MUSE, RNN, SSE, USE, BatchNorm, Bidirectional,
                       ConvLayer, EmbeddingLayer, ForwardFeed, ForwardFeedColumn, HiddenLayer, LeNet,
                       LogisticRegression, LSTM, MultiplicativeLayer, PoolLayer)
from DL.optimizers import optimize
from DL.pooling import mean_pool
from DL.utils import load_data

rng = numpy.random.RandomState(0)
x, x3 = T.matrix("x"), T.tensor3("x3")
ids, int_matrix = T.lmatrix("ids"), T.lmatrix("int_matrix")
mask, t = T.matrix("mask"), T.lvector("t")
obs, act = T.tensor3("obs"), T.tensor3("act")
images = T.tensor4("images")


def W(*shape):
    return numpy.zeros(shape, dtype="float32")


# --- models -------------------------------------------------------------------------

MODELS = [
    ("HiddenLayer n_in=0", lambda _: HiddenLayer(rng, x, 0, 3), ValueError, "n_in"),
    ("HiddenLayer n_in a string", lambda _: HiddenLayer(rng, x, "5", 3), ValueError, "n_in"),
    ("HiddenLayer unknown activation", lambda _: HiddenLayer(rng, x, 5, 3, activation="tanhh"),
     ValueError, "valid ones"),
    ("HiddenLayer 1-D input", lambda _: HiddenLayer(rng, T.vector(), 5, 3), ValueError, "n_examples"),
    ("HiddenLayer integer input", lambda _: HiddenLayer(rng, int_matrix, 5, 3), TypeError, "dtype"),
    ("HiddenLayer input not a tensor", lambda _: HiddenLayer(rng, "x", 5, 3), TypeError, "input"),
    ("HiddenLayer dropout_rate=1", lambda _: HiddenLayer(rng, x, 5, 3, dropout_rate=1.0),
     ValueError, "dropout_rate"),
    ("HiddenLayer params not [W, b]", lambda _: HiddenLayer(rng, x, 5, 3, params=[W(5, 3)]),
     ValueError, "params"),
    ("HiddenLayer params of the wrong shape", lambda _: HiddenLayer(rng, x, 5, 3, params=[W(4, 3), W(3)]),
     ValueError, "(4, 3)"),
    ("HiddenLayer rng=None", lambda _: HiddenLayer(None, x, 5, 3), TypeError, "rng"),
    ("HiddenLayer rng=None with dropout", lambda _: HiddenLayer(None, x, 5, 3, 0.5, [W(5, 3), W(3)]),
     TypeError, "rng"),
    ("LogisticRegression n_out=0", lambda _: LogisticRegression(rng, x, 5, 0), ValueError, "n_out"),
    ("LogisticRegression params of the wrong shape",
     lambda _: LogisticRegression(rng, x, 5, 2, params=[W(5, 3), W(3)]), ValueError, "(5, 3)"),
    ("ForwardFeed layer_sizes=[]", lambda _: ForwardFeed(rng, x, []), ValueError, "layer_sizes"),
    ("ForwardFeed layer_sizes=None", lambda _: ForwardFeed(rng, x, None), ValueError, "layer_sizes"),
    ("ForwardFeed a negative size", lambda _: ForwardFeed(rng, x, [5, -1]), ValueError, "layer_sizes[1]"),
    ("ForwardFeed layer_sizes an int", lambda _: ForwardFeed(rng, x, 5), ValueError, "layer_sizes"),
    ("ForwardFeed params for too few layers",
     lambda _: ForwardFeed(rng, x, [5, 4, 3], params=[[W(5, 4), W(4)]]), ValueError, "params"),
    ("MLP n_hidden=0", lambda _: MLP(rng, x, 5, 0, 2), ValueError, "n_hidden"),
    ("MLP unknown outputActivation", lambda _: MLP(rng, x, 5, 4, 2, outputActivation="softmaxx"),
     ValueError, "valid ones"),
    ("MLP params flat instead of nested",
     lambda _: MLP(rng, x, 5, 4, 2, params=[W(5, 4), W(4), W(4, 2), W(2)]), ValueError, "params"),
    ("MLP params of another MLP",
     lambda _: MLP(rng, x, 5, 4, 2, params=[[W(5, 7), W(7)], [W(7, 2), W(2)]]), ValueError, "hiddenLayer"),
    ("MLP 3-D tensor of ids", lambda _: MLP(rng, ids, 5, 4, 2), TypeError, "EmbeddingLayer"),
    ("DBN a zero layer size", lambda _: DBN(rng, x, 5, 2, layer_sizes=[0]), ValueError, "layer_sizes"),
    ("DBN layer_sizes a string", lambda _: DBN(rng, x, 5, 2, layer_sizes="500"), ValueError, "layer_sizes"),
    ("DBN n_out=0", lambda _: DBN(rng, x, 5, 0, layer_sizes=[4]), ValueError, "n_out"),
    ("EmbeddingLayer float ids", lambda _: EmbeddingLayer(rng, x, 10, 4), TypeError, "integer"),
    ("EmbeddingLayer n_in=0", lambda _: EmbeddingLayer(rng, ids, 0, 4), ValueError, "n_in"),
    ("EmbeddingLayer onehot with integer ids", lambda _: EmbeddingLayer(rng, ids, 10, 4, onehot=True),
     TypeError, "float"),
    ("EmbeddingLayer params of the wrong shape", lambda _: EmbeddingLayer(rng, ids, 10, 4, params=[W(4, 10)]),
     ValueError, "(4, 10)"),
    ("RNN 2-D input", lambda _: RNN(rng, x, 5, 4, 2), ValueError, "n_timesteps"),
    ("RNN 3-D mask", lambda _: RNN(rng, x3, 5, 4, 2, mask=x3), ValueError, "mask"),
    ("RNN n_hidden=0", lambda _: RNN(rng, x3, 5, 0, 2), ValueError, "n_hidden"),
    ("RNN negative dropout_rate", lambda _: RNN(rng, x3, 5, 4, 2, dropout_rate=-0.1),
     ValueError, "dropout_rate"),
    ("RNN unknown activation", lambda _: RNN(rng, x3, 5, 4, 2, activation="sigmod"), ValueError, "valid ones"),
    ("RNN params not [h0, hidden, output]", lambda _: RNN(rng, x3, 5, 4, 2, params=[W(4)]),
     ValueError, "params"),
    ("MultiplicativeLayer mult of another rank",
     lambda _: MultiplicativeLayer(rng, x, x3, 5, 4, 3, 2), ValueError, "mult"),
    ("MultiplicativeLayer n_fact=0", lambda _: MultiplicativeLayer(rng, x, x, 5, 4, 3, 0),
     ValueError, "n_fact"),
    ("MultiplicativeLayer 4 params for 5", lambda _: MultiplicativeLayer(
        rng, x, x, 5, 4, 3, 2, params=[W(5, 2), W(2, 4), W(3, 2), W(3, 4)]), ValueError, "params"),
    ("MRNN without n_fact", lambda _: MRNN(rng, x3, 5, 4, 2), TypeError, "n_fact"),
    ("MRNN n_fact=0", lambda _: MRNN(rng, x3, 5, 4, 2, 0), ValueError, "n_fact"),
    ("LSTM 2-D input", lambda _: LSTM(rng, x, None, 4), ValueError, "n_timesteps"),
    ("LSTM n_units=0", lambda _: LSTM(rng, x3, None, 0), ValueError, "n_units"),
    ("LSTM 1-D mask", lambda _: LSTM(rng, x3, T.vector(), 4), ValueError, "mask"),
    ("GRU 2-D input", lambda _: GRU(rng, x, None, 4), ValueError, "n_timesteps"),
    ("GRU n_units=0", lambda _: GRU(rng, x3, None, 0), ValueError, "n_units"),
    ("GRU n_in=0", lambda _: GRU(rng, x3, None, 4, n_in=0), ValueError, "n_in"),
    ("GRU 1-D mask", lambda _: GRU(rng, x3, T.vector(), 4), ValueError, "mask"),
    ("GRU dropout_rate=1", lambda _: GRU(rng, x3, None, 4, dropout_rate=1.0), ValueError, "dropout_rate"),
    ("GRU fused=True with dropout", lambda _: GRU(rng, x3, None, 4, dropout_rate=0.5, fused=True),
     ValueError, "fused=True"),
    ("GRU params of the wrong shape", lambda _: GRU(rng, x3, None, 4, params=[W(4, 12), W(4, 9), W(12)]),
     ValueError, "(4, 9)"),
    ("Bidirectional a layer instead of a builder",
     lambda _: Bidirectional(LSTM(rng, x3, None, 4), x3), TypeError, "function"),
    ("Bidirectional a builder of a feed-forward layer",
     lambda _: Bidirectional(lambda i, m, name: HiddenLayer(rng, i, 4, 4, name=name), x3), TypeError,
     "recurrent"),
    ("Bidirectional 2-D input", lambda _: Bidirectional(lambda i, m, name: LSTM(rng, i, m, 4, name=name), x),
     ValueError, "n_timesteps"),
    ("Bidirectional 1-D mask",
     lambda _: Bidirectional(lambda i, m, name: GRU(rng, i, m, 4, name=name), x3, T.vector()), ValueError, "mask"),
    ("MLP apply with train by position", lambda _: MLP(rng, None, 5, 4, 2).apply(x, True), TypeError,
     "train by name"),
    ("USE 2-D obs", lambda _: USE(rng, x, act, 4, 2, 6), ValueError, "obs"),
    ("USE 2-D act", lambda _: USE(rng, obs, x, 4, 2, 6), ValueError, "act"),
    ("USE ff_obs an int", lambda _: USE(rng, obs, act, 4, 2, 6, ff_obs=5), ValueError, "ff_obs"),
    ("USE outputActivation tanh", lambda _: USE(rng, obs, act, 4, 2, 6, outputActivation="tanh"),
     ValueError, "outputActivation"),
    ("USE n_hidden=0", lambda _: USE(rng, obs, act, 4, 2, 0), ValueError, "n_hidden"),
    ("USE loss given targets", lambda _: USE(rng, obs, act, 4, 2, 6).loss(t), TypeError, "takes no targets"),
    ("MUSE errors given targets", lambda _: MUSE(rng, obs, act, 4, 2, 6).errors(t), TypeError, "mask=..."),
    ("MLP loss without targets", lambda _: MLP(rng, x, 5, 4, 2).loss(), TypeError, "needs the targets y"),
    ("SSE errors without targets", lambda _: SSE(rng, obs, act, 4, 2, 3, 6).errors(mask=mask), TypeError,
     "needs the targets y"),
    ("HiddenLayer output of input=None", lambda _: HiddenLayer(rng, None, 5, 3).output, AttributeError,
     "apply"),
    ("USE params of 3 entries", lambda _: USE(rng, obs, act, 4, 2, 6, params=[W(6), [], []]),
     ValueError, "params"),
    ("MUSE n_fact=0", lambda _: MUSE(rng, obs, act, 4, 2, 6, n_fact=0), ValueError, "n_fact"),
    ("MUSE integer obs", lambda _: MUSE(rng, T.ltensor3(), act, 4, 2, 6), TypeError, "dtype"),
    ("SSE n_pred=0", lambda _: SSE(rng, obs, act, 4, 2, 0, 6), ValueError, "n_pred"),
    ("SSE a zero size in ff_pred", lambda _: SSE(rng, obs, act, 4, 2, 3, 6, ff_pred=[0]),
     ValueError, "ff_pred"),
    ("EUSE e_obs=0", lambda _: EUSE(rng, ids, act, 4, 0, 2, 6), ValueError, "e_obs"),
    ("EUSE float obs ids", lambda _: EUSE(rng, x, act, 4, 3, 2, 6), TypeError, "integer"),
    ("ForwardFeedColumn n_parallel=0", lambda _: ForwardFeedColumn(rng, x, [5, 4], 0),
     ValueError, "n_parallel"),
    ("ForwardFeedColumn one size only", lambda _: ForwardFeedColumn(rng, x, [5], 2),
     ValueError, "layer_sizes"),
    ("DBNC an empty stage", lambda _: DBNC(rng, x, 5, 2, [[]]), ValueError, "ff_sizes"),
    ("DBNC n_parallel=0", lambda _: DBNC(rng, x, 5, 2, [[4]], n_parallel=0), ValueError, "n_parallel"),
    ("DBNC ff_sizes not a list of lists", lambda _: DBNC(rng, x, 5, 2, [5]), ValueError, "ff_sizes"),
    ("ConvLayer 2-D input", lambda _: ConvLayer(rng, x, 3, 4), ValueError, "n_in, height, width"),
    ("ConvLayer same padding of an even filter", lambda _: ConvLayer(rng, images, 3, 4, filter_size=4, padding="same"),
     ValueError, "odd"),
    ("ConvLayer stride=0", lambda _: ConvLayer(rng, images, 3, 4, stride=0), ValueError, "stride"),
    ("ConvLayer n_out=0", lambda _: ConvLayer(rng, images, 3, 0), ValueError, "n_out"),
    ("ConvLayer channels other than n_in", lambda _: ConvLayer(rng, T.tensor4(shape=(None, 2, 9, 9)), 3, 4),
     ValueError, "channels"),
    ("ConvLayer filter larger than the image", lambda _: ConvLayer(rng, T.tensor4(shape=(None, 3, 2, 9)), 3, 4),
     ValueError, "larger than the padded image"),
    ("ConvLayer params of the wrong shape", lambda _: ConvLayer(rng, images, 3, 4, params=[W(4, 3, 2, 2), W(4)]),
     ValueError, "(4, 3, 3, 3)"),
    ("ConvLayer padding a string", lambda _: ConvLayer(rng, images, 3, 4, padding="full"), ValueError, "padding"),
    ("PoolLayer pool_size=0", lambda _: PoolLayer(images, pool_size=0), ValueError, "pool_size"),
    ("PoolLayer unknown mode", lambda _: PoolLayer(images, mode="median"), ValueError, "mode"),
    ("PoolLayer pool larger than the image", lambda _: PoolLayer(T.tensor4(shape=(None, 3, 1, 9))), ValueError,
     "larger than the padded image"),
    ("PoolLayer padding as large as the pool", lambda _: PoolLayer(images, padding=2), ValueError, "padding"),
    ("BatchNorm features other than n_features", lambda _: BatchNorm(T.tensor4(shape=(None, 2, 5, 5)), 3),
     ValueError, "n_features=3"),
    ("BatchNorm 3-D input", lambda _: BatchNorm(x3, 3), ValueError, "n_features"),
    ("BatchNorm momentum=0", lambda _: BatchNorm(x, 3, momentum=0), ValueError, "momentum"),
    ("BatchNorm params of the wrong shape", lambda _: BatchNorm(x, 3, params=[W(4), W(4)]), ValueError, "(4,)"),
    ("LeNet image too small", lambda _: LeNet(rng, x, image_shape=(1, 8, 8)), ValueError, "too small"),
    ("LeNet image_shape without channels", lambda _: LeNet(rng, x, image_shape=(28, 28)), ValueError,
     "channels, height, width"),
    ("activations: unknown name", lambda _: activations.get("swish"), ValueError, "valid ones"),
    ("mean_pool of 2-D states", lambda _: mean_pool(x, mask), ValueError, "n_timesteps"),
]

# --- losses and update rules ------------------------------------------------------

p = shared(numpy.zeros(3, dtype="float32"), name="p")
g = T.vector("g")

LOSSES_AND_RULES = [
    ("nll_multiclass with one-hot targets", lambda _: losses.nll_multiclass(x, x), TypeError, "one-hot"),
    ("nll_multiclass_timeseries with one-hot targets",
     lambda _: losses.nll_multiclass_timeseries(x3, x3), TypeError, "one-hot"),
    ("nll_binary with a 3-D mask", lambda _: losses.nll_binary(x, x, mask=x3), ValueError, "mask"),
    ("nll_binary targets of another rank", lambda _: losses.nll_binary(x, T.vector()), ValueError, "targets"),
    ("mse targets of another rank", lambda _: losses.mse(x, T.vector()), ValueError, "targets"),
    ("pred_error of another rank", lambda _: losses.pred_error(t, x), TypeError, "dimensions"),
    ("update rule: no params", lambda _: updates.sgd([], []), ValueError, "params"),
    ("update rule: fewer gradients than params", lambda _: updates.sgd([p, p], [g]), ValueError, "gradients"),
    ("update rule: an array, not a shared variable", lambda _: updates.sgd([numpy.zeros(3)], [g]),
     TypeError, "shared"),
    ("update rule: a non-scalar loss for gradients", lambda _: updates.adam([p], p * 2), ValueError, "scalar"),
    ("sgd negative learning_rate", lambda _: updates.sgd([p], [g], learning_rate=-1), ValueError,
     "learning_rate"),
    ("sgd learning_rate a string", lambda _: updates.sgd([p], [g], learning_rate="0.1"), TypeError,
     "learning_rate"),
    ("momentum=1", lambda _: updates.momentum([p], [g], momentum=1.0), ValueError, "momentum"),
    ("nesterov_momentum=-0.5", lambda _: updates.nesterov_momentum([p], [g], momentum=-0.5),
     ValueError, "momentum"),
    ("rmsprop rho=1.5", lambda _: updates.rmsprop([p], [g], rho=1.5), ValueError, "rho"),
    ("rmsprop_graves epsilon=0", lambda _: updates.rmsprop_graves([p], [g], epsilon=0), ValueError, "epsilon"),
    ("rmsprop_tieleman rho=1.5", lambda _: updates.rmsprop_tieleman([p], [g], rho=1.5), ValueError, "rho"),
    ("adadelta epsilon=0", lambda _: updates.adadelta([p], [g], epsilon=0), ValueError, "epsilon"),
    ("exponential_decay decay=0", lambda _: updates.exponential_decay(0.1, 0, 10), ValueError, "decay"),
    ("exponential_decay steps_per_epoch=0", lambda _: updates.exponential_decay(0.1, 0.9, 0), ValueError,
     "steps_per_epoch"),
    ("adam beta1=1", lambda _: updates.adam([p], [g], beta1=1), ValueError, "beta1"),
    ("adam beta2=-1", lambda _: updates.adam([p], [g], beta2=-1), ValueError, "beta2"),
    ("unknown update rule", lambda _: updates.get("adamm"), ValueError, "valid ones"),
    ("total_norm_constraint max_norm=0", lambda _: updates.total_norm_constraint([g], 0), ValueError,
     "max_grad_norm"),
]

# --- optimize -----------------------------------------------------------------------


def arrays(n_train=30, n_valid=10, n_test=10):
    state = numpy.random.RandomState(1)
    return [[state.randn(n, 5).astype("float32"), state.randint(0, 2, n)] for n in (n_train, n_valid, n_test)]


def problem(**changes):
    """A logistic regression's optimize() arguments, with `changes`."""
    model = LogisticRegression(None, x, 5, 2)
    arguments = dict(dataset=load_data(arrays()), inputs=[x, t], cost=model.loss(t), params=model.params,
                     errors=model.errors(t), n_epochs=1, batch_size=5, progress=False, verbose=False)
    arguments.update(changes)
    return arguments


def with_set(which, change):
    sets = arrays()
    sets[which] = change(*sets[which])
    return load_data(sets)


OPTIMIZE = [
    ("optimize unknown optimizer", lambda _: optimize(**problem(optimizer="adamm")), ValueError, "valid ones"),
    ("optimize misspelt rule option", lambda _: optimize(**problem(optimizer="adam", learning_rat=0.1)),
     TypeError, "learning_rate"),
    ("optimize two sets", lambda _: optimize(**problem(dataset=load_data(arrays())[:2])), ValueError,
     "[train, valid, test]"),
    ("optimize no inputs", lambda _: optimize(**problem(inputs=[])), ValueError, "inputs"),
    ("optimize arrays of different lengths",
     lambda _: optimize(**problem(dataset=with_set(0, lambda a, b: [a, b[:20]]))), ValueError, "differ in length"),
    ("optimize batch_size=0", lambda _: optimize(**problem(batch_size=0)), ValueError, "batch_size"),
    ("optimize batch_size=True", lambda _: optimize(**problem(batch_size=True)), ValueError,
     "positive integer"),
    ("optimize an empty validation set",
     lambda _: optimize(**problem(dataset=with_set(1, lambda a, b: [a[:0], b[:0]]))), ValueError, "empty"),
    ("optimize a set missing its targets",
     lambda _: optimize(**problem(dataset=with_set(2, lambda a, b: [a]))), ValueError, "one array per input"),
    ("optimize input of another rank",
     lambda _: optimize(**problem(dataset=with_set(0, lambda a, b: [a[:, :, None], b]))), ValueError, "3-D"),
    ("optimize NumPy arrays instead of shared variables", lambda _: optimize(**problem(dataset=arrays())),
     TypeError, "load_data"),
    ("optimize a vector cost", lambda _: optimize(**problem(cost=T.ones((2,)) * 1.0)), ValueError, "scalar"),
    ("optimize cost a number", lambda _: optimize(**problem(cost=1.0)), ValueError, "cost"),
    ("optimize no errors", lambda _: optimize(**problem(errors=None)), ValueError, "errors"),
    ("optimize no params", lambda _: optimize(**problem(params=[])), ValueError, "params"),
    ("optimize params not shared", lambda _: optimize(**problem(params=[numpy.zeros(3)])), TypeError, "shared"),
    ("optimize updates not pairs", lambda _: optimize(**problem(updates=[p])), ValueError, "pairs"),
    ("optimize n_epochs=0", lambda _: optimize(**problem(n_epochs=0)), ValueError, "n_epochs"),
    ("optimize patience=0", lambda _: optimize(**problem(patience=0)), ValueError, "patience"),
    ("optimize validation_frequency=0", lambda _: optimize(**problem(validation_frequency=0)),
     ValueError, "validation_frequency"),
    ("optimize max_grad_norm=-1", lambda _: optimize(**problem(max_grad_norm=-1)), ValueError, "max_grad_norm"),
    ("optimize checkpoint_every=0", lambda env: optimize(**problem(
        checkpoint=env.tmp / "c.npz", checkpoint_every=0)), ValueError, "checkpoint_every"),
    ("optimize checkpoint in a missing folder", lambda env: optimize(**problem(
        checkpoint=env.tmp / "no" / "c.npz")), FileNotFoundError, "does not exist"),
    ("optimize resume from a missing file", lambda env: optimize(**problem(resume=env.tmp / "c.npz")),
     FileNotFoundError, "no checkpoint"),
    ("optimize resume=True without checkpoint", lambda _: optimize(**problem(resume=True)),
     ValueError, "checkpoint=PATH"),
]

# --- data, files, checkpoints, pictures ----------------------------------------------


def imdb_file(env, reviews=((2, 3, 4, 5, 6, 7),) * 4):
    """A tiny imdb.pkl (two pickles, train then test) in DL_DATA_DIR."""
    env.monkeypatch.setenv("DL_DATA_DIR", str(env.tmp))
    with open(env.tmp / "imdb.pkl", "wb") as stream:
        for _ in range(2):
            pickle.dump(([list(r) for r in reviews], [1, 0] * (len(reviews) // 2)), stream, 2)


def offline(env):
    env.monkeypatch.setenv("DL_DATA_DIR", str(env.tmp))
    env.monkeypatch.chdir(env.tmp)


def truncated_mnist(env):
    offline(env)
    data = gzip.compress(pickle.dumps([[numpy.zeros((3, 784)), numpy.zeros(3)]] * 3, 2))
    (env.tmp / "mnist.pkl.gz").write_bytes(data[:len(data) // 2])


def saved(env, name="model.npz"):
    io.save(env.tmp / name, [numpy.zeros(3)])
    return env.tmp / name


def checkpoint_of(env, shape):
    state = TrainingState([shared(numpy.zeros(shape))], [], {"optimizer": "sgd"})
    state.save(env.tmp / "c.npz", {}, [numpy.zeros(shape)])
    return env.tmp / "c.npz"


HISTORY = [{"epoch": 1, "iteration": 4, "minibatch": 4, "train_cost": 0.5, "valid_error": 0.2,
            "test_error": None, "seconds": 1.0}]

DATA_AND_FILES = [
    ("mnist missing offline", lambda env: (offline(env), DL.datasets.mnist(download=False)),
     DataFileError, "mnist.pkl.gz"),
    ("mnist truncated", lambda env: (truncated_mnist(env), DL.datasets.mnist(download=False)),
     DataFileError, "truncated"),
    ("imdb missing offline", lambda env: (offline(env), DL.datasets.imdb(download=False)),
     DataFileError, "imdb.pkl"),
    ("imdb maxlen filters out every review", lambda env: (imdb_file(env), DL.datasets.imdb(maxlen=3)),
     ValueError, "maxlen"),
    ("imdb validation_ratio=1.5", lambda _: DL.datasets.imdb(validation_ratio=1.5), ValueError,
     "validation_ratio"),
    ("imdb vocabulary_size=1", lambda _: DL.datasets.imdb(vocabulary_size=1), ValueError, "vocabulary_size"),
    ("load_data two sets", lambda _: load_data(arrays()[:2]), ValueError, "[train, valid, test]"),
    ("load_data ragged sequences", lambda _: load_data([[[[1, 2], [3]], [0, 1]]] * 3), ValueError, "pad"),
    ("load_data arrays of different lengths", lambda _: load_data([[numpy.zeros((3, 2)), numpy.zeros(2)]] * 3),
     ValueError, "differ in length"),
    ("pad_and_mask of nothing", lambda _: DL.datasets.pad_and_mask([]), ValueError, "no sequences"),
    ("pad_and_mask of floats", lambda _: DL.datasets.pad_and_mask([[0.5, 1.5]]), ValueError, "integer"),
    ("dataset_pad_and_mask of a tuple", lambda _: DL.datasets.dataset_pad_and_mask(((1,),) * 3),
     TypeError, "in place"),
    ("lag_binary too few sequences", lambda _: DL.datasets.lag_binary(n_sequences=2), ValueError, "n_sequences"),
    ("map1d unknown encoding", lambda _: DL.datasets.map1d(encoding="ascii"), ValueError, "encoding"),
    ("io.save meta not JSON", lambda env: io.save(env.tmp / "m.npz", [numpy.zeros(2)], when=object()),
     TypeError, "JSON"),
    ("io.save an object array", lambda env: io.save(env.tmp / "m.npz", [numpy.array([None])]),
     TypeError, "object"),
    ("io.save into a missing folder", lambda env: io.save(env.tmp / "no" / "m.npz", [numpy.zeros(2)]),
     FileNotFoundError, "does not exist"),
    ("io.load a missing file", lambda env: io.load(env.tmp / "none.npz"), FileNotFoundError, "no model file"),
    ("io.load a folder", lambda env: io.load(env.tmp), LoadError, "folder"),
    ("io.load a pickle", lambda env: ((env.tmp / "m.npz").write_bytes(pickle.dumps([1])),
                                      io.load(env.tmp / "m.npz")), LoadError, "pickle"),
    ("io.load a truncated file", lambda env: (saved(env).write_bytes(saved(env).read_bytes()[:100]),
                                              io.load(env.tmp / "model.npz")), LoadError, "truncated"),
    ("io.load an .npz of another program", lambda env: (numpy.savez(env.tmp / "o.npz", a=numpy.ones(2)),
                                                       io.load(env.tmp / "o.npz")), LoadError, "not a DL.io"),
    ("resume from a model file", lambda env: TrainingState([p], [], {}).restore(saved(env)),
     CheckpointError, "not a training checkpoint"),
    ("resume a checkpoint of other shapes", lambda env: TrainingState(
        [shared(numpy.zeros(4))], [], {"optimizer": "sgd"}).restore(checkpoint_of(env, 3)),
     CheckpointError, "shape"),
    ("resume a checkpoint of another optimizer", lambda env: TrainingState(
        [shared(numpy.zeros(3))], [], {"optimizer": "adam"}).restore(checkpoint_of(env, 3)),
     CheckpointError, "optimizer"),
    ("viz.spark above 1", lambda _: viz.spark([0.5, 1.5]), ValueError, "[0, 1]"),
    ("viz.spark of a matrix", lambda _: viz.spark([[0.5]]), ValueError, "1-D"),
    ("viz.spark NaN", lambda _: viz.spark([numpy.nan]), ValueError, "NaN"),
    ("viz.prediction_row lengths differ", lambda _: viz.prediction_row([0, 1], [0.2, 0.3, 0.5]),
     ValueError, "same length"),
    ("viz.plot_history of nothing", lambda env: viz.plot_history([], env.tmp / "h.png"), ValueError, "empty"),
    ("viz.plot_history not a history", lambda env: viz.plot_history("history", env.tmp / "h.png"),
     TypeError, "history"),
    ("viz.plot_history records without keys", lambda env: viz.plot_history([{"epoch": 1}], env.tmp / "h.png"),
     ValueError, "valid_error"),
    ("viz.plot_history into a missing folder",
     lambda env: viz.plot_history(HISTORY, env.tmp / "no" / "h.png"), FileNotFoundError, "does not exist"),
    ("viz.plot_history not a .png", lambda env: viz.plot_history(HISTORY, env.tmp / "h.jpg"), ValueError, ".png"),
    ("viz.filter_grid 2-D weights", lambda env: viz.filter_grid(numpy.ones((20, 25)), env.tmp / "f.png"), ValueError, "4-D"),
    ("viz.embedding_map 1-D vectors", lambda env: viz.embedding_map(numpy.ones(5), None, env.tmp / "m.png"),
     ValueError, "2-D"),
    ("viz.embedding_map labels of another length",
     lambda env: viz.embedding_map(numpy.ones((5, 2)), [1, 2], env.tmp / "m.png"), ValueError, "labels"),
    ("viz.embedding_map values and class labels",
     lambda env: viz.embedding_map(numpy.ones((5, 2)), [0, 1, 0, 1, 0], env.tmp / "m.png", values=numpy.ones(5)),
     ValueError, "values"),
    ("viz.tsne perplexity=0", lambda _: viz.tsne(numpy.ones((5, 2)), perplexity=0), ValueError, "perplexity"),
    ("viz.neighbour_agreement k=0", lambda _: viz.neighbour_agreement(numpy.ones((5, 2)), numpy.ones(5), k=0),
     ValueError, "k must"),
]

CASES = MODELS + LOSSES_AND_RULES + OPTIMIZE + DATA_AND_FILES


@pytest.mark.parametrize("call, exception, word", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_gets_a_clear_error(call, exception, word, tmp_path, monkeypatch):
    env = SimpleNamespace(tmp=tmp_path, monkeypatch=monkeypatch)
    with pytest.raises(Exception) as caught:
        call(env)
    error = caught.value
    assert isinstance(error, exception), "%s: %s" % (type(error).__name__, error)
    assert word.lower() in str(error).lower(), str(error)


def public_entry_points():
    """The entry points found by walking DL's public modules: every Model class of
    DL.models, every update rule of DL.updates, every loss of DL.losses, and the
    named front doors (optimize, the data sets, io, viz)."""
    import inspect
    import DL.models
    from DL.models.base import Model
    found = [name for name in dir(DL.models)
             if inspect.isclass(getattr(DL.models, name)) and issubclass(getattr(DL.models, name), Model)]
    for module in (updates, losses):
        found += [name for name, value in vars(module).items()
                  if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
                  and name not in ("get", "log_probabilities", "pred_binary", "pred_multiclass")]
    return found + ["optimize", "mnist", "imdb", "load_data", "io.save", "io.load", "resume", "viz."]


def test_the_matrix_covers_every_public_entry_point():
    """Each entry point found opens the name of at least one case ("MLP n_hidden=0")."""
    first_words = set(case[0].split()[0] for case in CASES) | set(case[0].split(":")[0] for case in CASES)
    named = " ".join(case[0] for case in CASES)
    missing = [entry for entry in public_entry_points()
               if entry not in first_words and not (entry.endswith(".") and entry in named)
               and not any(word.startswith(entry) for word in first_words)]
    assert not missing, "no bad-input case for %s" % missing
    assert len(CASES) >= 100
    assert len(set(case[0] for case in CASES)) == len(CASES)
