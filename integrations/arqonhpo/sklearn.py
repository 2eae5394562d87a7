"""Drop-in replacement for scikit-learn's ``RandomizedSearchCV`` driven by the ArqonHPO engine.

>>> from arqonhpo.sklearn import ArqonSearchCV
>>> search = ArqonSearchCV(SVC(), {"C": loguniform(1e-2, 1e3)}, n_iter=50, cv=5, random_state=0, n_jobs=2)

Same constructor, same fitted attributes, same ``cv_results_``; only the way candidates are chosen differs.
``_run_search`` runs the engine in rounds: ask a batch of candidates, cross-validate them with
``evaluate_candidates``, tell the engine ``-mean_test_score`` (scikit-learn scores grow, the engine
minimizes), repeat until ``n_iter`` candidates.

Batch size (scheduling only; which candidates to try is the engine's business). One round costs
``batch * n_splits`` fits spread over ``W = effective_n_jobs(n_jobs)`` workers, then everyone waits for the
slowest fit. Small batches let the engine learn from more results; a batch whose fits do not divide evenly
among the workers leaves cores idle at every round's end. The batch is ``W / gcd(W, n_splits)``, the
smallest number of candidates whose fits divide evenly among the workers (1 sequentially; 2 for
``n_jobs=2`` with 5 folds: 10 fits, 5 a core). While the engine is still in its probe phase, whose points do
not depend on any result, the rest of the probe design is asked in one round instead.

The schedule depends only on ``n_jobs``, the number of splits and ``n_iter``, never on measured timings:
with an int ``random_state`` the same call evaluates the same candidates every time (``n_jobs=-1`` resolves
to the machine's core count, so it can differ between machines). A timing-adaptive batch size was tried and
dropped for that reason. Rounds that grow with the results so far (a quarter of them, in whole batches: 9
rounds instead of 22 at ``n_iter=50``) were measured too and dropped: over 6-20 seeds on the three benchmark
tasks they did not raise the best CV score and lost 0.0015 on breast_cancer / HistGradientBoosting at
``n_iter=50``.

The price of rounds: every ``evaluate_candidates`` call is one joblib dispatch, whose fixed cost does not
depend on the fits: about 41-46 ms per extra round with fits that take no time on digits-sized data
(``n_jobs=2``, 5 folds, 2 candidates a round; the "Cost of a round" section of
``benchmarks/sklearn_search.py``'s report). Part of it is joblib's result loop, which polls every 10 ms
while a result is pending; the rest is the round trip to the loky workers, each task carrying the data.
Nothing in ``evaluate_candidates`` lets a caller change either. With real fits each round also waits for
its slowest fit. On searches that take a second, RandomizedSearchCV's single call is therefore faster.

Deviations from ``RandomizedSearchCV`` that a user can notice, all deliberate:

* the CV folds are drawn once per ``fit`` and reused by every round, so candidates are compared on the
  same folds even with ``KFold(shuffle=True)`` and no integer seed (``RandomizedSearchCV`` also splits once);
* if the space is finite (lists, ``randint``, stepped ranges) and smaller than ``n_iter``, only that many
  distinct candidates are tried, with ``RandomizedSearchCV``'s warning (it does so only when every value
  is a list, and otherwise repeats candidates);
* ``random_state`` seeds the engine; an int is used as the seed itself.

Two ``BaseSearchCV`` behaviours assume a single ``evaluate_candidates`` call and are bridged here (see the
"Fit failures across rounds" section below): a round in which every fit failed would raise "All the N fits
failed", so sklearn's private per-call check is wrapped (only for this search's own calls) and run once
on all fits at the end, exactly as ``RandomizedSearchCV`` runs it; and the per-call "Fitting ..." line and
non-finite-score warning are emitted once for the whole search.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import numbers
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from sklearn.model_selection import _search as _sk_search
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from arqonhpo import ArqonSolver
from arqonhpo._space.sklearn import SklearnSpace, convert_param_distributions

__all__ = ["ArqonSearchCV"]

logger = logging.getLogger(__name__)


class ArqonSearchCV(BaseSearchCV):
    """Hyper-parameter search with cross-validation, candidates proposed by the ArqonHPO engine.

    Parameters are those of :class:`sklearn.model_selection.RandomizedSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        Fitted once per candidate and fold; any scikit-learn estimator or pipeline.
    param_distributions : dict or list of dicts
        Parameter name (``clf__C`` for pipelines) -> list of values, ``scipy.stats`` ``uniform``,
        ``loguniform``/``reciprocal`` or ``randint``, or an ``arqonhpo`` ``Float``/``Int``/``Categorical``.
        A list of dicts is a choice between sub-spaces (see :mod:`arqonhpo._space.sklearn`).
    n_iter : int, default=10
        Number of candidates evaluated.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in ``RandomizedSearchCV``. With several metrics the engine optimizes the ``refit`` metric, or
        the first metric when ``refit`` is False or a callable. ``verbose >= 1`` also shows a progress bar
        (tqdm if installed) with the best score so far.
    random_state : int, RandomState instance or None, default=None
        Seed of the engine. An int is the seed; otherwise a seed is drawn from the generator.

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,
    refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As in ``RandomizedSearchCV``.
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        param_distributions: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        n_iter: int = 10,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: bool | str | Callable[..., Any] = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: int | str = "2*n_jobs",
        random_state: int | np.random.RandomState | None = None,
        error_score: float | str = np.nan,
        return_train_score: bool = False,
    ) -> None:
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    def _run_search(self, evaluate_candidates: Callable[..., dict], *, callback_ctx: Any = None) -> None:
        """Ask the engine for candidates round by round until ``n_iter`` have been evaluated."""
        space = convert_param_distributions(self.param_distributions)
        n_candidates = self._n_candidates(space)
        rounds = _Rounds(self, evaluate_candidates, callback_ctx, n_candidates)
        with rounds:
            constant = space.constant_candidate()
            if constant is not None:
                rounds.evaluate([constant])
            else:
                self._drive_engine(space, n_candidates, rounds)

    def _n_candidates(self, space: SklearnSpace) -> int:
        """``n_iter``, capped (with RandomizedSearchCV's warning) by the size of a finite space."""
        size = space.grid_size()
        if size is None or size >= self.n_iter:
            return int(self.n_iter)
        warnings.warn(
            f"The total space of parameters {size} is smaller than n_iter={self.n_iter}. Running {size} "
            "iterations. For exhaustive searches, use GridSearchCV.",
            UserWarning,
            stacklevel=3,
        )
        return size

    def _drive_engine(self, space: SklearnSpace, n_candidates: int, rounds: _Rounds) -> None:
        solver = ArqonSolver(space.engine_space, seed=_engine_seed(self.random_state), budget=n_candidates)
        asked = 0
        while asked < n_candidates:
            remaining = n_candidates - asked
            batch = max(rounds.next_batch(remaining), min(_probe_remaining(solver), remaining))
            trials = solver.ask_trials(batch)
            if not trials:  # budget spent or a finite space exhausted early
                break
            asked += len(trials)
            outcomes = rounds.evaluate([space.decode(trial.params) for trial in trials])
            for trial, score in zip(trials, outcomes, strict=True):
                if score is None:
                    solver.fail(trial.id)
                else:
                    solver.tell_trial(trial.id, -score)


def _probe_remaining(solver: Any) -> int:
    """Suggestions left in the engine's probe design, which do not depend on any result.

    The probe points are a pure function of (seed, index) (docs/python-api.md), so asking all of them in one
    round loses nothing and saves round boundaries. 0 when the engine is past its probe or does not say.
    """
    probe_size = getattr(solver, "probe_size", None)
    if getattr(solver, "phase", None) != "probe" or not isinstance(probe_size, int):
        return 0
    return max(0, probe_size - int(solver.n_asked))


def _batch_size(n_workers: int, n_splits: int) -> int:
    """Smallest number of candidates whose ``n_splits`` fits each divide evenly among the workers."""
    n_workers = max(1, int(n_workers))
    return n_workers // math.gcd(n_workers, max(1, int(n_splits)))


def _engine_seed(random_state: Any) -> int:
    """``random_state`` -> engine seed: an int as is, otherwise drawn like sklearn draws from its RNGs."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _FrozenSplits:
    """CV splitter that draws the wrapped splitter's folds once and replays them on every later call.

    ``evaluate_candidates`` calls ``cv.split`` on every round; a shuffling splitter without an integer seed
    would hand each round different folds, and scores from different rounds would not be comparable.
    The arguments (X, y and routed split metadata such as ``groups``) are the same on every call, so the
    first answer is the answer.
    """

    def __init__(self, cv: Any) -> None:
        self._cv = cv
        self._splits: list[tuple[np.ndarray, np.ndarray]] | None = None

    def split(self, X: Any, y: Any = None, **split_params: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self._splits is None:
            self._splits = list(self._cv.split(X, y, **split_params))
        return iter(self._splits)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if self._splits is not None:
            return len(self._splits)
        return int(self._cv.get_n_splits(X, y, groups))


class _Rounds:
    """One search's rounds: calls ``evaluate_candidates`` and turns its results into engine scores.

    Also papers over three behaviours of ``BaseSearchCV`` that assume a single ``evaluate_candidates``
    call, so that the user sees what ``RandomizedSearchCV`` would show: fit failures are reported once at
    the end (and a round in which every fit failed does not end the search), the non-finite-score warning
    is emitted once, and the "Fitting k folds for each of n candidates" line is printed once.
    """

    def __init__(
        self,
        search: ArqonSearchCV,
        evaluate_candidates: Callable[..., dict],
        callback_ctx: Any,
        n_candidates: int,
    ) -> None:
        self._search = search
        self._evaluate = evaluate_candidates
        self._cv = _FrozenSplits(search._checked_cv_orig)
        self._fit_log = _FitLog(search)
        self._progress = _Progress(n_candidates, enabled=search.verbose >= 1)
        self._n_candidates = n_candidates
        self._batch = _batch_size(effective_n_jobs(search.n_jobs), search.n_splits_)
        self._search_ctx = _begin_search_ctx(search, callback_ctx)
        self._results: dict[str, Any] = {}
        self._best = -math.inf
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Rounds:
        search = self._search
        if search.verbose > 0:
            n_splits = search.n_splits_
            print(
                f"Fitting {n_splits} folds for each of {self._n_candidates} candidates, totalling "
                f"{n_splits * self._n_candidates} fits"
            )
        self._stack.enter_context(_quiet_rounds(search))
        self._stack.enter_context(self._fit_log.active())
        self._stack.callback(self._progress.close)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._stack.close()
        if exc_type is None:
            self._fit_log.report(self._search.error_score)
            _warn_non_finite(self._results)
            if self._search_ctx is not None:
                self._search_ctx.call_on_fit_task_end(estimator=self._search)

    def evaluate(self, candidates: list[dict[str, Any]]) -> list[float | None]:
        """Cross-validate one round; per candidate, its score to maximize or None if it failed."""
        kwargs: dict[str, Any] = {"cv": self._cv}
        round_ctx = self._round_ctx(len(candidates))
        if round_ctx is not None:
            kwargs["callback_ctx"] = round_ctx
        self._fit_log.start_round()
        start = time.perf_counter()
        self._results = self._evaluate(candidates, **kwargs)
        logger.debug("round of %d candidates: %.3f s", len(candidates), time.perf_counter() - start)
        if round_ctx is not None:
            round_ctx.call_on_fit_task_end(estimator=self._search)
        scores = self._round_scores(len(candidates))
        self._best = max([self._best, *(s for s in scores if s is not None)])
        self._progress.update(len(candidates), self._best)
        return scores

    def next_batch(self, remaining: int) -> int:
        return max(1, min(self._batch, remaining))

    def _round_ctx(self, n_candidates: int) -> Any:
        if self._search_ctx is None:
            return None
        return self._search_ctx.subcontext(
            task_name="search-round",
            max_subtasks=n_candidates * self._search.n_splits_,
            sequential_subtasks=False,
        ).call_on_fit_task_begin(estimator=self._search)

    def _round_scores(self, n_candidates: int) -> list[float | None]:
        means = self._results.get(f"mean_test_{_optimized_metric(self._search, self._results)}")
        failed = self._fit_log.failed_candidates(n_candidates, self._search.n_splits_)
        scores: list[float | None] = []
        for i in range(n_candidates):
            value = None if means is None else float(means[len(means) - n_candidates + i])
            scores.append(None if failed[i] or value is None or not math.isfinite(value) else value)
        return scores


def _optimized_metric(search: BaseSearchCV, results: Mapping[str, Any]) -> str:
    """Name of the metric the engine optimizes: "score", the refit metric, or the first metric."""
    if "mean_test_score" in results:
        return "score"
    if isinstance(search.refit, str) and f"mean_test_{search.refit}" in results:
        return search.refit
    for key in results:  # metrics appear in scorer order
        if key.startswith("mean_test_"):
            return key[len("mean_test_") :]
    return "score"


def _begin_search_ctx(search: ArqonSearchCV, callback_ctx: Any) -> Any:
    """scikit-learn >= 1.9 callback context of the whole search (None on older versions).

    Its subtasks are the rounds, whose number depends on the engine's probe size: declared unknown (None).
    """
    if callback_ctx is None:
        return None
    return callback_ctx.subcontext(task_name="search", max_subtasks=None).call_on_fit_task_begin(
        estimator=search
    )


@contextlib.contextmanager
def _quiet_rounds(search: ArqonSearchCV) -> Iterator[None]:
    """Silence what ``evaluate_candidates`` prints or warns on every call; ``_Rounds`` says it once.

    ``verbose`` is read by ``evaluate_candidates`` only for its per-call "Fitting ..." line (per-fit
    verbosity was captured when ``fit`` started), so it is lowered for the rounds and restored after.
    """
    verbose = search.verbose
    search.verbose = 0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NON_FINITE_PREFIX, category=UserWarning)
            yield
    finally:
        search.verbose = verbose


_NON_FINITE_PREFIX = "One or more of the (test|train) scores are non-finite"


def _warn_non_finite(results: Mapping[str, Any]) -> None:
    """The non-finite-score warning of ``BaseSearchCV``, once for the whole search."""
    for key, values in results.items():
        if key.startswith(("mean_test_", "mean_train_")) and not np.all(np.isfinite(values)):
            kind = key[len("mean_") :].split("_")[0]
            warnings.warn(
                f"One or more of the {kind} scores are non-finite: {values}",
                category=UserWarning,
                stacklevel=5,
            )


# --- Fit failures across rounds ------------------------------------------------------------------------
#
# ``evaluate_candidates`` passes every round's fit results to
# ``sklearn.model_selection._search._warn_or_raise_about_fit_failures``, which raises "All the N fits
# failed" when every fit *of that call* failed. RandomizedSearchCV makes one call, so it raises only if
# every candidate failed; a search in rounds would die on the first unlucky round. The module attribute is
# replaced (once, idempotently) by a wrapper that, only for calls made by the evaluate_candidates of an
# ArqonSearchCV whose rounds are running, records the results instead; at the end of the search the stock
# function runs once on all of them, so warnings and the final error are RandomizedSearchCV's. Every other
# caller (GridSearchCV, a search nested inside our estimator, other threads) reaches the stock function.
# The recorded per-fit ``fit_error`` also tells which candidates failed, which a numeric ``error_score``
# would otherwise hide.

_STOCK_CHECK_NAME = "_warn_or_raise_about_fit_failures"
_ACTIVE_LOG: contextvars.ContextVar[_FitLog | None] = contextvars.ContextVar("arqon_fit_log", default=None)
_PATCH_LOCK = threading.Lock()


def _install_fit_failure_hook() -> bool:
    """Wrap sklearn's per-call fit-failure check; False if this sklearn version has no such function."""
    with _PATCH_LOCK:
        current = getattr(_sk_search, _STOCK_CHECK_NAME, None)
        if current is None:
            return False
        if getattr(current, "_arqon_stock", None) is None:
            setattr(_sk_search, _STOCK_CHECK_NAME, _make_hook(current))
        return True


def _make_hook(stock: Callable[[list, Any], None]) -> Callable[[list, Any], None]:
    def check_fit_failures(results: list, error_score: Any) -> None:
        log = _ACTIVE_LOG.get()
        if log is not None and log.owns_caller(sys._getframe(1)):
            log.record(results)
            return
        stock(results, error_score)

    check_fit_failures._arqon_stock = stock  # type: ignore[attr-defined]
    return check_fit_failures


def _stock_check() -> Callable[[list, Any], None]:
    current = getattr(_sk_search, _STOCK_CHECK_NAME)
    return getattr(current, "_arqon_stock", current)


class _FitLog:
    """Fit results of one search, recorded round by round by the hook above."""

    def __init__(self, search: ArqonSearchCV) -> None:
        self._search = search
        self._all: list[dict[str, Any]] = []
        self._round: list[dict[str, Any]] | None = None
        self._hooked = False

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        self._hooked = _install_fit_failure_hook()
        token = _ACTIVE_LOG.set(self if self._hooked else None)
        try:
            yield
        finally:
            _ACTIVE_LOG.reset(token)

    def owns_caller(self, frame: Any) -> bool:
        # The caller is BaseSearchCV.fit's evaluate_candidates closure; its free variable `self` is the
        # search. Comparing it keeps nested searches (run in this thread by a sequential backend) apart.
        return frame.f_code.co_name == "evaluate_candidates" and frame.f_locals.get("self") is self._search

    def start_round(self) -> None:
        self._round = None

    def record(self, results: list[dict[str, Any]]) -> None:
        self._round = results
        self._all.extend(results)
        _unify_error_scores(self._all, self._search.error_score)

    def failed_candidates(self, n_candidates: int, n_splits: int) -> list[bool]:
        """Per candidate of the last round: did any of its fits fail? (All False without the hook.)"""
        if self._round is None or len(self._round) != n_candidates * n_splits:
            return [False] * n_candidates
        # evaluate_candidates orders fits candidate-major: candidate i owns fits i*k .. i*k + k - 1.
        return [
            any(fit.get("fit_error") is not None for fit in self._round[i * n_splits : (i + 1) * n_splits])
            for i in range(n_candidates)
        ]

    def report(self, error_score: Any) -> None:
        """RandomizedSearchCV's single warning or error about fit failures, over the whole search."""
        if self._all:
            _stock_check()(self._all, error_score)


def _unify_error_scores(fits: list[dict[str, Any]], error_score: Any) -> None:
    """Give failed fits the metric-dict shape of successful ones (callable multi-metric scoring only).

    With a callable ``scoring`` the failed fits of a call get a dict of error scores only if some fit in
    the same call succeeded; a round that failed entirely keeps plain floats, which would break the
    aggregation of later rounds. The recorded dicts are the ones ``evaluate_candidates`` keeps.
    """
    template = next(
        (
            fit["test_scores"]
            for fit in fits
            if fit.get("fit_error") is None and isinstance(fit.get("test_scores"), dict)
        ),
        None,
    )
    if template is None:
        return
    for fit in fits:
        if fit.get("fit_error") is not None and not isinstance(fit.get("test_scores"), dict):
            fit["test_scores"] = {name: error_score for name in template}
            if "train_scores" in fit:
                fit["train_scores"] = {name: error_score for name in template}


# --- Progress bar -------------------------------------------------------------------------------------


class _Progress:
    """``verbose >= 1``: candidates done and best score so far; tqdm if installed, else plain lines."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._total, self._done, self._bar = total, 0, None
        self._enabled = enabled
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=total, desc="ArqonSearchCV", unit="cand")

    def update(self, n: int, best: float) -> None:
        if not self._enabled:
            return
        self._done += n
        shown = f"{best:.4g}" if math.isfinite(best) else "n/a"
        if self._bar is not None:
            self._bar.set_postfix_str(f"best={shown}", refresh=False)
            self._bar.update(n)
        else:
            print(
                f"[ArqonSearchCV] {self._done}/{self._total} candidates, best score {shown}", file=sys.stderr
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
