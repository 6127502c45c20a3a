// A form with data-confirm="TEXT" asks before it is sent; one with data-confirm-ticked="TEXT"
// asks with the number of its ticked boxes in place of {n} (with none ticked it is sent as is,
// and the server says that nothing was chosen).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var text = form.getAttribute("data-confirm");
  var ticked = form.getAttribute("data-confirm-ticked");
  if (ticked) {
    var count = document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]:checked').length;
    text = count ? ticked.replace("{n}", String(count)) : null;
  }
  if (text && !window.confirm(text)) event.preventDefault();
});
