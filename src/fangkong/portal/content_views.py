"""Staff pages of rebuttals and articles: list (with search), create, edit, publish, unpublish."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import add_errors, int_param, page_action, query_string, staff_view
from fangkong.portal import content, selectors
from fangkong.portal.forms import ArticleForm, RebuttalForm


def _unit(request: HttpRequest) -> Any:
    units = selectors.publish_units(actor=request.user)
    if not units:
        raise Forbidden(_("Your role may not publish."))
    return units[0]


def _list(request: HttpRequest, qs: Any, template: str) -> HttpResponse:
    page = paginate(qs, page=int_param(request, "page", 1) or 1)
    return render(
        request, template, {"page": page, "q": request.GET.get("q", ""), "query": query_string(request)}
    )


@staff_view
def rebuttal_list(request: HttpRequest) -> HttpResponse:
    _unit(request)
    return _list(
        request,
        selectors.rebuttal_list(actor=request.user, q=request.GET.get("q", "")),
        "publish/rebuttals.html",
    )


@staff_view
def article_list(request: HttpRequest) -> HttpResponse:
    _unit(request)
    return _list(
        request,
        selectors.article_list(actor=request.user, q=request.GET.get("q", "")),
        "publish/articles.html",
    )


def _rebuttal_data(form: RebuttalForm) -> content.RebuttalData:
    return content.RebuttalData(**form.cleaned_data)


def _save(request: HttpRequest, form: Any, save: Any, template: str, extra: dict[str, Any]) -> HttpResponse:
    """Validate ``form``, call ``save()`` (a service) and go to the edited piece, or show why not."""
    if request.method == "POST":
        if form.is_valid():
            try:
                piece = save(form)
            except Invalid as error:
                add_errors(form, error.errors)
            else:
                messages.success(request, _("Saved."))
                return redirect(extra["next"], piece.pk)
        return render(request, template, {"form": form, **extra}, status=422)
    return render(request, template, {"form": form, **extra})


@staff_view
def rebuttal_new(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    form = RebuttalForm(request.POST or None, initial={"date": timezone.localdate(), "verdict": "false"})
    return _save(
        request,
        form,
        lambda f: content.rebuttal_create(actor=request.user, unit=unit, data=_rebuttal_data(f)),
        "publish/rebuttal.html",
        {"next": "publish:rebuttal", "piece": None},
    )


@staff_view
def rebuttal_edit(request: HttpRequest, rebuttal_id: int) -> HttpResponse:
    rebuttal = selectors.rebuttal_get(actor=request.user, rebuttal_id=rebuttal_id)
    initial = {f: getattr(rebuttal, f) for f in ("claim", "verdict", "explanation", "sources", "date")}
    form = RebuttalForm(request.POST or None, initial=initial)
    return _save(
        request,
        form,
        lambda f: content.rebuttal_edit(actor=request.user, rebuttal=rebuttal, data=_rebuttal_data(f)),
        "publish/rebuttal.html",
        {"next": "publish:rebuttal", "piece": rebuttal},
    )


@staff_view
def article_new(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    form = ArticleForm(request.POST or None)
    return _save(
        request,
        form,
        lambda f: content.article_create(
            actor=request.user, unit=unit, data=content.ArticleData(**f.cleaned_data)
        ),
        "publish/article.html",
        {"next": "publish:article", "piece": None},
    )


@staff_view
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get(actor=request.user, article_id=article_id)
    form = ArticleForm(
        request.POST or None, initial={f: getattr(article, f) for f in ("title", "summary", "body")}
    )
    return _save(
        request,
        form,
        lambda f: content.article_edit(
            actor=request.user, article=article, data=content.ArticleData(**f.cleaned_data)
        ),
        "publish/article.html",
        {"next": "publish:article", "piece": article},
    )


@require_POST
@staff_view
def rebuttal_action(request: HttpRequest, rebuttal_id: int, action: str) -> HttpResponse:
    rebuttal = selectors.rebuttal_get(actor=request.user, rebuttal_id=rebuttal_id)
    with page_action(request, action):
        if action == "publish":
            content.rebuttal_publish(actor=request.user, rebuttal=rebuttal)
        elif action == "unpublish":
            content.rebuttal_unpublish(actor=request.user, rebuttal=rebuttal)
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("publish:rebuttal", rebuttal.pk)


@require_POST
@staff_view
def article_action(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    article = selectors.article_get(actor=request.user, article_id=article_id)
    with page_action(request, action):
        if action == "publish":
            content.article_publish(actor=request.user, article=article)
        elif action == "unpublish":
            content.article_unpublish(actor=request.user, article=article)
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("publish:article", article.pk)
