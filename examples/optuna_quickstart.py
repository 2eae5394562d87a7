"""Tune a scikit-learn model with Optuna, driven by ArqonHPO: the sampler line is the only change.

    python examples/optuna_quickstart.py                  # ArqonSampler
    python examples/optuna_quickstart.py --sampler tpe    # Optuna's default TPESampler, for comparison

A support-vector classifier (with its preprocessing) on the bundled digits dataset, scored by 3-fold
cross-validated accuracy. Everything else you do with Optuna (pruners, storages, n_jobs, enqueue_trial,
constraints, the dashboard) keeps working unchanged.
"""

from __future__ import annotations

import argparse
import time

import optuna
from arqonhpo import ArqonSampler
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

X, y = load_digits(return_X_y=True)
CV = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)


def objective(trial: optuna.Trial) -> float:
    scaler = trial.suggest_categorical("scaler", ["standard", "minmax", None])
    kernel = trial.suggest_categorical("kernel", ["rbf", "poly", "sigmoid"])
    svc = SVC(
        C=trial.suggest_float("C", 1e-2, 1e3, log=True),
        gamma=trial.suggest_float("gamma", 1e-5, 1e0, log=True),
        kernel=kernel,
        degree=trial.suggest_int("degree", 2, 5) if kernel == "poly" else 3,  # only poly has a degree
    )
    steps = {"standard": [StandardScaler()], "minmax": [MinMaxScaler()], None: []}[scaler]
    return float(cross_val_score(make_pipeline(*steps, svc), X, y, cv=CV, scoring="accuracy").mean())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sampler", choices=["arqon", "tpe"], default="arqon")
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    if args.sampler == "arqon":
        sampler: optuna.samplers.BaseSampler = ArqonSampler(seed=0)  # <- the one line that changes
    else:
        sampler = optuna.samplers.TPESampler(seed=0)

    study = optuna.create_study(direction="maximize", sampler=sampler)
    start = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    elapsed = time.perf_counter() - start

    print(f"sampler:        {type(sampler).__name__}")
    print(f"trials:         {len(study.trials)} in {elapsed:.1f} s")
    print(f"best accuracy:  {study.best_value:.4f} (trial {study.best_trial.number})")
    print(f"best params:    {study.best_params}")


if __name__ == "__main__":
    main()
