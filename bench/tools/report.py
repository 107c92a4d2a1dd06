#!/usr/bin/env python3
"""bench/tools/report.py RESULTS.tsv OUTDIR MACHINE SECONDS - the table and chart of run-all.sh.

RESULTS.tsv rows (bench/tools/result.sh): bench, case, unit, better (lower|higher), anchor
name, anchor value, our value. Writes OUTDIR/results.md (one Markdown table; the ratio is our
time over the anchor's, so < 1 means we are faster; for rates it is anchor rate / our rate)
and OUTDIR/chart.svg, rasterised to chart.png by headless Chromium when it is installed.
"""
import html, math, os, shutil, subprocess, sys

results, out, machine, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = []
for line in open(results, encoding="utf-8"):
    fields = line.rstrip("\n").split("\t")
    if len(fields) != 7:
        continue
    bench, case, unit, better, anchor, a, o = fields
    try:
        a_value, o_value = float(a), float(o)
        ratio = (o_value / a_value) if better == "lower" else (a_value / o_value)
        if not math.isfinite(ratio) or ratio <= 0:
            ratio = None
    except (ValueError, ZeroDivisionError):
        ratio = None
    rows.append((bench, case, unit, anchor, a, o, ratio))

md = ["# LiteServer benchmarks (bench/run-all.sh)", "",
      f"Machine: {machine}. Whole run: {seconds // 60} min {seconds % 60} s.", "",
      "Ratio = our time ÷ the anchor's time (for rates: anchor MB/s ÷ our MB/s): **< 1 means LiteServer is faster**.", "",
      "| Benchmark | Case | Anchor | Unit | Anchor | LiteServer | Ratio |",
      "|---|---|---|---|---:|---:|---:|"]
def shown(ratio):
    return ("%.2f×" if ratio >= 0.01 else "%.1e×") % ratio
def cell(text):
    return text.replace("|", "\\|")
for bench, case, unit, anchor, a, o, ratio in rows:
    md.append(f"| {bench} | {cell(case)} | {cell(anchor)} | {unit} | {cell(a)} | {cell(o)} | {shown(ratio) if ratio else 'failed'} |")
if not rows:
    md.append("| (no results) | | | | | | |")
open(os.path.join(out, "results.md"), "w", encoding="utf-8").write("\n".join(md) + "\n")

# The chart: one horizontal bar per row, log scale around 1 (left of the line: we are faster).
width, left, bar, gap, top = 1100, 470, 18, 8, 70
height = top + len(rows) * (bar + gap) + 60
lo, hi = math.log10(0.1), math.log10(10)
def x(ratio):
    value = min(max(math.log10(ratio), lo), hi)
    return left + (value - lo) / (hi - lo) * (width - left - 30)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="20" y="28" font-size="17" font-weight="bold">LiteServer ÷ anchor time (log scale; left of 1 = LiteServer faster)</text>',
       f'<text x="20" y="48" fill="#555">{html.escape(machine)}</text>']
for tick in (0.1, 0.2, 0.5, 1, 2, 5, 10):
    svg.append(f'<line x1="{x(tick):.1f}" y1="{top - 8}" x2="{x(tick):.1f}" y2="{height - 45}" stroke="{"#000" if tick == 1 else "#ddd"}"/>')
    svg.append(f'<text x="{x(tick):.1f}" y="{height - 28}" text-anchor="middle">{tick:g}×</text>')
for i, (bench, case, unit, anchor, a, o, ratio) in enumerate(rows):
    y = top + i * (bar + gap)
    twin = sum(1 for r in rows if r[0] == bench and r[1] == case) > 1
    label = html.escape((f"{bench}: {case}" + (f" (vs {anchor})" if twin else ""))[:72])
    svg.append(f'<text x="{left - 8}" y="{y + bar - 5}" text-anchor="end">{label}</text>')
    if ratio is None:
        svg.append(f'<text x="{x(1) + 6:.1f}" y="{y + bar - 5}" fill="#b00">failed</text>')
        continue
    x0, x1 = sorted((x(1), x(ratio)))
    colour = "#2a7d2a" if ratio <= 1 else "#c0392b"
    svg.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar}" fill="{colour}"/>')
    svg.append(f'<text x="{x1 + 4:.1f}" y="{y + bar - 5}" fill="#222" font-size="11">{shown(ratio)}</text>')
svg.append("</svg>")
svg_path = os.path.join(out, "chart.svg")
open(svg_path, "w", encoding="utf-8").write("\n".join(svg) + "\n")

browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
if browser:
    page = os.path.join(out, "chart.html")
    open(page, "w", encoding="utf-8").write(f'<html><body style="margin:0">{"".join(svg)}</body></html>')
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}",
                    f"--screenshot={os.path.join(out, 'chart.png')}", "file://" + os.path.abspath(page)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    os.remove(page)
if not os.path.exists(os.path.join(out, "chart.png")):
    print("report: no PNG (headless Chromium missing or failed); chart.svg written", file=sys.stderr)
