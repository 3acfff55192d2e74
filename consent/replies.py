"""What the consent screens tell a person after a submit; tests import these constants."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .deadlines import deadline_text
from .models import Choice

SAVED_OPT_IN = _(
    "Saved: new and reopened chats may be used to improve the model. "
    "You can turn this off any time in Privacy settings."
)
SAVED_OPT_OUT = _(
    "Saved: your chats will not be used for training. "
    "You can change this any time in Privacy settings."
)
# A replayed form (a retry, a back button, a second tab) records nothing: the answer says
# what is true now, not what the old form asked for.
ALREADY_RECORDED = _("This answer was already recorded on {date}; your current choice is {choice}.")
CURRENT_CHOICE = {
    Choice.OPT_IN: _("opted in (new and reopened chats may be used to improve the model)"),
    Choice.OPT_OUT: _("opted out (your chats are not used for training)"),
    None: _("not decided yet"),
}


# "Not now" (the button or Esc): when the notice comes back, and the deadline again.
DEFERRED = _(
    "OK, we'll ask again when you come back after {next_ask}. Decide by {deadline}: after "
    "that you'll need to answer before you can keep chatting. You can decide any time in "
    "Privacy settings."
)


def deferred(*, hidden_until: datetime, deadline: datetime) -> str:
    """The "Not now" confirmation, in the zone the page renders in."""
    return DEFERRED.format(
        next_ask=deadline_text(hidden_until).date_time, deadline=deadline_text(deadline).date_time
    )


def saved(choice: str) -> str:
    return SAVED_OPT_IN if choice == Choice.OPT_IN else SAVED_OPT_OUT


def already_recorded(*, recorded_at: datetime, current_choice: str | None) -> str:
    """The answer to a replayed form, in the person's time zone."""
    local = timezone.localtime(recorded_at)
    when = f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"
    return ALREADY_RECORDED.format(date=when, choice=CURRENT_CHOICE[current_choice])
