"""Rasterises the SVG icons into the PNGs the manifest lists (run once; PNGs are committed).

    ../.venv/bin/python scripts/make-icons.py
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent.parent
OUT = HERE / "public" / "icons"
JOBS = [
    ("public/icons/icon.svg", "icon-192.png", 192),
    ("public/icons/icon.svg", "icon-512.png", 512),
    ("public/icons/icon.svg", "apple-touch-icon.png", 180),
    ("sw/maskable.svg", "maskable-192.png", 192),
    ("sw/maskable.svg", "maskable-512.png", 512),
]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    for src, name, size in JOBS:
        page = browser.new_page(viewport={"width": size, "height": size})
        svg = (HERE / src).read_text()
        page.set_content(
            "<html><body style='margin:0;background:transparent'>"
            f"<img style='width:{size}px;height:{size}px;display:block' "
            f"src='data:image/svg+xml;utf8,{svg.replace(chr(10), ' ').replace('#', '%23')}'></body></html>"
        )
        page.wait_for_timeout(100)
        page.screenshot(path=str(OUT / name), omit_background=True)
        page.close()
    browser.close()
print("ok")
