"""The response headers of every page: what the browser may load, frame, send and keep.

The Content-Security-Policy allows only this site's own files (the vendored NHS.UK frontend) and
one inline script per response, the NHS.UK template's `js-enabled` switch and module start-up,
which carry a fresh nonce. Nothing may come from another host, and no other site may frame a page
(clickjacking).

Referrer-Policy is `same-origin`, not `no-referrer`: no other site learns a page's address
(addresses can carry ids), but the browser still sends this site's own Origin with a form POST.
Under `no-referrer` Chromium sends `Origin: null`, and a form that checks its Origin (the
sign-in's defence against login CSRF) refuses every real browser (found by tests/browser).
"""

from __future__ import annotations

import secrets


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def page_headers(nonce: str) -> dict[str, str]:
    """Headers for an HTML page rendered with this nonce; pages hold personal data, so none is cached."""
    return {
        "Content-Security-Policy": content_security_policy(nonce),
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
