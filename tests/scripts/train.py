"""Train a tiny model with dropout from a seed; the subprocess side of the trust tests.

    python tests/scripts/train.py --model mlp --seed 1 --out result.npz
        [--checkpoint ck.npz --resume] [--kill-at-step N] [--kill-in-save N]

Writes the trained parameters (as optimize() leaves them: the best ones) to
--out with DL.io.save, and the returned errors as meta.  --kill-at-step N makes
the process SIGKILL itself just after its N-th training step returns (the step
applied, the loop not yet told); --kill-in-save N just before the N-th checkpoint
write renames its temporary file into place.  Either way the process dies as in
a power cut: no handler runs, nothing is flushed.
"""
import argparse
import os
import signal

import numpy

from DL import io
from DL.backend import BACKEND, T
from DL.optimizers import optimize, training
from DL.utils import flatten, load_data


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def after_step(compile_training, n, action):
    """`compile_training` whose training function calls `action()` right after its n-th
    call returns (the step applied, the training loop not yet told)."""
    def compile_and_count(*args, **kwargs):
        train_model, *rest = compile_training(*args, **kwargs)
        calls = [0]

        def counted(index):
            result = train_model(index)
            calls[0] += 1
            if calls[0] == n:
                action()
            return result
        return (counted, *rest)
    return compile_and_count


def kill_in_save(n, path):
    """Die just before the n-th written temporary file is renamed to `path`."""
    replace = os.replace
    calls = [0]

    def replace_or_die(source, destination):
        if os.path.abspath(destination) == os.path.abspath(path):
            calls[0] += 1
            if calls[0] == n:
                die()
        return replace(source, destination)
    os.replace = replace_or_die


# --- data and models: (dataset, inputs, model, cost, errors) ---------------------

def _split(make, rng):
    return [make(rng, n) for n in (45, 17, 13)]


def mlp(rng, kind="mlp"):
    from DL.models.DBN import DBN
    from DL.models.MLP import MLP

    def make(r, n):
        x = r.randn(n, 5).astype("float32")
        return [x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64")]
    x, t = T.matrix("x"), T.lvector("t")
    if kind == "mlp":
        model = MLP(rng, x, 5, 8, 2, dropout_rate=0.3)
    else:
        model = DBN(rng, x, 5, 2, layer_sizes=[8, 6], dropout_rate=0.3)
    return _split(make, rng), [x, t], model, model.loss(t), model.errors(t)


def lstm(rng):
    """Embedding -> LSTM -> mean over valid steps -> hidden layer with dropout -> softmax."""
    from DL.models.EmbeddingLayer import EmbeddingLayer
    from DL.models.MLP import MLP
    from DL.models.LSTM import LSTM
    from DL.models.base import Model
    from DL.pooling import mean_pool

    def make(r, n):
        ids = r.randint(2, 8, size=(n, 6))
        lengths = r.randint(2, 7, size=n)
        mask = (numpy.arange(6)[None, :] < lengths[:, None]).astype("float32")
        ids = ids * mask.astype("int64")
        return [ids, mask, ((ids == 3).sum(1) > (ids == 4).sum(1)).astype("int64")]
    ids, mask, t = T.lmatrix("ids"), T.matrix("mask"), T.lvector("t")
    embedding = EmbeddingLayer(rng, ids, 8, 5)
    recurrent = LSTM(rng, embedding.output, mask, 5)
    pooled = mean_pool(recurrent.output, mask)
    classifier = MLP(rng, pooled, 5, 6, 2, dropout_rate=0.3)  # hidden (dropout), then softmax
    model = Model()
    model.layers = [embedding, recurrent, classifier]
    return _split(make, rng), [ids, mask, t], model, classifier.loss(t), classifier.errors(t)


def use(rng):
    from DL.models.USE import USE

    def make(r, n):
        obs = numpy.eye(4, dtype="float32")[r.randint(0, 4, size=(n, 5))]
        act = numpy.eye(2, dtype="float32")[r.randint(0, 2, size=(n, 5))]
        return [obs, act]
    obs, act = T.tensor3("obs"), T.tensor3("act")
    model = USE(rng, obs, act, 4, 2, 6, dropout_rate=0.3, ff_obs=[5])
    return _split(make, rng), [obs, act], model, model.loss(), model.errors()


MODELS = {"mlp": mlp, "dbn": lambda rng: mlp(rng, "dbn"), "lstm": lstm, "use": use}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=6)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--mode", help="PyTensor's mode for every compiled function (default: its own; "
                                       "legacy Theano, which has no such modes, keeps its default)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--checkpoint")
    parser.add_argument("--resume", action="store_true", help="resume=True: from --checkpoint if it exists")
    parser.add_argument("--kill-at-step", type=int)
    parser.add_argument("--kill-in-save", type=int)
    args = parser.parse_args()

    if args.kill_at_step:
        training.compile_training = after_step(training.compile_training, args.kill_at_step, die)
    if args.kill_in_save:
        kill_in_save(args.kill_in_save, args.checkpoint)
    rng = numpy.random.RandomState(args.seed)
    sets, inputs, model, cost, errors = MODELS[args.model](rng)
    params = flatten(model.params)
    result = optimize(dataset=load_data(sets), inputs=inputs, cost=cost, params=params, errors=errors,
                      updates=model.updates, optimizer=args.optimizer, learning_rate=0.02,
                      n_epochs=args.epochs, batch_size=args.batch_size, test_batches=2,
                      checkpoint=args.checkpoint, resume=args.resume or None,
                      mode=args.mode if BACKEND == "pytensor" else None, progress=False, verbose=False)
    io.save(args.out, [p.get_value() for p in params], errors=list(result),
            valid_errors=[record["valid_error"] for record in result.history],
            iterations=result.iterations)


if __name__ == "__main__":
    main()
