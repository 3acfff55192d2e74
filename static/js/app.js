/*
 * Progressive enhancement only: every page works without this file.
 * No inline scripts or styles anywhere, so a CSP without 'unsafe-inline' holds.
 *
 * Hooks (data attributes, set by the server):
 *   [data-autofocus]          focused when it arrives in an htmx swap (never on a full page
 *                             load, where moving focus would surprise screen-reader users);
 *                             on a container, its first invalid field, else its first field.
 *   [data-scroll-into-view]   scrolled into view when it arrives in an htmx swap.
 *   dialog[data-modal]        opened with showModal() as soon as it is in the page;
 *                             data-modal="blocking" cannot be dismissed with Escape.
 *   (The consent dialog, dialog[data-consent-dialog], is enhanced by consent.js instead.)
 *   HX-Trigger "modal:close"  closes every open modal dialog (send it from a view with
 *                             django_htmx.http.trigger_client_event).
 */
(function () {
  "use strict";

  var MODAL_SELECTOR = "dialog[data-modal]";
  var FOCUSABLE = "input, textarea, select, button, a[href], summary, [tabindex]";
  var initialLoadDone = false;

  function within(root, selector) {
    var found = [];
    if (root.matches && root.matches(selector)) {
      found.push(root);
    }
    if (root.querySelectorAll) {
      found = found.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
    }
    return found;
  }

  // A container marked [data-autofocus] (e.g. a form) hands focus to its first invalid
  // field, or else its first field, so the person can type again straight away.
  function focusInside(el) {
    var field = el;
    if (!el.matches(FOCUSABLE)) {
      field =
        el.querySelector("[aria-invalid='true']") ||
        el.querySelector("textarea, select, input:not([type='hidden'])") ||
        el;
    }
    field.focus();
  }

  function isModal(dialog) {
    try {
      return dialog.matches(":modal");
    } catch (error) {
      return false; // :modal unsupported: treat as not yet modal
    }
  }

  function dismissible(dialog) {
    return dialog.dataset.modal !== "blocking";
  }

  function openModals(root) {
    within(root, MODAL_SELECTOR).forEach(function (dialog) {
      if (dialog.dataset.enhanced === "true") {
        return;
      }
      dialog.dataset.enhanced = "true";
      // A blocking dialog must not be dismissed with Escape (DESIGN §5).
      // Chrome makes `cancel` uncancelable until the page has had a user activation, so
      // the keydown is stopped too, and a blocking dialog that closes anyway while its
      // question is still on screen is reopened.
      dialog.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && !dismissible(dialog)) {
          event.preventDefault();
        }
      });
      dialog.addEventListener("cancel", function (event) {
        if (!dismissible(dialog)) {
          event.preventDefault();
        }
      });
      dialog.addEventListener("close", function () {
        if (!dismissible(dialog) && dialog.querySelector("form:not([method='dialog'])")) {
          dialog.showModal();
        }
      });
      if (typeof dialog.showModal !== "function") {
        return; // very old browser: the open, non-modal dialog still works
      }
      if (dialog.open && !isModal(dialog)) {
        dialog.close();
      }
      if (!dialog.open) {
        dialog.showModal();
      }
      // Start reading at the headline, not at whichever link happens to come first.
      var first = dialog.querySelector("[autofocus], [data-autofocus], h1, h2");
      if (first) {
        if (!first.matches(FOCUSABLE)) {
          first.setAttribute("tabindex", "-1");
        }
        focusInside(first);
      }
    });
  }

  function afterSwap(root) {
    within(root, "[data-scroll-into-view]").forEach(function (el) {
      el.scrollIntoView({ block: "nearest" });
    });
    var target = within(root, "[data-autofocus]")[0];
    if (target) {
      focusInside(target);
    }
  }

  function init() {
    openModals(document.body);
    initialLoadDone = true;

    if (window.htmx) {
      // htmx.onLoad runs for every piece of swapped-in content, out-of-band swaps included.
      window.htmx.onLoad(function (el) {
        if (el === document.body || !initialLoadDone) {
          return;
        }
        openModals(el);
        afterSwap(el);
      });
    }

    document.body.addEventListener("modal:close", function () {
      within(document, MODAL_SELECTOR).forEach(function (dialog) {
        if (dialog.open) {
          dialog.close();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
