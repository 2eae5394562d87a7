"""ArqonSearchCV: drop-in behaviour of RandomizedSearchCV, engine driving, spaces, failures."""

from __future__ import annotations

import inspect
import math
import sys
import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
scipy_stats = pytest.importorskip("scipy.stats")

import arqonhpo  # noqa: E402
import arqonhpo.sklearn as arqon_sklearn  # noqa: E402
from arqonhpo import ArqonSolver, Categorical, Float, Int, SearchSpaceError  # noqa: E402
from arqonhpo._space.sklearn import SUBSPACE_PARAM, convert_param_distributions  # noqa: E402
from arqonhpo.sklearn import ArqonSearchCV, _batch_size  # noqa: E402
from scipy.stats import loguniform, norm, randint, uniform  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.exceptions import FitFailedWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import GroupKFold, KFold, RandomizedSearchCV  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


class SpySolver:
    """Wraps the real solver and records every ask and tell the adapter makes."""

    instances: list[SpySolver] = []

    def __init__(self, space: dict, **kwargs: Any) -> None:
        self.space, self.kwargs = space, kwargs
        self.solver = ArqonSolver(space, **kwargs)
        self.batches: list[int] = []
        self.asked_ids: list[int] = []
        self.told: dict[int, float] = {}
        self.failed: list[int] = []
        SpySolver.instances.append(self)

    def __getattr__(self, name: str) -> Any:  # introspection (phase, probe_size, ...) goes to the solver
        return getattr(self.solver, name)

    def ask_trials(self, n: int) -> list:
        trials = self.solver.ask_trials(n)
        self.batches.append(len(trials))
        self.asked_ids.extend(t.id for t in trials)
        return trials

    def tell_trial(self, trial_id: int, value: float) -> None:
        self.told[trial_id] = value
        self.solver.tell_trial(trial_id, value)

    def fail(self, trial_id: int) -> None:
        self.failed.append(trial_id)
        self.solver.fail(trial_id)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> type[SpySolver]:
    SpySolver.instances = []
    monkeypatch.setattr(arqon_sklearn, "ArqonSolver", SpySolver)
    return SpySolver


class ToyRegressor(RegressorMixin, BaseEstimator):
    """Its score is a known function of its parameters (peak at C=10, g=0.3), whatever the data."""

    def __init__(self, C: float = 1.0, g: float = 0.0) -> None:
        self.C = C
        self.g = g

    def fit(self, X: Any, y: Any) -> ToyRegressor:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.zeros(len(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return -((math.log10(self.C) - 1.0) ** 2) - (self.g - 0.3) ** 2


class FlakyClassifier(ClassifierMixin, BaseEstimator):
    """Majority-class classifier whose fit raises when ``x > fail_above``."""

    def __init__(self, x: float = 0.0, fail_above: float = 0.5) -> None:
        self.x = x
        self.fail_above = fail_above

    def fit(self, X: Any, y: Any) -> FlakyClassifier:
        if self.x > self.fail_above:
            raise ValueError("flaky fit failed on purpose")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.full(len(X), self.majority_)


# --- drop-in contract --------------------------------------------------------------------------------------


def test_constructor_matches_randomized_search_cv() -> None:
    ours = inspect.signature(ArqonSearchCV.__init__).parameters
    theirs = inspect.signature(RandomizedSearchCV.__init__).parameters
    assert list(ours) == list(theirs)
    for name, param in theirs.items():
        assert ours[name].kind == param.kind, name
        default = ours[name].default
        if isinstance(param.default, float) and math.isnan(param.default):
            assert isinstance(default, float) and math.isnan(default)
        else:
            assert default == param.default, name


def test_fitted_attributes_and_cv_results_match(iris: tuple) -> None:
    X, y = iris
    dist = {"C": loguniform(1e-2, 1e2), "kernel": ["rbf", "linear"]}
    kwargs: dict[str, Any] = dict(n_iter=6, cv=3, random_state=0, return_train_score=True)
    ours = ArqonSearchCV(SVC(), dist, **kwargs).fit(X, y)
    ref = RandomizedSearchCV(SVC(), dist, **kwargs).fit(X, y)

    assert sorted(ours.cv_results_) == sorted(ref.cv_results_)
    for attr in (
        "best_params_",
        "best_score_",
        "best_estimator_",
        "best_index_",
        "n_splits_",
        "refit_time_",
        "scorer_",
        "multimetric_",
        "classes_",
        "n_features_in_",
    ):
        assert hasattr(ours, attr), attr
    assert ours.n_splits_ == 3 and ours.multimetric_ is False
    results = ours.cv_results_
    assert len(results["params"]) == 6
    means = results["mean_test_score"]
    assert ours.best_score_ == pytest.approx(means.max())
    assert ours.best_params_ == results["params"][ours.best_index_]
    assert results["rank_test_score"][ours.best_index_] == 1
    # ranks are global over all rounds: rank = 1 + number of strictly better candidates
    for i, m in enumerate(means):
        assert results["rank_test_score"][i] == 1 + int(np.sum(means > m))
    np.testing.assert_allclose(means, np.mean([results[f"split{k}_test_score"] for k in range(3)], axis=0))
    assert ours.best_estimator_.get_params()["C"] == ours.best_params_["C"]
    assert ours.score(X, y) == pytest.approx(ours.best_estimator_.score(X, y))
    assert ours.predict(X[:5]).shape == (5,)


def test_clone_get_set_params() -> None:
    search = ArqonSearchCV(SVC(), {"C": [1, 2]}, n_iter=3, random_state=1)
    cloned = clone(search)
    assert cloned.get_params()["n_iter"] == 3
    assert cloned.get_params()["estimator__C"] == 1.0
    cloned.set_params(n_iter=5, estimator__C=2.0)
    assert cloned.n_iter == 5 and cloned.estimator.C == 2.0
    assert search.n_iter == 3 and search.estimator.C == 1.0


def test_invalid_n_iter_rejected_by_parameter_validation(iris: tuple) -> None:
    with pytest.raises(ValueError, match="n_iter"):
        ArqonSearchCV(SVC(), {"C": [1, 2]}, n_iter=0).fit(*iris)


# --- engine driving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_workers", "n_splits", "expected"), [(1, 5, 1), (2, 5, 2), (2, 4, 1), (4, 6, 2), (8, 5, 8), (3, 3, 1)]
)
def test_batch_size_fills_workers_evenly(n_workers: int, n_splits: int, expected: int) -> None:
    batch = _batch_size(n_workers, n_splits)
    assert batch == expected
    assert (batch * n_splits) % n_workers == 0


@pytest.mark.parametrize(("n_jobs", "cv", "unit"), [(None, 3, 1), (2, 3, 2), (2, 4, 1)])
def test_rounds_follow_n_jobs_and_tell_negated_scores(
    spy: type[SpySolver], iris: tuple, n_jobs: int | None, cv: int, unit: int
) -> None:
    X, y = iris
    search = ArqonSearchCV(
        SVC(), {"C": loguniform(1e-3, 1e2)}, n_iter=7, cv=cv, n_jobs=n_jobs, random_state=0
    )
    search.fit(X, y)
    (solver,) = spy.instances
    assert solver.kwargs["budget"] == 7
    assert solver.kwargs["seed"] == 0
    batches = solver.batches
    probe = solver.solver.probe_size
    # the probe design does not depend on results: it is asked in one round; later rounds fill the workers
    first = max(unit, min(probe, 7))
    rest = 7 - first
    assert batches == [first] + [unit] * (rest // unit) + ([rest % unit] if rest % unit else [])
    means = search.cv_results_["mean_test_score"]
    assert len(means) == 7
    for i, trial_id in enumerate(solver.asked_ids):
        assert solver.told[trial_id] == pytest.approx(-means[i])


def test_parallel_search_is_reproducible_for_a_fixed_seed(iris: tuple) -> None:
    # the round schedule depends on n_jobs, folds and n_iter only, never on timings
    X, y = iris
    dist = {"C": loguniform(1e-2, 1e2), "gamma": loguniform(1e-3, 1e1)}

    def params() -> list[dict]:
        search = ArqonSearchCV(SVC(), dist, n_iter=9, cv=3, n_jobs=2, random_state=7)
        return search.fit(X, y).cv_results_["params"]

    assert params() == params()


def test_engine_finds_known_optimum_better_than_random() -> None:
    # The toy score peaks at C=10, g=0.3; a sign error in the tells would make the engine *avoid* the peak.
    X, y = np.zeros((20, 2)), np.zeros(20)
    dist = {"C": loguniform(1e-3, 1e3), "g": uniform(0, 1)}
    ours, ref = [], []
    for seed in range(3):
        kw: dict[str, Any] = dict(n_iter=40, cv=2, random_state=seed)
        ours.append(ArqonSearchCV(ToyRegressor(), dist, **kw).fit(X, y).best_score_)
        ref.append(RandomizedSearchCV(ToyRegressor(), dist, **kw).fit(X, y).best_score_)
    assert np.mean(ours) >= np.mean(ref)


def test_same_seed_same_candidates_different_seed_different(iris: tuple) -> None:
    X, y = iris
    dist = {"C": loguniform(1e-2, 1e2), "gamma": loguniform(1e-3, 1e1)}

    def params(seed: int) -> list[dict]:
        return ArqonSearchCV(SVC(), dist, n_iter=4, cv=2, random_state=seed).fit(X, y).cv_results_["params"]

    assert params(3) == params(3)
    assert params(3) != params(4)
    rng_params = ArqonSearchCV(SVC(), dist, n_iter=4, cv=2, random_state=np.random.RandomState(3))
    assert len(rng_params.fit(X, y).cv_results_["params"]) == 4


# --- search spaces --------------------------------------------------------------------------------


def _sample(space: dict, n: int = 64) -> list[dict]:
    solver = ArqonSolver(space, seed=0, budget=n)
    return [t.params for t in solver.ask_trials(n)]


def test_scipy_distributions_map_to_exact_bounds() -> None:
    space = convert_param_distributions(
        {"u": uniform(2, 3), "lu": loguniform(1e-3, 1e1), "ri": randint(1, 4), "cat": ["a", None, 3]}
    ).engine_space
    assert space["lu"] == Float(1e-3, 1e1, log=True) and space["u"] == Float(2.0, 5.0)
    assert space["ri"] == Int(1, 3)
    scaled = convert_param_distributions({"r": scipy_stats.reciprocal(1, 100, scale=2)}).engine_space
    assert scaled["r"] == Float(2.0, 200.0, log=True)
    assert isinstance(space["u"], Float) and isinstance(space["lu"], Float)
    assert isinstance(space["ri"], Int) and isinstance(space["cat"], Categorical)
    points = _sample(space)
    us, lus, ris = ([p[k] for p in points] for k in ("u", "lu", "ri"))
    assert all(2 <= u <= 5 for u in us)
    assert all(1e-3 <= v <= 1e1 for v in lus)
    # log scale: about as many draws below 0.1 (the geometric midpoint) as above
    assert 16 <= sum(v < 0.1 for v in lus) <= 48
    assert set(ris) == {1, 2, 3} and all(isinstance(v, int) for v in ris)  # randint's high is exclusive
    assert {p["cat"] for p in points} == {"a", None, 3}


def test_constants_and_degenerate_ranges_bypass_the_engine() -> None:
    space = convert_param_distributions({"a": [7], "b": randint(3, 4), "c": [1, 2]})
    assert list(space.engine_space) == ["c"]
    assert space.decode({"c": 2}) == {"a": 7, "b": 3, "c": 2}


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (norm(), SearchSpaceError, r"'p'.*scipy.stats.norm"),
        (loguniform(1, 10, loc=1), SearchSpaceError, r"'p'.*loc"),
        ("abc", TypeError, "'p'"),
        (3.0, TypeError, "'p'"),
        ([], ValueError, "'p'.*empty"),
    ],
)
def test_unsupported_values_are_rejected_clearly(value: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        convert_param_distributions({"p": value})


def test_unsupported_distribution_fails_fit_with_clear_error(iris: tuple) -> None:
    with pytest.raises(ValueError, match=r"scipy\.stats\.expon"):
        ArqonSearchCV(SVC(), {"C": scipy_stats.expon()}, n_iter=2, cv=2).fit(*iris)


def test_arqon_distributions_pass_through_with_log_and_step(iris: tuple) -> None:
    X, y = iris
    dist = {
        "n_neighbors": Int(1, 31, step=2),
        "leaf_size": Int(2, 200, log=True),
        "weights": Categorical(["uniform", "distance"]),
    }
    search = ArqonSearchCV(KNeighborsClassifier(), dist, n_iter=8, cv=2, random_state=0).fit(X, y)
    for params in search.cv_results_["params"]:
        assert params["n_neighbors"] % 2 == 1 and 1 <= params["n_neighbors"] <= 31
        assert isinstance(params["leaf_size"], int) and 2 <= params["leaf_size"] <= 200
        assert params["weights"] in ("uniform", "distance")
    stepped = _sample(convert_param_distributions({"s": Float(0.5, 2.0, step=0.5)}).engine_space, 16)
    assert {p["s"] for p in stepped} <= {0.5, 1.0, 1.5, 2.0}


def test_pipeline_parameter_names(iris: tuple) -> None:
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    search = ArqonSearchCV(pipe, {"clf__C": loguniform(1e-2, 1e2)}, n_iter=4, cv=2, random_state=0).fit(X, y)
    assert set(search.best_params_) == {"clf__C"}
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]


def test_list_of_dicts_is_a_choice_between_subspaces(iris: tuple) -> None:
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    dists = [
        {"clf": [SVC()], "clf__C": loguniform(1e-2, 1e2), "clf__gamma": loguniform(1e-3, 1e1)},
        {"clf": [LogisticRegression(max_iter=500)], "clf__C": loguniform(1e-2, 1e2)},
    ]
    space = convert_param_distributions(dists).engine_space
    assert SUBSPACE_PARAM in space and len(space) == 4  # selector + 2 + 1 namespaced parameters
    search = ArqonSearchCV(pipe, dists, n_iter=10, cv=2, random_state=0).fit(X, y)
    kinds = set()
    for params in search.cv_results_["params"]:
        if isinstance(params["clf"], SVC):
            assert set(params) == {"clf", "clf__C", "clf__gamma"}
        else:
            assert set(params) == {"clf", "clf__C"}  # gamma of the SVC branch is dropped
        kinds.add(type(params["clf"]).__name__)
    assert kinds == {"SVC", "LogisticRegression"}
    gamma = search.cv_results_["param_clf__gamma"]
    is_svc = np.array([isinstance(p["clf"], SVC) for p in search.cv_results_["params"]])
    np.testing.assert_array_equal(np.ma.getmaskarray(gamma), ~is_svc)
    assert type(search.best_estimator_.named_steps["clf"]).__name__ in kinds


def test_finite_space_capped_with_randomized_search_warning(spy: type[SpySolver], iris: tuple) -> None:
    with pytest.warns(UserWarning, match="total space of parameters 3 is smaller than n_iter=10"):
        search = ArqonSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, n_iter=10, cv=2).fit(*iris)
    params = [p["C"] for p in search.cv_results_["params"]]
    assert sorted(params) == [0.1, 1.0, 10.0]
    assert spy.instances[0].kwargs["budget"] == 3


def test_space_of_constants_evaluates_one_candidate(iris: tuple) -> None:
    with pytest.warns(UserWarning, match="total space of parameters 1"):
        search = ArqonSearchCV(SVC(), {"C": [2.0]}, n_iter=5, cv=2).fit(*iris)
    assert search.cv_results_["params"] == [{"C": 2.0}]
    with pytest.warns(UserWarning, match="total space of parameters 1"):
        assert ArqonSearchCV(SVC(), {}, n_iter=5, cv=2).fit(*iris).best_params_ == {}


# --- CV folds -------------------------------------------------------------------------------------


class CountingKFold(KFold):
    calls = 0

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        CountingKFold.calls += 1
        return super().split(X, y, groups)


def test_same_folds_every_round_with_unseeded_shuffle() -> None:
    # An irrelevant parameter makes every candidate score the same *on the same folds*; with imbalanced
    # classes, a majority-class model's fold accuracy depends on which samples the fold holds.
    X, y = make_classification(n_samples=90, weights=[0.7], random_state=0)
    CountingKFold.calls = 0
    cv = CountingKFold(n_splits=3, shuffle=True)  # no random_state: new folds on every split() call
    search = ArqonSearchCV(
        FlakyClassifier(fail_above=2.0), {"x": uniform(0, 1)}, n_iter=6, cv=cv, random_state=0
    )
    search.fit(X, y)
    assert CountingKFold.calls == 1
    for k in range(3):
        assert len(set(search.cv_results_[f"split{k}_test_score"])) == 1


def test_groups_are_routed_to_the_splitter(iris: tuple) -> None:
    X, y = iris
    groups = np.arange(len(y)) % 5
    search = ArqonSearchCV(
        SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=3, cv=GroupKFold(5), random_state=0
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == 5
    with pytest.raises(ValueError, match="groups"):
        ArqonSearchCV(LogisticRegression(), {"C": [1.0, 2.0]}, n_iter=2, cv=GroupKFold(5)).fit(X, y)


def test_sample_weight_reaches_the_estimator(iris: tuple) -> None:
    X, y = iris
    weights = np.where(y == 0, 0.0, 1.0)
    search = ArqonSearchCV(SVC(), {"C": [0.5, 1.0]}, n_iter=2, cv=3, random_state=0)
    search.fit(X, y, sample_weight=weights)
    assert hasattr(search, "best_estimator_")


# --- scoring --------------------------------------------------------------------------------------


def test_multimetric_with_refit_name_optimizes_that_metric(spy: type[SpySolver], iris: tuple) -> None:
    X, y = iris
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    kwargs: dict[str, Any] = dict(n_iter=4, cv=3, random_state=0, scoring=scoring, return_train_score=True)
    dist = {"C": loguniform(1e-3, 1e2)}
    ours = ArqonSearchCV(SVC(), dist, refit="f1", **kwargs).fit(X, y)
    ref = RandomizedSearchCV(SVC(), dist, refit="f1", **kwargs).fit(X, y)
    assert sorted(ours.cv_results_) == sorted(ref.cv_results_)
    assert ours.multimetric_ is True and set(ours.scorer_) == {"acc", "f1"}
    assert ours.best_score_ == pytest.approx(ours.cv_results_["mean_test_f1"].max())
    solver = spy.instances[0]
    for i, trial_id in enumerate(solver.asked_ids):
        assert solver.told[trial_id] == pytest.approx(-ours.cv_results_["mean_test_f1"][i])


def test_multimetric_refit_false_and_callable(iris: tuple) -> None:
    X, y = iris
    scoring = ["accuracy", "f1_macro"]
    dist = {"C": loguniform(1e-3, 1e2)}
    no_refit = ArqonSearchCV(SVC(), dist, n_iter=3, cv=2, scoring=scoring, refit=False)
    no_refit.fit(X, y)
    assert not hasattr(no_refit, "best_estimator_") and not hasattr(no_refit, "best_index_")

    def pick_last(results: dict) -> int:
        return len(results["params"]) - 1

    search = ArqonSearchCV(SVC(), dist, n_iter=3, cv=2, scoring=scoring, refit=pick_last, random_state=0).fit(
        X, y
    )
    assert search.best_index_ == 2 and not hasattr(search, "best_score_")
    assert search.best_params_ == search.cv_results_["params"][2]


def test_multimetric_requires_a_valid_refit(iris: tuple) -> None:
    with pytest.raises(ValueError, match="multi-metric"):
        ArqonSearchCV(SVC(), {"C": [1.0, 2.0]}, scoring=["accuracy", "f1_macro"], n_iter=2, cv=2).fit(*iris)


# --- failures -------------------------------------------------------------------------------------


def test_failed_candidates_get_error_score_and_are_told_as_failures(
    spy: type[SpySolver], iris: tuple
) -> None:
    X, y = iris
    search = ArqonSearchCV(
        FlakyClassifier(), {"x": uniform(0, 1)}, n_iter=12, cv=2, random_state=0, error_score=-1.0
    )
    with pytest.warns(FitFailedWarning) as record:
        search.fit(X, y)
    assert len([w for w in record if issubclass(w.category, FitFailedWarning)]) == 1  # once, not per round
    solver = spy.instances[0]
    results = search.cv_results_
    assert len(results["params"]) == 12
    for i, trial_id in enumerate(solver.asked_ids):
        if results["params"][i]["x"] > 0.5:
            assert trial_id in solver.failed and trial_id not in solver.told
            assert results["mean_test_score"][i] == -1.0
        else:
            assert solver.told[trial_id] == pytest.approx(-results["mean_test_score"][i])
    assert search.best_params_["x"] <= 0.5


def test_round_of_only_failures_does_not_end_the_search(iris: tuple) -> None:
    # n_jobs=None and 2 folds: one candidate per round, so any failing candidate is a fully failed round.
    X, y = iris
    search = ArqonSearchCV(
        FlakyClassifier(fail_above=0.3), {"x": uniform(0, 1)}, n_iter=10, cv=2, random_state=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert len(means) == 10
    assert np.isnan(means).any() and np.isfinite(means).any()
    assert np.isfinite(search.best_score_)
    assert search.cv_results_["rank_test_score"][np.isnan(means)].min() == np.isfinite(means).sum() + 1


def test_all_candidates_failing_raises_like_randomized_search(iris: tuple) -> None:
    X, y = iris
    dist = {"x": uniform(0.6, 0.4)}
    with pytest.raises(ValueError, match="All the 8 fits failed") as ours:
        ArqonSearchCV(FlakyClassifier(), dist, n_iter=4, cv=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="All the 8 fits failed") as ref:
        RandomizedSearchCV(FlakyClassifier(), dist, n_iter=4, cv=2, random_state=0).fit(X, y)
    assert str(ours.value) == str(ref.value)


def test_error_score_raise_propagates(iris: tuple) -> None:
    with pytest.raises(ValueError, match="flaky fit failed"):
        ArqonSearchCV(FlakyClassifier(), {"x": uniform(0.6, 0.4)}, n_iter=2, cv=2, error_score="raise").fit(
            *iris
        )


def test_nested_stock_search_still_raises_on_its_own_failures(iris: tuple) -> None:
    # A GridSearchCV fitted inside our rounds (sequential backend, same thread) keeps its own behaviour.
    from sklearn.model_selection import GridSearchCV

    inner = GridSearchCV(FlakyClassifier(x=0.9), {"fail_above": [0.1, 0.2]}, cv=2)
    outer = ArqonSearchCV(inner, {"estimator__x": [0.8, 0.9]}, n_iter=2, cv=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="All the 4 fits failed"):
            outer.fit(*iris)


def test_non_finite_score_warning_emitted_once(iris: tuple) -> None:
    X, y = iris
    search = ArqonSearchCV(
        FlakyClassifier(fail_above=0.4), {"x": uniform(0, 1)}, n_iter=8, cv=2, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    non_finite = [w for w in caught if "non-finite" in str(w.message)]
    assert len(non_finite) == 1


# --- verbosity ------------------------------------------------------------------------------------


def test_verbose_progress_bar_shows_best_score(iris: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    X, y = iris
    ArqonSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=4, cv=2, verbose=1, random_state=0).fit(X, y)
    out, err = capsys.readouterr()
    assert out.count("Fitting 2 folds for each of 4 candidates, totalling 8 fits") == 1
    assert "best" in err and ("4/4" in err)


def test_progress_without_tqdm_prints_plain_lines(
    iris: tuple, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes `from tqdm.auto import tqdm` fail
    X, y = iris
    ArqonSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=3, cv=2, verbose=1, random_state=0).fit(X, y)
    _, err = capsys.readouterr()
    assert "[ArqonSearchCV] 3/3 candidates, best score 0." in err


def test_silent_by_default(iris: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    ArqonSearchCV(SVC(), {"C": [1.0, 2.0]}, n_iter=2, cv=2).fit(*iris)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_parallel_n_jobs_two(iris: tuple) -> None:
    X, y = iris
    search = ArqonSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=6, cv=3, n_jobs=2, random_state=0)
    assert len(search.fit(X, y).cv_results_["params"]) == 6
    assert isinstance(arqonhpo.ArqonSolver, type)


def test_regressor_search(iris: tuple) -> None:
    X, y = iris
    search = ArqonSearchCV(Ridge(), {"alpha": loguniform(1e-3, 1e2)}, n_iter=4, cv=3, random_state=0)
    search.fit(X, y.astype(float))
    assert search.best_score_ == pytest.approx(search.cv_results_["mean_test_score"].max())
