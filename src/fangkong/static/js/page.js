// On every page: a <select data-autosubmit> sends its form when it changes (the language switch,
// a unit or site picker). Scripts come from our own files only (Content-Security-Policy).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("select[data-autosubmit]") && field.form) field.form.submit();
});
