"""Vendor NHS.UK frontend's compiled assets into the page kit (`make vendor-nhsuk`).

Services and containers serve these committed files themselves, so nothing needs npm at run time and
no page fetches anything from another host. The package is fetched with `npm pack` at a pinned
version and checked against its pinned integrity, so a refresh is reproducible.

Two changes are made to the stylesheet, both so that a page's Content-Security-Policy can stay at
'self' and a visitor's browser asks no other host for anything:
- the @font-face rules are dropped: they load Frutiger from assets.nhs.uk, and the package does not
  ship the font (it is licensed to NHS England). The font stack's own fallback, Arial, is used;
- the image URLs (`/assets/images/...`) are made relative to the stylesheet, so they resolve to
  the vendored copies wherever the kit mounts them.
The `sourceMappingURL` comments are dropped with the source maps, which are not vendored.

To refresh: change VERSION and INTEGRITY (from `npm view nhsuk-frontend@<version> dist.integrity`),
run `make vendor-nhsuk`, move `nhsuk-frontend-jinja` to the matching release, and run the browser tests.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from npm_package import ROOT, unpacked_package, without_source_map

VERSION = "10.6.1"
INTEGRITY = "sha512-PZorqQZjZx/A26yJoskCL9z0ib6AtkAyF0o4K/RHr8zRrJyXrUOCnMbjy0VNXsGO4tfTNMwqlkwATKs4a0xayw=="

TARGET = ROOT / "libs" / "web" / "src" / "signpost_web" / "static" / "nhsuk"

_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_ABSOLUTE_ASSETS = "url(/assets/"
_ANY_HOST = re.compile(r"url\(\s*['\"]?(https?:)?//", re.IGNORECASE)

UPSTREAM_LICENCE = """MIT License

Copyright (c) 2019 NHS.UK

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def stylesheet(css: str) -> str:
    css = _FONT_FACE.sub("", css)
    css = without_source_map(css).replace(_ABSOLUTE_ASSETS, "url(assets/")
    if match := _ANY_HOST.search(css):
        sys.exit(f"the stylesheet still loads from another host near: {css[match.start() : match.start() + 80]}")
    if "/assets/" in css.replace("url(assets/", ""):
        sys.exit("the stylesheet refers to /assets/ in a form this script does not rewrite")
    return css


def vendor(package: Path) -> Path:
    dist = package / "dist" / "nhsuk"
    shutil.rmtree(TARGET, ignore_errors=True)  # one version at a time: old ones go
    out = TARGET / VERSION
    shutil.copytree(dist / "assets", out / "assets")
    (out / "nhsuk-frontend.min.css").write_text(stylesheet((dist / "nhsuk-frontend.min.css").read_text()))
    script = without_source_map((dist / "nhsuk-frontend.min.js").read_text())
    (out / "nhsuk-frontend.min.js").write_text(script + "\n")
    (TARGET / "LICENSE").write_text(UPSTREAM_LICENCE)
    (TARGET / "README.md").write_text(_readme())
    return out


def _readme() -> str:
    return f"""# NHS.UK frontend {VERSION}, vendored

Compiled assets of the npm package `nhsuk-frontend@{VERSION}` (integrity `{INTEGRITY}`),
copied by `libs/web/vendor_nhsuk.py` (`make vendor-nhsuk`). Do not edit these files by hand.

- `{VERSION}/nhsuk-frontend.min.css`: `dist/nhsuk/nhsuk-frontend.min.css`, with its @font-face rules
  removed (they load Frutiger from assets.nhs.uk; the package does not ship the font, so the font
  stack's fallback, Arial, is used), its `/assets/` image URLs made relative to the stylesheet, and
  its source-map comment removed.
- `{VERSION}/nhsuk-frontend.min.js`: `dist/nhsuk/nhsuk-frontend.min.js` (an ES module), without its
  source-map comment.
- `{VERSION}/assets/`: `dist/nhsuk/assets/` as shipped (favicons, icons, manifest).

The version is in the path, so the kit serves everything here with a year-long immutable cache.

Licence: MIT (`LICENSE`, the upstream repository's; the package itself declares `"license": "MIT"`).
"""


def main() -> None:
    out = vendor(unpacked_package("nhsuk-frontend", VERSION, INTEGRITY, make_target="vendor-nhsuk"))
    files = sorted(p.relative_to(TARGET) for p in TARGET.rglob("*") if p.is_file())
    print(f"vendored nhsuk-frontend {VERSION} into {out.relative_to(ROOT)}: {len(files)} files")


if __name__ == "__main__":
    main()
