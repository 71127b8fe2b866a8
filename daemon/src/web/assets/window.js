// The clerk's software call pad for window /window/{n}: log in with staff number and PIN, then
// call, recall, start, finish (with the case number), skip, hold and call back, transfer,
// pause and resume, log out. A refused press shows the daemon's own reason.
"use strict";

(function () {
  var windowNo = parseInt(location.pathname.split("/")[2], 10);
  var base = "/api/window/" + windowNo;
  var session = null; // {staff, window, csrf, session}
  var model = null;
  var heldAsked = 0;

  var DONE = {
    call: "已叫号", recall: "已重呼", start: "开始办理", finish: "已办结", skip: "已过号",
    hold: "已挂起", transfer: "已转移", pause: "窗口已暂停", resume: "窗口已恢复"
  };
  var TICKET_STATE = { called: "已呼叫，等候群众到窗口", serving: "办理中", held: "已挂起（可叫回）" };
  var WINDOW_STATE = { closed: "窗口未开", open: "窗口开放", paused: "窗口暂停中" };

  function $(id) { return document.getElementById(id); }

  function say(text, good) {
    var m = $("message");
    m.textContent = text;
    m.className = "pad-message " + (good ? "ok" : "bad");
  }

  function showLogin() {
    session = null;
    $("login").classList.remove("hidden");
    $("pad").classList.add("hidden");
    $("logout").classList.add("hidden");
    $("who").textContent = "";
    $("staff").focus();
  }

  function showPad(s) {
    session = s;
    $("login").classList.add("hidden");
    $("pad").classList.remove("hidden");
    $("logout").classList.remove("hidden");
    $("who").textContent = "工号 " + s.staff;
    render();
    refreshHeld();
  }

  // A refusal: the daemon's message as it comes; a lost session shows the login again.
  function refused(answer) {
    var e = answer.error || { code: "unknown", message: "未知错误" };
    say("未执行：" + e.message, false);
    if (e.code === "no_session" || e.code === "session_ended") showLogin();
  }

  function send(body, done) {
    if (!session) return showLogin();
    body.window = windowNo;
    return hallq.post(base + "/request", body, session.csrf).then(function (answer) {
      if (!answer.ok) return refused(answer);
      var number = answer.data && answer.data.number ? " " + answer.data.number : "";
      say((DONE[body.cmd] || "完成") + number + "（" + answer.message + "）", true);
      if (done) done(answer);
      refreshHeld();
    });
  }

  function render() {
    if (!model) return;
    var w = model.windows.filter(function (x) { return x.window === windowNo; })[0];
    if (!w) return;
    $("window-name").textContent = w.name;
    $("hall-name").textContent = model.name;
    document.title = w.name + " 呼叫器";
    var atWindow = w.ticket_state === "called" || w.ticket_state === "serving";
    $("current-number").textContent = atWindow ? w.number : "—";
    $("current-state").textContent = atWindow
      ? TICKET_STATE[w.ticket_state] + (w.state === "paused" ? "；" + WINDOW_STATE.paused : "")
      : WINDOW_STATE[w.state] || w.state;
    $("pause").textContent = w.state === "paused" ? "恢复" : "暂停";
    $("pause").dataset.cmd = w.state === "paused" ? "resume" : "pause";

    var waiting = $("waiting");
    hallq.clear(waiting);
    model.services.filter(function (s) { return w.serves.indexOf(s.code) >= 0; }).forEach(function (s) {
      var li = hallq.el("li");
      li.appendChild(hallq.el("span", null, s.name + " " + s.code));
      li.appendChild(hallq.el("span", "count", s.waiting + " 人"));
      waiting.appendChild(li);
    });

    var to = $("transfer-to");
    if (to.options.length !== model.services.length) {
      hallq.clear(to);
      model.services.forEach(function (s) {
        var o = hallq.el("option", null, s.code + " " + s.name);
        o.value = s.code;
        to.appendChild(o);
      });
    }
  }

  // Tickets held at this window, from the queue (asked again after each change).
  function refreshHeld() {
    if (!session) return;
    var asked = ++heldAsked;
    hallq.post(base + "/request", { cmd: "queue" }, session.csrf).then(function (answer) {
      if (asked !== heldAsked || !answer.ok) return;
      var list = $("held");
      hallq.clear(list);
      var mine = answer.data.held.filter(function (h) { return h.window === windowNo; });
      if (!mine.length) list.appendChild(hallq.el("li", "empty", "没有"));
      mine.forEach(function (h) {
        var li = hallq.el("li");
        li.appendChild(hallq.el("span", null, h.number));
        var back = hallq.el("button", null, "叫回");
        back.type = "button";
        back.addEventListener("click", function () { send({ cmd: "call", ticket: h.number }); });
        li.appendChild(back);
        list.appendChild(li);
      });
    });
  }

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { staff: $("staff").value.trim(), pin: $("pin").value };
    $("pin").value = "";
    $("login-button").disabled = true;
    hallq.post(base + "/login", body).then(function (answer) {
      $("login-button").disabled = false;
      if (!answer.ok) return refused(answer);
      say("登录成功，" + answer.data.staff + " 在本窗口办公", true);
      showPad(answer.data);
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll(".pad-keys button"), function (b) {
    b.addEventListener("click", function () { send({ cmd: b.dataset.cmd }); });
  });

  $("finish-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { cmd: "finish" };
    var caseNo = $("case-no").value.trim();
    if (caseNo) body.case_no = caseNo;
    send(body, function () { $("case-no").value = ""; });
  });

  $("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    send({ cmd: "transfer", to: $("transfer-to").value });
  });

  $("logout").addEventListener("click", function () {
    if (!session) return showLogin();
    hallq.post(base + "/logout", {}, session.csrf).then(function (answer) {
      if (!answer.ok) return refused(answer);
      say("已退出登录，窗口已关闭", true);
      showLogin();
    });
  });

  hallq.connect({
    hall: function (m) {
      model = m;
      render();
      if (session) refreshHeld();
    }
  });

  hallq.get(base + "/session").then(function (answer) {
    if (answer.ok) showPad(answer.data);
    else showLogin();
  });
})();
