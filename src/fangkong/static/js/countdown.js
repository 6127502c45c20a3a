// SLA countdowns: every element with data-due (ISO time) shows the minutes left, or how late it is.
(function () {
  function label(el) {
    var due = Date.parse(el.dataset.due), left = Math.round((due - Date.now()) / 60000);
    var late = left < 0;
    el.textContent = (late ? el.dataset.lateText : el.dataset.leftText).replace("%s", String(Math.abs(left)));
    el.classList.toggle("overdue", late);
  }
  function tick() { document.querySelectorAll("[data-due]").forEach(label); }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 30000);
})();
