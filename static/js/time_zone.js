/*
 * Sign-up: select the browser's own time zone in a select[data-detect-time-zone], when the
 * list has it. Without JavaScript the server's default (the site's zone) stays selected and
 * the person can pick theirs; nothing is sent anywhere but with the form.
 */
(function () {
  "use strict";

  function detect() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!zone) {
      return;
    }
    var selects = document.querySelectorAll("select[data-detect-time-zone]");
    Array.prototype.forEach.call(selects, function (select) {
      var known = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      // Only while the server's default is selected: a zone picked before (a form shown
      // again after an error) is the person's own.
      if (known && select.value === select.dataset.detectTimeZone) {
        select.value = zone;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", detect);
  } else {
    detect();
  }
})();
