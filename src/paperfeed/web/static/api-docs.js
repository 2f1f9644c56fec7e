// paperfeed: starts Swagger UI on /api/docs. A file, not an inline script, so the page
// keeps the app's Content-Security-Policy (script-src 'self').
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No calls to validator.swagger.io: nothing leaves this server.
    validatorUrl: null,
  });
})();
