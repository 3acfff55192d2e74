from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class MessageForm(forms.Form):
    """One message from the person: the first of a new conversation, or a reply."""

    text = forms.CharField(
        label=_("Your message"),
        required=True,
        strip=True,
        max_length=settings.CHAT_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Write a message before sending."),
            "max_length": _(
                "Messages can be at most %(limit_value)s characters; this one has "
                "%(show_value)s. Shorten it or split it into two messages."
            ),
        },
    )

    def __init__(self, *args, hint: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # What sending will do to this chat, said before it is sent: rendered as the box's
        # help text, so screen readers announce it with the box (aria-describedby).
        if hint:
            self.fields["text"].help_text = hint
        # A browser silently cuts a paste at maxlength; without it the person gets the
        # server's error with their whole text still in the box, and can shorten it.
        self.fields["text"].widget.attrs.pop("maxlength", None)


class NewConversationForm(MessageForm):
    """The first message, and whether the chat is temporary (DESIGN §4 rule 8)."""

    temporary = forms.BooleanField(
        label=_("Temporary chat"),
        required=False,
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )

    def __init__(self, *args, temporary_explained: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # The period comes from the policy (``presenters.temporary_explained``).
        self.fields["temporary"].help_text = temporary_explained
