"""ArqonSearchCV as a drop-in for RandomizedSearchCV: one import and one class name change.

    python examples/sklearn_quickstart.py

Tunes an SVC on the digits dataset twice with the same arguments, the same folds and the same number of
fits, and prints what each search found.
"""

from __future__ import annotations

import time

from arqonhpo.sklearn import ArqonSearchCV  # the one new import
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, train_test_split
from sklearn.svm import SVC


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    param_distributions = {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)}
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    for search_cls in (RandomizedSearchCV, ArqonSearchCV):  # <- the only change is the class name
        search = search_cls(SVC(), param_distributions, n_iter=20, cv=cv, random_state=0, n_jobs=2)
        start = time.perf_counter()
        search.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        print(
            f"{search_cls.__name__:18s} best CV accuracy {search.best_score_:.4f}  "
            f"held-out {search.score(X_test, y_test):.4f}  {elapsed:5.1f}s  "
            f"C={search.best_params_['C']:.3g} gamma={search.best_params_['gamma']:.3g}"
        )

    # Everything RandomizedSearchCV offers is there: cv_results_, best_estimator_, refit, multi-metric, ...
    n_candidates = len(search.cv_results_["params"])
    print(f"{n_candidates} candidates in cv_results_, rank 1 at index {search.best_index_}")


if __name__ == "__main__":
    main()
