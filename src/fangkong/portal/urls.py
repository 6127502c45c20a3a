"""URLs: staff pages of the portal (drafts, publishing, risk areas)."""

from django.urls import path

from fangkong.portal import content_views, risk_views, views

app_name = "publish"
urlpatterns = [
    path("", views.home, name="home"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new/", views.bulletin_new, name="bulletin-new"),
    path("bulletins/<int:bulletin_id>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:bulletin_id>/do/<slug:action>/", views.bulletin_action, name="bulletin-action"),
    path("risk-areas/", risk_views.area_list, name="areas"),
    path("risk-areas/designate/", risk_views.area_designate, name="area-designate"),
    path("risk-areas/<int:area_id>/", risk_views.area_detail, name="area"),
    path("risk-areas/<int:area_id>/lift/", risk_views.area_lift, name="area-lift"),
    path(
        "risk-areas/proposals/<int:change_id>/<slug:decision>/",
        risk_views.proposal_decide,
        name="proposal-decide",
    ),
    path("rebuttals/", content_views.rebuttal_list, name="rebuttals"),
    path("rebuttals/new/", content_views.rebuttal_new, name="rebuttal-new"),
    path("rebuttals/<int:rebuttal_id>/", content_views.rebuttal_edit, name="rebuttal"),
    path(
        "rebuttals/<int:rebuttal_id>/do/<slug:action>/", content_views.rebuttal_action, name="rebuttal-action"
    ),
    path("articles/", content_views.article_list, name="articles"),
    path("articles/new/", content_views.article_new, name="article-new"),
    path("articles/<int:article_id>/", content_views.article_edit, name="article"),
    path("articles/<int:article_id>/do/<slug:action>/", content_views.article_action, name="article-action"),
]
