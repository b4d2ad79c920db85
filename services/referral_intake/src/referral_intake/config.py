"""referral_intake settings, read from the environment (no prefix) with working local defaults."""

from __future__ import annotations

from signpost_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "referral_intake"
    http_port: int = 8081
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost_referral_intake"

    # Inputs are size- and depth-limited before they are parsed (ARCHITECTURE: data protection): the body's
    # size by the kit (max_body_bytes), its nesting here. FHIR resources rarely nest deeper than ~20 levels,
    # even with contained resources and extensions.
    max_json_depth: int = 64
    # Base URL of Location headers, fullUrls and the CapabilityStatement: set it in production to the
    # public address (https://signpost.example.org). Unset, it is the address the service listens on,
    # never the request's Host header, which any client can set to anything.
    public_base_url: str | None = None

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")
