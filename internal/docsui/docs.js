// Starts Swagger UI with the settings the server wrote into the page's
// data attributes. A file of its own, not an inline script, so the page's
// Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var apiBase = root.dataset.apiBase;
  var plugins = [];
  if (apiBase) {
    // "Try it out" sends requests to this server, whatever servers the
    // document names.
    plugins.push(function () {
      return {
        statePlugins: {
          spec: {
            wrapActions: {
              updateJsonSpec: function (next) {
                return function (spec) {
                  if (spec && typeof spec === "object") {
                    spec = Object.assign({}, spec, {
                      servers: [{ url: apiBase, description: "this server" }],
                    });
                  }
                  return next(spec);
                };
              },
            },
          },
        },
      };
    });
  }
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: plugins,
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    // No badge from the public validator: the page calls no other host.
    validatorUrl: null,
  });
})();
