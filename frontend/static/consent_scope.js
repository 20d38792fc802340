// The consent form, progressively enhanced: choosing "Samma omfattning som …" ticks that
// signer's organisations and categories below, and changing a box turns the choice back to
// "Välj själv nedan", so a scope can start from another signer's and then be adjusted.
// Without JavaScript the server applies the chosen signer's scope (domain.consents.service).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var choice = document.querySelector("[data-scope-choice]");
  var own = document.getElementById("scope_from-own");
  if (!choice || !own) {
    return;
  }
  var boxes = document.querySelectorAll('input[name="agencies"], input[name="categories"]');
  choice.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.dataset.agencies === undefined) {
      return;
    }
    var agencies = radio.dataset.agencies.split(" ");
    var categories = radio.dataset.categories.split(" ");
    boxes.forEach(function (box) {
      var wanted = box.name === "agencies" ? agencies : categories;
      box.checked = wanted.indexOf(box.value) !== -1;
    });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      own.checked = true;
    });
  });
});
