"""The plain Django views of the API app, and the wrapper that keeps Django's own answers
inside the API's JSON error shape (``{"code": ..., "detail": ...}``, api.errors)."""

import functools
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import errors


def error_response(code: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": errors.MESSAGES[code]}, status=status)


@csrf_exempt  # any method may arrive here; nothing is read or changed
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return error_response(errors.NOT_FOUND, 404)


def answer_in_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a view of the ninja API: a wrong method (django-ninja's and ``require_GET``'s
    empty 405) and a plain ``Http404`` (django-ninja's root view) answer in JSON too.

    CSRF-exempt so that a POST meets the 405 rather than Django's HTML 403: the
    operations are exempt already, and the schema and docs answer GET only.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(errors.NOT_FOUND, 404)
        if isinstance(response, HttpResponseNotAllowed):
            answer = error_response(errors.METHOD_NOT_ALLOWED, 405)
            answer["Allow"] = response["Allow"]
            return answer
        return response

    return csrf_exempt(wrapper)
