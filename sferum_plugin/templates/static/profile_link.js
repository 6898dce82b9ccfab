// «Создать учебный профиль Сферум» on MAX: ask the module whether the person has pressed Start in MAX, and say so.
// Served by the module as a file (the host's Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  var section = document.querySelector("[data-link-status-url]");
  if (!section) { return; }
  var url = section.getAttribute("data-link-status-url");
  var status = section.querySelector("[data-link-status]");
  var every = 2000;

  function show(answer) {
    if (answer && typeof answer.text === "string") { status.textContent = answer.text; }
    if (answer && typeof answer.state === "string") { section.setAttribute("data-link-state", answer.state); }
  }

  function ask() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (result) {
        show(result.answer);
        if (!result.answer || !result.answer.done) { window.setTimeout(ask, every); }
      })
      .catch(function () { window.setTimeout(ask, every * 3); }); // offline, or signed out: ask again, slower
  }

  window.setTimeout(ask, every);
})();
