from django.urls import path, re_path

from . import views
from .api import api

urlpatterns = [
    path("v1/", api.urls),
    # Anything else under /api/ (a typo, a retired version) gets a JSON 404, not an HTML page.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="api_not_found"),
]
