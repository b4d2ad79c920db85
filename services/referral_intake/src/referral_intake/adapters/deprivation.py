"""The English Index of Multiple Deprivation decile of a full postcode, read from the published files.

Two files, both as their publishers issue them (CSV only; the IoD's xlsx "File 1" must be saved as CSV):

- the ONS Postcode Directory (ONSPD) or National Statistics Postcode Lookup (NSPL) CSV. Column names
  as in ONS's ONSPD_LATEST_UK / NSPL_LATEST_UK field lists (ONS Open Geography portal, ArcGIS REST
  services "ONSPD_Online_Latest_Centroids" and "NSPL_Online_Latest_Centroids"): `pcd` (7 characters,
  fixed), `pcd2` (8), `pcds` (one space), `doterm` (termination date). The LSOA is in `lsoa11` and/or
  `lsoa21` (2021 LSOAs, newer editions). Headers are matched without regard to case.
- the English Indices of Deprivation CSV (IoD2019 "File 7: all ranks, deciles and scores", or
  IoD2025's equivalent): a column whose header starts with "LSOA code" (2011 or 2021 LSOAs) and one
  containing "Index of Multiple Deprivation (IMD) Decile".

Whichever LSOA columns the postcode file has are each tried against the deprivation table, so IoD2019
with `lsoa11` and IoD2025 with `lsoa21` both work without a setting. Terminated postcodes (`doterm`
set) still map: people's records lag behind the directory, and the area did not move.

Memory: the postcode file (~2.7M rows) is streamed with the csv module and only postcodes whose LSOA is
in the deprivation table (England, ~33-35k LSOAs) are kept, as a dict of the postcode without spaces
to a small int: roughly 150-200 MB for all of England, nothing for Wales, Scotland or Northern Ireland.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

POSTCODE_COLUMNS = ("pcds", "pcd")  # the first present is used
LSOA_COLUMNS = ("lsoa21", "lsoa11")
LSOA_CODE_PREFIX = "lsoa code"
IMD_DECILE_MARK = "index of multiple deprivation (imd) decile"


class DeprivationFileError(Exception):
    """A postcode or deprivation file cannot be used; the message names the file and what is wrong."""


def normalise(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def demo_files() -> tuple[Path, Path]:
    """The SYNTHETIC lookup shipped for `make run` (see demo/deprivation/README.md): not real data."""
    folder = resources.files("referral_intake") / "demo" / "deprivation"
    return Path(str(folder / "onspd-synthetic.csv")), Path(str(folder / "iod-synthetic.csv"))


class DeprivationLookup:
    def __init__(self, deciles: dict[str, int]) -> None:
        self._deciles = deciles

    @classmethod
    def empty(cls) -> DeprivationLookup:
        return cls({})

    @classmethod
    def from_files(cls, postcodes: Path, deprivation: Path) -> DeprivationLookup:
        by_lsoa = _read_deprivation(deprivation)
        return cls(dict(_read_postcodes(postcodes, by_lsoa)))

    def decile(self, postcode: str) -> int | None:
        """The decile (1: most deprived 10% of English LSOAs); None for an unknown or non-English postcode."""
        return self._deciles.get(normalise(postcode))

    def __len__(self) -> int:
        return len(self._deciles)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        # utf-8-sig: the published CSVs are often saved with a byte-order mark before the first header.
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            header = next(reader, None)
            if header is None:
                raise DeprivationFileError(f"{path}: is empty; expected a header row")
            names = [name.strip() for name in header]
            yield 1, {name: name for name in names}
            for row in reader:
                yield reader.line_num, dict(zip(names, row, strict=False))
    except OSError as exc:
        raise DeprivationFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DeprivationFileError(f"{path}: is not a readable CSV file ({exc})") from None


def _read_deprivation(path: Path) -> dict[str, int]:
    rows = _rows(path)
    _, header = next(rows)
    code = next((n for n in header if n.lower().startswith(LSOA_CODE_PREFIX)), None)
    decile = next((n for n in header if IMD_DECILE_MARK in n.lower()), None)
    if code is None:
        raise DeprivationFileError(f"{path}: has no column starting 'LSOA code' (e.g. 'LSOA code (2011)')")
    if decile is None:
        raise DeprivationFileError(f"{path}: has no column containing 'Index of Multiple Deprivation (IMD) Decile'")
    table: dict[str, int] = {}
    for line, row in rows:
        lsoa, value = row.get(code, "").strip(), row.get(decile, "").strip()
        if not lsoa:
            continue
        if not value.isdigit() or not 1 <= int(value) <= 10:
            raise DeprivationFileError(f"{path}: line {line}: IMD decile {value!r} for {lsoa} is not 1 to 10")
        table[lsoa] = int(value)
    return table


def _read_postcodes(path: Path, by_lsoa: dict[str, int]) -> Iterator[tuple[str, int]]:
    rows = _rows(path)
    _, header = next(rows)
    lowered = {name.lower(): name for name in header}
    postcode = next((lowered[c] for c in POSTCODE_COLUMNS if c in lowered), None)
    if postcode is None:
        raise DeprivationFileError(f"{path}: has no postcode column 'pcds' or 'pcd'")
    lsoas = [lowered[c] for c in LSOA_COLUMNS if c in lowered]
    if not lsoas:
        raise DeprivationFileError(f"{path}: has no LSOA column 'lsoa21' or 'lsoa11'")
    for _, row in rows:
        if not row.get(postcode, "").strip():
            continue
        for column in lsoas:
            decile = by_lsoa.get(row.get(column, "").strip())
            if decile is not None:
                yield normalise(row.get(postcode, "")), decile
                break
