/* Consent dialog enhancement. Without JavaScript the dialog renders open and its
   form posts normally; with it, the dialog becomes modal (focus moves in and the
   rest of the page is inert), Esc means "Not now" where deferring is allowed, and
   touching the toggle or opening "Learn more" is reported with the decision. */
(function () {
  "use strict";

  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), summary, [tabindex]:not([tabindex='-1'])";

  // A modal lets Tab wander into the browser's own UI after the last control;
  // wrap it around so keyboard users stay in the dialog until they decide.
  function keepFocusInside(dialog, event) {
    var items = Array.prototype.filter.call(dialog.querySelectorAll(FOCUSABLE), function (el) {
      return el.offsetParent !== null || el === document.activeElement;
    });
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  }

  function upgrade(dialog) {
    if (dialog.dataset.upgraded) return;
    dialog.dataset.upgraded = "true";
    if (dialog.open && typeof dialog.showModal === "function") {
      dialog.close();
      dialog.showModal();
    }
    // A refused answer's reason comes first (decide.html [data-consent-error]): focused, it
    // is read out on a page load too, where a role="alert" present from the start is not.
    var start = dialog.querySelector("[data-consent-error]") || dialog.querySelector("h2");
    if (start) start.focus();

    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      if (dialog.dataset.deferrable === "true") {
        dialog.dataset.done = "true";
        var notNow = dialog.querySelector("[data-not-now]");
        if (notNow) notNow.click();
      }
    });
    dialog.addEventListener("change", function (event) {
      if (event.target.matches("[data-training-toggle]")) {
        var touched = dialog.querySelector("[data-toggle-touched]");
        if (touched) touched.value = "1";
      }
    });
    // The decision sticks to the dialog's bottom (app.css .consent-decision); a link or
    // "Learn more" reached by Tab must not sit hidden behind it (WCAG 2.4.11).
    dialog.addEventListener("focusin", function (event) {
      var decision = dialog.querySelector(".consent-decision");
      if (!decision || decision.contains(event.target)) return;
      var overlap = event.target.getBoundingClientRect().bottom + 8 - decision.getBoundingClientRect().top;
      if (overlap > 0) dialog.scrollTop += overlap;
    });
    dialog.addEventListener("toggle", function (event) {
      if (event.target.matches("[data-learn-more]") && event.target.open) {
        var opened = dialog.querySelector("[data-learn-more-opened]");
        if (opened) opened.value = "1";
      }
    }, true);
    // Chrome may close a modal on Esc without a cancelable "cancel" event (no user
    // activation yet), so the outcome is settled on "close": defer on Esc where
    // allowed, otherwise reopen. The close() in the upgrade above also lands here.
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") dialog.dataset.escaped = "true";
      if (event.key === "Tab") keepFocusInside(dialog, event);
    });
    dialog.addEventListener("close", function () {
      if (dialog.dataset.done === "true") {
        dialog.remove();
      } else if (dialog.dataset.deferrable === "true" && dialog.dataset.escaped === "true") {
        dialog.dataset.done = "true";
        var notNow = dialog.querySelector("[data-not-now]");
        if (notNow) notNow.click();
      } else if (!dialog.open) {
        dialog.showModal();
      }
      delete dialog.dataset.escaped;
    });
  }

  function upgradeAll(root) {
    (root || document).querySelectorAll("dialog[data-consent-dialog]").forEach(upgrade);
  }

  document.addEventListener("DOMContentLoaded", function () { upgradeAll(document); });
  document.addEventListener("htmx:load", function (event) { upgradeAll(event.target); });

  document.body && document.body.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog[data-consent-dialog]");
    if (!dialog) return;
    var focusTarget = dialog.querySelector("[data-consent-error], [data-autofocus], h2");
    if (focusTarget) focusTarget.focus();
  });

  document.addEventListener("consentDecided", function () {
    document.querySelectorAll("dialog[data-consent-dialog]").forEach(function (dialog) {
      dialog.dataset.done = "true";
    });
  });

  // "Not now", by the button or by Esc (which clicks it, above): the server's words say
  // when the notice comes back and repeat the deadline, as they do without JavaScript.
  document.addEventListener("consentDeferred", function (event) {
    document.querySelectorAll("dialog[data-consent-dialog]").forEach(function (dialog) {
      dialog.dataset.done = "true";
      if (dialog.open) dialog.close();
    });
    var region = document.getElementById("messages");
    var text = event.detail && event.detail.message;
    if (region && text) {
      var note = document.createElement("p");
      note.className = "notice notice--info";
      note.setAttribute("data-deferred", "");
      note.textContent = text;
      region.appendChild(note);
    }
  });
})();
