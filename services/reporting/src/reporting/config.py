"""Reporting settings, from the environment (DATABASE_URL, HTTP_PORT, DASHBOARD_REFRESH_SECONDS, ...)."""

from __future__ import annotations

from pydantic import Field

from signpost_runtime.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8084
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost_reporting"

    # The dashboard reloads itself (a meta refresh: no JavaScript) this often.
    dashboard_refresh_seconds: int = Field(default=5, ge=1, le=3600)
    # Mark the dashboard's token cookie Secure. Off for http://localhost; on wherever TLS is served.
    # It is set anyway when the request itself arrived over https.
    dashboard_cookie_secure: bool = False
    # Rows in the "by referring organisation" breakdown, busiest first.
    summary_top_referrers: int = Field(default=20, ge=1, le=1000)
    # Commissioner exports: counts below this are suppressed (5: counts 1-4 hidden), with secondary
    # suppression and rates from small counts hidden too (reporting.domain.suppression).
    export_suppression_minimum: int = Field(default=5, ge=2, le=100)
    # A UCLA-3 total (3-9) at or above this is "lonely" for the exports' "no longer lonely" share
    # (reporting.domain.outcomes says where the default comes from).
    ucla3_lonely_threshold: int = Field(default=6, ge=4, le=9)
