"""Rendering a service's pages with the NHS.UK frontend: the Jinja environment and the page response.

A service keeps its page templates in its own package (`<package>/templates/`) and makes one
`Pages` for them. Each template extends the kit's layout and fills `content`:

    {% extends "signpost/layout.jinja" %}
    {% block content %}<h1 class="nhsuk-heading-l">{{ title }}</h1>{% endblock %}

and a route answers with `PAGES.render("that.html", title="Page title", ...)`. Templates find the
NHS.UK macros under `nhsuk/components/<name>/macro.jinja` (nhsuk-frontend-jinja), or all at once
through `{% from "signpost/nhsuk.jinja" import button, input, ... %}`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader, Template, meta

from signpost_web import assets
from signpost_web.forms import FormErrors
from signpost_web.security import new_nonce, page_headers


def page_environment(package: str, templates: str = "templates") -> Environment:
    """Jinja over the service's own templates, then the kit's layout, then nhsuk-frontend-jinja's macros.

    nhsuk-frontend-jinja needs ChainableUndefined: its macros read optional parameters several
    levels deep (`params.hint.text`) and must get "nothing" rather than an error. Autoescape is on
    for every template, whatever its file name, so text from a request or an event is always escaped.
    """
    environment = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader(package, templates),
                PackageLoader("signpost_web", "templates"),
                PackageLoader("nhsuk_frontend_jinja"),
            ]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # htmlLang and assetPath (where the favicons and manifest are) are the NHS.UK template's own names.
    environment.globals.update(
        htmlLang="en-GB",
        assetPath=assets.ASSET_PATH,
        stylesheet_url=assets.STYLESHEET_URL,
        script_url=assets.SCRIPT_URL,
        chartjs_url=assets.CHARTJS_URL,
        charts_url=assets.CHARTS_URL,
    )
    return environment


class Pages:
    """One service's pages: its templates, its name in the NHS.UK header, and the page response."""

    def __init__(self, package: str, *, service_name: str, service_href: str = "/", templates: str = "templates"):
        self.package = package
        self.templates = templates
        self.service_name = service_name
        self.service_href = service_href

    @functools.cached_property
    def environment(self) -> Environment:
        return page_environment(self.package, self.templates)

    def warm(self, *names: str) -> None:
        """Compile these templates, and every one they extend, include or import, now: at start-up rather than
        on the first visitor's request (the NHS.UK macros take seconds to compile, once per process)."""
        environment, pending, seen = self.environment, list(names), set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            environment.get_template(name)
            source, _, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
            pending += [found for found in meta.find_referenced_templates(environment.parse(source)) if found]

    def render(
        self,
        template: str | Template,
        *,
        title: str,
        status_code: int = 200,
        errors: FormErrors | None = None,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The page (a template name, or a Template from this environment) with the kit's security headers.

        `title` is the page's own heading text; the browser's title adds the service name, and
        "Error: " in front when `errors` holds any (the NHS.UK pattern, so a screen reader hears it
        first). `context` goes to the template as it is.
        """
        nonce = new_nonce()
        errors = errors if errors is not None else FormErrors()
        html = self.environment.get_template(template).render(
            title=title,
            document_title=f"{'Error: ' if errors else ''}{title} - {self.service_name}",
            errors=errors,
            service_name=self.service_name,
            service_href=self.service_href,
            cspNonce=nonce,  # the NHS.UK template's name: its inline js-enabled script carries it
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers={**page_headers(nonce), **(headers or {})})
