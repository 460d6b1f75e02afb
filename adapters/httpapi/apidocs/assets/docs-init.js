// Starts Swagger UI or ReDoc on the page that loads this file. It is a file of
// its own, not an inline script, so the docs pages run under a
// Content-Security-Policy whose script-src is only 'self'. The spec URL comes
// from the data-spec-url attribute the server writes into the page.
(function () {
  "use strict";

  function startSwaggerUI(el) {
    if (!window.SwaggerUIBundle) {
      return;
    }
    window.ui = window.SwaggerUIBundle({
      url: el.getAttribute("data-spec-url"),
      domNode: el,
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
      layout: "BaseLayout",
      // The default posts the spec to validator.swagger.io: stay offline.
      validatorUrl: null,
      displayRequestDuration: true,
      persistAuthorization: false
    });
  }

  function startReDoc(el) {
    if (!window.Redoc) {
      return;
    }
    window.Redoc.init(
      el.getAttribute("data-spec-url"),
      { hideDownloadButton: false, expandResponses: "200,201" },
      el
    );
  }

  function start() {
    var swagger = document.getElementById("swagger-ui");
    if (swagger) {
      startSwaggerUI(swagger);
    }
    var redoc = document.getElementById("redoc");
    if (redoc) {
      startReDoc(redoc);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
