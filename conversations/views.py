"""The chat UI: thin views that parse with a form, call one service, render.

An htmx request gets only the named partial of the page's own template, so the
full page and the fragment cannot drift apart.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from config.http import HtmxHttpRequest

from . import errors, selectors, services
from .forms import MessageForm
from .models import Conversation
from .responders import assistant_display_name

CONVERSATION_DELETED = "Conversation deleted."


def _see_other(url: str) -> HttpResponse:
    """303: after a POST the browser follows with a GET, so a reload never re-sends the form."""
    response = redirect(url)
    response.status_code = 303
    return response


def _thread_context(conversation: Conversation, form: MessageForm) -> dict:
    return {
        "conversation": conversation,
        "thread": conversation.messages.all(),
        "form": form,
        "assistant_name": assistant_display_name(),
        "awaiting_reply": services.conversation_awaiting_reply(conversation) is not None,
    }


def _reply_failed(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse:
    """The message is saved, the reply is not: back to the thread, which offers to ask again."""
    messages.error(request, errors.REPLY_FAILED)
    if request.htmx:
        return HttpResponseClientRedirect(conversation.get_absolute_url())
    return _see_other(conversation.get_absolute_url())


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("conversations:list")
    return redirect("accounts:login")


@login_required
@require_GET
def conversation_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "conversations/list.html",
        {
            "conversations": selectors.conversation_list_for(request.user),
            "form": MessageForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation_new(request: HtmxHttpRequest) -> HttpResponse:
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start(
                user=request.user, text=form.cleaned_data["text"]
            )
        except services.ReplyFailed as failed:
            return _reply_failed(request, failed.conversation)
        return _see_other(conversation.get_absolute_url())
    return render(request, "conversations/new.html", {"form": form})


@login_required
@require_GET
def conversation_detail(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for(request.user, conversation_id)
    return render(
        request, "conversations/detail.html", _thread_context(conversation, MessageForm())
    )


@login_required
@require_POST
def message_post(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for(request.user, conversation_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            # Replace the composer with the same form showing its errors, in place.
            response = render(
                request,
                "conversations/detail.html#message-form",
                {"conversation": conversation, "form": form, "focus_composer": True},
            )
            return reswap(retarget(response, "#message-form"), "outerHTML")
        return render(request, "conversations/detail.html", _thread_context(conversation, form))

    try:
        question, answer = services.message_post(
            conversation=conversation, text=form.cleaned_data["text"]
        )
    except services.ReplyFailed:
        return _reply_failed(request, conversation)
    if request.htmx:
        context = _thread_context(conversation, MessageForm())
        context.update({"new_messages": [question, answer], "focus_composer": True})
        return render(request, "conversations/detail.html#new-messages", context)
    return _see_other(f"{conversation.get_absolute_url()}#message-{answer.pk}")


@login_required
@require_POST
def conversation_reply(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    """Ask the assistant again after a failed reply; answering twice is harmless."""
    conversation = selectors.conversation_get_for(request.user, conversation_id)
    try:
        reply = services.conversation_reply(conversation=conversation)
    except services.ReplyFailed:
        return _reply_failed(request, conversation)
    anchor = f"#message-{reply.pk}" if reply is not None else ""
    if request.htmx:
        return HttpResponseClientRedirect(f"{conversation.get_absolute_url()}{anchor}")
    return _see_other(f"{conversation.get_absolute_url()}{anchor}")


@login_required
@require_http_methods(["GET", "POST"])
def conversation_delete(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for(request.user, conversation_id)
    if request.method == "POST":
        services.conversation_delete(conversation=conversation)
        messages.success(request, CONVERSATION_DELETED)
        return _see_other(reverse("conversations:list"))
    return render(
        request,
        "conversations/confirm_delete.html",
        {"conversation": conversation, "message_count": conversation.messages.count()},
    )
