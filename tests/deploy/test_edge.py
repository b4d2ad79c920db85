"""The way in: which callers reach each service, the Ingress for intake's public doors and the staff
host behind oauth2-proxy, checked against the routes the services really serve."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest

from deploy.manifests import Manifests, Peer, allows, k8s_name, service_facts
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit

INGRESS_CONTROLLER = Peer({"app.kubernetes.io/name": "ingress-nginx"}, namespace="ingress-nginx")
OAUTH2_PROXY = Peer({"app.kubernetes.io/name": "oauth2-proxy", "app.kubernetes.io/part-of": "signpost"})
PROMETHEUS = Peer({"app.kubernetes.io/name": "prometheus"}, namespace="monitoring")
# Pods that have no business calling a service's HTTP port.
STRANGERS = {
    "another Signpost service": Peer({"app.kubernetes.io/name": "triage", "app.kubernetes.io/part-of": "signpost"}),
    "a pod in another namespace": Peer({"app": "anything"}, namespace="elsewhere"),
    "any pod of the ingress controller's namespace": Peer({"app": "other"}, namespace="ingress-nginx"),
    "a Kafka broker": Peer({"strimzi.io/cluster": "signpost", "strimzi.io/kind": "Kafka"}),
}
CALLERS = {
    "referral_intake": {
        "ingress controller": INGRESS_CONTROLLER,
        "oauth2-proxy": OAUTH2_PROXY,
        "Prometheus": PROMETHEUS,
    },
    "triage": {"Prometheus": PROMETHEUS},
    "notifications": {"Prometheus": PROMETHEUS},
    "reporting": {"oauth2-proxy": OAUTH2_PROXY, "Prometheus": PROMETHEUS},
}
# Intake's routes by who may reach them from outside. A new route fails
# test_every_intake_route_is_either_public_staff_or_internal until someone decides which it is.
PUBLIC = ("/fhir", "/self-referral", "/who-we-help", "/static")
STAFF = ("/worklist", "/cases", "/access-log", "/erasures", "/refer", "/outreach")
# Operations endpoints (Prometheus and the kubelet), and the pages' own sign-in, which oauth2-proxy replaces.
INTERNAL = ("/health", "/metrics", "/sign-in", "/sign-out")


@cache
def _routes(service: str) -> tuple[str, ...]:
    app = importlib.import_module(f"{service}.app").create_app()
    return tuple(app.openapi()["paths"])


def _pod_labels(base: Manifests, name: str) -> dict[str, str]:
    return dict(base.named("Deployment", name)["spec"]["template"]["metadata"]["labels"])


def _under(path: str, prefix: str) -> bool:
    """Kubernetes' Prefix path type: whole path elements, so /fhir covers /fhir/Task but not /fhirx."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _ingress_backend(ingress: dict[str, Any], path: str) -> str | None:
    """The Service an Ingress sends `path` to (the longest matching prefix), or None."""
    matches = [
        (len(entry["path"]), entry["backend"]["service"]["name"])
        for rule in ingress["spec"]["rules"]
        for entry in rule["http"]["paths"]
        if _under(path, entry["path"])
    ]
    return max(matches)[1] if matches else None


def _proxy_upstreams(base: Manifests) -> list[tuple[str, str]]:
    (container,) = base.named("Deployment", "oauth2-proxy")["spec"]["template"]["spec"]["containers"]
    upstreams = [arg.split("=", 1)[1] for arg in container["args"] if arg.startswith("--upstream=")]
    return [(urlsplit(u).path or "/", urlsplit(u).hostname or "") for u in upstreams]


def _proxy_target(base: Manifests, path: str) -> str | None:
    """Where oauth2-proxy sends `path`: the longest upstream path, a prefix when it ends in /, else exact."""
    matches = [
        (len(prefix), host)
        for prefix, host in _proxy_upstreams(base)
        if (path.startswith(prefix) if prefix.endswith("/") else path == prefix)
    ]
    return max(matches)[1] if matches else None


def _concrete(route: str) -> str:
    return route.replace("{", "").replace("}", "")


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_reached_only_by_the_callers_it_really_has(base: Manifests, service: str):
    policies = base.of_kind("NetworkPolicy")
    pod = _pod_labels(base, k8s_name(service))
    port = service_facts(service).http_port
    for caller, peer in CALLERS[service].items():
        assert allows(policies, pod, "Ingress", port, peer), f"{service} must admit {caller} on {port}"
    others = {"ingress controller": INGRESS_CONTROLLER, "oauth2-proxy": OAUTH2_PROXY} | STRANGERS
    for stranger, peer in others.items():
        if stranger not in CALLERS[service]:
            assert not allows(policies, pod, "Ingress", port, peer), f"{service} admits {stranger}"
    assert not allows(policies, pod, "Ingress", port, Peer(None)), "nothing from outside the cluster directly"


def test_oauth2_proxy_is_reached_only_from_the_ingress_controller_and_reaches_only_the_staff_pages(base: Manifests):
    policies = base.of_kind("NetworkPolicy")
    proxy = OAUTH2_PROXY.labels or {}
    assert allows(policies, proxy, "Ingress", 4180, INGRESS_CONTROLLER)
    for stranger, peer in STRANGERS.items():
        assert not allows(policies, proxy, "Ingress", 4180, peer), stranger
    for service in ("referral_intake", "reporting"):
        target = Peer(_pod_labels(base, k8s_name(service)))
        assert allows(policies, proxy, "Egress", service_facts(service).http_port, target), service
    for service in ("triage", "notifications"):
        target = Peer(_pod_labels(base, k8s_name(service)))
        assert not allows(policies, proxy, "Egress", service_facts(service).http_port, target), service
    assert not allows(policies, proxy, "Egress", 5432, Peer({"cnpg.io/cluster": "signpost-pg"}))


def test_every_intake_route_is_either_public_staff_or_internal():
    for route in _routes("referral_intake"):
        kinds = [name for name, prefixes in (("public", PUBLIC), ("staff", STAFF), ("internal", INTERNAL))
                 if any(_under(route, p) for p in prefixes)]  # fmt: skip
        assert len(kinds) == 1, f"intake serves {route}: add it to PUBLIC, STAFF or INTERNAL in this test"


def test_the_public_host_routes_exactly_intakes_public_doors_to_intake(base: Manifests):
    public = base.named("Ingress", "referral-intake-public")
    routes = [_concrete(r) for r in _routes("referral_intake")]
    for route in routes:
        public_route = any(_under(route, p) for p in PUBLIC)
        assert (_ingress_backend(public, route) == "referral-intake") is public_route, route
    assert _ingress_backend(public, "/static/nhsuk.css") == "referral-intake", "the public pages' assets"
    assert _ingress_backend(public, "/fhir/$process-message") == "referral-intake", "BaRS"
    for route in ("/metrics", "/health/ready", "/worklist", "/cases/x", "/refer", "/outreach", "/fhirx"):
        assert _ingress_backend(public, route) is None, f"{route} is not for the public host"


def test_the_staff_host_sends_everything_through_oauth2_proxy(base: Manifests):
    staff = base.named("Ingress", "signpost-staff")
    for path in ("/", "/worklist", "/api/summary", "/oauth2/callback", "/anything/else"):
        assert _ingress_backend(staff, path) == "oauth2-proxy", path
    assert base.named("Service", "oauth2-proxy")["spec"]["ports"][0]["name"] == "http"


def test_oauth2_proxy_passes_each_staff_page_to_the_service_that_serves_it(base: Manifests):
    for route in _routes("referral_intake"):
        if any(_under(route, p) for p in STAFF):
            assert _proxy_target(base, _concrete(route)) == "referral-intake", route
    for route in _routes("reporting"):
        if not any(_under(route, p) for p in INTERNAL):
            assert _proxy_target(base, _concrete(route)) == "reporting", route
    assert _proxy_target(base, "/static/page.css") == "reporting", "the assets both services serve"


def test_every_host_is_served_over_tls(base: Manifests):
    ingresses = base.of_kind("Ingress")
    assert {i["metadata"]["name"] for i in ingresses} == {"referral-intake-public", "signpost-staff"}
    for ingress in ingresses:
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        covered = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
        assert hosts <= covered, f"{ingress['metadata']['name']}: {hosts - covered} without TLS"
        assert all(entry["secretName"] for entry in ingress["spec"]["tls"])
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"


def test_intakes_public_base_url_is_the_public_host_and_sign_in_returns_to_the_staff_host(base: Manifests):
    url = urlsplit(base.env_value(base.named("Deployment", "referral-intake"), "PUBLIC_BASE_URL") or "")
    (public_host,) = [r["host"] for r in base.named("Ingress", "referral-intake-public")["spec"]["rules"]]
    assert (url.scheme, url.hostname, url.path.strip("/")) == ("https", public_host, "")
    redirect = urlsplit(base.env_value(base.named("Deployment", "oauth2-proxy"), "OAUTH2_PROXY_REDIRECT_URL") or "")
    (staff_host,) = [r["host"] for r in base.named("Ingress", "signpost-staff")["spec"]["rules"]]
    assert (redirect.scheme, redirect.hostname, redirect.path) == ("https", staff_host, "/oauth2/callback")


def test_behind_tls_termination_intake_still_marks_cookies_secure_and_limits_forms_per_real_client(base: Manifests):
    intake = base.named("Deployment", "referral-intake")
    assert base.env_value(intake, "PAGES_COOKIE_SECURE") == "true"
    # Without it every self-referral would appear to come from the ingress controller: one limit for all.
    assert base.env_value(intake, "FORM_CLIENT_IP_HEADER") == "X-Forwarded-For"
    assert base.env_value(base.named("Deployment", "reporting"), "DASHBOARD_COOKIE_SECURE") == "true"


def test_oauth2_proxy_signs_in_with_the_issuer_the_services_trust_and_keeps_its_secrets_in_a_secret(
    base: Manifests,
):
    deployment = base.named("Deployment", "oauth2-proxy")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {entry["name"]: entry.get("valueFrom", {}) for entry in container["env"]}
    assert env["OAUTH2_PROXY_OIDC_ISSUER_URL"]["configMapKeyRef"] == {"name": "signpost-identity", "key": "JWT_ISSUER"}
    for name in ("OAUTH2_PROXY_CLIENT_ID", "OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET"):
        assert env[name]["secretKeyRef"]["name"] == "signpost-oauth2-proxy", name
    assert "signpost-oauth2-proxy" not in {s["metadata"]["name"] for s in base.of_kind("Secret")}
    args = set(container["args"])
    # The pages accept the proxy's header instead of their own sign-in form.
    assert {"--pass-authorization-header=true", "--cookie-secure=true", "--provider=oidc"} <= args
    account = base.named("ServiceAccount", pod["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    tag = container["image"].rpartition(":")[2]
    assert tag.startswith("v"), "pinned to a release"
    assert base.named("PodDisruptionBudget", "oauth2-proxy")["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


async def _origin_check_behind_the_proxy(forwarded_allow_ips: str | None) -> bool:
    """What the pages' same-origin check decides for a form posted over https to the staff host, as the
    pod's uvicorn (trusting proxy headers per FORWARDED_ALLOW_IPS) hands over a request that the
    ingress controller (or oauth2-proxy, which keeps X-Forwarded-Proto) sent from its pod address."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from signpost_web.sign_in import same_origin

    async def check(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(same_origin(request)))

    # uvicorn's own default when FORWARDED_ALLOW_IPS is unset.
    trusted = forwarded_allow_ips if forwarded_allow_ips is not None else "127.0.0.1,::1"
    app = ProxyHeadersMiddleware(Starlette(routes=[Route("/", check, methods=["POST"])]), trusted_hosts=trusted)
    transport = httpx.ASGITransport(app=app, client=("10.244.3.17", 51234))
    headers = {
        "origin": "https://staff.signpost.example.org",
        "x-forwarded-proto": "https",
        "x-forwarded-for": "198.51.100.7",
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://staff.signpost.example.org") as client:
        response = await client.post("/", headers=headers)
    return response.text == "True"


@pytest.mark.parametrize("service", ["referral_intake", "reporting"])
async def test_forms_posted_over_https_through_the_proxy_pass_the_pages_same_origin_check(
    base: Manifests, service: str
):
    deployment = base.named("Deployment", k8s_name(service))
    assert await _origin_check_behind_the_proxy(base.env_value(deployment, "FORWARDED_ALLOW_IPS"))


async def test_without_trusting_the_proxy_headers_the_same_origin_check_would_refuse_every_form():
    # The fault the setting fixes: TLS ends at the ingress controller, so the request looks like http.
    assert not await _origin_check_behind_the_proxy(None)
