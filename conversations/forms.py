from django import forms
from django.conf import settings


class MessageForm(forms.Form):
    """One message from the person: the first of a new conversation, or a reply."""

    text = forms.CharField(
        label="Your message",
        required=True,
        strip=True,
        max_length=settings.CHAT_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Write a message before sending.",
            "max_length": (
                "Messages can be at most %(limit_value)s characters; this one has "
                "%(show_value)s. Shorten it or split it into two messages."
            ),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A browser silently cuts a paste at maxlength; without it the person gets the
        # server's error with their whole text still in the box, and can shorten it.
        self.fields["text"].widget.attrs.pop("maxlength", None)
