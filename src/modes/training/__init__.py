"""Training classifiers with one loop (the stacked trainer; a backbone is its one-member case),
cached per request in the artifact store."""

from modes.training.fit import (
    TrainRequest,
    accuracy,
    evaluate,
    load_weights,
    predict,
    train_classifier,
    train_key,
    training_history,
)

__all__ = [
    "TrainRequest",
    "accuracy",
    "evaluate",
    "load_weights",
    "predict",
    "train_classifier",
    "train_key",
    "training_history",
]
