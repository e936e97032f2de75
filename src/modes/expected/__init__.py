"""Expected verdicts of the smoke run, kept as data (``smoke.json`` beside this file).

A claim that is measured not to hold on the small embedded data would fail the smoke run; its
expected verdict is recorded here, keyed by ``scale/dataset/backbone/seed`` (:func:`run_key`; a
scale with overrides is another key), and compared with the measured one: the same verdict makes
the test ``xfail(strict=True)`` with a reason generated from the record (its numbers, not
hand-written text); a different verdict fails the test, unless Holm's correction across the run
can still turn it into the expected one (a presence claim that replicates on its own): then the
family-wise verdict decides at the end of the session. Runs with no entry (another dataset,
backbone, seed, scale or overrides) expect every claim to replicate.
When a change moves a verdict, the failing test names the claim, the run and both verdicts; the
file is edited to the new measured verdict in the same commit as the change, with its numbers in
the commit message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from modes.stats.claim import ClaimResult, scale_label
from modes.stats.verdict import Verdict

FILE = "smoke.json"


def run_key(scale: str, dataset: str, backbone: str, seed: int,
            overrides: Iterable[str] = ()) -> str:
    """``smoke/synthetic/resnet18/0``; a run that overrides knobs of its scale profile is another
    run (``smoke [density.sweeps=100]/synthetic/resnet18/0``), with no recorded expectations."""
    return f"{scale_label(scale, overrides)}/{dataset}/{backbone}/{seed}"


def load(path: Path | None = None) -> dict[str, dict[str, Verdict]]:
    """The expectations file (the shipped one unless ``path``); bad verdicts are named."""
    text = (path.read_text() if path is not None
            else resources.files(__package__).joinpath(FILE).read_text())
    data: dict[str, Any] = json.loads(text)
    runs = {k: v for k, v in data.items() if not k.startswith("_")}
    known = [v.value for v in Verdict]
    for key, claims in runs.items():
        bad = {c: v for c, v in claims.items() if v not in known}
        if bad:
            raise ValueError(f"{FILE}: run {key!r} has unknown verdicts {bad}; known {known}")
    return {key: {c: Verdict(v) for c, v in claims.items()} for key, claims in runs.items()}


def expected_verdict(key: str, claim_id: str,
                     table: dict[str, dict[str, Verdict]] | None = None) -> Verdict:
    """The verdict run ``key`` expects of ``claim_id``: ``replicated`` unless recorded."""
    return (load() if table is None else table).get(key, {}).get(claim_id, Verdict.REPLICATED)


def reason(result: ClaimResult, key: str) -> str:
    """Why a claim is expected not to replicate in this run, from its own record."""
    fmt = lambda x: "nan" if x != x else f"{x:.3g}"  # noqa: E731
    text = (f"expected '{result.expected.value}' in run {key} ({FILE}); measured: p "
            f"{fmt(result.p_value)}, "
            f"{result.prereg.effect_name} {fmt(result.effect_size)} (threshold "
            f"{result.prereg.effect_direction} {result.prereg.effect_threshold:g})")
    if result.power is not None:
        text += f", power {result.power:.2f}"
    return text + (f"; {result.explanation}" if result.explanation else "")
