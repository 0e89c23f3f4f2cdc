"""``python -m assignment.explore``: run the exploration's experiments.

Loads TensorFlow quietly, imports the student's ``mnist_dense.py``, loads
the data once with their ``load_data``/``normalize``, then for each
experiment trains its settings (each identical training only once), prints
one progress line per row with an ETA, and writes ``results.csv``,
``results.md`` and the plots to the output folder. It ends by saying which
file answers which exercise of ``assignment/exploration.md``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from assignment.explore import experiments as ex
from assignment.explore.text import LANGUAGES, Text, number

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SUBMISSION = REPO_ROOT / "assignment"
RESULTS_FOLDER = "exploration_results"  # inside the submission folder, graded from there
DEFAULT_SEED = 1234


def _language(argv: list[str]) -> str:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--lang", choices=LANGUAGES, default="es")
    known, _ = pre.parse_known_args(argv)
    return known.lang


def _formatter(text: Text) -> type[argparse.HelpFormatter]:
    class Formatter(argparse.RawDescriptionHelpFormatter):
        """argparse's own words ("usage:") in the chosen language."""

        def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001
            super().add_usage(usage, actions, groups, text("cli.usage") if prefix is None else prefix)

    return Formatter


def parser(text: Text) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {e.number:>2}. {e.id}" for e in ex.EXPERIMENTS)
    p = argparse.ArgumentParser(
        prog="python -m assignment.explore",
        description=textwrap.fill(text("cli.description"), 79),
        epilog=text("cli.epilog", experiments=listing),
        formatter_class=_formatter(text),
        add_help=False,
    )
    p._optionals.title = text("cli.options")
    p.add_argument("-h", "--help", action="help", help=text("cli.help"))
    p.add_argument("--quick", action="store_true", help=text("cli.quick", train=ex.QUICK.train_size, test=ex.QUICK.test_size))
    p.add_argument("--only", action="append", choices=ex.IDS, metavar="EXPERIMENT", help=text("cli.only"))
    p.add_argument("--submission", type=Path, default=DEFAULT_SUBMISSION, metavar="DIR", help=text("cli.submission"))
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=text("cli.out"))
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=text("cli.seed", seed=DEFAULT_SEED))
    p.add_argument("--lang", choices=LANGUAGES, default="es", help=text("cli.lang"))
    p.add_argument("--train-size", type=int, default=None, metavar="N", help=text("cli.train_size"))
    p.add_argument("--test-size", type=int, default=None, metavar="N", help=text("cli.test_size"))
    p.add_argument("--list", action="store_true", help=text("cli.list"))
    return p


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _short(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _say(line: str = "") -> None:
    print(line, flush=True)


class Progress:
    """One line per row: ``[ i/n] experiment  setting  result  ETA``."""

    def __init__(self, total_rows: int, total_cost: float, text: Text) -> None:
        self.total_rows = total_rows
        self.remaining_cost = total_cost
        self.done_cost = 0.0
        self.train_seconds = 0.0
        self.row = 0
        self.text = text

    def line(self, experiment: str, setting: str, result: str, cost: float = 0.0, seconds: float = 0.0) -> None:
        self.row += 1
        self.done_cost += cost
        self.remaining_cost = max(0.0, self.remaining_cost - cost)
        self.train_seconds += seconds
        eta = ""
        if self.train_seconds > 0 and self.done_cost > 0 and self.remaining_cost > 0:
            eta = "  · " + self.text("run.eta", eta=_clock(self.train_seconds / self.done_cost * self.remaining_cost))
        width = len(str(self.total_rows))
        _say(f"[{self.row:>{width}}/{self.total_rows}] {experiment:<17} {_short(setting, 40):<40} {result}{eta}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    text = Text(_language(argv))
    args = parser(text).parse_args(argv)
    if args.list:
        for e in ex.EXPERIMENTS:
            _say(f"{e.number:>2}. {e.id}")
        return 0
    return explore(args, text)


def explore(args: argparse.Namespace, text: Text) -> int:
    started = time.perf_counter()
    mode = ex.QUICK if args.quick else ex.FULL
    selected = ex.select(args.only)
    _say(text("run.header", mode=text(f"run.mode.{mode.name}"), seed=args.seed))
    _say(text("run.loading"))

    from assignment.explore import run

    run.quiet_tensorflow()
    run.use_local_mnist()
    # Heavy modules after TensorFlow is quiet (they import matplotlib, pandas).
    from assignment.explore import analysis, results

    submission = run.load_submission(args.submission, text)
    _say(text("run.submission", path=submission.path))
    if submission.error:
        _say(text("run.import_failed", path=submission.path, error=submission.error))
    data = run.load_data(submission, mode, args.train_size, args.test_size)
    n_train = len(data.y_train) if data.y_train is not None else None
    n_test = len(data.y_test) if data.y_test is not None else None
    if data.error is None:
        _say(text("run.data", train=n_train, test=n_test, epochs=mode.epochs))

    plan = [(e, s) for e in selected for s in e.settings(mode)]
    unique: dict[tuple, ex.Setting] = {}
    for _, s in plan:
        unique.setdefault(s.key(mode), s)
    out: Path = args.out or args.submission / RESULTS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    _say(text("run.count", runs=len(plan), trainings=len(unique), out=out))
    _say()

    progress = Progress(len(plan), sum(s.cost(mode) for s in unique.values()), text)
    trained: dict[tuple, tuple[run.Outcome, str, str]] = {}  # key -> outcome, experiment, label
    rows: list[analysis.Row] = []
    figures: list[analysis.Figure] = []
    interrupted = False
    try:
        for experiment in selected:
            items: list[tuple[str, run.Outcome]] = []
            for setting in experiment.settings(mode):
                label = setting.label(text)
                key = setting.key(mode)
                if key in trained:
                    outcome, first_experiment, first_label = trained[key]
                    status = text("run.reused", experiment=first_experiment, setting=first_label)
                    progress.line(experiment.id, label, status)
                else:
                    outcome = run.train(submission, data, setting, mode, args.seed, text)
                    trained[key] = (outcome, experiment.id, label)
                    if outcome.ok:
                        status = text("run.ok", accuracy=number(outcome.test_accuracy), loss=number(outcome.final_loss), seconds=outcome.train_time or 0.0)
                    else:
                        status = text("run.error", error=_short(outcome.error or "", 80))
                    progress.line(experiment.id, label, status, setting.cost(mode), outcome.train_time or 0.0)
                items.append((label, outcome))
                if experiment.analysis:
                    new_rows, new_figures = analysis.analyse(experiment, label, outcome, submission, data, text)
                    rows.extend(new_rows)
                    figures.extend(new_figures)
                else:
                    rows.append(analysis.row(experiment.id, label, outcome, analysis.training_notes(experiment.id, outcome, text)))
            figures.extend(analysis.training_figures(experiment, items, text))
    except KeyboardInterrupt:
        interrupted = True
        _say()
        _say(text("run.interrupted"))

    table = results.frame(rows)
    csv_path, md_path = out / "results.csv", out / "results.md"
    merged = False
    if args.only or interrupted:
        table, merged = results.merge(csv_path, table, {e.id for e in selected} if not interrupted else {r.experiment for r in rows})
    mode_line = text(
        "table.mode",
        mode=text(f"table.mode.{mode.name}"),
        train=n_train if n_train is not None else "—",
        test=n_test if n_test is not None else "—",
        seed=args.seed,
    )
    results.write_csv(table, csv_path)
    results.write_markdown(table, text, mode_line, merged, md_path)
    for experiment in selected:  # no stale plot from an earlier run
        for name in experiment.plots:
            (out / name).unlink(missing_ok=True)
    for figure in figures:
        try:
            figure.draw(out / figure.file)
        except Exception as error:  # noqa: BLE001 - a plot must not cost the table
            _say(text("run.plot_failed", file=figure.file, error=run.describe_error(error)))

    _say()
    _say(text("run.done", elapsed=_clock(time.perf_counter() - started)))
    _say(text("run.written", csv=csv_path, md=md_path))
    _say(text("run.map", out=out))
    drawn = {f.file for f in figures if (out / f.file).is_file()}
    for experiment in selected:
        files = [text("run.map.table", experiment=experiment.id)]
        files += [f for f in experiment.plots if f in drawn]
        _say(text("run.map.line", number=experiment.number, experiment=experiment.id, files=", ".join(files)))
    return 130 if interrupted else 0
