"""The chat UI: thin views that parse with a form, call one service, render.

An htmx request gets only the named partial of the page's own template, so the
full page and the fragment cannot drift apart.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from config.http import HtmxHttpRequest
from consent.selectors import gate_status

from . import errors, selectors, services
from .forms import MessageForm, NewConversationForm
from .models import Conversation
from .presenters import StatusWriter, temporary_explained
from .responders import assistant_display_name

CONVERSATION_DELETED = "Conversation deleted."


def _see_other(url: str) -> HttpResponse:
    """303: after a POST the browser follows with a GET, so a reload never re-sends the form."""
    response = redirect(url)
    response.status_code = 303
    return response


def _status_writer(request: HtmxHttpRequest) -> StatusWriter:
    """Status lines under the policy and choice the gate read for this request."""
    # The gate middleware leaves its answer on the request; no second query for it.
    gate = getattr(request, "consent_gate", None) or gate_status(
        user=request.user, session=request.session
    )
    return StatusWriter(
        user=request.user, policy=gate.policy, choice=gate.choice, now=timezone.now()
    )


def _conversation_get(request: HtmxHttpRequest, conversation_id: int, writer: StatusWriter):
    return selectors.conversation_get_for(request.user, conversation_id, policy=writer.policy)


def _new_form(writer: StatusWriter, data=None) -> NewConversationForm:
    return NewConversationForm(data, temporary_explained=temporary_explained(writer.policy))


def _thread_context(conversation: Conversation, writer: StatusWriter, data=None) -> dict:
    status = writer.status(conversation)
    return {
        "conversation": conversation,
        "status": status,
        "thread": conversation.messages.all(),
        "form": MessageForm(data, hint=status.reply_covers),
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
    writer = _status_writer(request)
    conversations = selectors.conversation_list_for(request.user, policy=writer.policy)
    return render(
        request,
        "conversations/list.html",
        {
            "conversations": writer.listed(conversations),
            "form": _new_form(writer),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation_new(request: HtmxHttpRequest) -> HttpResponse:
    form = _new_form(_status_writer(request), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start(
                user=request.user,
                text=form.cleaned_data["text"],
                temporary=form.cleaned_data["temporary"],
            )
        except services.ReplyFailed as failed:
            return _reply_failed(request, failed.conversation)
        return _see_other(conversation.get_absolute_url())
    return render(request, "conversations/new.html", {"form": form})


@login_required
@require_GET
def conversation_detail(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    writer = _status_writer(request)
    conversation = _conversation_get(request, conversation_id, writer)
    return render(request, "conversations/detail.html", _thread_context(conversation, writer))


@login_required
@require_POST
def message_post(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    writer = _status_writer(request)
    conversation = _conversation_get(request, conversation_id, writer)
    form = MessageForm(request.POST)
    if not form.is_valid():
        # The thread again, its composer holding the text with its error (and the hint).
        context = _thread_context(conversation, writer, request.POST)
        if request.htmx:
            # Replace the composer with the same form showing its errors, in place.
            context["focus_composer"] = True
            response = render(request, "conversations/detail.html#message-form", context)
            return reswap(retarget(response, "#message-form"), "outerHTML")
        return render(request, "conversations/detail.html", context)

    try:
        question, answer = services.message_post(
            conversation=conversation, text=form.cleaned_data["text"]
        )
    except services.ReplyFailed:
        return _reply_failed(request, conversation)
    if request.htmx:
        # The reply may have changed coverage and retention: the status line is re-read.
        conversation = _conversation_get(request, conversation_id, writer)
        context = _thread_context(conversation, writer)
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
