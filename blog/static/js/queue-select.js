/*
 * "Seleziona tutte": ticks or clears every row of the queue page at once, as
 * WordPress's header checkbox does. Without this script the box stays hidden
 * and each row is ticked on its own.
 */
(function () {
  "use strict";

  var all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  var rows = document.querySelectorAll('input[name="ids"][form="bulk"]');
  if (!rows.length) {
    return;
  }
  all.parentNode.hidden = false;
  all.addEventListener("change", function () {
    rows.forEach(function (box) {
      box.checked = all.checked;
    });
  });
  rows.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = Array.prototype.every.call(rows, function (row) {
        return row.checked;
      });
    });
  });
})();
