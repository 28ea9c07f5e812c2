// Keys of the verdict queue. No inline script: the CSP allows only this file.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("section.answer"));
  var current = 0;

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox"));
  }
  function mark(i, scroll) {
    if (!items.length) { return; }
    current = Math.max(0, Math.min(items.length - 1, i));
    items.forEach(function (el, k) { el.classList.toggle("current", k === current); });
    if (scroll) { items[current].scrollIntoView({block: "start"}); }
  }
  function press(cls) {
    if (!items.length) { return; }
    var b = items[current].querySelector("button." + cls);
    if (b) { b.click(); }
  }
  function nextLabel() {
    if (!items.length) { return; }
    var s = items[current].querySelector("select.label-choice");
    if (s) { s.selectedIndex = (s.selectedIndex + 1) % s.options.length; }
  }
  function go(id, hash) {
    var a = document.getElementById(id);
    if (a) { window.location.href = a.href.split("#")[0] + (hash || ""); }
  }
  // j at the last answer of a page opens the next page; k at the first, the previous page
  // at its last answer
  function step(by) {
    if (by > 0 && current === items.length - 1) { go("next-page"); }
    else if (by < 0 && current === 0) { go("prev-page", "#last"); }
    else { mark(current + by, true); }
  }
  items.forEach(function (el, k) {
    el.addEventListener("click", function () { mark(k, false); });
    el.querySelectorAll("input.note").forEach(function (input) {
      input.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); input.blur(); }
      });
    });
  });
  if (window.location.hash === "#last") {
    mark(items.length - 1, true);
  } else if (window.location.hash) {
    var target = document.getElementById(window.location.hash.slice(1));
    var k = items.indexOf(target);
    mark(k >= 0 ? k : 0, k >= 0);
  }
  document.addEventListener("keydown", function (ev) {
    if (typing(ev.target)) {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var key = ev.key;
    if (key === "j") { step(1); }
    else if (key === "k") { step(-1); }
    else if (key === "c") { press("confirm"); }
    else if (key === "p") { press("pass"); }
    else if (key === "f") { press("fail"); }
    else if (key === "l") { nextLabel(); }
    else if (key === "n" && items.length) { items[current].querySelector("input.note").focus(); }
    else if (key === "]") { go("next-page"); }
    else if (key === "[") { go("prev-page"); }
    else if (key === "?") {
      var help = document.getElementById("verdict-keys");
      if (help) { help.open = !help.open; }
    } else { return; }
    ev.preventDefault();
  });
})();
