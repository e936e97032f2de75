"""Scale profiles: every size knob of the pipeline in one frozen object.

Profiles are data, TOML files shipped in the package (``src/modes/profiles/<name>.toml``):
``smoke`` runs every claim on the embedded synthetic data on a 2-core CPU in minutes; ``full`` holds
the paper's hyper-parameters (CIFAR-100 / Mini-ImageNet, 400 sweeps, 1e5 noise samples, GPU).
:func:`load_profile` reads one into the attrs :class:`Scale`, validated: an unknown or missing key,
a value of the wrong type or one the settings reject is a :class:`ProfileError` naming the key.
Claims read sizes only from here; nothing is hard-coded in a claim.
"""

from __future__ import annotations

import functools
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import attrs


def at_least(low: float) -> Any:
    """attrs validator: the value is ``>= low`` (the message names the field)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if value < low:
            raise ValueError(f"{attribute.name} must be >= {low}, got {value!r}")

    return check


def positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def probability(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """An alpha or a ratio strictly between 0 and 1."""
    if not 0 < value < 1:
        raise ValueError(f"{attribute.name} must lie in (0, 1), got {value!r}")


def unit_interval(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """A score threshold in [0, 1] (memorization scores lie there)."""
    if not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must lie in [0, 1], got {value!r}")


def one_of(*choices: str) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise ValueError(f"{attribute.name} must be one of {list(choices)}, got {value!r}")

    return check


COUNT = at_least(1)  # sizes, epochs, sweeps, samples
NON_NEGATIVE = at_least(0)


@attrs.frozen
class DataScale:
    num_classes: int = attrs.field(validator=COUNT)
    train_per_class: int = attrs.field(validator=COUNT)
    test_per_class: int = attrs.field(validator=COUNT)
    image_size: int = attrs.field(default=32, validator=COUNT)


@attrs.frozen
class TrainScale:
    """Training hyper-parameters (paper: Feldman & Zhang's setting, authors' weight decay)."""

    epochs: int = attrs.field(validator=COUNT)
    batch_size: int = attrs.field(validator=COUNT)
    max_lr: float = attrs.field(validator=positive)
    width: float = attrs.field(validator=positive)
    min_lr: float = attrs.field(default=1e-6, validator=NON_NEGATIVE)
    warmup_fraction: float = 0.15  # the one-cycle schedule checks it against the step count
    momentum: float = attrs.field(default=0.9, validator=NON_NEGATIVE)
    weight_decay: float = attrs.field(default=1e-6, validator=NON_NEGATIVE)
    nesterov: bool = True
    crop_padding: int = attrs.field(default=4, validator=NON_NEGATIVE)
    hflip: bool = True


@attrs.frozen
class DensityScale:
    """Sampler and measurement knobs. ``chains`` start dispersed (K0 random, one component,
    k-means, K0 random again); ``folds`` cross-fit the held-out densities of the checked measure;
    ``null_replicates`` matched-null classes per real class; ``split_merge`` split-merge moves per
    sweep of the checked measure (the paper measure runs none); ``kl_samples`` Eq. 4's Monte Carlo
    draws per class (a cross-fitted class splits them over its folds:
    :func:`modes.measures.per_fold_draws`) (:mod:`modes.measures`)."""

    sweeps: int = attrs.field(validator=COUNT)
    burn_in: int = attrs.field(validator=NON_NEGATIVE)
    thin: int = attrs.field(validator=COUNT)
    block_size: int = attrs.field(validator=COUNT)
    init_components: int = attrs.field(validator=COUNT)
    dims_shallow: int = attrs.field(validator=COUNT)
    dims_deep: int = attrs.field(validator=COUNT)
    chains: int = attrs.field(validator=COUNT)
    kl_samples: int = attrs.field(validator=COUNT)
    dtype: str = attrs.field(default="float64", validator=one_of("float32", "float64"))
    folds: int = attrs.field(default=5, validator=at_least(2))
    null_replicates: int = attrs.field(default=4, validator=NON_NEGATIVE)
    split_merge: int = attrs.field(default=4, validator=NON_NEGATIVE)

    def __attrs_post_init__(self) -> None:
        if self.burn_in >= self.sweeps:
            raise ValueError(f"burn_in must be below sweeps ({self.sweeps}), got {self.burn_in}")


@attrs.frozen
class MemorizationScale:
    """Feldman & Zhang trials. ``stem`` "mini-imagenet" (3x3 conv, stride 3) makes each trial
    several times cheaper on 32 px images, as the paper did for its Mini-ImageNet models."""

    trials: int = attrs.field(validator=COUNT)
    subset_ratio: float = attrs.field(validator=probability)
    min_per_side: int = attrs.field(validator=COUNT)
    epochs: int = attrs.field(validator=COUNT)
    width: float = attrs.field(validator=positive)
    stem: str | None = None  # None: the dataset's own stem


NOISE_SPACES = ("normalized", "pixel")


@attrs.frozen
class RobustnessScale:
    """Density-bin experiment (Fig. 3): held-out and noise-trained models per bin, CERTIFY.

    ``noise_space`` is where both the training noise and CERTIFY's noise of std ``sigma`` are
    added: ``"normalized"`` (default; the authors' ``src/transforms.py`` adds it after
    ``Normalize``, which produced Fig. 3) or ``"pixel"`` ([0, 1] pixels, Cohen et al.'s
    convention). Radii are reported in pixel units either way
    (:class:`modes.components.certification.NoiseSpace`).
    """

    bins: int = attrs.field(validator=COUNT)
    bin_epochs: int = attrs.field(validator=COUNT)
    sigma: float = attrs.field(validator=positive)
    n0: int = attrs.field(validator=COUNT)
    n: int = attrs.field(validator=COUNT)
    alpha: float = attrs.field(validator=probability)
    certify_per_bin: int = attrs.field(validator=COUNT)
    noise_space: str = attrs.field(default="normalized", validator=one_of(*NOISE_SPACES))


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

    memorized_from: float = attrs.field(validator=unit_interval)
    typical_below: float = attrs.field(validator=unit_interval)
    per_class_min: int = attrs.field(validator=COUNT)
    per_class_cap: int = attrs.field(validator=COUNT)
    heldout_per_subset: int = attrs.field(validator=COUNT)

    def __attrs_post_init__(self) -> None:
        if self.typical_below > self.memorized_from:
            raise ValueError(f"typical_below must not exceed memorized_from "
                             f"({self.memorized_from}), got {self.typical_below}")
        if self.per_class_cap < self.per_class_min:
            raise ValueError(f"per_class_cap must be >= per_class_min ({self.per_class_min}), "
                             f"got {self.per_class_cap}")


@attrs.frozen
class Scale:
    """Every size knob. ``transformer_finetune`` trains a transformer that starts from pretrained
    weights (``--modes-pretrained``); one without them is trained from scratch with
    ``transformer_scratch`` when the profile sets it, else with ``train``. Profiles are data:
    :func:`load_profile` reads ``src/modes/profiles/<name>.toml``."""

    name: str
    data: DataScale
    train: TrainScale
    density: DensityScale
    memorization: MemorizationScale
    robustness: RobustnessScale
    fitting: FittingScale
    transformer_finetune: TrainScale
    transformer_config: str
    transformer_blocks: int = attrs.field(validator=COUNT)
    transformer_width: int = attrs.field(validator=COUNT)
    family_alpha: float = attrs.field(default=0.01, validator=probability)
    transformer_scratch: TrainScale | None = None


# -- profiles as data ----------------------------------------------------------------------------

PROFILE_DIR = "profiles"  # package data beside this module: <name>.toml


class ProfileError(ValueError):
    """A profile file or an override that does not describe a valid :class:`Scale`; the message
    names the key (``density.sweeps``) and the bad value."""


def profile_names() -> list[str]:
    """The shipped profiles (``src/modes/profiles/<name>.toml``), sorted."""
    folder = resources.files(__package__).joinpath(PROFILE_DIR)
    return sorted(f.name.removesuffix(".toml") for f in folder.iterdir()
                  if f.name.endswith(".toml"))


def profile_text(name: str) -> str:
    """The TOML text of shipped profile ``name``; an unknown name lists the known ones."""
    if name not in profile_names():
        raise ProfileError(f"unknown scale profile {name!r}; known profiles: {profile_names()}")
    return resources.files(__package__).joinpath(PROFILE_DIR, f"{name}.toml").read_text()


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def convert_field(tp: Any, value: Any, key: str) -> Any:
    """``value`` as the field type ``tp`` (an int is a float where a float is asked for); any
    other mismatch is an error naming ``key``. Also converts a component's settings
    (:mod:`modes.component_settings`)."""
    if attrs.has(tp):
        if not isinstance(value, Mapping):
            raise ProfileError(f"{key} must be a table of {tp.__name__} settings, got {value!r}")
        return _build(tp, value, f"{key}.")
    if isinstance(tp, types.UnionType):  # X | None: the optional settings
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else convert_field(args[0], value, key)
    if isinstance(value, bool) and tp is not bool:
        raise ProfileError(f"{key} must be {_type_name(tp)}, got {value!r}")
    if tp is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, tp):
        raise ProfileError(f"{key} must be {_type_name(tp)}, got {value!r}")
    return value


def _build(cls: type, table: Mapping[str, Any], prefix: str = "") -> Any:
    """An instance of attrs class ``cls`` from ``table``: unknown keys, missing required keys,
    wrong types and values the class's validators reject are errors naming the key."""
    fields = attrs.fields_dict(cls)
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ProfileError(f"unknown key {prefix}{unknown[0]}; known keys"
                           f"{' of ' + prefix.rstrip('.') if prefix else ''}: {sorted(fields)}")
    kwargs = {}
    for name, field in fields.items():
        if name in table:
            kwargs[name] = convert_field(hints[name], table[name], prefix + name)
        elif field.default is attrs.NOTHING:
            raise ProfileError(f"missing key {prefix}{name}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:  # the validators name the field first
        raise ProfileError(f"{prefix}{err}") from None


def scale_from_dict(data: Mapping[str, Any], name: str) -> Scale:
    """The :class:`Scale` called ``name`` that ``data`` (a parsed profile file) describes."""
    if "name" in data:
        raise ProfileError("a profile is named by its file; remove the key 'name'")
    scale: Scale = _build(Scale, {**data, "name": name})
    return scale


@functools.cache
def _shipped(name: str) -> Scale:
    try:
        data = tomllib.loads(profile_text(name))
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(f"profiles/{name}.toml is not valid TOML: {err}") from None
    try:
        return scale_from_dict(data, name)
    except ProfileError as err:
        raise ProfileError(f"profiles/{name}.toml: {err}") from None


def load_profile(name: str, overrides: Iterable[str | Override] = ()) -> Scale:
    """Shipped profile ``name`` (``src/modes/profiles/<name>.toml``) with ``overrides``
    (``"density.sweeps=100"``, applied in order: :func:`apply_overrides`)."""
    return apply_overrides(_shipped(name), overrides)


# -- overrides -----------------------------------------------------------------------------------

NONE = "none"  # the value that unsets an optional setting (memorization.stem=none)
# the root of a component's settings, component.KIND.NAME.FIELD=VALUE (modes.component_settings)
COMPONENT_ROOT = "component"


@attrs.frozen
class Override:
    """One ``SECTION.KEY=VALUE`` (or ``KEY=VALUE`` for a top-level key) setting.

    ``value`` is read as a TOML value (``100``, ``0.5``, ``true``, ``"pixel"``); a bare word that
    is not TOML is a string (``pixel``), and ``none`` unsets an optional setting. Whether the key
    exists and the value fits is checked against the profile by :func:`apply_overrides`.
    """

    path: tuple[str, ...]
    value: Any

    @classmethod
    def parse(cls, text: str) -> Override:
        """``"density.sweeps=100"`` -> ``Override(("density", "sweeps"), 100)``."""
        key, sep, raw = text.partition("=")
        path = tuple(part.strip() for part in key.split("."))
        if not sep or not all(path) or not raw.strip():
            raise ProfileError(f"an override is SECTION.KEY=VALUE (e.g. density.sweeps=100), "
                               f"got {text!r}")
        raw = raw.strip()
        try:
            value = tomllib.loads(f"value = {raw}")["value"]
        except tomllib.TOMLDecodeError:
            value = None if raw == NONE else raw
        return cls(path, value)

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def __str__(self) -> str:
        """The canonical text: what records, the report header and ``modes profiles`` show."""
        v = self.value
        text = (NONE if v is None else str(v).lower() if isinstance(v, bool)
                else repr(v) if isinstance(v, float) else str(v))
        return f"{self.key}={text}"


def _as_override(item: str | Override) -> Override:
    return item if isinstance(item, Override) else Override.parse(item)


def apply_overrides(scale: Scale, overrides: Iterable[str | Override]) -> Scale:
    """``scale`` with each override applied in order (a later one wins); an unknown section or
    key, a value of the wrong type or one the settings reject is a :class:`ProfileError` that
    names the override. A component's setting (``component.KIND.NAME.FIELD=VALUE``) is no knob
    of the profile: it is left to :mod:`modes.component_settings`."""
    items = [o for o in map(_as_override, overrides) if o.path[0] != COMPONENT_ROOT]
    if not items:
        return scale
    data: dict[str, Any] = attrs.asdict(scale, recurse=True)
    name = data.pop("name")
    for item in items:
        *sections, key = item.path
        table = data
        for depth, section in enumerate(sections):
            inner = table.get(section)
            if not isinstance(inner, dict):
                where = ".".join(sections[:depth])
                known = sorted(k for k, v in table.items() if isinstance(v, dict))
                raise ProfileError(f"override {item}: unknown section "
                                   f"{'.'.join(sections[:depth + 1])!r}; sections"
                                   f"{' of ' + where if where else ''}: {known}")
            table = inner
        if key not in table or isinstance(table[key], dict):
            known = sorted(k for k, v in table.items() if not isinstance(v, dict))
            where = ".".join(sections)
            raise ProfileError(f"override {item}: unknown key {item.key!r}; keys"
                               f"{' of ' + where if where else ' outside a section'}: {known}")
        table[key] = item.value
    try:
        return scale_from_dict(data, name)
    except ProfileError as err:
        given = ", ".join(str(i) for i in items)
        raise ProfileError(f"override of profile {name!r} ({given}): {err}") from None


def canonical_overrides(name: str, overrides: Iterable[str | Override]) -> tuple[str, ...]:
    """``overrides`` of profile ``name`` validated and written canonically: each key once, with
    the value the profile ends up with (the last given wins; ``train.max_lr=1`` reads
    ``train.max_lr=1.0``), in the order the keys were first given."""
    from modes.component_settings import canonical_settings

    items = [_as_override(o) for o in overrides]
    scale = load_profile(name, items)
    settings = canonical_settings(items)  # component.KIND.NAME.FIELD=VALUE, validated
    paths = dict.fromkeys(item.path for item in items)
    return tuple(str(settings[path]) if path[0] == COMPONENT_ROOT
                 else str(Override(path, functools.reduce(getattr, path, scale)))
                 for path in paths)


SMOKE = load_profile("smoke")
FULL = load_profile("full")
