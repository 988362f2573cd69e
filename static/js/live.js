/* The live parts of a page (htmx polls them, see cases/live_views.py): each poll sends the
   ETag the part was rendered with, so an unchanged part costs the server one query and is
   kept as it is (304). A part is not replaced while the agent types in one of its fields,
   and the <details> the agent opened in it stay open. */
(function () {
  "use strict";
  var openIds = [];
  document.addEventListener("htmx:configRequest", function (e) {
    var tag = e.detail.elt.getAttribute("data-live-etag");
    if (tag) { e.detail.headers["If-None-Match"] = tag; }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    if (e.detail.xhr.status === 304) { e.detail.shouldSwap = false; return; }
    var active = document.activeElement;
    if (active && target.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
        (active.value || "") !== "") {
      e.detail.shouldSwap = false;
      return;
    }
    openIds = Array.prototype.map.call(target.querySelectorAll("details[open][id]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    openIds.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) { d.open = true; }
    });
    openIds = [];
  });
})();
