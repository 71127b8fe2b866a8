// The hall TV: the newest call large and highlighted (flashing when it arrives), the calls
// before it, waiting per service, the notice line and the clock; live over /api/events.
"use strict";

(function () {
  var RECENT = 8;
  var shown = null; // the newest call on screen: "number@window#serial"
  var shownSerial = 0;

  function key(call) {
    return call ? call.number + "@" + call.window + "#" + call.serial : "";
  }

  function showNewest(call) {
    var box = document.getElementById("newest");
    var number = document.getElementById("newest-number");
    var win = document.getElementById("newest-window");
    hallq.clear(number);
    if (!call) {
      box.classList.add("idle");
      number.textContent = "----";
      win.textContent = "等候叫号";
      shown = "";
      return;
    }
    box.classList.remove("idle");
    number.textContent = call.number;
    if (call.recall) number.appendChild(hallq.el("span", "recall-tag", "重呼"));
    win.textContent = "到 " + call.window_name + " 办理";
    shownSerial = call.serial;
    var k = key(call);
    if (shown !== null && shown !== k) {
      // Restart the flash for a new call.
      box.classList.remove("fresh");
      void box.offsetWidth;
      box.classList.add("fresh");
    }
    shown = k;
  }

  function showRecent(calls) {
    var list = document.getElementById("recent");
    hallq.clear(list);
    calls.slice(1, RECENT + 1).forEach(function (c) {
      var li = hallq.el("li");
      li.appendChild(hallq.el("span", "number", c.number));
      li.appendChild(hallq.el("span", "window", c.window_name));
      list.appendChild(li);
    });
  }

  function showWaiting(services) {
    var list = document.getElementById("waiting");
    hallq.clear(list);
    services.forEach(function (s) {
      var li = hallq.el("li");
      var name = hallq.el("span", "name", s.name);
      name.appendChild(hallq.el("span", "code", s.code));
      var count = hallq.el("span", "count", s.waiting);
      count.appendChild(hallq.el("small", null, "人"));
      li.appendChild(name);
      li.appendChild(count);
      list.appendChild(li);
    });
  }

  function showNotice(notices) {
    var notice = document.getElementById("notice");
    notice.classList.remove("scroll");
    notice.textContent = notices.length ? notices.join("　·　") : "欢迎光临，请留意叫号";
    if (notice.scrollWidth > notice.parentNode.clientWidth * 0.85) notice.classList.add("scroll");
  }

  hallq.connect({
    hall: function (model) {
      document.getElementById("hall-name").textContent = model.name;
      document.title = model.name + " 叫号显示";
      showNewest(model.recent_calls[0]);
      showRecent(model.recent_calls);
      showWaiting(model.services);
      showNotice(model.notices);
    },
    call: function (call) {
      // A call the hall model already passed (the model and the calls arrive separately).
      if (call.serial > shownSerial) showNewest(call);
    }
  });
  hallq.startClock(document.getElementById("date"), document.getElementById("time"), true);
})();
