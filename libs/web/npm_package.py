"""Fetch a pinned npm package for vendoring (vendor_nhsuk.py, vendor_chartjs.py): `npm pack` at a pinned
version, checked against the pinned integrity (`npm view <name>@<version> dist.integrity`), unpacked
under .local/npm. A refresh is reproducible, and a tarball that is not the one pinned is refused."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".local" / "npm"

# `//# sourceMappingURL=...` (scripts) or `/*# sourceMappingURL=... */` (stylesheets) at the end: the
# source maps are not vendored, so the comments pointing at them go.
_SOURCE_MAP = re.compile(r"\n?/[*/]# sourceMappingURL=\S+( \*/)?\s*$")


def unpacked_package(name: str, version: str, integrity: str, *, make_target: str) -> Path:
    """The package's `package/` directory, from a tarball whose sha512 is `integrity`."""
    WORK.mkdir(parents=True, exist_ok=True)
    if not shutil.which("npm"):
        sys.exit(f"npm is needed to fetch {name}: install Node.js and npm, then run make {make_target} again")
    subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(WORK), "--silent"], check=True)
    tarball = WORK / f"{name.replace('/', '-').lstrip('@')}-{version}.tgz"
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != integrity:
        sys.exit(f"{tarball.name}: integrity {digest} is not the pinned {integrity}")
    unpacked = WORK / f"{tarball.stem}"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(unpacked, filter="data")
    return unpacked / "package"


def without_source_map(text: str) -> str:
    return _SOURCE_MAP.sub("", text)
