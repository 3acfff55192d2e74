"""Messages the accounts pages show; tests import these constants."""

from django.utils.translation import gettext_lazy as _

# Log-in and sign-up
EMAIL_TAKEN = _("An account with this email already exists. Log in instead, or use another email.")
INVALID_LOGIN = _("That email and password do not match an account. Check both and try again.")
INACTIVE_LOGIN = _("This account is closed. Contact support if you think this is a mistake.")
EMAIL_REQUIRED = _("Enter your email address.")
PASSWORD_REQUIRED = _("Enter your password.")

# Links sent by email (sign-up, email change)
LINK_INVALID = _(
    "This link is not valid: it may be mistyped, expired or already used. "
    "Start again to get a new one."
)
LINK_OTHER_ACCOUNT = _(
    "This link was sent for a different account. Log out, then open the link again "
    "and log in with the account that asked for it."
)
SIGNUP_LINK_USED = _("This address already has an account. Log in, or reset your password.")

# Email change
WRONG_PASSWORD = _("That is not your current password. Enter the password you log in with.")
EMAIL_UNCHANGED = _("That is already your email address. Enter the new address you want to use.")
EMAIL_CHANGED = _("Your email address is now {email}. Use it the next time you log in.")

# Rate limits on everything that sends an email
TOO_MANY_EMAILS = _(
    "Too many requests for emails from here or for this address. Wait an hour, then try again."
)

# Language and time zone
TIME_ZONE_UNKNOWN = _("Choose a time zone from the list, such as Europe/Berlin.")
LANGUAGE_UNKNOWN = _("Choose one of the languages offered.")
LANGUAGE_SAVED = _("Language and time zone saved.")
