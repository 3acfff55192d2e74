"""Who may see conversation content, and the admin guard that keeps it from everyone else.

Content is every message *and* the conversation's title (it is the start of the first
message), plus copies of it such as ``training.TrainingUse.conversation_title``. No staff
role holds ``conversations.view_message`` (accounts/roles.py), so only superusers pass.

Django admin leaks a field without ever displaying it: a search field or a URL lookup such
as ``?title__startswith=A`` is answered with a row count, which is enough to read a title
letter by letter. ``ContentGuardedAdmin`` drops those search fields and refuses those
lookups (400) for anyone without the permission.
"""

from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

VIEW_CONTENT_PERMISSION = "conversations.view_message"


def can_view_content(user) -> bool:
    return user.has_perm(VIEW_CONTENT_PERMISSION)


def _touches(path: str, content_paths: tuple[str, ...]) -> bool:
    parts = path.lstrip("=^@").split(LOOKUP_SEP)
    return any(
        parts[: len(content.split(LOOKUP_SEP))] == content.split(LOOKUP_SEP)
        for content in content_paths
    )


class ContentGuardedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose model reaches content through ``content_paths`` (ORM paths)."""

    content_paths: tuple[str, ...] = ()

    def get_search_fields(self, request: HttpRequest):
        fields = super().get_search_fields(request)
        if can_view_content(request.user):
            return fields
        return [name for name in fields if not _touches(name, self.content_paths)]

    def lookup_allowed(self, lookup: str, value, request: HttpRequest | None = None) -> bool:
        if _touches(lookup, self.content_paths) and (
            request is None or not can_view_content(request.user)
        ):
            return False
        return super().lookup_allowed(lookup, value, request)
