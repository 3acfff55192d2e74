from django.contrib import admin
from django.urls import include, path

from conversations.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("conversations/", include("conversations.urls")),
    path("", include("consent.urls")),
    path("", include("training.urls")),
    path("", include("evidence.urls")),
    path("experiments/", include("experiments.urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Consent gate administration"
admin.site.site_title = "Consent gate admin"
