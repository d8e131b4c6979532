#!/usr/bin/env python
"""Sentiment of IMDB movie reviews: word embeddings, an LSTM, mean pooling, softmax.

    ids (n, T) --EmbeddingLayer--> (n, T, 128) --LSTM--> (n, T, 128)
        --mean over the real words--> (n, 128) --dropout--> softmax (n, 2)

as in the deeplearning.net LSTM tutorial: reviews of at most --maxlen words,
the --vocabulary-size most frequent words (rarer ones become the unknown word
1), padded with 0 and masked, trained with adadelta.  The test set holds the
test reviews of at most --maxlen words.

    python examples/lstm-imdb.py                              # 17.7 % test error (measured; 5 minutes)
    python examples/lstm-imdb.py --epochs 1 --subset 200      # a quick look
"""
import argparse

import numpy

from DL import datasets
from DL.backend import theano, T, RandomStreams
from DL.dropout import dropout
from DL.losses import nll_multiclass, pred_error, pred_multiclass
from DL.models import EmbeddingLayer, HiddenLayer, LSTM
from DL.optimizers import optimize
from DL.pooling import mean_pool
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=30, help="at most this many epochs (default 30)")
parser.add_argument("--subset", type=int, default=None, metavar="N",
                    help="use only N training reviews and N/5 validation and test reviews (quick runs)")
parser.add_argument("--maxlen", type=int, default=100, help="keep reviews of at most this many words (default 100)")
parser.add_argument("--vocabulary-size", type=int, default=10000, help="words kept (default 10000)")
parser.add_argument("--n-units", type=int, default=128, help="embedding size and LSTM units (default 128)")
parser.add_argument("--dropout-rate", type=float, default=0.5, help="dropout on the pooled vector (default 0.5)")
parser.add_argument("--batch-size", type=int, default=16, help="reviews per minibatch (default 16)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the validation split, the weights and dropout")
args = parser.parse_args()

imdb = datasets.imdb(validation_ratio=0.1, vocabulary_size=args.vocabulary_size, maxlen=args.maxlen,
                     seed=args.seed)                 # [train, valid, test], each [reviews, labels]
if args.subset:
    imdb = [[part[:size] for part in data_set]
            for data_set, size in zip(imdb, (args.subset, args.subset // 5, args.subset // 5))]
# Sets come sorted by length; minibatches are slices in order, so mix the training set
# to give each minibatch reviews of all lengths (every set is padded to its longest anyway).
order = numpy.random.RandomState(args.seed).permutation(len(imdb[0][1]))
imdb[0] = [[imdb[0][0][i] for i in order], imdb[0][1][order]]
datasets.dataset_pad_and_mask(imdb, 0)               # each set: [padded ids, labels, mask]
print("reviews: %d train, %d valid, %d test" % tuple(len(data_set[1]) for data_set in imdb))
dataset = load_data(imdb)

x = T.lmatrix("x")      # (n_examples, n_timesteps) word ids, 0 = padding
t = T.lvector("t")      # (n_examples,) 1 = positive
mask = T.matrix("mask")  # (n_examples, n_timesteps) 1 on real words
rng = numpy.random.RandomState(args.seed)

embedding = EmbeddingLayer(rng=rng, input=x, n_in=args.vocabulary_size, n_out=args.n_units)
lstm = LSTM(rng=rng, input=embedding.output, mask=mask, n_units=args.n_units, activation="tanh")
pooled = mean_pool(lstm.output, mask)                # (n_examples, n_units)
srng = RandomStreams(args.seed)
# One softmax layer, applied twice: to the dropped-out vector for training, to the vector itself
# for prediction (DL.losses has the loss and the error of any output).
classifier = HiddenLayer(rng=rng, input=None, n_in=args.n_units, n_out=2, activation="softmax")
probabilities = classifier.apply(dropout(srng, args.dropout_rate, pooled), train=True)
prediction = pred_multiclass(classifier.apply(pooled, train=False))

result = optimize(dataset=dataset, inputs=[x, t, mask], cost=nll_multiclass(probabilities, t),
                  params=flatten([embedding.params, lstm.params, classifier.params]),
                  errors=pred_error(prediction, t), updates=srng.updates(), n_epochs=args.epochs,
                  batch_size=args.batch_size, patience=10 ** 6, optimizer="adadelta")

predict = theano.function([x, mask], prediction)
test_ids, test_labels, test_mask = imdb[2]
print("predict:", predict(test_ids[-10:], test_mask[-10:]))
print("answer: ", test_labels[-10:])
print("test error: %.3f %%" % (100 * result.test_loss))
