"""A signed-in person's own language and time zone, for every page they are shown.

Negotiation (issue 15): the saved ``User.language``, else what ``LocaleMiddleware`` already
picked (the language cookie the switcher sets, else ``Accept-Language``), else
``LANGUAGE_CODE``. It sits after ``AuthenticationMiddleware`` (it needs the user) and
before the consent gate, so a gate redirect, the decision screen and the record's
``locale`` all see the person's language. URLs carry no language prefix (no
``i18n_patterns``): the language belongs to the person, not the address, so the gate's
allow-list, emailed links and bookmarks stay one URL each, and a redirect cannot drop it.
"""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .zones import zone_of


class UserLocaleMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            zone = zone_of(user)
            if zone is not None:
                timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            # The zone is thread-local and nothing else resets it: the next request on
            # this thread must not inherit this person's zone. (LocaleMiddleware sets the
            # language afresh on every request and reads it for Content-Language.)
            timezone.deactivate()
