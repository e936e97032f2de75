"""Artifact store: stable keys, atomic writes, single computation under concurrency, corruption."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from pathlib import Path

import attrs
import numpy as np
import pytest

from modes.store import ArtifactStore, CorruptArtifactWarning, request_key, save_npz


@attrs.frozen
class Request:
    name: str
    size: int
    ratio: float = 0.5


def test_key_is_stable_and_sensitive() -> None:
    a = request_key(Request("x", 3))
    assert a == request_key(Request("x", 3))
    assert a != request_key(Request("x", 4))
    assert a != request_key(Request("x", 3), version="2")
    assert request_key({"b": 1, "a": 2}) == request_key({"a": 2, "b": 1})
    assert request_key(np.arange(3)) != request_key(np.arange(4))


def test_unhashable_field_is_rejected() -> None:
    with pytest.raises(TypeError, match="cannot hash"):
        request_key({"f": object()})


def test_round_trip_and_cache_hit(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    calls: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"x": np.arange(5.0), "y": np.eye(2, dtype=np.float32)}

    first = store.get_or_compute("demo", Request("r", 1), compute)
    second = store.get_or_compute("demo", Request("r", 1), compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["x"], second["x"])
    assert second["y"].dtype == np.float32



def test_computing_a_stage_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = ArtifactStore(tmp_path)
    key = request_key(Request("r", 1))
    with caplog.at_level(logging.DEBUG, logger="modes.store"):
        store.get_or_compute("demo", Request("r", 1), lambda: {"x": np.arange(3.0)})
        store.get_or_compute("demo", Request("r", 1), lambda: {"x": np.arange(3.0)})
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert messages[0] == (logging.INFO, f"computing demo {key}")
    assert messages[1][0] == logging.INFO and messages[1][1].startswith(f"stored demo {key} after")
    assert messages[2] == (logging.DEBUG, f"loaded demo {key}")

def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="dtype object"):
        save_npz(tmp_path / "a.npz", {"bad": np.array([{"a": 1}], dtype=object)})


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)

    def boom() -> dict[str, np.ndarray]:
        raise RuntimeError("trial crashed")

    with pytest.raises(RuntimeError):
        store.get_or_compute("demo", Request("r", 2), boom)
    leftovers = [p for p in (tmp_path / "demo").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_corrupt_entry_is_reported_and_recomputed(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    req = Request("r", 3)
    store.get_or_compute("demo", req, lambda: {"x": np.ones(3)})
    path = store.path("demo", request_key(req))
    path.write_bytes(b"PK\x03\x04 truncated garbage")
    with pytest.warns(CorruptArtifactWarning, match="corrupt artifact"):
        again = store.get_or_compute("demo", req, lambda: {"x": np.full(3, 7.0)})
    np.testing.assert_array_equal(again["x"], np.full(3, 7.0))
    assert store.load("demo", request_key(req)) is not None


def test_bad_kind_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain name"):
        ArtifactStore(tmp_path).path("../escape", "k")


def _worker(root: str, counter: str, out: str) -> None:
    store = ArtifactStore(Path(root))

    def compute() -> dict[str, np.ndarray]:
        with open(counter, "a") as fh:  # one line per real computation
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)  # long enough that the other workers arrive while this one computes
        return {"value": np.arange(1000.0)}

    arrays = store.get_or_compute("shared", Request("concurrent", 1), compute)
    np.save(out, arrays["value"])


def test_single_computation_under_four_processes(tmp_path: Path) -> None:
    counter = tmp_path / "computations.txt"
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_worker, args=(str(tmp_path / "store"), str(counter),
                                          str(tmp_path / f"out{i}.npy")))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert len(counter.read_text().splitlines()) == 1
    for i in range(4):
        np.testing.assert_array_equal(np.load(tmp_path / f"out{i}.npy"), np.arange(1000.0))
