/* Google Analytics 4 with Consent Mode v2, driven by the visitor's choice.

   This file sets nothing and sends nothing: it only prepares Google's command
   queue with every consent type denied. Google's tag itself is an inert
   <script type="text/plain" data-category="analytics"> that consent.js turns on
   after consent; when consent is withdrawn the tag is told to stop. */
(function () {
  "use strict";

  var configElement = document.getElementById("cookie-consent-config");
  var analytics = configElement && JSON.parse(configElement.textContent).analytics;
  if (!analytics) {
    return;
  }
  var id = analytics.measurementId;
  var configured = false;
  var granted = false;

  window.dataLayer = window.dataLayer || [];
  function gtag() {
    window.dataLayer.push(arguments);
  }
  window.gtag = gtag;

  gtag("consent", "default", {
    ad_storage: "denied",
    ad_user_data: "denied",
    ad_personalization: "denied",
    analytics_storage: "denied",
    functionality_storage: "denied",
    personalization_storage: "denied",
    security_storage: "granted"
  });
  gtag("set", "ads_data_redaction", true);

  document.addEventListener("nextsupport:consent", function (event) {
    var allowed = event.detail.granted.indexOf("analytics") !== -1;
    // Google's documented switch: while it is set, the tag sends nothing.
    window["ga-disable-" + id] = !allowed;
    if (allowed === granted) {
      return;  // the default (denied) or the last update already says so
    }
    granted = allowed;
    gtag("consent", "update", { analytics_storage: allowed ? "granted" : "denied" });
    if (allowed && !configured) {
      configured = true;
      gtag("js", new Date());
      // Usage data is not tied to a person (P08): no IP, no Google signals, no ad personalisation,
      // and cookies live no longer than the consent that allowed them.
      gtag("config", id, {
        anonymize_ip: true,
        allow_google_signals: false,
        allow_ad_personalization_signals: false,
        cookie_expires: analytics.cookieExpires
      });
    }
  });
})();
