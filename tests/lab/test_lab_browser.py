"""The HTML report opened in a real headless Chromium: every image and SVG loads, the console
stays clean, and a screenshot is taken.

Skips (with the reason shown) where no Chromium is installed, unless
``LAYERWISE_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs Debian's ``chromium``):
then a missing browser is a failure. ``LAYERWISE_SCREENSHOT=path.png`` keeps the screenshot.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

image = pytest.importorskip("matplotlib.image")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

# Injected into a copy of the page: record console errors and failed loads (resource errors
# do not bubble, so listen in the capture phase), then, once everything has loaded, write what
# every <img> and <svg> looks like into the DOM, which --dump-dom prints.
PROBE_HEAD = """<script>
window.__lwErrors = [];
const __lwError = console.error.bind(console);
console.error = (...a) => { window.__lwErrors.push(a.join(" ")); __lwError(...a); };
window.addEventListener("error", ev => window.__lwErrors.push(
  "error: " + (ev.message || (ev.target && (ev.target.src || ev.target.outerHTML.slice(0, 80))))
), true);
</script>"""
PROBE_TAIL = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => ({
    ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth, height: i.naturalHeight}));
  const svgs = [...document.querySelectorAll("svg")].map(s => {
    const box = s.getBoundingClientRect();
    return {width: box.width, height: box.height, texts: s.querySelectorAll("text").length};
  });
  const out = document.createElement("pre");
  out.id = "lw-check";
  out.textContent = JSON.stringify({images, svgs, errors: window.__lwErrors});
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="session")
def chromium():
    """The browser's path (looked up before the report is built, so a skip is quick)."""
    for exe in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(exe)
        if path:
            return path
    if os.environ.get("LAYERWISE_REQUIRE_BROWSER") == "1":
        pytest.fail("LAYERWISE_REQUIRE_BROWSER=1 but no Chromium is installed "
                    "(apt-get install chromium)")
    pytest.skip("no Chromium on this machine (apt-get install chromium): the HTML report "
                "was not opened in a browser")


def run_browser(exe, tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    done = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def probe(exe, page: Path, tmp_path) -> dict:
    """Load an instrumented copy of ``page`` and return what the probe saw."""
    text = page.read_text(encoding="utf-8")
    text = text.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + PROBE_HEAD, 1)
    text = text.replace("</body>", PROBE_TAIL + "</body>", 1)
    copy = page.with_name("probe-" + page.name)
    copy.write_text(text, encoding="utf-8")
    done = run_browser(exe, tmp_path, "--virtual-time-budget=10000", "--dump-dom",
                       copy.as_uri())
    found = re.search(r'<pre id="lw-check">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, "the probe did not run: " + done.stdout[-500:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))


def test_report_loads_completely_in_chromium(chromium, lab_report, tmp_path):
    exe = chromium
    seen = probe(exe, lab_report.index, tmp_path)
    pngs = [p for r in lab_report.results.values() for p in r.figures.values()
            if str(p).endswith(".png")]
    assert len(seen["images"]) == len(pngs) == 8
    for shown, path in zip(seen["images"], pngs):
        height, width = image.imread(path).shape[:2]
        assert shown == {"ok": True, "width": width, "height": height}, path
    assert len(seen["svgs"]) == 1
    svg = seen["svgs"][0]
    assert svg["width"] > 100 and svg["height"] > 300 and svg["texts"] >= 12
    assert seen["errors"] == []


def test_report_console_is_clean_and_a_screenshot_is_taken(chromium, lab_report, tmp_path):
    exe = chromium
    shot = tmp_path / "report.png"
    done = run_browser(exe, tmp_path, "--enable-logging=stderr", "--v=0",
                       "--window-size=1280,2400", f"--screenshot={shot}",
                       lab_report.index.as_uri())
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels[..., :3].std() > 0.05
    keep = os.environ.get("LAYERWISE_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_the_probe_catches_a_broken_page(chromium, tmp_path):
    """The checks above can fail: a broken image and a console error are both reported."""
    exe = chromium
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    '<img src="data:image/png;base64,AAAA"><img src="missing.png">'
                    '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    seen = probe(exe, page, tmp_path)
    assert [i["ok"] for i in seen["images"]] == [False, False]
    assert "boom" in seen["errors"] and len(seen["errors"]) == 3
