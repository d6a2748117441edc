from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api

admin.site.site_header = "Ringup back office"
admin.site.site_title = "Ringup"
admin.site.index_title = "Operator back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("portal/", include("ringup.portal.urls")),
    # Sign-up is the site's trial sign-up (it carries the offer); the rest is allauth's.
    path(
        "accounts/signup/",
        RedirectView.as_view(pattern_name="site:signup", query_string=True),
        name="account_signup",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ringup.marketing.mailings.urls")),  # /u/ unsubscribe, /m/ tracking
    path("b/", include("ringup.marketing.engagement.urls")),  # banner clicks, images
    path("proposal/", include("ringup.sales.deals.urls")),  # shared deal proposals
    path("", include("ringup.site.urls")),
]
