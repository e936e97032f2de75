"""Scale profiles: every size knob of the pipeline in one frozen object.

``smoke`` runs every claim on the embedded synthetic data on a 2-core CPU in minutes; ``full`` holds
the paper's hyper-parameters (CIFAR-100 / Mini-ImageNet, 400 sweeps, 1e5 noise samples, GPU).
Claims read sizes only from here; nothing is hard-coded in a claim.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class DataScale:
    num_classes: int
    train_per_class: int
    test_per_class: int
    image_size: int = 32


@attrs.frozen
class TrainScale:
    """Training hyper-parameters (paper: Feldman & Zhang's setting, authors' weight decay)."""

    epochs: int
    batch_size: int
    max_lr: float
    width: float
    min_lr: float = 1e-6
    warmup_fraction: float = 0.15
    momentum: float = 0.9
    weight_decay: float = 1e-6
    nesterov: bool = True
    crop_padding: int = 4
    hflip: bool = True


@attrs.frozen
class DensityScale:
    """Sampler and measurement knobs. ``chains`` start dispersed (K0 random, one component,
    k-means, K0 random again); ``folds`` cross-fit the held-out densities of the checked measure;
    ``null_replicates`` matched-null classes per real class (:mod:`modes.measures`)."""

    sweeps: int
    burn_in: int
    thin: int
    block_size: int
    init_components: int
    dims_shallow: int
    dims_deep: int
    chains: int
    kl_samples: int
    dtype: str = "float64"
    folds: int = 5
    null_replicates: int = 4


@attrs.frozen
class MemorizationScale:
    """Feldman & Zhang trials. ``stem`` "mini-imagenet" (3x3 conv, stride 3) makes each trial
    several times cheaper on 32 px images, as the paper did for its Mini-ImageNet models."""

    trials: int
    subset_ratio: float
    min_per_side: int
    epochs: int
    width: float
    stem: str | None = None  # None: the dataset's own stem


NOISE_SPACES = ("normalized", "pixel")


def _check_noise_space(_: object, __: object, value: str) -> None:
    if value not in NOISE_SPACES:
        raise ValueError(f"noise_space must be one of {list(NOISE_SPACES)}, got {value!r}")


@attrs.frozen
class RobustnessScale:
    """Density-bin experiment (Fig. 3): held-out and noise-trained models per bin, CERTIFY.

    ``noise_space`` is where both the training noise and CERTIFY's noise of std ``sigma`` are
    added: ``"normalized"`` (default; the authors' ``src/transforms.py`` adds it after
    ``Normalize``, which produced Fig. 3) or ``"pixel"`` ([0, 1] pixels, Cohen et al.'s
    convention). Radii are reported in pixel units either way
    (:class:`modes.components.certification.NoiseSpace`).
    """

    bins: int
    bin_epochs: int
    sigma: float
    n0: int
    n: int
    alpha: float
    certify_per_bin: int
    noise_space: str = attrs.field(default="normalized", validator=_check_noise_space)


@attrs.frozen
class FittingScale:
    """Settings of the 'where classes are fit' experiments (Fig. 4, Fig. A.11).

    Fig. 4 (:func:`modes.components.memorization.fig4_split`): the paper says "examples with
    memorization score above 0.9", an "approx. equal number of examples with the lowest
    memorization estimates" and as many random ones; read literally, that leaves no class with
    100 examples in all three subsets on the authors' own published scores. The authors' split
    files (``files/dkls/<arch>/<dataset>/*_class_split.json``) show the rule that produced the
    figure, and the full profile follows it: memorized from a score of ``memorized_from`` = 0.70
    up, typical below ``typical_below`` = 0.015, random from all; each subset keeps its own
    classes, those with at least ``per_class_min`` candidates, and ``per_class_cap`` examples of
    each (100 and 100: exactly 100 per class, as in the files).

    Fig. A.11 (:func:`modes.components.memorization.a11_heldout`): "1,000 most memorized
    examples, 1,000 random ones and 1,000 with memorization 0.0" are held out:
    ``heldout_per_subset`` of each (the authors' ``generative_classification`` files hold 1,000).
    """

    memorized_from: float
    typical_below: float
    per_class_min: int
    per_class_cap: int
    heldout_per_subset: int


FINETUNE = TrainScale(epochs=100, batch_size=512, max_lr=0.03, width=1.0, warmup_fraction=0.05,
                      weight_decay=0.0, nesterov=False)
"""Fine-tuning a pretrained transformer (the appendix gives no hyper-parameters; these follow
google-research/vision_transformer's fine-tuning defaults, ``vit_jax/configs/common.py``: SGD with
momentum 0.9, base_lr 0.03, 500 warm-up steps of 10,000 at batch 512 (~100 CIFAR epochs), no weight
decay. Differences: the one-cycle schedule decays linearly, not by cosine, and gradients are not
clipped (theirs: global norm 1))."""


@attrs.frozen
class Scale:
    """Every size knob. ``transformer_finetune`` trains a transformer that starts from pretrained
    weights (``--pretrained``); one without them is trained from scratch with ``train``."""

    name: str
    data: DataScale
    train: TrainScale
    density: DensityScale
    memorization: MemorizationScale
    robustness: RobustnessScale
    fitting: FittingScale
    transformer_config: str
    transformer_blocks: int
    transformer_width: int
    family_alpha: float = 0.01
    transformer_finetune: TrainScale = FINETUNE


SMOKE = Scale(
    name="smoke",
    data=DataScale(num_classes=20, train_per_class=100, test_per_class=25),
    train=TrainScale(epochs=15, batch_size=128, max_lr=0.1, width=0.125),
    density=DensityScale(sweeps=60, burn_in=40, thin=2, block_size=4, init_components=6,
                         dims_shallow=8, dims_deep=16, chains=4, kl_samples=256, folds=3,
                         null_replicates=4),
    memorization=MemorizationScale(trials=80, subset_ratio=0.7, min_per_side=8, epochs=8,
                                   width=0.125, stem="mini-imagenet"),
    robustness=RobustnessScale(bins=8, bin_epochs=6, sigma=0.5, n0=32, n=500, alpha=0.001,
                               certify_per_bin=30),
    # 80 trials give noisy scores: typical below 0.05 rather than 0.015; 100 images per class
    fitting=FittingScale(memorized_from=0.15, typical_below=0.05, per_class_min=5,
                         per_class_cap=30, heldout_per_subset=100),
    transformer_config="small",
    transformer_blocks=4,
    transformer_width=64,
    transformer_finetune=attrs.evolve(FINETUNE, epochs=15, batch_size=128),
)

FULL = Scale(
    name="full",
    data=DataScale(num_classes=100, train_per_class=500, test_per_class=100),
    train=TrainScale(epochs=100, batch_size=512, max_lr=0.4, width=1.0),
    density=DensityScale(sweeps=400, burn_in=320, thin=4, block_size=4, init_components=6,
                         dims_shallow=16, dims_deep=64, chains=4, kl_samples=10_000, folds=5,
                         null_replicates=20),
    memorization=MemorizationScale(trials=2000, subset_ratio=0.7, min_per_side=100, epochs=100,
                                   width=1.0),
    robustness=RobustnessScale(bins=50, bin_epochs=160, sigma=0.5, n0=100, n=100_000,
                               alpha=0.001, certify_per_bin=1000),
    fitting=FittingScale(memorized_from=0.70, typical_below=0.015, per_class_min=100,
                         per_class_cap=100, heldout_per_subset=1000),
    transformer_config="b16",
    transformer_blocks=12,
    transformer_width=768,
)

PROFILES: dict[str, Scale] = {s.name: s for s in (SMOKE, FULL)}


def get_scale(name: str) -> Scale:
    """The profile called ``name``; an unknown name is an error listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; known scales: {sorted(PROFILES)}") from None
