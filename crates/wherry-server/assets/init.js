// Starts GOV.UK Frontend's components (loaded as a module, no inline script).
import { initAll } from "/assets/govuk-frontend.min.js";
document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
