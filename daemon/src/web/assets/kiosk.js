// The touch kiosk /kiosk/{id}: one big button per service (with the green channel), and
// reservation check-in by code; the ticket prints at this kiosk's printer. What went wrong is
// said plainly (a printer without paper issues nothing).
"use strict";

(function () {
  var kiosk = decodeURIComponent(location.pathname.split("/")[2] || "");
  var base = "/api/kiosk/" + encodeURIComponent(kiosk);
  var green = false;
  var closeTimer = null;
  var CLASS = { normal: "普通号", green: "绿色通道", reservation: "预约号" };
  var TROUBLE = {
    printer_unavailable: "打印机暂时无法出票，本次未取号",
    print_failed: "出票失败，此号已作废，请重新取号",
    unknown_reservation: "没有找到这个预约",
    refused: "暂时不能取号",
    unknown_service: "没有这项业务",
    address_not_allowed: "本机未登记为此自助机",
    rate_limited: "操作太快了，请稍后再试",
    network: "无法连接叫号系统"
  };

  function $(id) { return document.getElementById(id); }

  function busy(on) { document.body.classList.toggle("busy", on); }

  function showResult(answer) {
    var panel = $("result");
    panel.classList.remove("hidden");
    panel.classList.toggle("bad", !answer.ok);
    if (answer.ok) {
      var t = answer.data;
      $("result-title").textContent = "取号成功，请取走号票";
      $("result-number").textContent = t.number;
      // No estimate (null) while no open window can call the ticket.
      var wait = t.estimated_wait_minutes === null ? "暂无窗口" :
        "预计等候约 " + t.estimated_wait_minutes + " 分钟";
      var detail = t.service_name + " · " + (CLASS[t.class] || t.class) + " · 前面还有 " + t.ahead +
        " 人 · " + wait;
      if (t.note && t.note.code === "late_check_in") {
        detail += "（已过 " + t.note.slot + " 时段的签到时间，按普通号发放）";
      }
      $("result-detail").textContent = detail;
    } else {
      var e = answer.error || { code: "unknown", message: "" };
      $("result-title").textContent = TROUBLE[e.code] || "未能取号";
      $("result-number").textContent = "";
      $("result-detail").textContent = "请联系大厅工作人员。" + (e.message ? "（" + e.message + "）" : "");
    }
    clearTimeout(closeTimer);
    closeTimer = setTimeout(closeResult, answer.ok ? 10000 : 15000);
  }

  function closeResult() {
    $("result").classList.add("hidden");
  }

  function setGreen(on) {
    green = on;
    $("green").setAttribute("aria-pressed", on ? "true" : "false");
    document.body.classList.toggle("green", on);
    $("lead").textContent = on ? "绿色通道：请选择要办理的业务" : "请选择要办理的业务";
  }

  function issue(service) {
    busy(true);
    hallq.post(base + "/request", { cmd: "issue", service: service, green: green }).then(function (answer) {
      busy(false);
      setGreen(false);
      showResult(answer);
    });
  }

  function renderServices(model) {
    var box = $("services");
    if (box.dataset.codes !== model.services.map(function (s) { return s.code; }).join(",")) {
      hallq.clear(box);
      model.services.forEach(function (s) {
        var b = hallq.el("button", null, s.name);
        b.type = "button";
        b.dataset.service = s.code;
        b.appendChild(hallq.el("small", "waiting"));
        b.addEventListener("click", function () { issue(s.code); });
        box.appendChild(b);
      });
      box.dataset.codes = model.services.map(function (s) { return s.code; }).join(",");
    }
    model.services.forEach(function (s) {
      var b = box.querySelector('[data-service="' + s.code + '"] .waiting');
      if (b) b.textContent = s.code + " · 等候 " + s.waiting + " 人";
    });
  }

  // The keypad types into the field last touched: the code, or the phone's last four digits.
  var target = "code";
  ["code", "phone4"].forEach(function (id) {
    $(id).addEventListener("focus", function () { target = id; });
  });

  function buildKeypad() {
    var pad = $("keypad");
    var keys = "1234567890ABCDEFGHJKLMNPQRSTUVWXYZ".split("").concat(["退格"]);
    keys.forEach(function (k) {
      var b = hallq.el("button", null, k);
      b.type = "button";
      b.addEventListener("click", function () {
        var field = $(target);
        field.value = k === "退格" ? field.value.slice(0, -1) : (field.value + k).slice(0, field.maxLength);
      });
      pad.appendChild(b);
    });
  }

  $("green").addEventListener("click", function () { setGreen(!green); });
  $("result-close").addEventListener("click", closeResult);
  $("checkin-open").addEventListener("click", function () {
    $("code").value = "";
    $("phone4").value = "";
    target = "code";
    $("checkin").classList.remove("hidden");
    $("code").focus();
  });
  $("checkin-cancel").addEventListener("click", function () { $("checkin").classList.add("hidden"); });
  $("checkin-go").addEventListener("click", function () {
    var code = $("code").value.trim().toUpperCase();
    if (!code) return;
    $("checkin").classList.add("hidden");
    busy(true);
    var body = { code: code };
    var phone4 = $("phone4").value.trim();
    if (phone4) body.phone_last4 = phone4;
    hallq.post(base + "/checkin", body).then(function (answer) {
      busy(false);
      showResult(answer);
    });
  });

  buildKeypad();
  hallq.connect({
    hall: function (model) {
      $("hall-name").textContent = model.name;
      renderServices(model);
    }
  });
  hallq.startClock($("date"), $("time"), false);
})();
