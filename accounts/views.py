"""Sign-up, log-in, log-out and password change: thin views over Django's auth."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.decorators import consent_gate_exempt

from .forms import LoginForm, SignupForm
from .services import user_create

LOGGED_OUT = "You have logged out."

# The user was just created with a password, so the model backend (the one that also loads
# the consent standing with each request's user) is the one that applies.
SIGNUP_BACKEND = "consent.backends.ConsentStandingBackend"


@consent_gate_exempt
@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            country=form.cleaned_data["country"],
        )
        login(request, user, backend=SIGNUP_BACKEND)
        # The consent gate takes a new user to the first-login decision from here.
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


login_view = consent_gate_exempt(
    LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)


@consent_gate_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, LOGGED_OUT)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Keep this session signed in; every other session of the user is logged out.
        update_session_auth_hash(request, user)
        return redirect("accounts:password_change_done")
    return render(request, "accounts/password_change_form.html", {"form": form})


@login_required
@require_GET
def password_change_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_change_done.html")
