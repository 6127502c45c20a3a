"""Root URLs: the staff UI by app, the API under /api/, Django admin for operators."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from fangkong.config.api import api
from fangkong.orgs import views as org_views
from fangkong.orgs.login import admin_login
from fangkong.quarantine.self_report import self_report

urlpatterns = [
    path("", org_views.home, name="home"),
    path("accounts/", include("fangkong.orgs.account_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("orgs/", include("fangkong.orgs.urls")),
    path("people/", include("fangkong.people.urls")),
    path("work/", include("fangkong.worklist.urls")),
    path("cases/", include("fangkong.cases.urls")),
    path("contacts/", include("fangkong.contacts.urls")),
    path("dashboard/", include("fangkong.dashboard.urls")),
    path("quarantine/", include("fangkong.quarantine.urls")),
    path("r/<str:token>/", self_report, name="self-report"),
    path("publish/", include("fangkong.portal.urls")),
    path("helpdesk/", include("fangkong.helpdesk.urls")),
    path("volunteers/", include("fangkong.volunteers.urls")),
    path("notify/", include("fangkong.notify.urls")),
    path("testing/", include("fangkong.testing.urls")),
    # public pages, no login: the portal, the help-request form and ticket lookup, volunteer sign-up
    path("portal/help/", include("fangkong.helpdesk.public_urls")),
    path("portal/volunteer/", include("fangkong.volunteers.public_urls")),
    path("portal/testing/", include("fangkong.testing.public_urls")),
    path("portal/", include("fangkong.portal.public_urls")),
    path("audit/", include("fangkong.audit.urls")),
    path("api/", api.urls),
    path("admin/login/", admin_login),  # behind the staff login's lockout (orgs.lockout)
    path("admin/", admin.site.urls),
]
urlpatterns += [path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True))]
