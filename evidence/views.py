"""What anyone may fetch to check a receipt without trusting this server's database: the
standalone verifier, the public key and the signed tree heads as published. Public (an
auditor has no account) and open while the consent gate blocks (consent.gate)."""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import errors
from .selectors import latest_head, public_keys_document, published_head

VERIFIER = settings.BASE_DIR / "tools" / "verify_receipt.py"


@require_GET
def verify_help(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "evidence/verify_receipt.html",
        {"head": latest_head(), "keys": public_keys_document()},
    )


@require_GET
def verifier_download(request: HttpRequest) -> FileResponse:
    return FileResponse(
        VERIFIER.open("rb"),
        as_attachment=True,
        filename="verify_receipt.py",
        content_type="text/x-python; charset=utf-8",
    )


@require_GET
def public_key(request: HttpRequest) -> JsonResponse:
    return JsonResponse(public_keys_document())


def _head_response(tree_size: int | None) -> HttpResponse:
    body = published_head(tree_size) if tree_size is not None else None
    if body is None:
        return JsonResponse({"detail": errors.HEAD_NOT_PUBLISHED}, status=404)
    return HttpResponse(body, content_type="application/json")


@require_GET
def latest_signed_head(request: HttpRequest) -> HttpResponse:
    head = latest_head()
    response = _head_response(head.tree_size if head else None)
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def signed_head(request: HttpRequest, tree_size: int) -> HttpResponse:
    response = _head_response(tree_size)
    if response.status_code == 200:
        # A head never changes once published ("latest" moves at each checkpoint).
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
