// pocket-sandbox wallet simulator: defines window.PocketMobile the way the Pocket wallet's web view
// does, so a mini-app page written for the real wallet runs unchanged in a desktop browser.
// Wire protocol: the page calls PocketMobile.postMessage(JSON.stringify({action, data})); the wallet
// answers by calling window.Pocket.eventListeners[listener]({error, errorMessage, data}).
(function () {
  "use strict";
  if (window.PocketMobile) return;
  var script = document.currentScript;
  var sandbox = script && script.src ? new URL(script.src).origin : window.location.origin;
  var CONSENT_KEY = "pocket-sandbox-consent";

  var LISTENERS = {
    getToken: "onGetTokenComplete",
    getBack: "onGoBackComplete",
    launchQpay: "onDeepLinkComplete",
    openLink: "onOpenUrlComplete",
    payInvoice: "onPayInvoiceComplete"
  };

  function answer(action, result) {
    var listeners = window.Pocket && window.Pocket.eventListeners;
    var name = LISTENERS[action];
    if (listeners && typeof listeners[name] === "function") {
      listeners[name](result);
    } else {
      console.warn("[pocket-sandbox] no window.Pocket.eventListeners." + name + " to answer " + action);
    }
  }
  function ok(data) { return { error: false, errorMessage: null, data: data === undefined ? null : data }; }
  function failed(message) { return { error: true, errorMessage: message, data: null }; }

  function api(method, path, body) {
    return fetch(sandbox + "/_sandbox" + path, {
      method: method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw new Error(json.message || ("HTTP " + response.status));
        return json;
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key]; else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // A wallet screen over the page: a title, some lines, and buttons; resolves with the button's value.
  function sheet(id, title, lines, buttons) {
    return new Promise(function (resolve) {
      var card = el("div", { style: "background:#fff;border-radius:16px 16px 0 0;padding:20px;max-width:420px;width:100%;font:15px system-ui,sans-serif;color:#111;box-shadow:0 -4px 24px rgba(0,0,0,.2)" }, [
        el("div", { style: "font-size:12px;color:#0a7;letter-spacing:.05em;text-transform:uppercase", text: "Pocket · sandbox wallet" }),
        el("h2", { style: "margin:8px 0 12px;font-size:19px", text: title })
      ].concat(lines.map(function (line) {
        // A line is text, or {id, text, warn} for one a test or a person must not miss.
        if (typeof line === "string") return el("p", { style: "margin:4px 0", text: line });
        var style = line.warn ? "margin:8px 0;padding:8px;border-radius:8px;background:#fff3cd;color:#7a4b00;font-weight:600" : "margin:4px 0";
        return el("p", { id: line.id, style: style, text: line.text });
      })));
      var row = el("div", { style: "display:flex;gap:8px;margin-top:16px" });
      var overlay = el("div", { id: id, style: "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:flex-end;justify-content:center;z-index:2147483647" }, [card]);
      buttons.forEach(function (button) {
        var b = el("button", { id: button.id, style: "flex:1;padding:12px;border-radius:10px;border:0;font-size:15px;cursor:pointer;" + (button.primary ? "background:#0a7;color:#fff" : "background:#eee;color:#111"), text: button.label });
        b.addEventListener("click", function () { overlay.remove(); resolve(button.value); });
        row.appendChild(b);
      });
      card.appendChild(row);
      document.body.appendChild(overlay);
    });
  }

  function toast(text) {
    var note = el("div", { "class": "pocket-sandbox-toast", style: "position:fixed;left:50%;bottom:24px;transform:translateX(-50%);background:#222;color:#fff;padding:10px 16px;border-radius:8px;font:14px system-ui,sans-serif;z-index:2147483647", text: "Pocket: " + text });
    document.body.appendChild(note);
    setTimeout(function () { note.remove(); }, 3000);
  }

  function getToken() {
    var remembered = sessionStorage.getItem(CONSENT_KEY);
    var consent = remembered ? Promise.resolve(JSON.parse(remembered)) : sheet(
      "pocket-sandbox-consent", "Share your details with this mini-app?",
      ["Name, phone number and e-mail address will be shared with " + window.location.host + "."],
      [
        { id: "pocket-sandbox-deny", label: "Deny", value: null },
        { id: "pocket-sandbox-allow", label: "Allow", value: ["openid", "profile", "phone", "email"], primary: true }
      ]);
    return consent.then(function (scopes) {
      if (!scopes) return failed("The user did not consent");
      sessionStorage.setItem(CONSENT_KEY, JSON.stringify(scopes));
      return api("POST", "/consumer-tokens", { scopes: scopes }).then(ok, function (e) { return failed(e.message); });
    });
  }

  // Tögrög as whole mongo, for comparing "560.00" with 560.
  function mongo(value) {
    var number = Number(value);
    return value === null || value === "" || !isFinite(number) ? NaN : Math.round(number * 100);
  }

  // What the page passed that disagrees with the invoice Pocket holds (an integrator's bug).
  function disagreements(data, invoice) {
    var found = [];
    if (data.amount !== undefined && mongo(data.amount) !== mongo(invoice.amount)) {
      found.push("amount " + data.amount + " ₮ (the invoice is for " + invoice.amount + " ₮)");
    }
    if (data.info !== undefined && String(data.info) !== String(invoice.info)) {
      found.push("note \"" + data.info + "\" (the invoice's is \"" + invoice.info + "\")");
    }
    if (data.terminalId !== undefined && data.terminalId !== null && String(data.terminalId) !== String(invoice.terminalId)) {
      found.push("terminal " + data.terminalId + " (the invoice's is " + invoice.terminalId + ")");
    }
    return found;
  }

  // The wallet shows and charges the invoice as Pocket holds it, not what the page passed.
  function payInvoice(data) {
    data = data || {};
    if (data.id === undefined || data.id === null || data.id === "") return Promise.resolve(failed("payInvoice needs the invoice id"));
    return api("GET", "/invoices/" + encodeURIComponent(data.id)).then(function (invoice) {
      var lines = [String(invoice.info || ""), "Invoice " + invoice.id + " · terminal " + invoice.terminalId];
      var differs = disagreements(data, invoice);
      if (differs.length) {
        var warning = "The page's payInvoice data disagrees with Pocket's invoice: " + differs.join("; ") +
          ". The wallet shows and charges the invoice's own amount.";
        console.warn("[pocket-sandbox] " + warning);
        lines.push({ id: "pocket-sandbox-mismatch", warn: true, text: warning });
      }
      return sheet("pocket-sandbox-pay", "Pay " + invoice.amount + " ₮", lines, [
        { id: "pocket-sandbox-decline", label: "Decline", value: "reject" },
        { id: "pocket-sandbox-confirm", label: "Pay", value: "pay", primary: true }
      ]).then(function (choice) {
        return api("POST", "/invoices/" + encodeURIComponent(data.id) + "/" + choice).then(function (settled) {
          return choice === "pay" ? ok(settled) : failed("The user declined the payment");
        }, function (e) { return failed(e.message); });
      });
    }, function (e) { return failed("Pocket has no invoice " + data.id + ": " + e.message); });
  }

  var handlers = {
    getToken: getToken,
    payInvoice: payInvoice,
    getBack: function () { toast("the wallet closes the mini-app"); return Promise.resolve(ok()); },
    openLink: function (data) { window.open((data && data.url) || "about:blank", "_blank"); return Promise.resolve(ok()); },
    launchQpay: function (data) { toast("QPay would open " + JSON.stringify(data || {})); return Promise.resolve(ok()); }
  };

  window.PocketMobile = {
    sandbox: true,
    postMessage: function (message) {
      var parsed;
      try { parsed = typeof message === "string" ? JSON.parse(message) : message; } catch (e) {
        console.error("[pocket-sandbox] postMessage needs JSON: " + e.message);
        return;
      }
      var handler = parsed && handlers[parsed.action];
      if (!handler) { console.error("[pocket-sandbox] unknown action " + (parsed && parsed.action)); return; }
      handler(parsed.data).then(function (result) { answer(parsed.action, result); });
    }
  };
})();
