"""One sign-in for intake's staff pages: the connector pages, the partner referral form and outreach.

A browser signs in once (the page kit's PageSession: a token POSTed from this site's own form, kept in an
HttpOnly SameSite=Strict cookie, or passed by an identity proxy) and each page then checks the scope it needs:
cases:write or cases:coordinate for the worklist and outreach, referrals:write with a partner `org` for /refer.
"""

from __future__ import annotations

from fastapi import Request

from referral_intake.config import IntakeSettings
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal
from signpost_web.sign_in import PageSession

WORKLIST = "/worklist"
CASE_SCOPES = frozenset({Scope.CASES_WRITE, Scope.CASES_COORDINATE})


def _secure_cookie(request: Request) -> bool:
    settings: IntakeSettings = request.app.state.runtime.settings
    return settings.pages_cookie_secure or request.url.scheme == "https"


SESSION = PageSession(
    scope=Scope.CASES_WRITE,
    alternative_scopes=(Scope.CASES_COORDINATE, Scope.REFERRALS_WRITE),
    cookie_name="signpost_cases_token",
    title="Signpost connector pages",
    secure_cookie=_secure_cookie,
    home=WORKLIST,
)


def require_case_worker(principal: Principal) -> Principal:
    """A connector or coordinator; a partner's token (signed in for /refer) is refused the case pages."""
    if not principal.scopes & CASE_SCOPES:
        raise AuthError(
            403, "your token is valid but lacks the 'cases:write' or 'cases:coordinate' scope these pages need"
        )
    return principal


def require_partner_staff(principal: Principal) -> Principal:
    if Scope.REFERRALS_WRITE not in principal.scopes or principal.partner_id is None:
        raise AuthError(
            403,
            "this form is for partner organisations' staff: it needs a token with the 'referrals:write' scope and "
            "your organisation's partner id as its `org` claim (NHS organisations refer through FHIR, by ODS code)",
        )
    return principal
