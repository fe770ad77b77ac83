/* The import page: polls the progress figures while the import runs, and reloads once it finishes. */
(function () {
  var block = document.getElementById("import-progress");
  if (!block || block.dataset.finished === "true") { return; }
  var bar = document.getElementById("progress-bar");
  var status = document.getElementById("progress-status");
  var label = document.getElementById("progress-label");
  var lastAnnounced = -1;
  function update() {
    fetch(block.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (figures) {
        bar.value = figures.percent;
        bar.textContent = figures.percent + "%";
        label.textContent = figures.status_label;
        document.querySelectorAll("[data-figure]").forEach(function (cell) {
          cell.textContent = Number(figures[cell.dataset.figure]).toLocaleString("en-GB");
        });
        if (figures.finished) { window.location.reload(); return; }
        // Announce every 10%, not every poll, so screen readers are not flooded.
        var step = Math.floor(figures.percent / 10);
        if (step !== lastAnnounced) {
          lastAnnounced = step;
          status.textContent = figures.percent + "% done: " + Number(figures.rows_read).toLocaleString("en-GB") + " rows read.";
        }
        window.setTimeout(update, 1500);
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  window.setTimeout(update, 1000);
})();
