"""The verdict table pytest prints at the end of a claims session (one line per claim)."""

from __future__ import annotations

from collections.abc import Sequence

from modes.report.render import fmt, verdict_label
from modes.stats.claim import ClaimResult

HEADER = ("claim", "verdict", "Holm p", "effect", "note")
MIN_NOTE = 20


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def verdict_table(results: Sequence[ClaimResult], width: int = 100) -> list[str]:
    """Claim, family-wise verdict, Holm-adjusted p, effect size and the note cut to ``width``."""
    rows = [(r.claim_id, verdict_label(r),
             fmt(r.family.adjusted_p if r.family is not None else None), fmt(r.effect_size),
             r.explanation) for r in results]
    widths = [max(len(str(row[i])) for row in [HEADER, *rows]) for i in range(4)]
    note_width = max(width - sum(widths) - 2 * len(widths), MIN_NOTE)

    def line(cells: Sequence[str]) -> str:
        fixed = "  ".join(c.ljust(w) for c, w in zip(cells[:4], widths, strict=True))
        return f"{fixed}  {_short(cells[4], note_width)}".rstrip()

    return [line(HEADER), *(line(row) for row in rows)]
