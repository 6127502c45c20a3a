// A form with data-busy shows that it is working once it is sent (a bulk decision can take a few
// seconds): it is marked aria-busy, its buttons are disabled (a second click sends nothing), and
// its [data-busy-status] element shows the data-busy text of the button that sent it, with the
// number of its ticked boxes in place of {n}. Load it after confirm.js: a submission that the
// dialog cancelled is left alone.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-busy")) return;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  if (event.defaultPrevented) return;
  var button = event.submitter;
  var text = (button && button.getAttribute("data-busy")) || form.getAttribute("data-busy");
  var matching = form.querySelector("input[name=matching]:checked");
  var ticked = matching
    ? Number(matching.getAttribute("data-count"))
    : form.id
      ? document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]:checked').length
      : 0;
  form.setAttribute("aria-busy", "true");
  var status = form.querySelector("[data-busy-status]");
  if (status && text) {
    status.textContent = text.replace("{n}", String(ticked));
    status.hidden = false;
  }
  // disabled once the browser has read the form (a disabled button would not send its value)
  window.setTimeout(function () {
    form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
      b.disabled = true;
    });
  }, 0);
});
// Coming back to the page from the browser's history shows it ready again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-busy][aria-busy=true]").forEach(function (form) {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
      b.disabled = false;
    });
    var status = form.querySelector("[data-busy-status]");
    if (status) status.hidden = true;
  });
});
