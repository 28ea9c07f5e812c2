// Keyboard shortcuts of the review page. No inline script: the CSP allows only this file.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var items = Array.prototype.slice.call(document.querySelectorAll(".completion[data-cid]"));
  var current = 0;

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox"));
  }
  function mark(i) {
    if (!items.length) { return; }
    current = (i + items.length) % items.length;
    items.forEach(function (el, k) { el.classList.toggle("current", k === current); });
    items[current].scrollIntoView({block: "nearest"});
  }
  function choose(choice) {
    if (!items.length) { return; }
    var input = items[current].querySelector(".choice-" + choice);
    if (!input) { return; }
    input.checked = true;
    var details = items[current].querySelector("details.edit");
    if (details) {
      details.open = choice === "edit";
      if (choice === "edit") { details.querySelector("textarea").focus(); return; }
    }
    if (choice !== "leave") { mark(current + 1); }
  }
  function submit(id) {
    var f = document.getElementById(id);
    if (f) { f.submit(); }
  }
  items.forEach(function (el, k) {
    el.addEventListener("click", function () { mark(k); });
    el.querySelectorAll("input[type=radio]").forEach(function (r) {
      r.addEventListener("change", function () {
        var d = el.querySelector("details.edit");
        if (d) { d.open = r.value === "edit"; }
      });
    });
  });
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && form) {
      ev.preventDefault();
      if (form.reportValidity()) { form.submit(); }
      return;
    }
    if (typing(ev.target)) {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var key = ev.key;
    if (/^[0-3]$/.test(key) && form) {
      document.getElementById("rating-" + key).checked = true;
    } else if (key === "j") { mark(current + 1); }
    else if (key === "k") { mark(current - 1); }
    else if (key === "a") { choose("accept"); }
    else if (key === "r") { choose("reject"); }
    else if (key === "l") { choose("leave"); }
    else if (key === "e") { choose("edit"); }
    else if (key === "n" && form) { document.getElementById("note").focus(); }
    else if (key === "w" && form) { document.getElementById("ideal").focus(); }
    else if (key === "s") { submit("skip-form"); }
    else if (key === "u") { submit("undo-form"); }
    else if (key === "?") {
      var help = document.querySelector("details.help");
      if (help) { help.open = !help.open; }
    } else { return; }
    ev.preventDefault();
  });
})();
