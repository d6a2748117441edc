from django.urls import path

from . import views

app_name = "deals"

urlpatterns = [
    path("<str:token>/", views.shared_proposal, name="proposal"),
    path("<str:token>/pdf/", views.shared_proposal_pdf, name="proposal_pdf"),
]
