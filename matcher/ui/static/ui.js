// Inline checks as the clerk types: each input with data-check asks the server's format check
// (the same one the save uses) and shows its answer beside the field. Without JavaScript the
// forms still work: the check then runs when the value is saved.
(function () {
  "use strict";
  function attach(input) {
    var out = document.getElementById(input.getAttribute("aria-describedby"));
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = input.dataset.check + "?value=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (answer) {
            if (!answer || !out) { return; }
            out.textContent = answer.valid ? "✓ 格式正确" : "✗ " + answer.reason;
            out.className = "check " + (answer.valid ? "ok" : "bad");
            input.setAttribute("aria-invalid", answer.valid ? "false" : "true");
          });
      }, 250);
    });
  }
  document.querySelectorAll("input[data-check]").forEach(attach);
})();
