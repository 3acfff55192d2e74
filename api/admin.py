"""Service tokens in admin: issue (the secret is shown once, on the page that issues it), revoke.

The secret never goes through a message or the session: the issuing response shows it
and nothing stores it; only its SHA-256 digest is kept.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .models import ServiceToken
from .services import service_token_issue, service_token_revoke

SECRET_SHOWN_ONCE = (
    "Copy this token now: it is shown only once and cannot be recovered. "
    "If it is lost, revoke it and issue a new one."
)


class ServiceTokenIssueForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which service will hold the token, e.g. 'training-export'."
    )


@admin.register(ServiceToken)
class ServiceTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "scope",
        "active",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    list_select_related = ["created_by"]
    fields = [
        "name",
        "prefix",
        "scope",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A token is issued or revoked, never edited.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Revoked tokens stay: they say who could read consent data, and when.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("api.change_servicetoken")

    @admin.display(description="active", boolean=True)
    def active(self, token: ServiceToken) -> bool:
        return token.is_active

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            service_token_revoke(token=token, revoked_by=request.user)
            self.log_change(request, token, "Revoked.")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ServiceTokenIssueForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Issue a service token",
        }
        if request.method == "POST" and form.is_valid():
            issued = service_token_issue(name=form.cleaned_data["name"], created_by=request.user)
            self.log_addition(request, issued.token, [{"added": {}}])
            context.update(
                title="Service token issued",
                token=issued.token,
                secret=issued.secret,
                shown_once=SECRET_SHOWN_ONCE,
            )
            # admin_view already marks every admin response never_cache.
            return TemplateResponse(request, "admin/api/servicetoken/issued.html", context)
        return TemplateResponse(request, "admin/api/servicetoken/issue.html", context)
