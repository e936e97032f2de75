"""Datasets: the embedded synthetic long-tailed set (default), CIFAR-100 and Mini-ImageNet.

Every loader is registered under kind ``"dataset"`` and returns an :class:`ImageDataset`;
:func:`load_dataset` picks one by name.
"""

from modes.data import cifar, mini_imagenet, synthetic
from modes.data.dataset import DATA_ENV_VAR, ImageDataset, load_dataset
from modes.data.synthetic import SyntheticConfig

__all__ = [
    "DATA_ENV_VAR",
    "ImageDataset",
    "SyntheticConfig",
    "cifar",
    "load_dataset",
    "mini_imagenet",
    "synthetic",
]
