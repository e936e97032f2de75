"""Figure specifications: the JSON-able data behind a figure, so that ``modes report`` can redraw
every figure from the claims' records alone.

A claim builds a :class:`FigureSpec` (figure kind, file stem, the arrays as lists), draws it with
:func:`draw` and stores ``spec.to_dict()`` in its :class:`~modes.stats.claim.ClaimResult`
(``figure_specs``). :func:`redraw` replays the stored specs into a figures directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from modes.report import figures

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _series(value: Any) -> figures.Series:
    mean, sd = value
    return np.asarray(mean, dtype=float), None if sd is None else np.asarray(sd, dtype=float)


def _profiles(path: Path, panels: Mapping[str, Mapping[str, Any]], title: str = "") -> Path:
    return figures.class_density_profiles(
        {name: figures.ClassProfile(p["means"], p["sds"], p.get("threshold"), p.get("flagged"))
         for name, p in panels.items()}, path, title)


def _bins(path: Path, panels: Iterable[Mapping[str, Any]], bin_x: Any = None,
          transition: float | None = None, title: str = "") -> Path:
    built = [figures.BinPanel(p["title"], {k: _series(v) for k, v in p["series"].items()},
                              p.get("ylabel", "")) for p in panels]
    return figures.density_bins(built, path, bin_x, transition, title)


def _stage_kl(path: Path, stages: list[str], subsets: Mapping[str, Any], title: str = "") -> Path:
    return figures.stage_kl(stages, {k: _series(v) for k, v in subsets.items()}, path, title)


def _compactness(path: Path, **kwargs: Any) -> Path:
    return figures.compactness_and_complexity(path=path, **kwargs)


def _svd(path: Path, **kwargs: Any) -> Path:
    return figures.svd_variance(path=path, **kwargs)


def _fscores(path: Path, **kwargs: Any) -> Path:
    return figures.generative_fscores(path=path, **kwargs)


FIGURE_KINDS: dict[str, Callable[..., Path]] = {
    "class_density_profiles": _profiles,   # Fig. 1, A.7, A.8, A.9, A.10
    "compactness_and_complexity": _compactness,  # Fig. 2
    "density_bins": _bins,  # Fig. 3
    "stage_kl": _stage_kl,  # Fig. 4
    "svd_variance": _svd,  # Fig. A.6
    "generative_fscores": _fscores,  # Fig. A.11
}


_PAIRS = "__pairs__"


def _jsonable(obj: Any, top: bool = True) -> Any:
    """Arrays to lists; nested mappings to ``{"__pairs__": [[key, value], ...]}`` so that their
    order (stages, layers "block 2" before "block 10") survives ``json.dumps(sort_keys=True)``."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, Mapping):
        if _PAIRS in obj:
            return {_PAIRS: [[str(k), _jsonable(v, False)] for k, v in obj[_PAIRS]]}
        items = [[str(k), _jsonable(v, False)] for k, v in obj.items()]
        return {k: v for k, v in items} if top else {_PAIRS: items}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, False) for v in obj]
    return obj


def _decoded(obj: Any) -> Any:
    """Inverse of the nested-mapping encoding of :func:`_jsonable` (insertion-ordered dicts)."""
    if isinstance(obj, Mapping):
        if _PAIRS in obj:
            return {k: _decoded(v) for k, v in obj[_PAIRS]}
        return {k: _decoded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decoded(v) for v in obj]
    return obj


def _check_kind(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in FIGURE_KINDS:
        raise ValueError(f"kind must be one of {sorted(FIGURE_KINDS)}, got {value!r}")


def _check_stem(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _STEM.match(value):
        raise ValueError(f"stem must be a plain file name without a suffix, got {value!r}")


@attrs.frozen(eq=False)
class FigureSpec:
    """``kind`` names the figure function; ``data`` its keyword arguments (arrays become lists);
    the PNG is ``<figures_dir>/<stem>.png``.

    ``class_density_profiles``: ``panels={name: {"means", "sds", "threshold"}}``;
    ``compactness_and_complexity``: ``class_means, relative_entropy, mean_distance, threshold``;
    ``density_bins``: ``panels=[{"title", "series": {label: [mean, sd or None]}, "ylabel"}],
    bin_x, transition``; ``stage_kl``: ``stages, subsets={name: [mean, sd]}``;
    ``svd_variance``: ``curves={stage: ratios}, retained={stage: d}``;
    ``generative_fscores``: ``stages, subsets={name: scores}``. All take an optional ``title``.
    """

    kind: str = attrs.field(validator=_check_kind)
    stem: str = attrs.field(validator=_check_stem)
    data: dict[str, Any] = attrs.field(converter=_jsonable)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "stem": self.stem, "data": self.data}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FigureSpec:
        try:
            return cls(kind=d["kind"], stem=d["stem"], data=dict(d["data"]))
        except KeyError as err:
            raise ValueError(f"figure spec lacks {err}; needs kind, stem and data") from None


def draw(spec: FigureSpec, figures_dir: Path | str) -> Path:
    """Draw ``spec`` into ``<figures_dir>/<stem>.png`` and return the path."""
    path = Path(figures_dir) / f"{spec.stem}.png"
    return FIGURE_KINDS[spec.kind](path, **_decoded(spec.data))


def redraw(specs: Iterable[Mapping[str, Any]], figures_dir: Path | str) -> list[Path]:
    """Redraw stored specs (dicts from records) into ``figures_dir``."""
    return [draw(FigureSpec.from_dict(s), figures_dir) for s in specs]
