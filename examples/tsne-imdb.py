#!/usr/bin/env python
"""A t-SNE map of the word embeddings an LSTM learns for IMDB sentiment.

The model reads a review of word ids and says whether it is positive:

    e_t = W_emb[w_t]                         (n_examples, n_timesteps) ids -> (.., n_units)
    h_t = LSTM(e_t, h_{t-1})                 (n_examples, n_timesteps, n_units), held on padding
    v   = mean of h_t over the real steps    (n_examples, n_units)
    p   = softmax(v W + b)                   (n_examples, 2): negative, positive

Train it briefly (with Adam by default: the embeddings start tiny, within
+-0.01, and Adam's per-weight step sizes move them within a few epochs), then
map the rows of W_emb for the --words most frequent words (ids 2, 3, ...; 0
pads and 1 is unknown), each written as its word.  A word's colour is what the trained model says about a review made of
that word alone, p(positive | [w]): words that carry sentiment drift to the
red (negative) and blue (positive) ends.

    python examples/tsne-imdb.py --epochs 3 --out tsne-imdb.png   # test error about 18 %
    python examples/tsne-imdb.py --epochs 1 --subset 200 --words 60   # a quick look
"""
import argparse

import numpy

from DL import datasets, viz
from DL.backend import theano, T
from DL.datasets.files import load_pickles, locate
from DL.models.EmbeddingLayer import EmbeddingLayer
from DL.models.LSTM import LSTM
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers import optimize
from DL.pooling import mean_pool
from DL.utils import flatten, load_data

FIRST_WORD = 2  # ids 0 (padding) and 1 (unknown) are not words
DICT_URL = "http://www.iro.umontreal.ca/~lisa/deep/data/imdb.dict.pkl.gz"  # word -> id
DICT_SHA256 = "487d2db3ec50896d324058785fcbe233502885fee3be30bd8f432d2ece2714b6"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=3, help="epochs of training (default 3)")
parser.add_argument("--subset", type=int, default=None, metavar="N",
                    help="train on N random training reviews, validate and test on N/5 (default: all)")
parser.add_argument("--vocabulary-size", type=int, default=10000, help="words kept (default 10000)")
parser.add_argument("--maxlen", type=int, default=100, help="longest review kept, in words (default 100)")
parser.add_argument("--n-units", type=int, default=128, help="embedding and LSTM size (default 128)")
parser.add_argument("--batch-size", type=int, default=16, help="reviews per minibatch (default 16)")
parser.add_argument("--optimizer", default="adam", help="an update rule of DL.updates (default adam)")
parser.add_argument("--learning-rate", type=float, default=None, help="its step size (default: the rule's)")
parser.add_argument("--words", type=int, default=200, help="map the N most frequent words (default 200)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the weights and the subset")
parser.add_argument("--out", metavar="PATH", default="tsne-imdb.png", help="the map (default tsne-imdb.png)")
parser.add_argument("--plot", metavar="PATH", default=None, help="save the training curves to PATH")
args = parser.parse_args()
if not 3 <= args.words <= args.vocabulary_size - FIRST_WORD:
    parser.error("--words must be in 3 .. vocabulary size - 2 = %d" % (args.vocabulary_size - FIRST_WORD))


def random_subset(imdb, n, seed):
    """n random training reviews and n/5 of the validation and test reviews, kept sorted by length."""
    if n is None:
        return imdb
    rng = numpy.random.RandomState(seed)
    picked = []
    for (reviews, labels), size in zip(imdb, (n, max(n // 5, 1), max(n // 5, 1))):
        chosen = numpy.sort(rng.choice(len(reviews), min(size, len(reviews)), replace=False))
        picked.append([[reviews[i] for i in chosen], labels[chosen]])
    return picked


imdb = random_subset(datasets.imdb(vocabulary_size=args.vocabulary_size, maxlen=args.maxlen),
                     args.subset, args.seed)
datasets.dataset_pad_and_mask(imdb, 0)  # each set: [ids (n, longest), labels (n,), mask (n, longest)]
dataset = load_data(imdb)

x = T.imatrix("x")     # (n_examples, n_timesteps) word ids
t = T.ivector("t")     # (n_examples,) 1 = positive
mask = T.matrix("mask")  # (n_examples, n_timesteps) 1 on words, 0 on padding
rng = numpy.random.RandomState(args.seed)
embedding = EmbeddingLayer(rng, x, n_in=args.vocabulary_size, n_out=args.n_units)
lstm = LSTM(rng, embedding.output, mask, n_units=args.n_units)
classifier = LogisticRegression(rng, mean_pool(lstm.output, mask), n_in=args.n_units, n_out=2)
params = flatten([embedding.params, lstm.params, classifier.params])

rule_options = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
result = optimize(dataset=dataset, inputs=[x, t, mask], cost=classifier.loss(t), params=params,
                  errors=classifier.errors(t), optimizer=args.optimizer, n_epochs=args.epochs,
                  batch_size=args.batch_size, patience=10 ** 6, **rule_options)
if args.plot:
    viz.plot_history(result.history, args.plot)

# The map: the most frequent words' rows of the embedding table, labelled through imdb.dict.
ids = numpy.arange(FIRST_WORD, FIRST_WORD + args.words)
(word_to_id,) = load_pickles(locate("imdb.dict.pkl.gz", DICT_URL, DICT_SHA256), count=1)
id_to_word = {index: word for word, index in word_to_id.items()}
words = numpy.array([id_to_word.get(int(i), "<%d>" % i) for i in ids])
vectors = embedding.W.get_value()[ids]

positive = theano.function([x, mask], classifier.output_deterministic[:, 1])
alone = positive(ids[:, None].astype("int32"), numpy.ones((len(ids), 1), dtype=theano.config.floatX))
title = "IMDB: LSTM word embeddings (%d units), %d most frequent words" % (args.n_units, args.words)
viz.embedding_map(vectors, words, args.out, values=alone, value_label="p(positive | the word alone)",
                  value_range=(0, 1),
                  seed=args.seed, title=title, figsize=(9.0, 8.0), fontsize=7)

order = numpy.argsort(alone)
print("most negative words alone:", " ".join(words[order[:10]]))
print("most positive words alone:", " ".join(words[order[::-1][:10]]))
print("test error: %.3f %%" % (100 * result.test_loss))
print("map written to %s" % args.out)
