"""GET /who-we-help: the service in plain words for people and referrers, from the same status as the
FHIR HealthcareService (fhir/directory.py), so the page and the directory entry never disagree.

Public (it holds no one's details) and plain: who the service is for, who it is not for and where
they can go instead, how to be referred, and whether there is room or a wait just now.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from referral_intake.adapters.fhir_healthcare_service import age_range, area_words, waiting_words
from referral_intake.adapters.fhir_http import base_url
from referral_intake.fhir.directory import current_status
from signpost_web import Pages

WHO_WE_HELP = "/who-we-help"
PAGES = Pages("referral_intake", service_name="Community connectors", service_href=WHO_WE_HELP)

router = APIRouter(tags=["Public pages"])


@router.get(
    WHO_WE_HELP,
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "Who the service can help, and whether it has room",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
async def who_we_help(request: Request) -> HTMLResponse:
    status = await current_status(request)
    if status is None:
        return PAGES.render("who_we_help_unknown.html", title="Who we help")
    return PAGES.render(
        "who_we_help.html",
        title=f"Who we help in {status.area_name}",
        status=status,
        ages=age_range(status),
        area=area_words(status),
        room=waiting_words(status),
        fhir_base=f"{base_url(request)}/fhir",
    )
