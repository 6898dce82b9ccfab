// Confirmation questions of plugin actions, and "select all" in the people lists. No inline scripts.
document.addEventListener("submit", function (event) {
  var source = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
  var question = source.dataset ? source.dataset.confirm : "";
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  var name = event.target.dataset ? event.target.dataset.selectAll : "";
  if (!name) { return; }
  document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
    box.checked = event.target.checked;
  });
});
