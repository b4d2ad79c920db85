"""Vendor Chart.js's UMD build into the page kit (`make vendor-chartjs`).

Pages that draw charts (reporting's dashboard) serve this committed file themselves, so nothing needs
npm at run time and no page fetches a script from another host. As for NHS.UK frontend
(vendor_nhsuk.py), the package is fetched with `npm pack` at a pinned version and checked against its
pinned integrity, so a refresh is reproducible.

The file is `dist/chart.umd.min.js`, the one the package names for browsers (its `unpkg` and `jsdelivr`
fields): one script that sets `window.Chart`, no module loader needed. Only its `sourceMappingURL`
comment is dropped, with the source map, which is not vendored. The licence file is kept beside it.

To refresh: change VERSION and INTEGRITY (from `npm view chart.js@<version> dist.integrity`), run
`make vendor-chartjs`, change CHARTJS_VERSION in signpost_web/assets.py, and run the browser tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from npm_package import ROOT, unpacked_package, without_source_map

VERSION = "4.5.1"
INTEGRITY = "sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw=="
SCRIPT = "chart.umd.min.js"

TARGET = ROOT / "libs" / "web" / "src" / "signpost_web" / "static" / "chartjs"


def vendor(package: Path) -> Path:
    shutil.rmtree(TARGET, ignore_errors=True)  # one version at a time: old ones go
    out = TARGET / VERSION
    out.mkdir(parents=True)
    script = without_source_map((package / "dist" / SCRIPT).read_text())
    (out / SCRIPT).write_text(script + "\n")
    shutil.copyfile(package / "LICENSE.md", TARGET / "LICENSE.md")
    (TARGET / "README.md").write_text(_readme())
    return out


def _readme() -> str:
    return f"""# Chart.js {VERSION}, vendored

`{VERSION}/{SCRIPT}` is `dist/{SCRIPT}` of the npm package `chart.js@{VERSION}` (integrity
`{INTEGRITY}`), without its source-map comment, copied by `libs/web/vendor_chartjs.py`
(`make vendor-chartjs`). Do not edit it by hand.

It is the UMD build (it sets `window.Chart`), loaded by `../signpost/1/charts.js`'s pages as a plain
script. The version is in the path, so the kit serves it with a year-long immutable cache.

Licence: MIT (`LICENSE.md`, as shipped in the package).
"""


def main() -> None:
    out = vendor(unpacked_package("chart.js", VERSION, INTEGRITY, make_target="vendor-chartjs"))
    print(f"vendored chart.js {VERSION} into {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
