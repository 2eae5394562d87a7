"""ArqonSampler vs Optuna's TPESampler on a real model, side by side (run by `make demo`).

Tunes an SVC pipeline on scikit-learn's bundled digits dataset (no download): 3-fold stratified CV accuracy on
a 75 % training split is the objective; the best configuration is then refit on the training split and scored
on the 25 % held-out split. The search space has a log-scale float pair (C, gamma), a categorical kernel and
scaler, and a conditional integer (the polynomial degree exists only when kernel == "poly").

Both studies use the same seed and number of trials. "Sampler time" is wall time spent inside the sampler's
hooks (infer_relative_search_space, sample_relative, sample_independent, before_trial, after_trial) measured
by wrapping them with perf_counter accumulators; the rest of the wall time is model fitting and Optuna itself.

    python examples/demo.py               # 60 trials per sampler: 15-60 s on 2 cores
    python examples/demo.py --trials 60 --seed 1
"""

from __future__ import annotations

import argparse
import functools
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

HOOKS = (
    "infer_relative_search_space",
    "sample_relative",
    "sample_independent",
    "before_trial",
    "after_trial",
)


def timed_sampler(sampler: optuna.samplers.BaseSampler) -> dict[str, float]:
    """Wraps the sampler's hooks on this instance; returns the dict that accumulates time inside them."""
    spent = {"seconds": 0.0}

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent["seconds"] += time.perf_counter() - start

        return timed

    for hook in HOOKS:
        setattr(sampler, hook, wrap(getattr(sampler, hook)))
    return spent


def build_model(params: dict[str, Any], seed: int) -> Any:
    scaler = {"none": [], "standard": [StandardScaler()], "minmax": [MinMaxScaler()]}[params["scaler"]]
    svc = SVC(
        C=params["C"],
        gamma=params["gamma"],
        kernel=params["kernel"],
        degree=params.get("degree", 3),
        random_state=seed,
    )
    return make_pipeline(*scaler, svc)


def objective_factory(X: Any, y: Any, seed: int) -> Callable[[optuna.Trial], float]:
    cv = StratifiedKFold(
        n_splits=3, shuffle=True, random_state=seed
    )  # same folds for every trial and sampler

    def objective(trial: optuna.Trial) -> float:
        params = {
            "scaler": trial.suggest_categorical("scaler", ["none", "standard", "minmax"]),
            "kernel": trial.suggest_categorical("kernel", ["rbf", "poly", "sigmoid"]),
            "C": trial.suggest_float("C", 1e-2, 1e3, log=True),
            "gamma": trial.suggest_float("gamma", 1e-5, 1e0, log=True),
        }
        if params["kernel"] == "poly":  # conditional parameter: sampled independently by both samplers
            params["degree"] = trial.suggest_int("degree", 2, 5)
        return float(cross_val_score(build_model(params, seed), X, y, cv=cv).mean())

    return objective


def run(
    name: str, sampler: optuna.samplers.BaseSampler, data: tuple[Any, ...], trials: int, seed: int
) -> dict:
    X_train, X_test, y_train, y_test = data
    spent = timed_sampler(sampler)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    start = time.perf_counter()
    study.optimize(objective_factory(X_train, y_train, seed), n_trials=trials)
    wall = time.perf_counter() - start
    model = build_model(study.best_params, seed).fit(X_train, y_train)
    return {
        "sampler": name,
        "best CV accuracy": study.best_value,
        "held-out accuracy": float(model.score(X_test, y_test)),
        "wall time": wall,
        "sampler time": spent["seconds"],
        "best params": study.best_params,
    }


def print_table(rows: list[dict]) -> None:
    cols = [("sampler", "<14"), ("best CV acc", ">12"), ("held-out acc", ">14"), ("wall time", ">11")]
    cols += [("in sampler", ">12"), ("share", ">8")]
    header = "".join(f"{name:{fmt}}" for name, fmt in cols)
    print(header)
    print("-" * len(header))
    for r in rows:
        share = r["sampler time"] / r["wall time"]
        print(
            f"{r['sampler']:<14}{r['best CV accuracy']:>12.4f}{r['held-out accuracy']:>14.4f}"
            f"{r['wall time']:>10.1f}s{r['sampler time'] * 1e3:>10.1f}ms{share:>8.2%}"
        )
    print()
    for r in rows:
        pretty = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r["best params"].items()}
        print(f"{r['sampler']}: {pretty}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        from arqonhpo.optuna import ArqonSampler
    except ImportError as exc:  # the adapter ships with arqonhpo[optuna]; say so instead of a bare traceback
        raise SystemExit(f"arqonhpo.optuna is not importable ({exc}); install arqonhpo[optuna]") from exc

    X, y = load_digits(return_X_y=True)
    data = train_test_split(X, y, test_size=0.25, stratify=y, random_state=args.seed)
    print(f"SVC on load_digits: {len(data[0])} train / {len(data[1])} held-out samples, 3-fold CV, "
          f"{args.trials} trials per sampler, seed {args.seed}\n")  # fmt: skip
    rows = [
        run("ArqonSampler", ArqonSampler(seed=args.seed), data, args.trials, args.seed),
        run("TPESampler", optuna.samplers.TPESampler(seed=args.seed), data, args.trials, args.seed),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
