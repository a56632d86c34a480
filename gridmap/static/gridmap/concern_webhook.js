/* The concern webhook page: "retry now" makes a pending or failed delivery due at once (POST with the row's
 * If-Match), then reloads the list; a refusal (412: the row moved on, 409: being sent) shows in the page. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.retry");
    if (!button) { return; }
    button.disabled = true;
    GM.clearRefusal();
    GM.api(GM.url("concern-delivery-retry", button.dataset.id), {method: "POST", ifMatch: button.dataset.etag})
      .then(function () { window.location.reload(); }, function () { button.disabled = false; });
  });
})();
