"""URLs: public pages of the portal (no login)."""

from django.urls import path

from fangkong.portal import public_views as views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:bulletin_id>/", views.bulletin_detail, name="bulletin"),
    path("risk-areas/", views.risk_areas, name="risk-areas"),
    path("risk-areas/map/", views.risk_map, name="risk-map"),
    path("risk-areas/map.geojson", views.risk_geojson, name="risk-geojson"),
    path("rebuttals/", views.rebuttal_list, name="rebuttals"),
    path("rebuttals/<int:rebuttal_id>/", views.rebuttal_detail, name="rebuttal"),
    path("articles/", views.article_list, name="articles"),
    path("articles/<int:article_id>/", views.article_detail, name="article"),
    path("feed.atom", views.feed, name="feed"),
]
