from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("image/<int:pk>/", views.banner_image, name="image"),
    path("<str:token>/", views.banner_click, name="click"),
]
