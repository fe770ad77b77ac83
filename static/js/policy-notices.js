/* The policy-update notice is rendered at the end of the page (so every layout gets it)
   and moved here to just below the header, where it is seen and reached first. */
(function () {
  "use strict";
  var notice = document.querySelector('[data-relocate="after-header"]');
  var header = document.querySelector(".site-header");
  if (notice && header) {
    header.parentNode.insertBefore(notice, header.nextSibling);
  }
})();
