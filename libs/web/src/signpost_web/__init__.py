"""Signpost's page kit: every service's HTML pages look, behave and are protected the same way.

- `Pages`: a service's templates over the kit's NHS.UK layout and nhsuk-frontend-jinja's macros,
  rendered into a response with the page security headers (`pages.py`).
- `FormErrors`: the NHS.UK error summary and inline error pattern for forms (`forms.py`).
- `mount_static`: the vendored NHS.UK frontend assets at /static, cached by version (`assets.py`).
- `page_headers`: Content-Security-Policy (this site only, a nonce per page) and friends (`security.py`).
"""

from signpost_web.assets import NHSUK_FRONTEND_VERSION, mount_static
from signpost_web.forms import FormErrors
from signpost_web.pages import Pages, page_environment
from signpost_web.security import page_headers

__all__ = ["NHSUK_FRONTEND_VERSION", "FormErrors", "Pages", "mount_static", "page_environment", "page_headers"]
