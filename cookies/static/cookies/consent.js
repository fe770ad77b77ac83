/* Cookie consent: the banner, the preferences centre and the category-gated scripts.

   Nothing optional runs before the visitor chooses: scripts of a category are
   <script type="text/plain" data-category="..."> until that category is allowed.
   Each choice is logged by the server (which answers with the first-party
   consent cookie), and every withdrawal deletes the category's cookies as listed
   in the cookie register. No libraries, no third-party requests. */
(function () {
  "use strict";

  var configElement = document.getElementById("cookie-consent-config");
  var banner = document.getElementById("cookie-banner");
  var dialog = document.getElementById("cookie-preferences");
  if (!configElement || !banner || !dialog) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var statusRegion = document.querySelector("[data-consent-status]");
  var errorMessage = dialog.querySelector("[data-consent-error]");
  var gpc = navigator.globalPrivacyControl === true || config.gpcHeader === true;
  var opener = null;
  var statusTimer = null;
  var DAY_MS = 86400000;

  /* --- The stored choice ---------------------------------------------------- */

  function readConsent() {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + config.cookieName + "=([^;]*)"));
    if (!match) {
      return null;
    }
    var parts = decodeURIComponent(match[1]).replace(/^"|"$/g, "").split(".");
    // A seventh part, the server's seal on the consent id, is only for the server.
    if (parts.length < 6 || parts.length > 7 || parts[0] !== "1") {
      return null;
    }
    return {
      id: parts[1],
      categories: parts[2] === "-" ? [] : parts[2].split("+"),
      policyVersion: parseInt(parts[3], 10),
      givenAt: parseInt(parts[4], 10) * 1000,
      gpc: parts[5] === "1"
    };
  }

  // A choice counts only for the cookie policy it was made under, and for 12 months.
  function isCurrent(consent) {
    return Boolean(consent) && consent.policyVersion === config.policyVersion &&
      Date.now() - consent.givenAt < config.maxAgeDays * DAY_MS;
  }

  function grantedNow() {
    var consent = readConsent();
    return isCurrent(consent) ? consent.categories : [];
  }

  function formatId(hex) {
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
  }

  /* --- Applying a choice ---------------------------------------------------- */

  function cookieNames() {
    return document.cookie.split(";").map(function (pair) {
      return pair.split("=")[0].trim();
    }).filter(Boolean);
  }

  // Cookies may have been set for this host or any parent domain (analytics tags
  // set them on the registrable domain), so each is expired on every candidate.
  function expireCookie(name) {
    var labels = location.hostname.split(".");
    var domains = [""];
    for (var i = 0; i < labels.length - 1; i++) {
      domains.push("; domain=." + labels.slice(i).join("."));
    }
    domains.forEach(function (domain) {
      document.cookie = name + "=; expires=Thu, 01 Jan 1970 00:00:00 GMT; max-age=0; path=/" + domain;
    });
  }

  function deleteCookiesOf(category) {
    var registered = config.cookies[category] || [];
    cookieNames().forEach(function (name) {
      var listed = registered.some(function (entry) {
        return entry.prefix ? name.indexOf(entry.name) === 0 : name === entry.name;
      });
      if (listed) {
        expireCookie(name);
      }
    });
  }

  function activateScripts(granted) {
    var inert = document.querySelectorAll('script[type="text/plain"][data-category]');
    Array.prototype.forEach.call(inert, function (placeholder) {
      if (placeholder.hasAttribute("data-activated") || granted.indexOf(placeholder.getAttribute("data-category")) === -1) {
        return;
      }
      var script = document.createElement("script");
      if (placeholder.hasAttribute("data-src")) {
        script.src = placeholder.getAttribute("data-src");
        script.async = true;
      } else {
        script.text = placeholder.text;
      }
      placeholder.setAttribute("data-activated", "");
      placeholder.parentNode.insertBefore(script, placeholder.nextSibling);
    });
  }

  function apply(granted) {
    config.optional.forEach(function (category) {
      if (granted.indexOf(category) === -1) {
        deleteCookiesOf(category);
      }
    });
    // Integrations (analytics.js) hear the choice before their scripts load,
    // so Google's consent state is updated before its tag reads it.
    document.dispatchEvent(new CustomEvent("nextsupport:consent", { detail: { granted: granted.slice() } }));
    activateScripts(granted);
  }

  /* --- Recording a choice --------------------------------------------------- */

  function announce(text) {
    if (!statusRegion) {
      return;
    }
    statusRegion.textContent = text;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () { statusRegion.textContent = ""; }, 8000);
  }

  function describe(categories) {
    if (!categories.length) {
      return "Your cookie choices are saved: only strictly necessary cookies are used.";
    }
    return "Your cookie choices are saved: " + categories.join(" and ") + " cookies are allowed.";
  }

  function showError(text) {
    errorMessage.textContent = text;
    errorMessage.hidden = false;
    if (!dialog.open) {
      announce(text);
    }
  }

  function save(categories, options) {
    var previous = readConsent();
    errorMessage.hidden = true;
    return fetch(config.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        consent_id: previous ? formatId(previous.id) : null,
        categories: categories,
        policy_version: config.policyVersion,
        banner_version: config.bannerVersion,
        gpc: gpc
      })
    }).then(function (response) {
      // A proxy's error page or a network failure is not ours to read out: only our JSON reasons are.
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.categories) {
          var refused = new Error("The choice was not recorded.");
          refused.reason = body.error;
          throw refused;
        }
        return body;
      });
    }).then(function (body) {
      banner.hidden = true;
      apply(body.categories);
      if (!options.quiet) {
        closeDialog();
        announce(describe(body.categories));
      }
      return body;
    }).catch(function (error) {
      // A refusal needs no proof to take effect: apply it even when logging failed.
      if (!categories.length) {
        apply([]);
      }
      if (!options.quiet) {
        showError((error.reason || "Your choice could not be saved.") + " Please try again.");
      }
    });
  }

  /* --- The preferences centre ----------------------------------------------- */

  function switches() {
    return Array.prototype.slice.call(dialog.querySelectorAll('input[name="cookie-category"]'));
  }

  function openDialog(trigger) {
    var consent = readConsent();
    var granted = grantedNow();
    opener = trigger || document.activeElement;
    switches().forEach(function (input) {
      input.checked = granted.indexOf(input.value) !== -1;
    });
    dialog.querySelector("[data-consent-id]").textContent =
      consent ? formatId(consent.id) : "none yet, you have not chosen";
    dialog.querySelector("[data-consent-gpc]").hidden = !gpc;
    errorMessage.hidden = true;
    dialog.showModal();
  }

  function closeDialog() {
    if (dialog.open) {
      dialog.close();
    }
  }

  // Focus goes back to what opened the centre; if that was the banner, which is
  // now gone, to the main content, so keyboard users never land on nothing.
  dialog.addEventListener("close", function () {
    var target = opener && document.contains(opener) && !opener.closest("[hidden]") ? opener : document.getElementById("main");
    opener = null;
    if (target) {
      target.focus();
    }
  });

  function handleAction(action, trigger) {
    if (action === "accept-all") {
      save(config.optional.slice(), {});
    } else if (action === "reject-all") {
      save([], {});
    } else if (action === "save") {
      save(switches().filter(function (input) { return input.checked; }).map(function (input) { return input.value; }), {});
    } else if (action === "manage") {
      openDialog(trigger);
    } else if (action === "close") {
      closeDialog();
    }
  }

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-consent-action]");
    if (trigger) {
      event.preventDefault();
      handleAction(trigger.getAttribute("data-consent-action"), trigger);
    }
  });

  /* --- First paint ---------------------------------------------------------- */

  var stored = readConsent();
  if (isCurrent(stored)) {
    apply(stored.categories);
  } else if (gpc) {
    // The Global Privacy Control signal is a refusal: recorded as one, no banner.
    apply([]);
    save([], { quiet: true });
  } else {
    apply([]);
    // Earliest in the reading and tabbing order, without moving focus to it.
    document.body.insertBefore(banner, document.body.firstChild);
    banner.hidden = false;
  }
})();
