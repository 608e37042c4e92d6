// "Copy link" buttons for the share blocks (public/_handover.html). Without this file the
// short link stays on the page as text, and the text, WhatsApp and email links still work.
(function () {
  "use strict";

  if (!navigator.clipboard || !window.isSecureContext) {
    return; // copying needs a secure page (https or localhost); the link is shown to copy
  }
  document.querySelectorAll("[data-share-copy]").forEach(function (button) {
    var status = button.parentNode.querySelector("[data-share-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.shareCopy).then(function () {
        if (status) { status.textContent = "Link copied. Paste it into a message."; }
      }, function () {
        if (status) { status.textContent = "Could not copy. Select the link above and copy it."; }
      });
    });
  });
})();
