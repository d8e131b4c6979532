"""A record of every run: `optimize(..., log=PATH)`.

    log='run.jsonl'     the history as JSON lines, one per validation
    log='runs/mlp/'     a folder (ends with / or exists): runs/mlp/log.jsonl, and
                        TensorBoard event files beside it when tensorboardX is
                        installed (pip install DL[tensorboard])

Each line is one history entry: epoch, iteration, minibatch, train_cost (the
mean since the last validation), valid_error, test_error (null unless a new
best), metric (what the errors measure: 'error rate', 'mse', ...) and seconds.
Lines are appended and flushed as training goes, so a crashed run keeps every
validation it made and a resumed run continues the same file.  TensorBoard
gets the scalars `train/cost`, `valid/<metric>` and `test/<metric>` over
iterations (spaces in the metric's name become underscores: `valid/error_rate`).
"""
import json
import os
import warnings

from DL.optimizers.callbacks import Callback

_warned = []  # warn once a process that TensorBoard files need tensorboardX


def _summary_writer(folder):
    """A tensorboardX SummaryWriter on `folder`, or None (and a warning, once) without it."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        if not _warned:
            _warned.append(True)
            warnings.warn("log=%s: writing only %s; TensorBoard files need tensorboardX "
                          "(pip install DL[tensorboard])" % (folder, os.path.join(folder, "log.jsonl")),
                          stacklevel=4)
        return None
    return SummaryWriter(logdir=folder)


class RunLog(Callback):
    """Writes each validation's history entry to `path` (see the module docstring).

    The path is checked when the RunLog is made (before anything compiles); files
    open at the first validation."""

    def __init__(self, path):
        path = os.fspath(path)
        self.folder = path if path.endswith(os.sep) or os.path.isdir(path) else None
        if self.folder is not None:
            os.makedirs(self.folder, exist_ok=True)
            self.path = os.path.join(self.folder, "log.jsonl")
        else:
            self.path = path
        where = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(where):
            raise FileNotFoundError("log=%s: the folder %s does not exist; create it first (or end "
                                    "the path with / to write into a new folder)" % (path, where))
        if not os.access(where, os.W_OK):
            raise PermissionError("log=%s: the folder %s is not writable" % (path, where))
        self.file = self.writer = None

    def on_validation(self, state, record, improved):
        if self.file is None:
            self.file = open(self.path, "a")
            if self.folder is not None:
                self.writer = _summary_writer(self.folder)
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.writer is not None:
            iteration, metric = record["iteration"], record["metric"].replace(" ", "_")
            self.writer.add_scalar("train/cost", record["train_cost"], iteration)
            self.writer.add_scalar("valid/" + metric, record["valid_error"], iteration)
            if record["test_error"] is not None:
                self.writer.add_scalar("test/" + metric, record["test_error"], iteration)
            self.writer.flush()

    def on_stop(self, state):
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()
        self.file = self.writer = None
