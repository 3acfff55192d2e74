from django.urls import URLPattern, path, re_path

from . import views
from .api import api


def _answering_in_json(patterns: list[URLPattern]) -> list[URLPattern]:
    return [
        URLPattern(p.pattern, views.answer_in_json(p.callback), p.default_args, p.name)
        for p in patterns
    ]


# Not named app_name: include("api.urls") would read it as this module's namespace.
api_patterns, api_app_name, api_namespace = api.urls

urlpatterns = [
    path("v1/", (_answering_in_json(api_patterns), api_app_name, api_namespace)),
    # Anything else under /api/ (a typo, a retired version) gets a JSON 404, not an HTML page.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="api_not_found"),
]
