"""Data sets, as `[train, valid, test]`, each a list `[inputs, targets, ...]`.

    mnist()      28x28 digits: inputs (n, 784) float32 in [0, 1], targets (n,) int64
                 50000 / 10000 / 10000 examples (the deeplearning.net split)
    imdb()       movie reviews as lists of word ids, targets 0/1 (sentiment), each
                 set sorted by length; pad with dataset_pad_and_mask
    lag_binary(), lag_real(), lag_softmax()
                 synthetic sequences whose targets are lagged inputs (seeded)
    char_sequences(), python_docs_text()
                 a character-level corpus available offline (Python's own docs)
    map1d()      walks along a 1-D corridor of cells: (observations, actions)
    dice()       which die is this? rolls of dice whose faces differ in arrangement,
                 with bayes_posterior() as the best any estimator can do

    pad_and_mask(sequences) -> (padded (n, max_len), mask (n, max_len))
    dataset_pad_and_mask(dataset, index) pads every set in place, appending the mask
"""
import numpy

from DL.datasets.files import (DataFileError, SafeUnpickler, UnsafePickleError,  # noqa: F401
                               load_pickles, locate, search_folders, sha256_of)
from DL.datasets.sequences import (pad_and_mask, dataset_pad_and_mask,  # noqa: F401
                                   padAndMask, datasetPadAndMask)
from DL.datasets._imdb import imdb  # noqa: F401
from DL.datasets._lag import lag_binary, lag_real, lag_softmax  # noqa: F401
from DL.datasets._text import char_sequences, python_docs_text  # noqa: F401
from DL.datasets._map1d import map1d, seeded_sets  # noqa: F401
from DL.datasets._dice import bayes_posterior, dice  # noqa: F401

MNIST_URL = "http://www.iro.umontreal.ca/~lisa/deep/data/mnist/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def mnist(download=True):
    """MNIST as `[[x, t], [x, t], [x, t]]` (train, valid, test)."""
    path = locate("mnist.pkl.gz", MNIST_URL, MNIST_SHA256, download=download)
    (sets,) = load_pickles(path, count=1)
    if not (isinstance(sets, (tuple, list)) and len(sets) == 3):
        raise DataFileError("%s does not hold (train, valid, test) in the classic layout" % path)
    return [[numpy.asarray(x, dtype="float32"), numpy.asarray(t, dtype="int64")] for x, t in sets]
