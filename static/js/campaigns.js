/* The campaigns pages' small enhancements; every page works without them.
   - the error summary takes focus after a failed submission;
   - a campaign's figures follow its calls without reloading (polls the progress JSON);
   - caller-ID statuses update by themselves while a verification is under way;
   - the campaign form offers only the lawful bases and lists that fit the chosen purpose
     (the rules come from the server, in data attributes: campaigns.services holds them). */
(function () {
  "use strict";

  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // The abandoned-rate meter's sizes travel as data attributes: the pages' policy refuses
  // inline style attributes, and setting them from a script of our own is allowed.
  document.querySelectorAll("[data-width]").forEach(function (el) { el.style.width = Math.min(100, Number(el.dataset.width)) + "%"; });
  document.querySelectorAll("[data-left]").forEach(function (el) { el.style.left = Math.min(100, Number(el.dataset.left)) + "%"; });

  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    });
  }

  function lookup(data, path) {
    return path.split(".").reduce(function (value, key) { return value == null ? value : value[key]; }, data);
  }

  function percent(rate) { return (Number(rate) * 100).toFixed(1) + "%"; }

  // --- A campaign's live figures ---
  var progress = document.getElementById("campaign-progress");
  if (progress && progress.dataset.live === "true") {
    var state = document.getElementById("campaign-state");
    var startState = state ? state.textContent : "";
    var showFigures = function (data) {
      progress.querySelectorAll("[data-figure]").forEach(function (cell) {
        var value = lookup(data, cell.dataset.figure);
        if (value == null) { return; }
        cell.textContent = cell.dataset.format === "percent" ? percent(value) : Number(value).toLocaleString("en-GB");
      });
      var fill = document.getElementById("rate-meter-fill");
      if (fill) { fill.style.width = Math.min(100, 100 * data.abandoned_rate.rate / data.abandoned_rate.limit) + "%"; }
      var slowed = document.getElementById("notice-slowed");
      if (slowed) { slowed.hidden = !(data.slowed && data.state === "running"); }
      var rows = document.getElementById("gate-reasons");
      if (rows) {
        rows.replaceChildren();
        (data.gate_reasons.length ? data.gate_reasons : [null]).forEach(function (reason) {
          var row = rows.insertRow();
          if (!reason) { var none = row.insertCell(); none.colSpan = 2; none.textContent = "No refusals."; return; }
          row.insertCell().textContent = reason.label;
          var count = row.insertCell();
          count.className = "numeric";
          count.textContent = Number(reason.count).toLocaleString("en-GB");
        });
      }
    };
    var poll = function () {
      getJSON(progress.dataset.url).then(function (data) {
        if (data.state_label !== startState) {
          // Paused, resumed or ended meanwhile: the page's actions and notices change too.
          window.location.reload();
          return;
        }
        showFigures(data);
        window.setTimeout(poll, 3000);
      }).catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 3000);
  }

  // --- Caller IDs waiting for their verification call ---
  var callerIds = document.getElementById("caller-id-table");
  if (callerIds && callerIds.querySelector("[data-status=pending]")) {
    var note = document.getElementById("caller-id-status-note");
    var check = function () {
      getJSON(callerIds.dataset.url).then(function (data) {
        var pending = 0;
        data.caller_ids.forEach(function (item) {
          var row = callerIds.querySelector("[data-caller-id='" + item.id + "']");
          if (!row) { return; }
          if (row.dataset.status !== item.status && note) {
            note.textContent = row.querySelector("th").textContent + ": " + item.status_label + ".";
          }
          row.dataset.status = item.status;
          var badge = row.querySelector("[data-status-label]");
          badge.textContent = item.status_label;
          badge.className = "badge " + (item.status === "verified" ? "badge-ok" : item.status === "failed" ? "badge-danger" : "badge-warn");
          row.querySelectorAll("[data-pending-only]").forEach(function (el) { el.hidden = item.status !== "pending"; });
          var failure = row.querySelector("[data-failure]");
          if (failure) { failure.hidden = item.status !== "failed"; }
          if (item.status === "pending") { pending += 1; }
        });
        if (pending) { window.setTimeout(check, 3000); }
      }).catch(function () { window.setTimeout(check, 10000); });
    };
    window.setTimeout(check, 3000);
  }

  // --- The campaign form: what fits the purpose ---
  var form = document.querySelector("form[data-purpose-rules]");
  if (form) {
    var rules = JSON.parse(form.dataset.purposeRules);
    var fit = function () {
      var chosen = form.querySelector("input[name=purpose]:checked");
      if (!chosen || !rules[chosen.value]) { return; }
      var rule = rules[chosen.value];
      form.querySelectorAll("input[name=lawful_basis]").forEach(function (input) {
        var allowed = rule.lawful_bases.indexOf(input.value) !== -1;
        if (!allowed && input.checked) { input.checked = false; }
        input.closest("div").hidden = !allowed;
      });
      if (rule.lawful_bases.length === 1) { form.querySelector("input[name=lawful_basis][value='" + rule.lawful_bases[0] + "']").checked = true; }
      form.querySelectorAll("input[name=contact_lists]").forEach(function (input) {
        // A checked list of the other purpose stays visible, so the server's message about it makes sense.
        input.closest("div").hidden = input.dataset.purpose !== rule.list_purpose && !input.checked;
      });
    };
    form.querySelectorAll("input[name=purpose]").forEach(function (input) { input.addEventListener("change", fit); });
    fit();
  }
})();
