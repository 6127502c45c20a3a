"""Helpers for staff views: domain errors become the right HTTP answer."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.common.bounds import ascii_int, day_in_range
from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound

View = Callable[..., HttpResponse]


def staff_user(request: HttpRequest) -> User:
    """The signed-in user of a ``staff_view`` (which lets only them in)."""
    return cast(User, request.user)


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
    """A whole-number parameter (query string unless ``source`` is given), up to ``MAX_ID``;
    anything else counts as absent."""
    found = ascii_int(str((request.GET if source is None else source).get(name, "")))
    return default if found is None else found


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
    """A ``YYYY-MM-DD`` query parameter between 2000 and 2100; anything else counts as absent."""
    try:
        value = date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if day_in_range(value) else None


# What a page says once a button's action is done, by the action's name (default "Saved.").
ACTION_DONE = {
    "publish": gettext_lazy("Published."),
    "unpublish": gettext_lazy("Taken off the public pages."),
    "withdraw": gettext_lazy("Withdrawn from the public pages."),
    "submit": gettext_lazy("Submitted for approval."),
    "approve": gettext_lazy("Approved."),
    "reject": gettext_lazy("Rejected."),
    "return": gettext_lazy("Returned to draft."),
    "lift": gettext_lazy("Lifted."),
    "claim": gettext_lazy("Claimed: it is yours to call."),
    "release": gettext_lazy("Given back to the queue."),
    "call": gettext_lazy("Call logged."),
    "resolve": gettext_lazy("Resolved."),
    "suspend": gettext_lazy("Suspended."),
    "reinstate": gettext_lazy("Reinstated."),
    "dispatch": gettext_lazy("Dispatched."),
}


@dataclass
class ActionDone:
    """What the page says once the action is done: the view names the object and the effect."""

    message: str = ""


@contextmanager
def page_action(request: HttpRequest, action: str = "") -> Iterator[ActionDone]:
    """Run the action of a page's button: refused (bad input or a move not allowed now), it leaves
    an error message saying why; done, it says what happened (``done.message`` set by the view,
    else ``ACTION_DONE``, else "Saved.")."""
    done = ActionDone()
    try:
        yield done
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    else:
        messages.success(request, done.message or str(ACTION_DONE.get(action, _("Saved."))))


def csv_download(*, filename: str, header: list[str], rows: Iterable[Sequence[Any]] = ()) -> HttpResponse:
    """A CSV file to download: UTF-8 with a byte-order mark, so that Excel opens it in Chinese."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
