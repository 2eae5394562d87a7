"""The seed's JSON quickstart, verbatim, with a real objective.

``my_objective_function`` trains a softmax-regression classifier with mini-batch SGD (NumPy) on
scikit-learn's bundled digits dataset for two epochs and returns the validation log-loss, so
``learning_rate`` (log scale) and ``batch_size`` both matter. The loop below is the seed's example, unchanged.

    python examples/quickstart.py     # a few seconds
"""

# The seed's block below keeps its own formatting (blank lines with spaces, no trailing commas).
# ruff: noqa: W293
import json

import numpy as np
from arqonhpo import ArqonSolver
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X = X.astype(float)  # raw intensities 0..16: too large a step diverges, so the best step is interior
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
N_CLASSES = 10
evaluations = []


def log_loss(W, b, X, y):
    logits = X @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def my_objective_function(params):
    """Validation log-loss after 2 epochs of mini-batch SGD; lower is better."""
    lr = params["learning_rate"]
    batch = round(params["batch_size"])  # the JSON bounds are continuous; the model needs a whole number
    rng = np.random.default_rng(0)  # same initialisation and shuffles for every configuration
    W = rng.normal(0.0, 0.01, size=(X.shape[1], N_CLASSES))
    b = np.zeros(N_CLASSES)
    onehot = np.eye(N_CLASSES)[y_train]
    for _ in range(2):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            logits = X_train[idx] @ W + b
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            grad = (p - onehot[idx]) / len(idx)
            W -= lr * X_train[idx].T @ grad
            b -= lr * grad.sum(axis=0)
    loss = log_loss(W, b, X_val, y_val)
    evaluations.append((loss, lr, batch))
    return loss


# ---- the seed's quickstart, verbatim ---------------------------------------------------------------------
# fmt: off

config = {
    "seed": 42,
    "budget": 100,
    "bounds": {
        "learning_rate": {"min": 1e-5, "max": 1e-1, "scale": "Log"},
        "batch_size": {"min": 16, "max": 256}
    }
}

solver = ArqonSolver(json.dumps(config))

while True:
    batch = solver.ask()
    if batch is None:
        break
    
    results = []
    for params in batch:
        loss = my_objective_function(params)
        results.append({"params": params, "value": loss, "cost": 1.0})
    
    solver.tell(json.dumps(results))

# fmt: on
# ---- end of the seed's quickstart ------------------------------------------------------------------------

best_loss, best_lr, best_batch = min(evaluations)
print(
    f"{len(evaluations)} evaluations; best validation log-loss {best_loss:.4f} "
    f"at learning_rate={best_lr:.3g}, batch_size={best_batch}"
)
print(f"solver.best: {solver.best}")
