/* The reason for change appears once a saved form is edited; without scripts it appears with
   the error that asks for it. A file, not an inline script: the Content-Security-Policy allows
   scripts from this site only. */
(function () {
  var form = document.querySelector("[data-testid=visit-form]");
  var reason = form && form.querySelector("[data-testid=field-reason]");
  if (!reason) return;
  form.addEventListener("input", function (event) {
    if (!reason.contains(event.target)) reason.hidden = false;
  });
})();
