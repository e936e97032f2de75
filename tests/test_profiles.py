"""Scale profiles as data: the shipped TOML files, their validation, and overrides."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from modes import scale
from modes.scale import FULL, SMOKE, ProfileError, Scale, load_profile, scale_from_dict


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


@pytest.mark.parametrize("constant", [SMOKE, FULL], ids=lambda s: s.name)
def test_toml_profile_reproduces_the_python_constant(constant: Scale) -> None:
    """Field by field, with types: an int where the constant had a float (1 vs 1.0) would change
    the JSON of every cache key built from that section."""
    loaded = leaves(load_profile(constant.name))
    expected = leaves(constant)
    assert loaded.keys() == expected.keys()
    differ = {k: (loaded[k], expected[k]) for k in expected
              if (loaded[k], type(loaded[k])) != (expected[k], type(expected[k]))}
    assert not differ, f"{constant.name}.toml differs from the constant: {differ}"
    assert load_profile(constant.name) == constant


def test_every_shipped_profile_loads_and_writes_out_every_knob() -> None:
    assert {"smoke", "full"} <= set(scale.profile_names())
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
    ({"density": {"burn_in": 60}}, r"density\.burn_in must be below sweeps \(60\), got 60"),
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
