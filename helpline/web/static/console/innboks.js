// Innboks, live: follows the server-sent events of /console/innboks/hendelser and puts the
// list it sends in place of the old one; keeps the «har ventet» times current. Without
// this script the page works the same, refreshed by its «Oppdater listen» link.
"use strict";
(function () {
  var list = document.getElementById("innboks-liste");
  var status = document.getElementById("innboks-status");
  if (!list || !window.EventSource) {
    return;
  }

  // As routing.inbox.waited_text writes it.
  function waitedText(seconds) {
    var minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 1) return "under 1 min";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) return minutes ? hours + " t " + minutes + " min" : hours + " t";
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return hours ? days + " d " + hours + " t" : days + " d";
  }

  function refreshWaits() {
    var now = Date.now();
    list.querySelectorAll("time[data-waited]").forEach(function (element) {
      var since = Date.parse(element.getAttribute("datetime"));
      if (!isNaN(since)) element.textContent = waitedText((now - since) / 1000);
    });
  }

  function clock() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(now.getHours()) + ":" + pad(now.getMinutes());
  }

  var url = list.getAttribute("data-events") + "?siden=" +
    encodeURIComponent(list.getAttribute("data-version") || "");
  var source = new EventSource(url);
  source.addEventListener("innboks", function (event) {
    list.innerHTML = event.data;
    list.setAttribute("data-version", event.lastEventId);
    refreshWaits();
    status.textContent = "Listen ble oppdatert kl. " + clock() + ".";
  });
  source.addEventListener("open", function () {
    list.setAttribute("data-live", "on");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      list.setAttribute("data-live", "off");
      status.textContent = "Listen oppdateres ikke lenger av seg selv. Last siden på nytt.";
    }
  });
  window.setInterval(refreshWaits, 30000);
})();
