"""Data rights in privacy settings: download my data, delete my account.

Login required; every state change is a POST with CSRF; a view only ever reads or
deletes ``request.user``'s own data, so another user's data is unreachable by design.
"""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from config.http import HtmxHttpRequest
from consent.models import ConsentRecord
from conversations.models import Conversation

from .data_rights import personal_data_for, user_account_delete
from .forms import AccountDeleteForm
from .models import TrainingUse

ACCOUNT_DELETED = (
    "Your account and your conversations have been deleted. "
    "Your consent records and training history are kept under an anonymous id."
)


def _see_other(to: str) -> HttpResponse:
    response = redirect(to)
    response.status_code = 303
    return response


def _own_counts(user) -> dict[str, int]:
    return {
        "conversation_count": Conversation.objects.filter(
            user=user, deleted_by_user_at__isnull=True
        ).count(),
        "record_count": ConsentRecord.objects.filter(user=user).count(),
        "training_use_count": TrainingUse.objects.filter(user_id=user.pk).count(),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def data_export(request: HtmxHttpRequest) -> HttpResponse:
    """GET: what the download holds. POST: the download itself, one JSON file."""
    if request.method == "GET":
        return render(request, "training/data_export.html", _own_counts(request.user))
    now = timezone.now()
    document = personal_data_for(request.user, now=now)
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{now:%Y-%m-%d}.json"'
    return response


@sensitive_post_parameters("password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HtmxHttpRequest) -> HttpResponse:
    """GET: say exactly what is deleted and what is kept. POST: password, then delete."""
    form = AccountDeleteForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_account_delete(user=request.user)
        logout(request)
        messages.success(request, ACCOUNT_DELETED)
        return _see_other("accounts:login")
    return render(
        request, "training/account_delete.html", {"form": form, **_own_counts(request.user)}
    )
