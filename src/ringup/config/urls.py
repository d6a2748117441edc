from django.contrib import admin
from django.urls import include, path

from .api import api

admin.site.site_header = "Ringup back office"
admin.site.site_title = "Ringup"
admin.site.index_title = "Operator back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("ringup.site.urls")),
]
