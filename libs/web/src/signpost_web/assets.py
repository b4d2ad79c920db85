"""The vendored NHS.UK frontend assets, served by the service itself under /static.

Every file lives under a path that names the NHS.UK frontend version (`/static/nhsuk/10.6.1/...`),
so a browser may keep it for a year without asking again: a new version is a new URL. The files
are vendored by `libs/web/vendor_nhsuk.py` (and Chart.js, `/static/chartjs/<version>/`, by
`libs/web/vendor_chartjs.py`); nothing is fetched from a CDN, at build or at run time.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

NHSUK_FRONTEND_VERSION = "10.6.1"
STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"
NHSUK_URL = f"{STATIC_URL}/nhsuk/{NHSUK_FRONTEND_VERSION}"
ASSET_PATH = f"{NHSUK_URL}/assets"  # the NHS.UK template's assetPath: favicons, icons, manifest
STYLESHEET_URL = f"{NHSUK_URL}/nhsuk-frontend.min.css"
SCRIPT_URL = f"{NHSUK_URL}/nhsuk-frontend.min.js"
# Chart.js (vendored by libs/web/vendor_chartjs.py) and the kit's script that draws charts from a page's
# JSON data blocks (static/signpost/<n>/charts.js: the number changes whenever the file does).
CHARTJS_VERSION = "4.5.1"
CHARTJS_URL = f"{STATIC_URL}/chartjs/{CHARTJS_VERSION}/chart.umd.min.js"
CHARTS_URL = f"{STATIC_URL}/signpost/1/charts.js"

IMMUTABLE = "public, max-age=31536000, immutable"


class VersionedStaticFiles(StaticFiles):
    """StaticFiles whose files (never its 404s) are cached for a year: their paths carry a version."""

    def file_response(
        self, full_path: PathLike[str] | str, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_static(app: FastAPI) -> None:
    """Serve the kit's static files at /static (call once, in the service's create_app)."""
    app.mount(STATIC_URL, VersionedStaticFiles(directory=STATIC_DIRECTORY), name="static")
