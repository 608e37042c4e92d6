// sitedir progressive enhancement. Every page works without this file.
//
// Load it with <script type="module">: GOV.UK Frontend 6's govuk-frontend.min.js is an ES
// module (it exports initAll and sets no window.GOVUKFrontend), and browsers too old for
// modules skip both files and keep the plain HTML, as GOV.UK Frontend intends.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

// initAll does nothing unless <body> has the govuk-frontend-supported class, which the
// inline snippet in base.html adds.
initAll();

// "Print this page" buttons are rendered with the hidden attribute, because without
// JavaScript they could do nothing; show them now that they work.
for (const button of document.querySelectorAll("[data-sitedir-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
