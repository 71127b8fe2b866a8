// What every hallq page shares: the live connection to the daemon (Server-Sent Events on
// /api/events, reconnecting by itself, marking the page stale when the daemon is lost), JSON
// requests, the hall clock, and building elements without HTML strings.
"use strict";

var hallq = (function () {
  // Without any event for this long (the daemon pings every 5 s) the page is stale.
  var STALE_AFTER_MS = 12000;
  var RETRY_MAX_MS = 30000;

  // Server time minus local time, from the daemon's pings: the clock shows the hall's time.
  var offsetMs = 0;
  var timezone = "Asia/Shanghai";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setStale(stale) {
    document.body.classList.toggle("stale", stale);
    document.body.dataset.stale = stale ? "1" : "0";
  }

  // Follow the hall: handlers.hall(model), handlers.call(call), handlers.state(connected).
  function connect(handlers) {
    var source = null;
    var lastEvent = 0;
    var retryMs = 2000;
    var retryTimer = null;

    function alive() {
      lastEvent = Date.now();
      retryMs = 2000;
      setStale(false);
      if (handlers.state) handlers.state(true);
    }

    function lost() {
      setStale(true);
      if (handlers.state) handlers.state(false);
    }

    function open() {
      retryTimer = null;
      if (source) source.close();
      source = new EventSource("/api/events");
      source.addEventListener("hall", function (e) {
        alive();
        var model = JSON.parse(e.data);
        timezone = model.timezone || timezone;
        handlers.hall(model);
      });
      source.addEventListener("call", function (e) {
        alive();
        if (handlers.call) handlers.call(JSON.parse(e.data));
      });
      source.addEventListener("ping", function (e) {
        alive();
        var now = Date.parse(JSON.parse(e.data).now);
        if (!isNaN(now)) offsetMs = now - Date.now();
      });
      source.onerror = function () {
        lost();
        // The browser retries by itself unless the stream was refused; then we do, slower.
        if (source.readyState === EventSource.CLOSED && !retryTimer) {
          retryTimer = setTimeout(open, retryMs);
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        }
      };
    }

    setInterval(function () {
      if (lastEvent && Date.now() - lastEvent > STALE_AFTER_MS) {
        lost();
        // A stream that went silent without an error: start a new one.
        if (!retryTimer) {
          lastEvent = Date.now();
          open();
        }
      }
    }, 1000);
    open();
  }

  // POST a JSON body; resolves to the daemon's answer {ok, message, data, error}.
  function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    return request(url, { method: "POST", headers: headers, body: JSON.stringify(body || {}) });
  }

  function get(url) {
    return request(url, { method: "GET" });
  }

  function request(url, options) {
    options.credentials = "same-origin";
    return fetch(url, options)
      .then(function (response) {
        return response.json().catch(function () {
          return { ok: false, error: { code: "http_" + response.status, message: "hallq 答复异常（" + response.status + "）" } };
        });
      })
      .catch(function () {
        return { ok: false, error: { code: "network", message: "无法连接叫号系统，请检查网络" } };
      });
  }

  // The hall's date and time in its own time zone.
  function now() {
    return new Date(Date.now() + offsetMs);
  }

  function startClock(dateEl, timeEl, withSeconds) {
    function tick() {
      var t = now();
      try {
        if (dateEl) {
          dateEl.textContent = new Intl.DateTimeFormat("zh-CN", {
            timeZone: timezone, year: "numeric", month: "long", day: "numeric", weekday: "long"
          }).format(t);
        }
        timeEl.textContent = new Intl.DateTimeFormat("zh-CN", {
          timeZone: timezone, hour: "2-digit", minute: "2-digit",
          second: withSeconds ? "2-digit" : undefined, hourCycle: "h23"
        }).format(t);
      } catch (e) {
        timeEl.textContent = t.toLocaleTimeString();
      }
    }
    tick();
    setInterval(tick, 1000);
  }

  return { el: el, clear: clear, connect: connect, post: post, get: get, startClock: startClock };
})();
