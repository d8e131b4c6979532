"""python -m DL.sweep STUDY.py --store DIR [--scheduler ADDRESS] [--workers N]

STUDY.py defines at top level `fn(config) -> dict of metrics` and `space`, and
may set `n_trials`, `seed` (of the random draws), `seed_key` and `panel_key`
(see DL.sweep.run).  The study is named after the file.
"""
import argparse
import sys

from DL.sweep.study import load_study, run

_OPTIONS = ("n_trials", "seed", "seed_key", "panel_key", "rerun_failed")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m DL.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", help="the study file (defines fn and space)")
    parser.add_argument("--store", required=True, help="the folder of the study's records")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler address, tcp://HOST:8786 (default: $DL_SCHEDULER, else a "
                             "LocalCluster)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the LocalCluster (default: one per core)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    module = load_study(args.study)
    options = {key: getattr(module, key) for key in _OPTIONS if hasattr(module, key)}
    try:
        study = run(module.fn, module.space, store=args.store, scheduler=args.scheduler, workers=args.workers,
                    progress=not args.no_progress, **options)
    except KeyboardInterrupt:
        print("\ninterrupted: the trials that ended are recorded in %s; run the same command again to "
              "continue" % args.store, file=sys.stderr)
        return 130
    return 1 if study.failed else 0


if __name__ == "__main__":
    sys.exit(main())
