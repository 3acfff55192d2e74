"""The "Chats already used in training" card of privacy settings (DESIGN §5), rendered by
training: consent's page includes it by tag name, so consent's code never imports training
(docs/architecture.md)."""

from django import template

from ..selectors import training_uses_for

register = template.Library()


@register.inclusion_tag("training/_uses_card.html")
def training_uses_card(user) -> dict:
    return {"training_uses": list(training_uses_for(user))}
