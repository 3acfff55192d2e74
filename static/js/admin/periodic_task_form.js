"use strict";
// Periodic task form (django-celery-beat): say in words when the chosen crontab runs, under
// the crontab field, instead of the package's inline script that our CSP blocks.
(function () {
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  if (!data || !select || !help) return;

  const readable = JSON.parse(data.textContent);
  const original = help.textContent.trim();
  const translationRow = document.querySelector(".field-crontab_translation");
  if (translationRow) translationRow.hidden = true;

  const explain = () => {
    const words = readable[select.value];
    help.textContent = original;
    if (words) help.append(document.createElement("br"), `Runs: ${words}`);
  };
  select.addEventListener("change", explain);
  explain();
})();
