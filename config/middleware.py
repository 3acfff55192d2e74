"""Request hygiene that has to happen before anything reads ``request.POST``."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NON_UTF8_FORM = (
    "Form submissions must be UTF-8 encoded: send application/x-www-form-urlencoded "
    "without a charset, or with charset=utf-8."
)


class RejectNonUtf8FormPosts:
    """Answer 400 to a url-encoded POST that declares a charset other than UTF-8.

    Django (5.0+, ticket #34709) raises BadRequest for such a body the first time
    ``request.POST`` is read, but, unlike for a broken multipart body, leaves POST
    unparsed. The CSRF check reads it first; Django's 400 and 500 views
    (``requires_csrf_token``) read it again and raise again, so the client got a 500 and
    the log a cascade of tracebacks from one request. Refusing it here gives the 400.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and request.encoding is not None
            and request.encoding.lower() != "utf-8"
        ):
            return HttpResponseBadRequest(NON_UTF8_FORM, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
