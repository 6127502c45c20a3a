"""The JSON API: each app's router mounted under /api/; OpenAPI docs at /api/docs.

Authentication: a personal API token (``Authorization: Bearer fk_…``) or the browser session
(with its CSRF token on writes).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from fangkong.audit.api import router as audit_router
from fangkong.cases.api import router as cases_router
from fangkong.common.api import domain_error_body
from fangkong.common.errors import DomainError
from fangkong.config.openapi import errors_documented
from fangkong.config.parser import NulFreeParser
from fangkong.contacts.api import router as contacts_router
from fangkong.helpdesk.api import router as helpdesk_router
from fangkong.orgs.api import me_router
from fangkong.orgs.api import router as orgs_router
from fangkong.orgs.services import api_token_authenticate
from fangkong.people.api import router as people_router
from fangkong.portal.api import router as portal_router
from fangkong.quarantine.api import router as quarantine_router
from fangkong.testing.api import router as testing_router
from fangkong.volunteers.api import router as volunteers_router
from fangkong.worklist.api import router as worklist_router


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class FangkongAPI(NinjaAPI):
    """The API whose OpenAPI document names every error answer (``config.openapi``)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return errors_documented(schema)


api = FangkongAPI(
    title="fangkong API",
    version="1",
    description="防控 — epidemic prevention and control. Every read is scoped to the caller's org units.",
    auth=[ApiTokenAuth(), django_auth],
    parser=NulFreeParser(),
    urls_namespace="api",
    docs_decorator=login_required,  # the API's map is for the people who may use it
)
api.add_router("/me", me_router, tags=["me"])
api.add_router("/orgs", orgs_router, tags=["orgs"])
api.add_router("/people", people_router, tags=["people"])
api.add_router("/work", worklist_router, tags=["worklist"])
api.add_router("/audit", audit_router, tags=["audit"])
api.add_router("/cases", cases_router, tags=["cases"])
api.add_router("/contacts", contacts_router, tags=["contacts"])
api.add_router("/quarantine", quarantine_router, tags=["quarantine"])
api.add_router("/helpdesk", helpdesk_router, tags=["helpdesk"])
api.add_router("/volunteers", volunteers_router, tags=["volunteers"])
api.add_router("/portal", portal_router, tags=["portal"])
api.add_router("/testing", testing_router, tags=["testing"])


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, domain_error_body(exc), status=exc.status)


@api.exception_handler(ValidationError)
def on_invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Input the schema refuses answers like a service's refusal (``ErrorOut``): ``detail`` a
    sentence, ``errors`` the messages by field (the last part of each error's location)."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "form")
        ]
        errors.setdefault(".".join(location[-1:]) or "__all__", []).append(str(error.get("msg", "")))
    body = {"detail": str(_("Some of the input is not valid.")), "errors": errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals (401, 403, a body that is not JSON: 400) as ``ErrorOut``; a body the
    parser refused by field (``NulFreeParser``) is the 422 of any other invalid input."""
    if isinstance(exc.__cause__, ValidationError):
        return on_invalid_input(request, exc.__cause__)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not Found"}, status=404)
