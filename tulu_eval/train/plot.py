"""Training curves as a self-contained SVG (no plotting library needed): one panel per metric.

``write_curves(log_history, keys, path)`` draws, for each key present in the trainer's
``log_history``, the logged value against the step, with the first and last values and the
min/max of the axis written out, so the picture can be read without hovering.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 420, 220, 58, 16, 30, 36


def series(log_history: list[dict], key: str) -> list[tuple[int, float]]:
    out: dict[int, float] = {}
    for entry in log_history:
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and "step" in entry:
            out[int(entry["step"])] = float(value)  # a resumed run may log a step twice: keep the last
    return sorted(out.items())


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def _panel(points: list[tuple[int, float]], title: str, x0: float, y0: float) -> str:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    xmin, xmax = min(xs), max(xs)
    ymin, ymax = min(ys), max(ys)
    if ymax == ymin:
        ymin, ymax = ymin - 0.5, ymax + 0.5
    if xmax == xmin:
        xmax = xmin + 1
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def px(x):
        return x0 + PAD_L + (x - xmin) / (xmax - xmin) * pw

    def py(y):
        return y0 + PAD_T + (1 - (y - ymin) / (ymax - ymin)) * ph

    path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points))
    dots = "".join(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="1.8"/>' for x, y in points)
    t = html.escape(title)
    summary = f"first {_fmt(ys[0])}, last {_fmt(ys[-1])}, steps {xs[0]}-{xs[-1]}"
    return (
        f'<g font-family="sans-serif" font-size="11">'
        f'<text x="{x0 + PAD_L}" y="{y0 + 16}" font-weight="bold">{t}</text>'
        f'<text x="{x0 + W - PAD_R}" y="{y0 + 16}" text-anchor="end" fill="#555">{html.escape(summary)}</text>'
        f'<rect x="{x0 + PAD_L}" y="{y0 + PAD_T}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>'
        f'<text x="{x0 + PAD_L - 4}" y="{y0 + PAD_T + 4}" text-anchor="end">{_fmt(ymax)}</text>'
        f'<text x="{x0 + PAD_L - 4}" y="{y0 + PAD_T + ph}" text-anchor="end">{_fmt(ymin)}</text>'
        f'<text x="{x0 + PAD_L}" y="{y0 + H - 18}" text-anchor="middle">{xmin}</text>'
        f'<text x="{x0 + PAD_L + pw}" y="{y0 + H - 18}" text-anchor="middle">{xmax}</text>'
        f'<text x="{x0 + PAD_L + pw / 2}" y="{y0 + H - 6}" text-anchor="middle" fill="#555">step</text>'
        f'<path d="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>'
        f'<g fill="#1f77b4">{dots}</g></g>'
    )


def write_curves(log_history: list[dict], keys: list[str], path: Path, title: str = "") -> list[str]:
    """Write the SVG; returns the keys that had data (nothing is written when none had)."""
    panels = [(k, s) for k in keys if (s := series(log_history, k))]
    if not panels:
        return []
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    top = 24 if title else 0
    body = "".join(_panel(s, k, (i % cols) * W, top + (i // cols) * H) for i, (k, s) in enumerate(panels))
    head = (f'<text x="8" y="17" font-family="sans-serif" font-size="13" font-weight="bold">{html.escape(title)}</text>'
            if title else "")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * W}" height="{top + rows * H}" '
           f'viewBox="0 0 {cols * W} {top + rows * H}"><rect width="100%" height="100%" fill="white"/>{head}{body}</svg>\n')
    path.write_text(svg, encoding="utf-8")
    return [k for k, _ in panels]
