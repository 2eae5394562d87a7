"""Ray Tune quickstart: switch a Tune experiment to ArqonHPO with one line.

    python examples/ray_tune_quickstart.py            # 60 trials
    python examples/ray_tune_quickstart.py --trials 200

The only change from a plain Tune script is ``search_alg=ArqonSearch(...)`` in ``TuneConfig``. Everything
else -- the trainable, ``tune.report``, the search space, ``max_concurrent_trials``, ``Tuner.restore`` -- is
standard Ray Tune.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray
from arqonhpo.ray import ArqonSearch
from ray import tune


def train_model(config: dict) -> None:
    """Stands in for a training run: a validation loss that depends on the hyperparameters."""
    loss = (
        (math.log10(config["lr"]) + 2.5) ** 2
        + (config["dropout"] - 0.2) ** 2 * 4
        + abs(config["layers"] - 3) * 0.1
        + {"adam": 0.0, "sgd": 0.2, "rmsprop": 0.1}[config["optimizer"]["name"]]
    )
    tune.report({"loss": loss})


param_space = {
    "lr": tune.loguniform(1e-5, 1e-1),
    "dropout": tune.quniform(0.0, 0.5, 0.05),
    "layers": tune.randint(1, 8),  # 1..7: Ray's upper bound is exclusive
    "optimizer": {"name": tune.choice(["adam", "sgd", "rmsprop"]), "momentum": 0.9},  # nested + constant
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=60)
    args = parser.parse_args()

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    tuner = tune.Tuner(
        train_model,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            search_alg=ArqonSearch(metric="loss", mode="min", seed=0),  # <- the one-line switch
            num_samples=args.trials,
            max_concurrent_trials=2,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(prefix="arqon_quickstart_"), verbose=0),
    )
    best = tuner.fit().get_best_result(metric="loss", mode="min")
    print(f"best loss {best.metrics['loss']:.4f} with {best.config}")
    ray.shutdown()


if __name__ == "__main__":
    main()
