// The scanning page answers each scan with a sound and a vibration (a collector looks at the
// person, not the phone): a short high beep when the person was added, two low ones when not.
// An accepted scan adds the name on top of the list and updates the count in place; after each
// answer the code field is emptied and focused again for the next scan.
(function () {
  var audio = null;
  function tone(freq, start, length) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(audio.currentTime + start);
      osc.stop(audio.currentTime + start + length);
    } catch (e) {
      /* no sound on this device: the colour says it */
    }
  }
  function answer(swapped) {
    var said = document.getElementById("scan-said");
    var beep = said ? said.getAttribute("data-beep") : null;
    if (beep === "ok") {
      tone(1200, 0, 0.08);
      if (navigator.vibrate) navigator.vibrate(60);
    } else if (beep === "error") {
      tone(300, 0, 0.15);
      tone(300, 0.22, 0.15);
      if (navigator.vibrate) navigator.vibrate([120, 80, 120]);
    }
    var code = document.getElementById("code");
    if (code) {
      if (swapped) code.value = ""; // not on load: a code typed while the page loaded stays
      code.focus();
    }
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "tube" || target.id === "members")) answer(true);
  });
  document.addEventListener("DOMContentLoaded", function () {
    answer(false);
  });
})();
