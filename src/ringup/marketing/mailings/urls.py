"""Public mailing links: one-click unsubscribe (RFC 8058), click redirects, open pixel."""

from django.urls import path

from . import views

app_name = "mailings"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/c/<str:token>/", views.click, name="click"),
    path("m/o/<str:token>.gif", views.opened, name="open"),
]
