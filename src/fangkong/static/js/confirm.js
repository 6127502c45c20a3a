// A form with data-confirm="TEXT" asks before it is sent; one with data-confirm-ticked="TEXT"
// asks with the number of its ticked boxes in place of {n} (or, when its box named "matching" is
// ticked, that box's data-count: every row the filters match; with none ticked it is sent as is,
// and the server says that nothing was chosen). The button that sent the form may carry its own
// text (a form with a "negative" and a "positive" button asks each its own question).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var own = function (name) {
    return button && button.hasAttribute(name) ? button.getAttribute(name) : form.getAttribute(name);
  };
  var text = own("data-confirm");
  var ticked = own("data-confirm-ticked");
  if (ticked) {
    var matching = form.querySelector("input[name=matching]:checked");
    var count = matching
      ? Number(matching.getAttribute("data-count"))
      : document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]:checked').length;
    text = count ? ticked.replace("{n}", String(count)) : null;
  }
  if (text && !window.confirm(text)) event.preventDefault();
});
