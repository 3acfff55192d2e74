from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminUserChangeForm, SignupForm
from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    # Django's default add_form is built for a `username` field; ours logs in by email
    # and has the same rules (case-insensitive uniqueness, password validators) as sign-up.
    add_form = SignupForm
    form = AdminUserChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "country", "date_joined", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "country"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login", "pseudonymised_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "country"]}),
        (
            "Access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login", "pseudonymised_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "display_name", "country", "password1", "password2"],
            },
        )
    ]
