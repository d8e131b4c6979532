"""A study's store: one folder that a study fills and a rerun continues.

    DIR/study.sqlite   every trial: config, status (pending, done, failed),
                       metrics, per-epoch history, seconds of fn, worker,
                       attempts, and for a failed trial its traceback
    DIR/results.csv    one row per finished trial: config values, then metrics
    DIR/trials/ID/     each trial's own folder (DL.sweep.trial_dir() inside fn):
                       logs, checkpoints, and attempts.jsonl (one line per start)

Only the study's driver writes the database (SQLite, from the standard library:
each record is one transaction, so a crash leaves every earlier record whole);
workers write only inside their trial's folder.  results.csv is rewritten by
DL's one file writer (DL.durable: a temporary file, fsync, rename, fsync of the
folder).  A lock file keeps a second driver off a store in use.
"""
import csv
import fcntl
import io
import json
import os
import sqlite3
import tempfile
import time

from DL.durable import write_atomically

FORMAT = "DL.sweep/1"


class StoreError(RuntimeError):
    """A store that this study cannot use."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', metrics TEXT, history TEXT,
    seconds REAL, worker TEXT, traceback TEXT, started REAL, finished REAL,
    recorded REAL, records INTEGER NOT NULL DEFAULT 0);
"""

_COLUMNS = ("id", "position", "config", "status", "metrics", "history", "seconds", "worker",
            "traceback", "started", "finished", "recorded", "records")


def _writable_folder(path):
    """Create `path` if needed and prove a file can be written there, or a clear error."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        raise StoreError("store %s is not a writable folder (%s: %s); pass another store=/--store"
                         % (path, type(error).__name__, error.strerror or error)) from None


class Store:
    """The store of study `name` in folder `path`, whose configs have `keys`."""

    def __init__(self, path, name, keys):
        self.path = os.path.abspath(os.fspath(path))
        _writable_folder(self.path)
        # (the lock is held on this open file and says who holds it: it is no record, so it is
        # written in place, not through DL.durable, whose rename would make it another file)
        self._lock = open(os.path.join(self.path, ".lock"), "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise StoreError("store %s is in use by another study driver (%s); wait for it, or pass "
                             "another store" % (self.path, holder)) from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write("pid %d" % os.getpid())
        self._lock.flush()
        self.db = sqlite3.connect(os.path.join(self.path, "study.sqlite"))
        self.db.executescript(_SCHEMA)
        self._claim(name, list(keys))
        self.name, self.keys = name, list(keys)

    def _claim(self, name, keys):
        """Write the study's name and keys into a new store; refuse a store of another study."""
        study = dict(self.db.execute("SELECT key, value FROM study"))
        if not study:
            with self.db:
                self.db.executemany("INSERT INTO study VALUES (?, ?)",
                                    [("format", FORMAT), ("name", name), ("keys", json.dumps(keys)),
                                     ("created", time.strftime("%Y-%m-%d %H:%M:%S"))])
            return
        if study.get("name") != name:
            self.close()
            raise StoreError("store %s holds the study %r; this is the study %r. Pass another store for "
                             "it (or name=%r to continue that study)"
                             % (self.path, study.get("name"), name, study.get("name")))
        if json.loads(study["keys"]) != keys:
            self.close()
            raise StoreError("store %s holds the study %r with config keys %s; this space has keys %s. "
                             "Keep the keys (add values to their lists), or pass another store"
                             % (self.path, name, json.loads(study["keys"]), keys))

    def close(self):
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None
        if not self._lock.closed:
            self._lock.close()

    def trial_folder(self, trial):
        return os.path.join(self.path, "trials", trial)

    # --- writing ------------------------------------------------------------

    def add(self, trials):
        """Register (id, config) pairs, in the space's order, keeping every record already there."""
        with self.db:
            for position, (trial, config) in enumerate(trials):
                self.db.execute("INSERT OR IGNORE INTO trials (id, position, config) VALUES (?, ?, ?)",
                                (trial, position, json.dumps(config)))
                self.db.execute("UPDATE trials SET position = ? WHERE id = ?", (position, trial))

    def record(self, trial, outcome):
        """Record a trial's outcome (a dict from the worker) once: a second outcome of a trial
        already done (Dask ran it twice) is ignored.  Returns True when recorded."""
        with self.db:
            cursor = self.db.execute(
                "UPDATE trials SET status = ?, metrics = ?, history = ?, seconds = ?, worker = ?, "
                "traceback = ?, started = ?, finished = ?, recorded = ?, records = records + 1 "
                "WHERE id = ? AND status != 'done'",
                (outcome["status"], json.dumps(outcome.get("metrics")), json.dumps(outcome.get("history")),
                 outcome.get("seconds"), outcome.get("worker"), outcome.get("traceback"),
                 outcome.get("started"), outcome.get("finished"), time.time(), trial))
        return cursor.rowcount == 1

    # --- reading ------------------------------------------------------------

    def trials(self, ids=None):
        """Every trial's record (a dict), in the space's order; only `ids` when given."""
        return read_trials(self.db, self.path, ids)

    def write_results(self, ids=None):
        """Rewrite DIR/results.csv: one row per finished trial, config values then metrics."""
        done = [r for r in self.trials(ids) if r["status"] == "done"]
        metric_names = []
        for record in done:
            metric_names += [name for name in record["metrics"] if name not in metric_names]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.keys + metric_names)
        for record in done:
            values = [record["config"][key] for key in self.keys]
            values += [record["metrics"].get(name, "") for name in metric_names]
            writer.writerow([_cell(value) for value in values])
        return write_atomically(os.path.join(self.path, "results.csv"), text.getvalue())


def read_trials(db, path, ids=None):
    """The trial records of the store at `path` (database `db`), in the space's order."""
    records = []
    for row in db.execute("SELECT %s FROM trials ORDER BY position" % ", ".join(_COLUMNS)):
        record = dict(zip(_COLUMNS, row))
        if ids is not None and record["id"] not in ids:
            continue
        for key in ("config", "metrics", "history"):
            record[key] = json.loads(record[key]) if record[key] is not None else None
        record["attempts"] = count_attempts(os.path.join(path, "trials", record["id"]))
        records.append(record)
    return records


def load(path):
    """(study name, config keys, records) of the store at `path`, read-only: for tables and
    plots of a study that ran elsewhere, or while it runs."""
    path = os.fspath(path)
    database = os.path.join(path, "study.sqlite")
    if not os.path.exists(database):
        raise FileNotFoundError("%s holds no study (no study.sqlite there)" % path)
    db = sqlite3.connect("file:%s?mode=ro" % database, uri=True)
    try:
        study = dict(db.execute("SELECT key, value FROM study"))
        return study["name"], json.loads(study["keys"]), read_trials(db, path)
    finally:
        db.close()


def _cell(value):
    """A CSV cell: numbers and strings as themselves, anything else as JSON."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    return json.dumps(value)


def count_attempts(folder):
    """How many times a trial started (lines of its attempts.jsonl)."""
    try:
        with open(os.path.join(folder, "attempts.jsonl")) as attempts:
            return sum(1 for line in attempts if line.strip())
    except OSError:
        return 0
