// Telefonsimulator, live: follows the server-sent events of
// /console/telefonsimulator/hendelser and puts each phone's new screen in its card. Only
// the screens change: the forms (and what is being typed in them) stay, and so does the
// focus, which moves to the new log when it was on the old one. Without this script the
// page works the same, refreshed by its «Oppdater telefonene» link.
"use strict";
(function () {
  var phones = document.getElementById("telefoner");
  var status = document.getElementById("telefoner-status");
  if (!phones || !window.EventSource) {
    return;
  }
  var last = {}; // slug -> the HTML last put in (the server's, not the browser's reading)

  function clock() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(now.getHours()) + ":" + pad(now.getMinutes());
  }

  function swap(fresh) {
    var slug = fresh.getAttribute("data-phone");
    var html = fresh.innerHTML;
    if (last[slug] === html) return false;
    var screen = null;
    phones.querySelectorAll(".phone-screen[data-phone]").forEach(function (element) {
      if (element.getAttribute("data-phone") === slug) screen = element;
    });
    if (!screen) return false;
    last[slug] = html;
    var focused = screen.contains(document.activeElement);
    screen.innerHTML = html;
    if (focused) {
      var log = screen.querySelector(".phone-log");
      if (log) log.focus({ preventScroll: true });
    }
    return true;
  }

  var url = phones.getAttribute("data-events") + "?siden=" +
    encodeURIComponent(phones.getAttribute("data-version") || "");
  var source = new EventSource(url);
  source.addEventListener("telefoner", function (event) {
    var template = document.createElement("template");
    template.innerHTML = event.data;
    var changed = 0;
    template.content.querySelectorAll(".phone-screen[data-phone]").forEach(function (fresh) {
      if (swap(fresh)) changed += 1;
    });
    phones.setAttribute("data-version", event.lastEventId);
    if (changed) status.textContent = "Telefonene ble oppdatert kl. " + clock() + ".";
  });
  source.addEventListener("open", function () {
    phones.setAttribute("data-live", "on");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      phones.setAttribute("data-live", "off");
      status.textContent = "Telefonene oppdateres ikke lenger av seg selv. Last siden på nytt.";
    }
  });
})();
