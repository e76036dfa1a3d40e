/*
 * Wijkkracht: htmx configuration. Load with `defer`, AFTER htmx.min.js:
 *
 *   <script src="/static/vendor/htmx/htmx.min.js" defer></script>
 *   <script src="/static/js/portal.js" defer></script>
 *
 * Progressive enhancement only: every page and form works without
 * JavaScript; nothing here is needed for that. No inline scripts or
 * styles anywhere (the Content-Security-Policy forbids them).
 *
 * Deferred scripts run in order before DOMContentLoaded, and htmx reads
 * most of its config (including includeIndicatorStyles) on
 * DOMContentLoaded, so setting it here takes effect in time.
 */
(function () {
  "use strict";

  var htmx = window.htmx;
  if (!htmx) {
    return; // htmx failed to load: the plain HTML pages still work.
  }

  var config = htmx.config;

  // Back/forward restore fetches the full page as a normal request (no
  // HX-Request header), so the server returns the whole layout rather
  // than a fragment.
  config.historyRestoreAsHxRequest = false;

  // Keep no copies of pages (which may hold personal data) in
  // sessionStorage; history restores go to the server instead.
  config.historyCacheSize = 0;

  // Which responses get swapped into the page (first match wins):
  //   204          -> nothing to swap
  //   2xx/3xx      -> swap
  //   422          -> swap: the server re-renders the form with its errors
  //   other 4xx/5xx -> no swap; htmx only fires its error event, the page
  //                    stays as it was (no htmx:responseError handler is
  //                    needed or installed).
  config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true }
  ];

  // CSP: htmx would otherwise inject an inline <style> for .htmx-indicator
  // (those rules are in portal.css instead), and evaluate hx-on / js:
  // expressions or <script> tags inside swapped HTML.
  config.includeIndicatorStyles = false;
  config.allowEval = false;
  config.allowScriptTags = false;
})();
