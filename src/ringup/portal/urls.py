from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("subscriptions/<int:pk>/change/", views.change, name="change"),
    path("subscriptions/<int:pk>/preview/", views.preview, name="preview"),
    path("subscriptions/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("subscriptions/<int:pk>/convert/", views.convert, name="convert"),
    path("subscriptions/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<int:pk>/", views.invoice, name="invoice"),
    path("invoices/<int:pk>/document/", views.invoice_document, name="invoice_document"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("usage/", views.usage, name="usage"),
    path("usage/calls.csv", views.usage_csv, name="usage_csv"),
    path("profile/", views.profile, name="profile"),
    path("referrals/", views.referrals, name="referrals"),
    path("help/", views.help_index, name="help"),
    path("help/<slug:slug>/", views.help_article, name="help_article"),
    path("logout/", LogoutView.as_view(next_page="/"), name="logout"),
]
