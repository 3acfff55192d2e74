"""The request type every view is annotated with (django-htmx's middleware adds ``htmx``)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """The shape django-htmx documents for type checking; one declaration for every app."""

    htmx: HtmxDetails
