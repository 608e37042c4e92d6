// Marks <body> as having JavaScript (and ES modules) before it paints, as GOV.UK Frontend
// expects. Loaded as a plain blocking script at the top of <body>: a file rather than an
// inline snippet, so the Content-Security-Policy can forbid inline script.
document.body.className += " js-enabled" +
  ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
