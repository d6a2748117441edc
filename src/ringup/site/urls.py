from django.urls import path

from . import views

app_name = "site"

urlpatterns = [
    path("", views.home, name="home"),
    path("pricing/", views.pricing_page, name="pricing"),
    path("pricing/breakdown/", views.pricing_breakdown, name="pricing_breakdown"),
    path("pricing/save/", views.save_quote, name="pricing_save"),
    path("pricing/embed/", views.pricing_embed, name="embed"),
    path("pricing/embed/breakdown/", views.embed_breakdown, name="embed_breakdown"),
    path("pricing/embed/save/", views.embed_save, name="embed_save"),
    path("q/<str:token>/", views.quote_page, name="quote"),
    path("q/<str:token>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("signup/", views.signup, name="signup"),
    path("buy/<slug:plan>/", views.buy, name="buy"),
    path("advisor/", views.advisor_page, name="advisor"),
]
