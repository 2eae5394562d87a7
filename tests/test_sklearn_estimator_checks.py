"""scikit-learn's estimator checks on ArqonSearchCV, with the instances sklearn uses for RandomizedSearchCV.

RandomizedSearchCV is checked (sklearn/utils/_test_common/instance_generator.py) on Ridge, LogisticRegression
and two PCA pipelines, cv=2, error_score="raise", and has two expected failures; ArqonSearchCV gets the same
instances and the same expected failures, nothing more.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("sklearn")

from arqonhpo.sklearn import ArqonSearchCV
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

# The expected failures sklearn declares for RandomizedSearchCV (PER_ESTIMATOR_XFAIL_CHECKS).
RANDOMIZED_SEARCH_XFAILS = {
    "check_supervised_y_2d": "DataConversionWarning not caught",
    "check_requires_y_none": "Doesn't fail gracefully",
}


def _instances() -> list[ArqonSearchCV]:
    common: dict[str, Any] = dict(cv=2, error_score="raise", random_state=0)
    return [
        ArqonSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, **common),
        ArqonSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, **common),
        ArqonSearchCV(Pipeline([("pca", PCA()), ("ridge", Ridge())]), {"ridge__alpha": [0.1, 1.0]}, **common),
        ArqonSearchCV(
            Pipeline([("pca", PCA()), ("logisticregression", LogisticRegression())]),
            {"logisticregression__C": [0.1, 1.0]},
            **common,
        ),
    ]


@pytest.mark.filterwarnings("ignore:The total space of parameters:UserWarning")
@parametrize_with_checks(_instances(), expected_failed_checks=lambda est: RANDOMIZED_SEARCH_XFAILS)
def test_sklearn_estimator_checks(estimator: ArqonSearchCV, check: Any) -> None:
    check(estimator)
