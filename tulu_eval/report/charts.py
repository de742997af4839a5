"""Inline SVG charts (no scripts, no external resources): per-task bars, dev vs unseen scatter."""

from __future__ import annotations

import math
from html import escape

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def color(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _ok(v) -> bool:
    return isinstance(v, (int, float)) and not math.isnan(v)


def _ticks(top: float) -> list[float]:
    step = 10 if top > 40 else 5 if top > 15 else 2 if top > 6 else 1
    return [i * step for i in range(int(top // step) + 1)]


def _top(values: list[float]) -> float:
    """Upper end of the axis in percent: 100, or less when every value is small."""
    peak = max([v for v in values if _ok(v)] + [0.0]) * 100
    for top in (5, 10, 20, 50, 100):
        if peak <= top:
            return float(top)
    return math.ceil(peak / 10) * 10.0


def bar_chart(tasks: list[str], labels: list[str], values: list[list], stderrs: list[list]) -> str:
    """Grouped bars: one group per task, one bar per entry; whiskers at ± one standard error."""
    n_e, n_t = len(labels), len(tasks)
    bar, gap, left, top_pad, bottom = 14, 18, 44, 16, 96
    group_w = n_e * bar + gap
    width = left + n_t * group_w + 70  # room for the last slanted task name
    height = 260
    plot_h = height - top_pad - bottom
    top = _top([v for row in values for v in row if _ok(v)] + [
        v + s for row_v, row_s in zip(values, stderrs) for v, s in zip(row_v, row_s) if _ok(v) and _ok(s)])

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - min(100 * v, top) / top)

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="primary metric per task and model">']
    for t in _ticks(top):
        yy = y(t / 100)
        out.append(f'<line x1="{left}" x2="{width - 60}" y1="{yy:.1f}" y2="{yy:.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>')
    for ti, task in enumerate(tasks):
        x0 = left + ti * group_w + gap / 2
        for ei in range(n_e):
            v, s = values[ei][ti], stderrs[ei][ti]
            if not _ok(v):
                continue
            x = x0 + ei * bar
            tip = f"{labels[ei]} — {task}: {100 * v:.1f}" + (f" ± {100 * s:.1f}" if _ok(s) else "")
            out.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar - 2}" height="{max(0.5, y(0) - y(v)):.1f}" '
                       f'fill="{color(ei)}"><title>{escape(tip)}</title></rect>')
            if _ok(s) and s > 0:
                cx = x + (bar - 2) / 2
                out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(v + s):.1f}" y2="{y(max(0.0, v - s)):.1f}" '
                           'class="whisker"/>')
        cx = x0 + n_e * bar / 2
        out.append(f'<text transform="translate({cx:.1f},{height - bottom + 12}) rotate(35)" class="tick">'
                   f'{escape(task)}</text>')
    out.append(f'<line x1="{left}" x2="{width - 60}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>')
    out.append("</svg>")
    return "".join(out)


def scatter(points: list[tuple[int, str, float, float]]) -> str:
    """Dev average (x) against unseen average (y) per entry; the diagonal is 'no gap'."""
    size, pad = 360, 44
    top = _top([p[2] for p in points] + [p[3] for p in points])
    span = size - 2 * pad

    def sx(v: float) -> float:
        return pad + span * min(100 * v, top) / top

    def sy(v: float) -> float:
        return size - pad - span * min(100 * v, top) / top

    wide = size + 230  # room for the point labels right of the plot
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{wide}" height="{size}" '
           f'viewBox="0 0 {wide} {size}" role="img" aria-label="dev average against unseen average">']
    for t in _ticks(top):
        out.append(f'<line x1="{sx(t / 100):.1f}" x2="{sx(t / 100):.1f}" y1="{pad}" y2="{size - pad}" class="grid"/>'
                   f'<line x1="{pad}" x2="{size - pad}" y1="{sy(t / 100):.1f}" y2="{sy(t / 100):.1f}" class="grid"/>'
                   f'<text x="{sx(t / 100):.1f}" y="{size - pad + 14}" text-anchor="middle" class="tick">{t:g}</text>'
                   f'<text x="{pad - 6}" y="{sy(t / 100) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>')
    out.append(f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" class="diag"/>')
    out.append(f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle" class="axis-label">dev average</text>'
               f'<text transform="translate(12,{size / 2}) rotate(-90)" text-anchor="middle" class="axis-label">'
               'unseen average</text>')
    placed: list[tuple[float, float, float]] = []  # label boxes (x0, x1, baseline y) already drawn
    for k, label, dev, unseen in points:
        tip = f"{label}: dev {100 * dev:.1f}, unseen {100 * unseen:.1f}, gap {100 * (dev - unseen):+.1f}"
        short = label if len(label) <= 40 else label[:39] + "…"
        x0, x1 = sx(dev) + 9, sx(dev) + 9 + 5.5 * len(short)
        y = sy(unseen) + 4
        for shift in (0, -12, 12, -24, 24, -36, 36, -48, 48):  # move a label off the ones it would cover
            if not any(x0 < b1 and b0 < x1 and abs(y + shift - by) < 11 for b0, b1, by in placed):
                y += shift
                break
        placed.append((x0, x1, y))
        out.append(f'<circle cx="{sx(dev):.1f}" cy="{sy(unseen):.1f}" r="6" fill="{color(k)}" stroke="#fff">'
                   f'<title>{escape(tip)}</title></circle>'
                   f'<text x="{x0:.1f}" y="{y:.1f}" class="point-label" fill="{color(k)}">{escape(short)}</text>')
    out.append("</svg>")
    return "".join(out)
