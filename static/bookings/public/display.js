// The waiting-room display polls its office's queue every few seconds and redraws what
// changed: a counter's new number (or a recall of the same one) lights its tile for three
// seconds and is read out by screen readers. Without this script the page refreshes itself.
(function () {
  "use strict";

  var body = document.body;
  var url = body.dataset.url;
  if (!url) { return; }
  var pollMs = parseInt(body.dataset.poll, 10) || 3000;
  var maxRetryMs = 15000;
  var cueMs = 3000;
  var version = body.dataset.version;
  var day = body.dataset.day;
  var separator = body.dataset.timeSeparator || ".";
  var labels = { called: body.dataset.labelCalled || "", serving: body.dataset.labelServing || "" };
  var tiles = Array.prototype.slice.call(document.querySelectorAll(".display-tile"));
  var time = document.querySelector("[data-time]");
  var upcoming = document.querySelector("[data-upcoming]");
  var upcomingEmpty = document.querySelector("[data-upcoming-empty]");
  var waiting = document.querySelector("[data-waiting]");
  var closed = document.querySelector("[data-closed]");
  var noCounter = document.querySelector("[data-no-counter]");
  var offline = document.querySelector("[data-offline]");
  var announcer = document.querySelector("[data-announcer]");
  var failures = 0;

  function announce(messages) {
    if (!announcer || !messages.length) { return; }
    // Emptied first, so that the same number recalled is read again.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = messages.join(". "); }, 100);
  }

  function cue(tile) {
    tile.classList.remove("display-cue");
    void tile.offsetWidth; // restarts the animation of a tile cued again within its seconds
    tile.classList.add("display-cue");
    window.clearTimeout(tile.cueTimer);
    tile.cueTimer = window.setTimeout(function () { tile.classList.remove("display-cue"); }, cueMs);
  }

  function showCounter(tile, counter) {
    var before = tile.dataset.number;
    var beforeCalls = parseInt(tile.dataset.calls, 10) || 0;
    tile.dataset.number = counter.number;
    tile.dataset.calls = String(counter.calls);
    tile.querySelector("[data-tile-number]").textContent = counter.number || "–";
    tile.querySelector("[data-tile-state]").textContent = labels[counter.state] || "";
    tile.classList.toggle("display-tile-busy", Boolean(counter.number));
    var called = counter.number && (counter.number !== before || counter.calls > beforeCalls);
    if (called) { cue(tile); }
    return called;
  }

  function show(data) {
    if (data.day !== day) { window.location.reload(); return; }
    if (time) { time.textContent = data.time.replace(".", separator); }
    if (data.version === version) { return; }
    var names = data.counters.map(function (counter) { return counter.name; });
    var shown = tiles.map(function (tile) { return tile.dataset.counter; });
    if (names.join("\n") !== shown.join("\n")) { window.location.reload(); return; }

    var messages = [];
    data.counters.forEach(function (counter, index) {
      if (showCounter(tiles[index], counter)) {
        messages.push(body.dataset.announce.replace("{number}", counter.number).replace("{counter}", counter.name));
      }
    });
    announce(messages);

    upcoming.textContent = "";
    data.upcoming.forEach(function (number) {
      var item = document.createElement("li");
      item.textContent = number;
      upcoming.appendChild(item);
    });
    upcomingEmpty.hidden = data.upcoming.length > 0;
    waiting.textContent = String(data.waiting);
    closed.hidden = data.open;
    noCounter.hidden = !data.open || data.counters_open > 0 || data.counters.length === 0;
    version = data.version;
  }

  function poll() {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller && window.setTimeout(function () { controller.abort(); }, 10000);
    fetch(url, {
      cache: "no-cache", // asks again each time; an unchanged queue answers 304
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        offline.hidden = true;
        show(data);
      })
      .catch(function () {
        failures += 1;
        offline.hidden = false;
      })
      .then(function () {
        window.clearTimeout(timeout);
        // After a failure, wait a little longer each time, never more than maxRetryMs.
        var wait = failures ? Math.min(maxRetryMs, pollMs * Math.pow(2, failures - 1)) : pollMs;
        window.setTimeout(poll, wait);
      });
  }

  window.setTimeout(poll, pollMs);
})();
