"""Scale profiles as data: the shipped TOML files, their validation, and overrides."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from modes import scale
from modes.scale import (
    FULL,
    SMOKE,
    Override,
    ProfileError,
    canonical_overrides,
    load_profile,
    scale_from_dict,
)
from modes.stats.modality import TwoModeRule
from modes.stats.power import TwoModeEffect, two_mode_power
from modes.store import request_key


def leaves(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Every setting of an attrs object by dotted key (``density.sweeps``)."""
    out: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if attrs.has(type(value)):
            out |= leaves(value, f"{prefix}{field.name}.")
        else:
            out[prefix + field.name] = value
    return out


# The store keys of each section of the Python constants SMOKE and FULL that the TOML files
# replaced (checked field by field, types included, before the constants were removed): the same
# keys mean every cached artifact and smoke.json's expected verdicts still apply. A deliberate
# change of a profile changes its digest here, in the same commit as the re-measured expectations.
# The one such change: `fitting`, whose fields main replaced (issue 11, the authors' Fig. 4 rule:
# memorized_from, typical_below, per_class_min, per_class_cap, heldout_per_subset) while the
# profiles moved to TOML; its keys are those of main's SMOKE.fitting and FULL.fitting constants,
# checked when the two were merged. And `density`, which gained `split_merge` (4 split-merge moves
# per sweep of the checked measure; issue 9's planted classes). And smoke's `memorization`: 48
# trials of half-size subsets instead of 80 of 0.7 (the smoke run's largest artifact, 0.43x the
# training), and smoke's `density`: 3 chains, 48 sweeps and 128 Eq. 4 draws (the 10-minute smoke
# run), with smoke.json re-measured.
SECTION_KEYS = {
    "smoke": {"data": "486bd8363e6a467c5716421e", "train": "7080a74e79dbfe481d474399",
              "density": "4e2dd43915df670e404fdd71", "memorization": "dc4b568a84bc47a33f0445fb",
              "robustness": "3f364f607f15632de2cbb420", "fitting": "d5ff5b4d2b4f48046a917576",
              "transformer_finetune": "4398662fbbdf50662b45624c"},
    "full": {"data": "876b0f6383f25e2921a5efca", "train": "5b53fdb913dc4ff85219893d",
             "density": "4996020b4a93280c4ba7dd01", "memorization": "66d147d37495e6ebab35807d",
             "robustness": "b451e5a6d389b296852b6145", "fitting": "2f06ad95791e9c5d493cffa8",
             "transformer_finetune": "6d0c35a9923b94dede0c59aa"},
}
TOP_LEVEL = {"smoke": {"transformer_config": "small", "transformer_blocks": 4,
                       "transformer_width": 64, "family_alpha": 0.01},
             "full": {"transformer_config": "b16", "transformer_blocks": 12,
                      "transformer_width": 768, "family_alpha": 0.01}}


@pytest.mark.parametrize("name", sorted(SECTION_KEYS))
def test_toml_profile_keeps_the_store_keys_of_the_constants_it_replaced(name: str) -> None:
    profile = load_profile(name)
    keys = {section: request_key(getattr(profile, section)) for section in SECTION_KEYS[name]}
    changed = {s: leaves(getattr(profile, s)) for s in keys if keys[s] != SECTION_KEYS[name][s]}
    assert not changed, f"{name}.toml changed the store keys of sections {changed}"
    assert {k: getattr(profile, k) for k in TOP_LEVEL[name]} == TOP_LEVEL[name]
    assert isinstance(profile.family_alpha, float)
    assert (SMOKE if name == "smoke" else FULL) == profile


def test_every_shipped_profile_loads_and_writes_out_every_knob() -> None:
    assert {"smoke", "full", "lab"} <= set(scale.profile_names())
    for name in scale.profile_names():
        profile = load_profile(name)
        assert profile.name == name
        text = scale.profile_text(name)
        optional = {k for k, v in leaves(profile).items() if v is None}
        written = {k for k in leaves(profile) if k.rsplit(".", 1)[-1] + " =" in text}
        assert set(leaves(profile)) - {"name"} - optional <= written, name


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown scale profile 'tiny'.*'full'.*'smoke'"):
        load_profile("tiny")


@pytest.mark.parametrize(("edit", "message"), [
    ({"density": {"sweps": 60}}, r"unknown key density\.sweps; known keys of density: .*sweeps"),
    ({"densty": {}}, r"unknown key densty"),
    ({"density": {"sweeps": 1.5}}, r"density\.sweeps must be an integer, got 1\.5"),
    ({"density": {"sweeps": "60"}}, r"density\.sweeps must be an integer, got '60'"),
    ({"train": {"nesterov": 1}}, r"train\.nesterov must be true or false, got 1"),
    ({"data": {"num_classes": True}}, r"data\.num_classes must be an integer, got True"),
    ({"density": 60}, r"density must be a table of DensityScale settings"),
    ({"density": {"sweeps": 0}}, r"density\.sweeps must be >= 1, got 0"),
    ({"density": {"burn_in": 48}}, r"density\.burn_in must be below sweeps \(48\), got 48"),
    ({"robustness": {"noise_space": "raw"}}, r"robustness\.noise_space must be one of"),
    ({"family_alpha": 1.5}, r"family_alpha must lie in \(0, 1\), got 1\.5"),
    ({"name": "x"}, r"named by its file"),
])
def test_a_bad_profile_is_an_error_naming_the_key(edit: dict[str, Any], message: str) -> None:
    data = attrs.asdict(SMOKE)
    del data["name"]
    for key, value in edit.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    with pytest.raises(ProfileError, match=message):
        scale_from_dict(data, "edited")


def test_a_missing_required_key_is_named_and_a_defaulted_one_may_be_left_out() -> None:
    data = attrs.asdict(SMOKE)
    del data["name"], data["density"]["sweeps"]
    with pytest.raises(ProfileError, match=r"missing key density\.sweeps"):
        scale_from_dict(data, "edited")
    data = attrs.asdict(SMOKE)
    del data["name"], data["density"]["dtype"]
    assert scale_from_dict(data, "edited").density.dtype == "float64"


def test_an_int_is_read_as_a_float_where_a_float_is_asked_for() -> None:
    data = attrs.asdict(FULL)
    del data["name"]
    data["train"]["width"] = 1
    width = scale_from_dict(data, "edited").train.width
    assert width == 1.0 and isinstance(width, float)


def test_overrides_change_one_knob_each_and_the_last_one_wins() -> None:
    tuned = load_profile("full", ["density.sweeps=100", "robustness.bins=20", "family_alpha=0.05",
                                  "robustness.noise_space=pixel", "density.sweeps=120",
                                  "density.burn_in=80"])
    assert tuned.density == attrs.evolve(FULL.density, sweeps=120, burn_in=80)
    assert tuned.robustness == attrs.evolve(FULL.robustness, bins=20, noise_space="pixel")
    assert tuned.family_alpha == 0.05 and tuned.name == "full"
    assert (tuned.data, tuned.train, tuned.memorization) == (FULL.data, FULL.train,
                                                             FULL.memorization)
    assert load_profile("smoke", ["memorization.stem=none"]).memorization.stem is None
    assert load_profile("smoke", ['robustness.noise_space="pixel"']).robustness.noise_space == \
        "pixel"


def test_overrides_are_recorded_canonically() -> None:
    given = ["train.max_lr=1", "density.sweeps=1_000", "memorization.stem=none",
             "density.sweeps=100", "train.nesterov=false"]
    assert canonical_overrides("smoke", given) == (
        "train.max_lr=1.0", "density.sweeps=100", "memorization.stem=none",
        "train.nesterov=false")
    assert Override.parse("robustness.alpha=1e-3") == Override(("robustness", "alpha"), 0.001)


@pytest.mark.parametrize(("override", "message"), [
    ("densty.sweeps=100", r"unknown section 'densty'; sections: \['data', 'density'"),
    ("density.sweps=100", r"unknown key 'density\.sweps'; keys of density: .*'sweeps'"),
    ("sweeps=100", r"unknown key 'sweeps'; keys outside a section: .*'family_alpha'"),
    ("density=100", r"unknown key 'density'"),
    ("density.sweeps.x=1", r"unknown section 'density\.sweeps'"),
    ("density.sweeps=1.5", r"density\.sweeps must be an integer, got 1\.5"),
    ("density.sweeps=many", r"density\.sweeps must be an integer, got 'many'"),
    ("train.hflip=1", r"train\.hflip must be true or false, got 1"),
    ("density.sweeps=0", r"density\.sweeps must be >= 1, got 0"),
    ("density.burn_in=500", r"density\.burn_in must be below sweeps \(48\), got 500"),
    ("robustness.noise_space=raw", r"robustness\.noise_space must be one of \['normalized'"),
    ("family_alpha=1", r"family_alpha must lie in \(0, 1\), got 1\.0"),
    ("density.sweeps", r"an override is SECTION\.KEY=VALUE"),
    ("density.sweeps=", r"an override is SECTION\.KEY=VALUE"),
    (".sweeps=1", r"an override is SECTION\.KEY=VALUE"),
])
def test_a_bad_override_is_an_error_naming_it(override: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile("smoke", [override])


def test_the_lab_profile_gives_c1_power_that_smoke_lacks() -> None:
    """The controls' planted two-mode effect (30% high classes, separation 8 within-group sds)
    is detected by C1's rule with power >= 0.8 at lab's class count, not at smoke's."""
    effect = TwoModeEffect(frac_high=0.3, separation=8.0)
    rule = TwoModeRule(alpha=0.01)
    lab = two_mode_power(effect, load_profile("lab").data.num_classes, rule, reps=200)
    smoke = two_mode_power(effect, SMOKE.data.num_classes, rule, reps=200)
    assert lab.ci_low >= 0.8 > smoke.ci_high, (lab, smoke)
