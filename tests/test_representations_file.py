"""The representations file (``--modes-representations``): its layout, every bad file named by its
problem, and a scenario that reads it in place of data, training and taps."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from modes.data.representations_file import (
    RepresentationsFileError,
    load_representations,
    save_representations,
)
from modes.scenario import MissingComponentError, Scenario, ScenarioConfig
from modes.store import ArtifactStore


def arrays(classes: int = 3, n: int = 4, stages: int = 2, d: int = 5,
           memorization: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {"labels": np.repeat(np.arange(classes), n)}
    for i in range(1, stages + 1):
        out[f"stage_{i}"] = rng.normal(size=(classes * n, d + i)).astype(np.float32)
    if memorization:
        out["memorization"] = rng.uniform(size=classes * n)
    return out


def write(path: Path, data: dict[str, np.ndarray]) -> Path:
    np.savez(path, **data)  # type: ignore[arg-type]
    return path


def test_a_good_file_loads_in_network_order(tmp_path: Path) -> None:
    data = arrays(stages=11, memorization=True)
    path = write(tmp_path / "reps.npz", data)
    f = load_representations(path)
    assert f.stage_names == tuple(f"stage_{i}" for i in range(1, 12))  # stage_10 after stage_9
    assert [x.shape[1] for x in f.stages] == list(range(6, 17))
    np.testing.assert_array_equal(f.representations()["stage_10"], data["stage_10"])
    assert f.labels.dtype == np.int64 and f.num_classes == 3 and f.num_examples == 12
    assert f.memorization is not None and f.memorization.dtype == np.float64
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert f.path == str(path.resolve())


def test_memorization_is_optional_and_save_round_trips(tmp_path: Path) -> None:
    data = arrays()
    f = save_representations(tmp_path / "reps.bin", data["labels"],
                             [data["stage_1"], data["stage_2"]])
    assert f.memorization is None and len(f.stages) == 2
    np.testing.assert_array_equal(f.stages[1], data["stage_2"])


def _drop(key: str):
    return lambda a: {k: v for k, v in a.items() if k != key}


def _set(key: str, value):
    return lambda a: {**a, key: value(a) if callable(value) else value}


def _nan(a):
    x = a["stage_2"].copy()
    x[5, 1] = np.nan
    return {**a, "stage_2": x}


def _inf_memorization(a):
    m = np.ones(12)
    m[3] = np.inf
    return {**a, "memorization": m}


BAD = {
    "missing labels": (_drop("labels"), "missing key 'labels'"),
    "no stages": (lambda a: {"labels": a["labels"]}, "missing keys 'stage_1'"),
    "stage gap": (lambda a: {**_drop("stage_2")(a), "stage_3": a["stage_2"]},
                  "missing key(s) [stage_2]"),
    "one stage": (_drop("stage_2"), "holds 1 stage; at least 2"),
    "unknown key": (_set("memorisation", np.ones(12)), "unknown key(s) [memorisation]"),
    "stage rows": (_set("stage_2", lambda a: a["stage_2"][:-1]),
                   "'stage_2' has 11 rows but 'labels' has 12"),
    "memorization length": (_set("memorization", np.ones(11)),
                            "'memorization' has 11 entries but 'labels' has 12"),
    "NaN": (_nan, "'stage_2' holds NaN or Inf in 1 row(s), first rows [5]"),
    "Inf memorization": (_inf_memorization, "'memorization' holds NaN or Inf at 1 example(s)"),
    "singleton class": (_set("labels", lambda a: np.r_[a["labels"][:-1], 3]),
                        "class(es) [3] have fewer than 2 examples (counts [1])"),
    "one class": (_set("labels", np.zeros(12, np.int64)), "names 1 class(es); at least 2"),
    "skipped class": (_set("labels", lambda a: np.where(a["labels"] == 1, 3, a["labels"])),
                      "skips class(es) [1]"),
    "negative label": (_set("labels", lambda a: a["labels"] - 1), "negative label -1"),
    "float labels": (_set("labels", lambda a: a["labels"].astype(float)),
                     "'labels' has dtype float64; expected integers"),
    "2-D labels": (_set("labels", lambda a: a["labels"][:, None]),
                   "'labels' has shape (12, 1); expected (n,)"),
    "integer stage": (_set("stage_1", lambda a: a["stage_1"].astype(np.int32)),
                      "'stage_1' has dtype int32; expected floats"),
    "1-D stage": (_set("stage_1", lambda a: a["stage_1"][:, 0]),
                  "'stage_1' has shape (12,); expected (n, d)"),
    "2-D memorization": (_set("memorization", np.ones((12, 1))),
                         "'memorization' has shape (12, 1); expected (n,)"),
    "integer memorization": (_set("memorization", np.ones(12, np.int64)),
                             "'memorization' has dtype int64; expected floats"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_an_error_that_names_the_problem(tmp_path: Path, case: str) -> None:
    change, message = BAD[case]
    path = write(tmp_path / "bad.npz", change(arrays()))
    with pytest.raises(RepresentationsFileError, match=r"representations file .*bad\.npz") as err:
        load_representations(path)
    assert message in str(err.value)


def test_unreadable_files_are_errors_that_say_why(tmp_path: Path) -> None:
    with pytest.raises(RepresentationsFileError, match="does not exist"):
        load_representations(tmp_path / "absent.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(RepresentationsFileError, match=r"cannot be read as an \.npz archive"):
        load_representations(tmp_path / "text.npz")
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(RepresentationsFileError, match=r"one \.npy array, not an \.npz archive"):
        load_representations(tmp_path / "one.npy")
    data = {**arrays(), "stage_2": np.array([object()] * 12)}
    np.savez(tmp_path / "objects.npz", **data)  # type: ignore[arg-type]
    with pytest.raises(RepresentationsFileError, match="'stage_2' cannot be read without pickle"):
        load_representations(tmp_path / "objects.npz")


def test_save_refuses_a_bad_file_before_writing(tmp_path: Path) -> None:
    data = arrays()
    with pytest.raises(RepresentationsFileError, match="holds 1 stage"):
        save_representations(tmp_path / "one.npz", data["labels"], [data["stage_1"]])
    assert not (tmp_path / "one.npz").exists()


def file_scenario(tmp_path: Path, memorization: bool = False, **config: object) -> Scenario:
    path = write(tmp_path / "reps.npz", arrays(memorization=memorization))
    return Scenario(ScenarioConfig(representations=str(path), **config),  # type: ignore[arg-type]
                    ArtifactStore(tmp_path / "cache"))


def test_scenario_reads_the_backbones_representations_from_the_file(tmp_path: Path) -> None:
    scenario = file_scenario(tmp_path)
    reps = scenario.representations("resnet18")
    assert list(reps) == ["stage_1", "stage_2"] and reps["stage_2"].shape == (12, 7)
    assert scenario.dataset.train_labels.numpy().tolist() == np.repeat(np.arange(3), 4).tolist()
    assert scenario.dataset.num_classes == 3
    components = scenario.components()
    assert components["representations"] == str((tmp_path / "reps.npz").resolve())
    assert components["representations_sha256"] == hashlib.sha256(
        (tmp_path / "reps.npz").read_bytes()).hexdigest()
    assert "dataset" not in components and "backbone" not in components
    assert components["memorization"] == "none"
    assert scenario.run_key().startswith("smoke/representations-")


def test_what_the_file_lacks_is_a_missing_component_naming_it(tmp_path: Path) -> None:
    scenario = file_scenario(tmp_path)
    with pytest.raises(MissingComponentError, match="plain_cnn's representations"):
        scenario.representations("plain_cnn")
    with pytest.raises(MissingComponentError, match="no 'memorization' array"):
        scenario.memorization()
    with pytest.raises(MissingComponentError, match="images to train the density-bin models"):
        scenario.density_bins()
    with pytest.raises(MissingComponentError, match="holds labels and representations, not"):
        scenario.trained("resnet18")


def test_the_files_memorization_scores_are_the_scenarios(tmp_path: Path) -> None:
    scenario = file_scenario(tmp_path, memorization=True)
    np.testing.assert_array_equal(scenario.memorization(),
                                  arrays(memorization=True)["memorization"])
    assert scenario.components()["memorization"] == "file"
