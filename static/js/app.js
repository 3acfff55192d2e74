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
 *   HX-Trigger "modal:close"  closes every open dialog[data-modal] (send it from a view
 *                             with django_htmx.http.trigger_client_event).
 */
(function () {
  "use strict";

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

  function openModals(root) {
    within(root, "dialog[data-modal]").forEach(function (dialog) {
      if (dialog.open) {
        return;
      }
      if (dialog.dataset.modal === "blocking") {
        // A blocking decision screen: Escape must not dismiss it (DESIGN §5).
        dialog.addEventListener("cancel", function (event) {
          event.preventDefault();
        });
      }
      dialog.showModal();
      var first = dialog.querySelector("[autofocus], [data-autofocus]");
      if (first) {
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

  // A container marked [data-autofocus] (e.g. a form) hands focus to its first invalid
  // field, or else its first field, so the person can type again straight away.
  function focusInside(el) {
    var field = el;
    if (!el.matches("input, textarea, select, button, a[href], [tabindex]")) {
      field =
        el.querySelector("[aria-invalid='true']") ||
        el.querySelector("textarea, select, input:not([type='hidden'])") ||
        el;
    }
    field.focus();
  }

  function onNewContent(root) {
    openModals(root);
    if (initialLoadDone) {
      afterSwap(root);
    }
  }

  function init() {
    openModals(document.body);
    initialLoadDone = true;

    if (window.htmx) {
      // htmx.onLoad runs for every piece of swapped-in content, out-of-band swaps included.
      window.htmx.onLoad(function (el) {
        if (el !== document.body) {
          onNewContent(el);
        }
      });
    }

    document.body.addEventListener("modal:close", function () {
      within(document, "dialog[data-modal]").forEach(function (dialog) {
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
