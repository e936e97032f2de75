"""The planted-worlds table in the report: how often each verdict comes out when the whole density
pipeline (reducer, sampler, matched nulls, decisions, Holm) runs on representation files whose
answer is known (:mod:`modes.experiments.world_files`).

``benchmarks/check_world_files.py`` writes one record per run (a world and a seed) to
``<records>/worlds/<design key>/<world>-<seed>.json``, atomically, so seeds split over several
processes never collide and a run done again replaces its record. A *design* is everything that
changes the world or the pipeline's settings: classes, examples per class, stage dims, what is
planted, the scale profile and its overrides, the claims run (Holm's family) and the pipeline
version (:data:`modes.stage_keys.PIPELINE_VERSION`); runs of one design form one table, and
designs of an earlier pipeline version are left out of the report (and counted).

Each table gives, per world and claim, the family-wise verdict counts over the seeds (the claims'
own verdicts, before Holm, in brackets), the replicated rate with its exact 95% CI, and the
pre-registered target (:data:`TARGETS`, issue 10): on the two-mode world C1, C2 and C4 replicate
in >= 90% of at least :data:`MIN_SEEDS` seeds; on the null world C1 replicates in <= 5%.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
from markupsafe import Markup

from modes.report import pages
from modes.report.records import resolve
from modes.stage_keys import PIPELINE_VERSION
from modes.stats.power import clopper_pearson
from modes.stats.verdict import Verdict
from modes.store import save_json

WORLDS_SUBDIR = "worlds"
TITLE = "Planted worlds: the whole pipeline where the answer is known"
NOTE = ("Each row: one claim run end to end (--modes-representations) on representation files "
        "drawn with a known answer, once per seed: a null world (every class one Gaussian at "
        "every stage) and a two-mode world (the same shallow stages; in the deep stages a "
        "fraction of the classes made of compact, separated components, not more compact "
        "overall). Counts are family-wise verdicts (Holm over the claims run), the claims' own "
        "in brackets (counts short of the seeds: runs where the claim left no verdict, see their "
        "pytest.log); the rate is the family-wise replicated rate with its exact 95% CI.")
MIN_SEEDS = 20
"""Seeds per world a target needs before it is called met or missed (issue 10: >= 20)."""


@attrs.frozen
class Target:
    """The pre-registered replicated rate of a claim on a world: at least or at most ``rate``."""

    at_least: bool
    rate: float

    def holds(self, replicated: int, seeds: int) -> bool:
        share = replicated / seeds
        return share >= self.rate if self.at_least else share <= self.rate

    def __str__(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.rate:.0%} replicated"


TARGETS: Mapping[tuple[str, str], Target] = {
    ("two-mode", "C1"): Target(True, 0.9), ("two-mode", "C2"): Target(True, 0.9),
    ("two-mode", "C4"): Target(True, 0.9), ("null", "C1"): Target(False, 0.05)}
"""Issue 10's Done-when line, per (world, claim). The other cells have no target there: C1s is not
in it, C2 on the null world reads the very shallow stages of the same seed's two-mode world (the
files share them), and C4 on the null world has no high-density group to compare."""


def _tuple(values: Sequence[object]) -> tuple[object, ...]:
    return tuple(values)


@attrs.frozen
class WorldDesign:
    """Everything that changes a world run but its seed and world (module docstring)."""

    classes: int
    n: int
    dims: tuple[int, ...] = attrs.field(converter=_tuple)
    planted: str
    planted_fraction: float
    components: int
    radius: float
    scale: str
    overrides: tuple[str, ...] = attrs.field(converter=_tuple)
    claims: tuple[str, ...] = attrs.field(converter=_tuple)
    pipeline: str = PIPELINE_VERSION

    @property
    def key(self) -> str:
        """A short stable name of the design (the folder its runs' records live in)."""
        text = json.dumps(attrs.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def __str__(self) -> str:
        return (f"{self.classes} classes x {self.n}, dims {list(self.dims)}, {self.planted} "
                f"(fraction {self.planted_fraction:g}, {self.components} components, radius "
                f"{self.radius:g}), scale {self.scale}"
                + (f" with {', '.join(self.overrides)}" if self.overrides else "")
                + f", claims {', '.join(self.claims)}, pipeline {self.pipeline}")


@attrs.frozen
class WorldRun:
    """One run's verdicts: ``family`` (after Holm) and ``own`` per claim id."""

    world: str
    seed: int
    sha256: str  # of the representations file
    family: Mapping[str, str]
    own: Mapping[str, str]
    seconds: float  # wall time of the run that wrote the record (fits loaded from a cache: ~0)
    commit: str = "unknown"  # the code's git commit, when known


@attrs.frozen
class WorldTable:
    """The runs of one design."""

    design: WorldDesign
    runs: tuple[WorldRun, ...]

    def worlds(self) -> list[str]:
        return sorted({r.world for r in self.runs}, key=lambda w: w != "null")

    def seeds(self, world: str) -> int:
        return sum(r.world == world for r in self.runs)

    def count(self, world: str, claim: str, verdict: str, own: bool = False) -> int:
        return sum((r.own if own else r.family).get(claim) == verdict
                   for r in self.runs if r.world == world)


def write_run(records: Path | str, design: WorldDesign, run: WorldRun) -> Path:
    """Write ``run``'s record under its design's folder; returns the path."""
    if any(sep in run.world for sep in "/\\") or not run.world:
        raise ValueError(f"a world's name must be a plain name, got {run.world!r}")
    path = Path(records) / WORLDS_SUBDIR / design.key / f"{run.world}-{run.seed}.json"
    save_json(path, {"design": attrs.asdict(design), "run": attrs.asdict(run)})
    return path


def load_tables(path: Path | str) -> tuple[list[WorldTable], int]:
    """The tables of the current pipeline version under ``path`` (a records or reports
    directory), one per design, and how many designs of earlier versions were left out. A record
    that cannot be read is an error naming the file."""
    folder = resolve(path) / WORLDS_SUBDIR
    runs: dict[WorldDesign, list[WorldRun]] = {}
    for file in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(file.read_text())
            design = WorldDesign(**data["design"])
            run = WorldRun(**data["run"])
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"cannot read planted-world record {file}: {err!r}") from None
        runs.setdefault(design, []).append(run)
    current = [WorldTable(d, tuple(sorted(r, key=lambda x: (x.world, x.seed))))
               for d, r in runs.items() if d.pipeline == PIPELINE_VERSION]
    return sorted(current, key=lambda t: str(t.design)), len(runs) - len(current)


HEADER = ["world", "claim", "seeds", *(v.value for v in Verdict), "replicated rate (95% CI)",
          "target"]


def _target_text(table: WorldTable, world: str, claim: str) -> str:
    target = TARGETS.get((world, claim))
    if target is None:
        return "—"
    seeds = table.seeds(world)
    k = table.count(world, claim, Verdict.REPLICATED.value)
    if seeds < MIN_SEEDS:
        return f"{target}: open ({seeds} of {MIN_SEEDS} seeds)"
    return f"{target}: {'met' if target.holds(k, seeds) else 'missed'}"


def rows(table: WorldTable) -> list[list[str]]:
    """The table's cells, one row per world and claim run."""
    out = []
    for world in table.worlds():
        seeds = table.seeds(world)
        for claim in table.design.claims:
            k = table.count(world, claim, Verdict.REPLICATED.value)
            low, high = clopper_pearson(k, seeds)
            out.append([world, claim, str(seeds),
                        *(f"{table.count(world, claim, v.value)} "
                          f"({table.count(world, claim, v.value, own=True)})" for v in Verdict),
                        f"{k / seeds:.2f} ({low:.2f}-{high:.2f})",
                        _target_text(table, world, claim)])
    return out


def _caption(table: WorldTable) -> str:
    commits = sorted({r.commit for r in table.runs})
    return f"{table.design} (design {table.design.key}; commit {', '.join(commits)})"


def _left_out(stale: int) -> str:
    return (f"{stale} design(s) of an earlier pipeline version left out." if stale else "")


def markdown(tables: Sequence[WorldTable], stale: int = 0) -> str:
    """The report's Markdown section ("" without tables)."""
    if not tables:
        return ""
    lines = ["", f"## {TITLE}", "", NOTE + (" " + _left_out(stale) if stale else "")]
    for table in tables:
        lines += ["", _caption(table), "", "| " + " | ".join(HEADER) + " |",
                  "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows(table)]
    return "\n".join(lines) + "\n"


def html_section(tables: Sequence[WorldTable], stale: int = 0) -> Markup:
    """The report's HTML section (empty without tables), from ``templates/worlds.html.j2``."""
    if not tables:
        return Markup("")
    return Markup(pages.render(
        "worlds.html.j2", title=TITLE, note=NOTE, left_out=_left_out(stale), header=HEADER,
        tables=[(_caption(t), rows(t)) for t in tables]).rstrip("\n"))
