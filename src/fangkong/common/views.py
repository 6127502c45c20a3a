"""Helpers for staff views: domain errors become the right HTTP answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound

View = Callable[..., HttpResponse]


def staff_view(view: View) -> View:
    """Login required; ``NotFound`` → 404 and ``Forbidden`` → 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except Forbidden as error:
            raise PermissionDenied(error.message) from error

    return wrapper


def int_param(
    request: HttpRequest, name: str, default: int | None = None, *, source: Any = None
) -> int | None:
    """An integer parameter (query string unless ``source`` is given); anything else counts as absent."""
    try:
        return int((request.GET if source is None else source).get(name, ""))
    except ValueError:
        return default


def add_errors(form: Any, errors: dict[str, list[str]]) -> None:
    """Put a service's field errors on a Django form (unknown fields go to the form itself)."""
    for field, texts in errors.items():
        for message in texts:
            form.add_error(field if field in form.fields else None, message)


def query_string(request: HttpRequest, *, drop: tuple[str, ...] = ("page",)) -> str:
    """The current filters as ``a=1&b=2&`` for pager links (the page number is added by the pager)."""
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


def date_param(request: HttpRequest, name: str) -> date | None:
    """A ``YYYY-MM-DD`` query parameter; anything else counts as absent."""
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@contextmanager
def page_action(request: HttpRequest) -> Iterator[None]:
    """Run the action of a page's button: refused (bad input or a move not allowed now), it leaves
    an error message saying why; done, it leaves "Saved."."""
    try:
        yield
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    else:
        messages.success(request, _("Saved."))
