"""The one plain Django view of the API app: unknown addresses under /api/ answer in JSON too."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import errors


@csrf_exempt  # any method may arrive here; nothing is read or changed
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(
        {"code": errors.NOT_FOUND, "detail": errors.MESSAGES[errors.NOT_FOUND]}, status=404
    )
