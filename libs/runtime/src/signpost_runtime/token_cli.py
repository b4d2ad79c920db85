"""`signpost-token`: mint a local bearer token, signed HS256 with the local stack's secret.

    signpost-token --ods B82005
    signpost-token --ods A81001 --scope "referrals:write referrals:read" --ttl-hours 1
    signpost-token --sub sam-at-leeds-mind --org leeds-mind --scope "referrals:write referrals:read"
    signpost-token --sub ice-hub --scope referrals:write-on-behalf --on-behalf-of A81001 --on-behalf-of B82005

The token is printed alone on the last line of standard output, so `TOKEN=$(signpost-token ...)`
works; what it carries is said on standard error. The secret is JWT_SECRET when set, else the
file `make run` writes (.local/jwt-secret). Production tokens come from the identity provider.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import issue_token

DEFAULT_SECRET_FILE = Path(".local/jwt-secret")


def _scopes(given: list[str] | None) -> list[str]:
    if not given:
        return [scope.value for scope in Scope]
    scopes = list(dict.fromkeys(name for value in given for name in value.split()))
    known = {scope.value for scope in Scope}
    unknown = [name for name in scopes if name not in known]
    if unknown:
        raise SystemExit(
            f"signpost-token: unknown scope {', '.join(unknown)}; Signpost's scopes are {', '.join(sorted(known))}"
        )
    return scopes


def _secret(secret_file: Path) -> str:
    from_environment = os.environ.get("JWT_SECRET", "").strip()
    if from_environment:
        return from_environment
    try:
        secret = secret_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SystemExit(
            f"signpost-token: no signing secret: {secret_file} does not exist. Run `make run` once (it creates "
            "the local secret), or set JWT_SECRET to the secret the services verify with"
        ) from None
    if not secret:
        raise SystemExit(f"signpost-token: {secret_file} is empty; delete it and run `make run`, or set JWT_SECRET")
    return secret


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signpost-token",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").split("\n")[1:]),
    )
    parser.add_argument("--ods", metavar="CODE", help="ODS code of the caller's organisation (`ods` claim)")
    parser.add_argument(
        "--org", metavar="PARTNER", help="a partner organisation's id in intake's PARTNERS_FILE (`org` claim)"
    )
    parser.add_argument("--sub", default="local-developer", metavar="ID", help="who the token is for")
    parser.add_argument(
        "--scope",
        action="append",
        metavar="SCOPES",
        help="a scope, or several separated by spaces; repeatable (default: every scope)",
    )
    parser.add_argument(
        "--on-behalf-of",
        action="append",
        metavar="CODE",
        help="with referrals:write-on-behalf, limit the organisations it may send for (repeatable; default: all)",
    )
    parser.add_argument("--ttl-hours", type=float, default=24.0, help="lifetime in hours (default 24)")
    parser.add_argument("--audience", default="signpost", help="`aud` claim (default signpost)")
    parser.add_argument("--issuer", help="`iss` claim, when the services are configured with JWT_ISSUER")
    parser.add_argument(
        "--secret-file",
        type=Path,
        default=DEFAULT_SECRET_FILE,
        help=f"HS256 secret, when JWT_SECRET is not set (default {DEFAULT_SECRET_FILE})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.ttl_hours <= 0:
        raise SystemExit("signpost-token: --ttl-hours must be more than 0")
    scopes = _scopes(args.scope)
    on_behalf_of = [code for value in args.on_behalf_of for code in value.split()] if args.on_behalf_of else None
    if on_behalf_of and Scope.REFERRALS_WRITE_ON_BEHALF not in scopes:
        print(
            f"note: --on-behalf-of has no effect without the {Scope.REFERRALS_WRITE_ON_BEHALF} scope", file=sys.stderr
        )
    token = issue_token(
        _secret(args.secret_file),
        subject=args.sub,
        scopes=scopes,
        ods_code=args.ods,
        on_behalf_of=on_behalf_of,
        partner_id=args.org,
        audience=args.audience,
        issuer=args.issuer,
        ttl_seconds=int(args.ttl_hours * 3600),
    )
    sending = "any organisation" if on_behalf_of is None else ", ".join(on_behalf_of)
    print(
        f"token for {args.sub} (organisation {args.ods or 'none'}"
        + (f", partner {args.org}" if args.org else "")
        + f"), valid {args.ttl_hours:g} h, scopes: "
        f"{' '.join(scopes)}" + (f"; may send for {sending}" if Scope.REFERRALS_WRITE_ON_BEHALF in scopes else ""),
        file=sys.stderr,
    )
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
