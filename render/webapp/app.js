// The dashboard's shell: it finds the signed initData Telegram gave the page, asks the bot
// for a page with it, and puts the answer in place. Links and forms inside a page carry their
// query in data-q; nothing else runs here (every page is made on the server).
(function () {
  "use strict";
  var root = document.getElementById("app");
  var fragment = new URLSearchParams(location.hash.slice(1));
  var webApp = window.Telegram && window.Telegram.WebApp;

  // Telegram's script may load after us, or never (a network that blocks telegram.org):
  // the URL fragment holds the same initData (tgWebAppData) and theme.
  function initData() {
    var tg = window.Telegram && window.Telegram.WebApp;
    return (tg && tg.initData) || fragment.get("tgWebAppData") || "";
  }

  function applyTheme() {
    var theme = null;
    try {
      theme = JSON.parse(fragment.get("tgWebAppThemeParams") || "null");
    } catch (e) {
      theme = null;
    }
    var tg = window.Telegram && window.Telegram.WebApp;
    if (tg && tg.themeParams && Object.keys(tg.themeParams).length) theme = tg.themeParams;
    if (!theme) return;
    Object.keys(theme).forEach(function (key) {
      document.documentElement.style.setProperty(
        "--tg-theme-" + key.replace(/_/g, "-"), String(theme[key]));
    });
  }

  // The person's language before the first page arrives: Telegram's, from the signed data.
  function userLanguage() {
    try {
      var user = JSON.parse(new URLSearchParams(initData()).get("user") || "{}");
      return String(user.language_code || navigator.language || "zh");
    } catch (e) {
      return navigator.language || "zh";
    }
  }
  var language = userLanguage().toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  var words = {
    zh: { open: "请从 Telegram 中打开数据看板（私聊机器人发送 /dashboard）。",
          failed: "连接失败，请稍后再试。" },
    en: { open: "Open the dashboard from Telegram (send /dashboard to the bot privately).",
          failed: "Could not connect; please try again shortly." }
  }[language];

  // Telegram's script loads on its own (async), maybe after us, maybe never: it is set up
  // once, whenever it is there.
  var telegramReady = false;
  function telegram() {
    var tg = window.Telegram && window.Telegram.WebApp;
    if (!tg) return null;
    if (!telegramReady) {
      telegramReady = true;
      applyTheme();
      if (tg.ready) tg.ready();
      if (tg.expand) tg.expand();
      if (tg.BackButton && tg.BackButton.onClick) tg.BackButton.onClick(back);
    }
    return tg;
  }
  var script = document.querySelector('script[src*="telegram-web-app.js"]');
  if (script) script.addEventListener("load", function () { telegram(); showBack(); });

  function say(text) {
    root.innerHTML = "";
    var p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.textContent = text;
    root.appendChild(p);
  }

  var current = "";
  function load(query, body) {
    var data = initData();
    if (!data) { say(words.open); return Promise.resolve(); }
    root.setAttribute("aria-busy", "true");
    var options = { method: body ? "POST" : "GET", headers: { Authorization: "tma " + data } };
    if (body) {
      options.body = body;
      options.headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
    var url = (body ? "api/action" : "api/page") + (query ? "?" + query : "");
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { say(words.open); return; }
      return response.text().then(function (html) {
        root.innerHTML = html;
        current = query;
        var page = root.querySelector("[lang]");
        if (page) document.documentElement.lang = page.getAttribute("lang");
        var heading = root.querySelector("h1");
        if (heading) heading.focus();
        showBack();
      });
    }).catch(function () {
      say(words.failed);
    }).then(function () {
      root.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-q]");
    if (!link) return;
    event.preventDefault();
    load(link.getAttribute("data-q"));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    event.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    if (form.getAttribute("data-get")) {
      load(data.toString());
    } else {
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      load(form.getAttribute("data-q") || current, data.toString());
    }
  });

  // Telegram's back button, on a page reached from a list (an activity, a notice, a need).
  function showBack() {
    var tg = telegram();
    if (!tg || !tg.BackButton) return;
    if (new URLSearchParams(current).get("id")) tg.BackButton.show(); else tg.BackButton.hide();
  }

  function back() {
    var tab = new URLSearchParams(current).get("tab") || "";
    load(tab ? "tab=" + encodeURIComponent(tab) : "");
  }

  function start() {
    applyTheme();
    telegram();
    var first = new URLSearchParams(location.search);
    load(first.toString());
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
