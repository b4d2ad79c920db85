"""Writes the synthetic demo deprivation lookup's generated rows (run once; the output is committed).

Every postcode the synthetic traffic generator makes (`synthetic.leeds_postcode`: a Leeds district, a
sector digit, two inward letters from DEMO_INWARD_LETTERS) gets a made-up LSOA per sector and a made-up
decile, so demo traffic has deciles to report. The hand-written rows above the marker line are kept.
    python -m signpost_devstack.demo_deprivation services/referral_intake/src/referral_intake/demo/deprivation
"""

from __future__ import annotations

import sys
from pathlib import Path

from signpost_devstack.synthetic import DEMO_INWARD_LETTERS, LEEDS_DISTRICTS

# A made-up decile for each district (inner-city districts more deprived, outer ones less): not real.
_DISTRICT_DECILE = {"LS1": 3, "LS2": 4, "LS4": 2, "LS6": 5, "LS7": 2, "LS8": 1, "LS9": 1, "LS11": 1, "LS12": 3,
                    "LS14": 2, "LS15": 6, "LS16": 9, "LS17": 8}  # fmt: skip


def _sector_decile(district: str, digit: int) -> int:
    return max(1, min(10, _DISTRICT_DECILE[district] + (digit % 3) - 1))


def generate(folder: Path) -> None:
    postcodes = folder / "onspd-synthetic.csv"
    deprivation = folder / "iod-synthetic.csv"
    known = {line.split(",")[2] for line in postcodes.read_text().splitlines()[1:]}
    postcode_rows, lsoa_rows = [], []
    for d_index, district in enumerate(LEEDS_DISTRICTS):
        for digit in range(1, 10):
            lsoa = f"E0191{d_index:02d}{digit:02d}"
            lsoa_rows.append(f"{lsoa},Synthetic {district} {digit},E08000035,Leeds,{_sector_decile(district, digit)}")
            for first in DEMO_INWARD_LETTERS:
                for second in DEMO_INWARD_LETTERS:
                    pcds = f"{district} {digit}{first}{second}"
                    if pcds not in known:
                        inward = f"{digit}{first}{second}"
                        pcd, pcd2 = f"{district:<4}{inward}", f"{district:<4} {inward}"  # ONSPD's fixed widths
                        postcode_rows.append(f"{pcd},{pcd2},{pcds},199801,,E92000001,{lsoa},{lsoa}")
    with postcodes.open("a") as out:
        out.write("\n".join(postcode_rows) + "\n")
    with deprivation.open("a") as out:
        out.write("\n".join(lsoa_rows) + "\n")


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
