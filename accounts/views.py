"""Sign-up, log-in, log-out, password change and reset, email change: thin views over
Django's auth and ``accounts.services``."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import (
    LoginView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from . import errors, selectors, services, tasks
from .forms import (
    EmailChangeForm,
    LocaleSettingsForm,
    LoginForm,
    PasswordResetForm,
    SignupCompleteForm,
    SignupStartForm,
)
from .landing import login_landing_url
from .ratelimits import email_request_limited
from .tokens import signup_token_read

LOGGED_OUT = _("You have logged out.")

# The user was just created with a password, so the model backend (the one that also loads
# the consent standing with each request's user) is the one that applies.
SIGNUP_BACKEND = "consent.backends.ConsentStandingBackend"


def _site_url(request: HttpRequest) -> str:
    """Scheme and host for links in emails (the Host header is checked by ALLOWED_HOSTS)."""
    return request.build_absolute_uri("/").rstrip("/")


def _link_problem(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "accounts/link_problem.html", {"message": message}, status=400)


def _too_many(request: HttpRequest, template: str, form) -> HttpResponse:
    form.add_error(None, errors.TOO_MANY_EMAILS)
    return render(request, template, {"form": form}, status=429)


# --- Sign-up: an address is proven by a link before it gets an account ---------------------


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Step one. Whether or not the address has an account, the answer is the same page;
    the worker sends a sign-up link, or tells the existing owner someone tried."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if email_request_limited(request, flow="signup", email=email):
            return _too_many(request, "accounts/signup.html", form)
        tasks.enqueue_after_commit(
            tasks.send_signup_email,
            email=email,
            site_url=_site_url(request),
            language=get_language(),
        )
        return render(request, "accounts/signup_sent.html", {"email": email})
    return render(request, "accounts/signup.html", {"form": form})


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup_complete(request: HttpRequest, token: str) -> HttpResponse:
    """Step two, from the emailed link: the rest of the account, then straight in."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    email = signup_token_read(token)
    if email is None:
        return _link_problem(request, errors.LINK_INVALID)
    if selectors.user_by_email(email=email) is not None:
        return _link_problem(request, errors.SIGNUP_LINK_USED)
    form = SignupCompleteForm(request.POST or None, email=email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                email=email,
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                country=form.cleaned_data["country"],
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except IntegrityError:  # the same link submitted twice at once
            return _link_problem(request, errors.SIGNUP_LINK_USED)
        login(request, user, backend=SIGNUP_BACKEND)
        # The consent gate takes a new user to the first-login decision from here.
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup_complete.html", {"form": form, "email": email})


class LandingLoginView(LoginView):
    """Django's login; without a ``next``, staff who never chat land in admin."""

    def get_default_redirect_url(self) -> str:
        return login_landing_url(self.request.user)


login_view = LandingLoginView.as_view(
    template_name="accounts/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, LOGGED_OUT)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Password change (signed in) and reset (by email) --------------------------------------


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


class RateLimitedPasswordResetView(PasswordResetView):
    """Django's reset view; the email goes out from a worker, so the answer and its timing
    are the same whether or not the address has an account, and requests are limited per
    client and per address."""

    form_class = PasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if email_request_limited(self.request, flow="password_reset", email=email):
            form.add_error(None, errors.TOO_MANY_EMAILS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        tasks.enqueue_after_commit(
            tasks.send_password_reset_email,
            email=email,
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
            language=get_language(),
        )
        return HttpResponseRedirect(self.get_success_url())


# Reachable signed out and, for a user the consent gate holds, signed in (DESIGN §4 rule 5:
# consent.gate.GATE_ALLOW_LIST names these four).
password_reset = RateLimitedPasswordResetView.as_view()
password_reset_done = PasswordResetDoneView.as_view(
    template_name="registration/password_reset_done.html"
)
password_reset_confirm = PasswordResetConfirmView.as_view(
    template_name="registration/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)


# --- Email change: only a click on the link sent to the new address changes it -------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["new_email"]
        if email_request_limited(request, flow="email_change", email=new_email):
            return _too_many(request, "accounts/email_change_form.html", form)
        # The same answer whether or not another account uses the address: the worker
        # sends the link, or tells that account's owner instead.
        tasks.enqueue_after_commit(
            tasks.send_email_change_emails,
            user_id=request.user.pk,
            new_email=new_email,
            site_url=_site_url(request),
            language=get_language(),
        )
        return render(request, "accounts/email_change_sent.html", {"new_email": new_email})
    return render(request, "accounts/email_change_form.html", {"form": form})


@csrf_protect
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link would change (mail scanners follow links); POST applies it."""
    try:
        if request.method == "POST":
            user = services.email_change_confirm(
                user=request.user, token=token, site_url=_site_url(request)
            )
            messages.success(request, errors.EMAIL_CHANGED.format(email=user.email))
            return redirect("accounts:email_change")
        claim = services.email_change_claim_check(user=request.user, token=token)
    except services.EmailChangeRefused as refused:
        return _link_problem(request, refused.message)
    return render(request, "accounts/email_change_confirm.html", {"new_email": claim.new_email})


# --- Language and time zone ----------------------------------------------------------------


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The layout's language switcher (a plain form, no JavaScript needed).

    Django's ``set_language`` sets the language cookie and redirects to the safe ``next``
    (it ignores a language the site does not offer); a signed-in person's choice is also
    saved, so it follows them to every device and to their emails.
    """
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_locale_set(user=request.user, language=language)
    return set_language(request)


@csrf_protect
@login_required
@require_http_methods(["GET", "POST"])
def locale_settings(request: HttpRequest) -> HttpResponse:
    """Account settings: the language and time zone the product uses for this person."""
    user = request.user
    initial = {"language": user.language or get_language(), "time_zone": user.time_zone}
    form = LocaleSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.user_locale_set(
            user=user,
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
        )
        # This response is already in the old language; the next page speaks the new one.
        with translation.override(user.language):
            messages.success(request, str(errors.LANGUAGE_SAVED))
        response = redirect("accounts:settings")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    return render(request, "accounts/settings.html", {"form": form})
