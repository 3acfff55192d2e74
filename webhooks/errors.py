"""What webhooks tell a person or record as a reason, in one place (tests import these)."""

URL_SCHEME = "Use an http:// or https:// address."
URL_HOST_MISSING = "The address needs a host name, e.g. https://hooks.example.com/consent."
URL_CREDENTIALS = (
    "Remove the user name and password from the address: requests are authenticated by "
    "their signature."
)
URL_UNRESOLVABLE = "The host name does not resolve; check the spelling or the DNS record."
URL_PRIVATE_ADDRESS = (
    "The host resolves to a private, loopback, link-local, multicast or reserved address "
    "({address}). Webhooks go only to public addresses; register the system's public endpoint."
)
EVENT_TYPES_REQUIRED = "Choose at least one event type."
EVENT_TYPE_UNKNOWN = "Unknown event type: {value}."

# Delivery outcomes, stored on the delivery as its last error (kept short).
REDIRECT_REFUSED = "Redirect refused: the endpoint answered {status} (Location: {location}). Register the final address."
HTTP_ERROR = "The endpoint answered {status}."
CONNECTION_FAILED = "Could not connect: {reason}"
TIMED_OUT = "No answer within the timeout."
ENDPOINT_REFUSED = "Not sent: {reason}"

PAUSED_AFTER_FAILURES = "Paused automatically: every delivery failed for {hours:g} hours."
SUBSCRIBER_IN_USE = (
    "A subscriber with deliveries is proof of propagation: pause it instead of deleting it."
)
