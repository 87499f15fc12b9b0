"""`models train` / `models evaluate` progress bars end full: folds done == folds, never 7/6.

walk-forward calls its `FoldProgress` with the fold number counted from 1 and the final fit its
epoch `Progress` with the epoch counted from 1; the CLI's counters take those counts as they
are. The bars are rich `Progress` tasks that are never started (nothing is drawn).
"""

from __future__ import annotations

from cli.common import progress_bar
from cli.models import epoch_counter, fold_counter
from tests.unit.forecast.helpers import TINY, synthetic_bars
from tools.forecast import FoldInfo, train_model, walk_forward


def test_six_fold_calls_end_at_six_of_six() -> None:
    bars = progress_bar("info")
    task = bars.add_task("folds", total=None, info="")
    on_fold = fold_counter(bars, task)
    for number in range(1, 7):  # what walk_forward passes for 6 folds
        on_fold(number, 6)
        assert bars.tasks[task].completed == number
    assert bars.tasks[task].completed == bars.tasks[task].total == 6
    assert bars.tasks[task].finished


def test_a_real_walk_forward_fills_the_fold_bar_exactly() -> None:
    data = synthetic_bars(420, seed=11)
    bars = progress_bar("info")
    task = bars.add_task("folds", total=None, info="")
    on_fold = fold_counter(bars, task)
    calls: list[tuple[int, int]] = []

    def progress(
        number: int, total: int, fold: FoldInfo
    ) -> None:  # as agent.services.training adapts it
        calls.append((number, total))
        assert fold.index == number
        on_fold(number, total)

    report = walk_forward(
        data,
        TINY,
        start=data.index[360],
        end=data.index[-1],
        horizons=(1,),
        refit_every=20,
        progress=progress,
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert bars.tasks[task].completed == bars.tasks[task].total == len(report.folds)


def test_the_epoch_bar_counts_the_epochs_run() -> None:
    data = synthetic_bars(400)
    bars = progress_bar("info")
    task = bars.add_task("epochs", total=None, info="", visible=False)
    trained = train_model(
        data, TINY, train_end=data.index[299], progress=epoch_counter(bars, task, TINY.epochs)
    )
    state = bars.tasks[task]
    assert state.total == TINY.epochs and state.visible
    assert state.completed == trained.epochs_run <= TINY.epochs
