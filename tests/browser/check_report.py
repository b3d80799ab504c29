#!/usr/bin/env python3
"""Opens an analysis report in a real headless browser and checks what a reader would see.

    python3 tests/browser/check_report.py REPORT_DIR [PNG_DIR]

REPORT_DIR is what `hiddencost analyze LOG... --out REPORT_DIR` wrote. Chromium from Debian's
packages (/usr/bin/chromium, or $CHROMIUM) is driven by Playwright, offline:
- report.html: no console error, no page error, no request leaves the page (anything but the
  file itself is refused and counted), the screenshot is not blank, every inline chart has a
  size and draws its series, the first section is Findings;
- every SVG chart next to it, opened on its own and rendered to a PNG (saved in PNG_DIR): not
  blank, its series drawn in colour, nothing drawn outside the picture;
- Figure 2: with the browser's own font metrics, no point label overlaps another label or a
  point, and every label lies inside the chart.
Prints one line per check and exits non-zero on the first failed one.
"""
import io
import os
import pathlib
import sys

from PIL import Image
from playwright.sync_api import sync_playwright

report = pathlib.Path(sys.argv[1]).resolve()
png_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else report / "png")
png_dir.mkdir(parents=True, exist_ok=True)
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def ink(png_bytes):
    """(share of pixels that are not white, number of distinct saturated colours)."""
    img = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    pixels = list(img.getdata())
    not_white = sum(1 for p in pixels if min(p) < 235)
    colours = {p for p in pixels if max(p) - min(p) > 60}
    return not_white / len(pixels), len({(r // 32, g // 32, b // 32) for r, g, b in colours})


OVERLAPS = """() => {
  const boxes = sel => [...document.querySelectorAll(sel)].map(e => {
    const b = e.getBBox(); return {x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height,
                                    text: e.textContent};
  });
  const labels = boxes('text.point-label'), dots = boxes('g.series circle');
  const hit = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const svg = document.querySelector('svg');
  const w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height;
  const out = [];
  labels.forEach((a, i) => {
    labels.slice(i + 1).forEach(b => { if (hit(a, b)) out.push(a.text + ' / ' + b.text); });
    dots.forEach(d => { if (hit(a, d)) out.push(a.text + ' / a point'); });
    if (a.x0 < 0 || a.y0 < 0 || a.x1 > w || a.y1 > h) out.push(a.text + ' outside the chart');
  });
  return {labels: labels.length, problems: out};
}"""

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path=chromium,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def only_local(route):
        if route.request.url.startswith("file://") and route.request.url.endswith(".html"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto((report / "report.html").as_uri(), wait_until="load")
    shot = page.screenshot(full_page=True)
    (png_dir / "report.png").write_bytes(shot)
    share, colours = ink(shot)
    check(not errors, f"report.html: no console or page errors {errors[:3]}")
    check(not outside, f"report.html: fetches nothing {outside[:3]}")
    check(share > 0.02 and colours >= 4,
          f"report.html: the screenshot is not blank ({share:.1%} ink, {colours} colours)")
    first = page.evaluate("() => document.querySelector('h2') && document.querySelector('h2').textContent")
    check(first == "Findings", f"report.html: the first section is Findings ({first!r})")
    charts = page.evaluate("""() => [...document.querySelectorAll('figure svg')].map(s => {
        const r = s.getBoundingClientRect();
        return {w: r.width, h: r.height, marks: s.querySelectorAll('g.series > *').length};
    })""")
    images = page.evaluate("() => [...document.images].map(i => i.complete && i.naturalWidth > 0)")
    # Wide tables (the models table, the ops furthest above their bound) scroll inside their
    # own box: in a 1400-pixel window the page itself never scrolls sideways.
    page.set_viewport_size({"width": 1400, "height": 900})
    wide = page.evaluate("""() => {
        const boxes = [...document.querySelectorAll('div.table')];
        return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                tables: document.querySelectorAll('table').length,
                unboxed: [...document.querySelectorAll('table')]
                    .filter(t => !t.parentElement.matches('div.table')).length,
                scrolling: boxes.filter(b => b.scrollWidth > b.clientWidth).length,
                stuck: boxes.filter(b => b.scrollWidth > b.clientWidth
                                         && getComputedStyle(b).overflowX !== 'auto').length,
                outside: boxes.filter(b => b.getBoundingClientRect().right > window.innerWidth).length};
    }""")
    check(wide["page"] <= wide["window"] and wide["unboxed"] == 0 and wide["stuck"] == 0
          and wide["outside"] == 0,
          f"report.html at 1400 px: no sideways page scroll, every table in its own box "
          f"({wide['tables']} tables, {wide['scrolling']} scrolling in their box): {wide}")
    check(len(charts) >= 5 and all(c["w"] > 100 and c["h"] > 100 and c["marks"] > 0 for c in charts),
          f"report.html: {len(charts)} inline charts, each sized and drawn")
    check(all(images), f"report.html: every image loads ({len(images)} <img>)")

    for svg in sorted(report.glob("*.svg")):
        # Each chart on its own page, as a viewer opening the file would draw it.
        chart = browser.new_page(viewport={"width": 800, "height": 600})
        chart_errors = []
        chart.on("console", lambda m: chart_errors.append(m.text) if m.type == "error" else None)
        chart.on("pageerror", lambda e: chart_errors.append(str(e)))
        chart.set_content("<!DOCTYPE html><html><body style=\"margin:0\">"
                          + svg.read_text() + "</body></html>")
        png = chart.locator("svg").first.screenshot()
        (png_dir / (svg.stem + ".png")).write_bytes(png)
        share, colours = ink(png)
        overflow = chart.evaluate("""() => {
            const s = document.querySelector('svg'), r = s.getBoundingClientRect();
            return [...s.querySelectorAll('g.series > circle, g.series > rect, text')]
              .map(e => e.getBoundingClientRect())
              .filter(b => b.left < r.left - 1 || b.top < r.top - 1 || b.right > r.right + 1
                           || b.bottom > r.bottom + 1)
              .length; }""")
        check(not chart_errors and share > 0.01 and colours >= 1 and overflow == 0,
              f"{svg.name}: rendered ({share:.1%} ink, {colours} colours, {overflow} marks "
              f"outside the picture)")
        if svg.name.startswith("fig2_"):
            result = chart.evaluate(OVERLAPS)
            check(result["labels"] > 0 and not result["problems"],
                  f"{svg.name}: {result['labels']} point labels, none overlapping "
                  f"{result['problems'][:3]}")
        chart.close()
    browser.close()

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print(f"{report}: every check passed; PNGs in {png_dir}")
