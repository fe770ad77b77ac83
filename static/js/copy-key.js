/* The new API key's copy button. It needs the clipboard API: without it (or without
   JavaScript) the button stays hidden and the field stays selectable. */
(function () {
  "use strict";
  var button = document.querySelector("[data-copy]");
  if (!button || !navigator.clipboard) { return; }
  var field = document.getElementById(button.dataset.copy);
  var status = document.getElementById("copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(
      function () { status.textContent = "Copied. Paste it into your system now: it will not be shown again."; },
      function () { field.select(); status.textContent = "Could not copy: the key is selected, copy it with Ctrl+C or \u2318C."; }
    );
  });
})();
