"""A small server-side SVG chart (no script, no inline style: only presentation attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_H = 18
GAP = 6
LABEL_W = 140
WIDTH = 480


def invocation_bars(rows: Sequence[tuple[str, int]], limit: int = 10) -> str:
    """Horizontal bars, one per function (the busiest ``limit``), labelled with the count."""
    top = sorted(rows, key=lambda r: (-r[1], r[0]))[:limit]
    if not top:
        return ""
    peak = max(1, *(n for _, n in top))
    span = WIDTH - LABEL_W - 60
    height = len(top) * (BAR_H + GAP)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="Invocations per function" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, n) in enumerate(top):
        y = i * (BAR_H + GAP)
        w = max(1, round(span * n / peak)) if n else 0
        label = escape(name if len(name) <= 20 else name[:19] + "…")
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end" font-size="12" fill="currentColor">{label}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" rx="3" fill="#3b6fd8"></rect>'
            f'<text x="{LABEL_W + w + 6}" y="{y + 13}" font-size="12" fill="currentColor">{n}</text>'
        )
    out.append("</svg>")
    return "".join(out)
