// After a refusal the check-in box still holds the code read: select it, so that the next
// scan or typing replaces it instead of running on after it.
document.querySelectorAll(".staff-check-in input[name='code']").forEach(function (box) {
  if (box.value) { box.select(); }
});
