"""`signpost-erase`: erase a person's identifiers from every referral of theirs, as POST /erasures does.

    signpost-erase --nhs-number "943 476 5919" --by coordinator-erin
    signpost-erase --referral-id 0b7c...  --by coordinator-erin

For a records officer acting on a request outside the staff pages. It runs the same use case as the
route, in one transaction on intake's database: intake erases at once, and its outbox relay (the running
service) then announces referral.erased.v1 to the others. `--by` is recorded in the log as who asked.
Prints one JSON line per referral; exits 1 when intake holds no referral of that id or NHS number.
DATABASE_URL is used when --database-url is not given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from referral_intake.config import IntakeSettings
from referral_intake.erasure_service import ErasureService, PersonNotFound
from referral_intake.unit import IntakeUnit
from signpost_runtime import db
from signpost_runtime.outbox import Outbox
from signpost_runtime.unit_of_work import UnitOfWork


async def _erase(settings: IntakeSettings, *, referral_id: str | None, nhs_number: str | None, by: str) -> int:
    pool = await db.create_pool(settings.database_url, 1)
    try:
        units = UnitOfWork(pool, Outbox(settings.topic_namespace), IntakeUnit)
        async with units() as unit:
            done = await ErasureService().erase_person(unit, referral_id=referral_id, nhs_number=nhs_number, by=by)
    except PersonNotFound:
        print("no referral has that id or NHS number; nothing was erased", file=sys.stderr)
        return 1
    finally:
        await pool.close()
    for erased in done.erased:
        print(json.dumps({"referral_id": erased, "erased": True}))
    for already in done.already_erased:
        print(json.dumps({"referral_id": already, "erased": False, "reason": "erased before"}))
    print(f"{len(done.erased)} referral(s) erased, {len(done.already_erased)} erased before", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signpost-erase", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--nhs-number", help="every referral holding this NHS number")
    which.add_argument("--referral-id", help="this referral, and every other of the same person (by NHS number)")
    parser.add_argument("--by", required=True, help="who asked for the erasure (recorded in the log)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="intake's database")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL: the referral intake service's database")
    settings = IntakeSettings(database_url=args.database_url)
    return asyncio.run(_erase(settings, referral_id=args.referral_id, nhs_number=args.nhs_number, by=args.by))


if __name__ == "__main__":
    sys.exit(main())
