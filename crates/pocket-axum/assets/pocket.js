/* pocket.js — the bridge between a mini-app page and the Pocket wallet, from pocket-rs.
 *
 * The wallet's web view provides window.PocketMobile; the page sends it
 * JSON.stringify({action, data}) and the wallet answers by calling
 * window.Pocket.eventListeners[listener]({error, errorMessage, data}).
 *
 * Callback API (as Pocket documents it):
 *   Pocket.getToken(data, cb)     action getToken   → onGetTokenComplete   (data: {accessToken, refreshToken})
 *   Pocket.goBack(data, cb)       action getBack    → onGoBackComplete
 *   Pocket.callDeepLink(data, cb) action launchQpay → onDeepLinkComplete
 *   Pocket.callOpenUrl(data, cb)  action openLink   → onOpenUrlComplete
 *   Pocket.payInvoice(data, cb)   action payInvoice → onPayInvoiceComplete (data: {amount: "560.00", info, terminalId, id})
 * Promise API: Pocket.token(), Pocket.pay(invoice), Pocket.back(), Pocket.openUrl(url), Pocket.deepLink(data).
 * Pocket.payButton(data, cb) builds a "Төлбөр төлөх" button that calls payInvoice(data, cb), as
 * Pocket's own example does (data.target: an element or its id to append the button to).
 * Pocket.isInWallet() says whether window.PocketMobile exists.
 * Types: pocket.d.ts, served beside this file.
 */
(function (global) {
  "use strict";
  var ACTIONS = {
    getToken: ["getToken", "onGetTokenComplete"],
    goBack: ["getBack", "onGoBackComplete"],
    callDeepLink: ["launchQpay", "onDeepLinkComplete"],
    callOpenUrl: ["openLink", "onOpenUrlComplete"],
    payInvoice: ["payInvoice", "onPayInvoiceComplete"]
  };
  var Pocket = global.Pocket || {};
  Pocket.eventListeners = Pocket.eventListeners || {};

  function send(action, listener, data, callback) {
    if (!global.PocketMobile || typeof global.PocketMobile.postMessage !== "function") {
      callback({ error: true, errorMessage: "Not inside the Pocket wallet: window.PocketMobile is missing", data: null });
      return;
    }
    Pocket.eventListeners[listener] = function (result) {
      if (typeof result === "string") {
        try { result = JSON.parse(result); } catch (ignored) { result = { error: true, errorMessage: result, data: null }; }
      }
      callback(result || { error: true, errorMessage: "The wallet answered nothing", data: null });
    };
    global.PocketMobile.postMessage(JSON.stringify({ action: action, data: data || {} }));
  }

  Object.keys(ACTIONS).forEach(function (name) {
    Pocket[name] = function (data, callback) {
      send(ACTIONS[name][0], ACTIONS[name][1], data, typeof callback === "function" ? callback : function () {});
    };
  });

  function promised(name) {
    return function (data) {
      return new Promise(function (resolve, reject) {
        Pocket[name](data, function (result) {
          if (result && !result.error) resolve(result.data);
          else reject(new Error((result && result.errorMessage) || name + " failed"));
        });
      });
    };
  }

  /* The amount the wallet shows: two decimals, as text. */
  function amountText(amount) {
    var number = Number(amount);
    return isFinite(number) ? number.toFixed(2) : String(amount);
  }

  Pocket.token = promised("getToken");
  Pocket.back = promised("goBack");
  Pocket.deepLink = promised("callDeepLink");
  Pocket.openUrl = function (url) { return promised("callOpenUrl")({ url: url }); };
  /* invoice: what the backend's create-invoice answer gave — {id, amount, info, terminalId}. */
  Pocket.pay = function (invoice) {
    return promised("payInvoice")({
      amount: amountText(invoice.amount), info: invoice.info, terminalId: invoice.terminalId, id: invoice.id
    });
  };
  Pocket.isInWallet = function () { return !!global.PocketMobile; };

  /* A "Төлбөр төлөх" (pay) button for an invoice; disabled while the wallet is paying. */
  Pocket.payButton = function (data, callback) {
    var invoice = data || {};
    var button = global.document.createElement("button");
    button.type = "button";
    button.className = "pocket-pay-button";
    button.textContent = invoice.label || "Төлбөр төлөх";
    button.onclick = function () {
      button.disabled = true;
      Pocket.payInvoice({
        amount: amountText(invoice.amount), info: invoice.info, terminalId: invoice.terminalId, id: invoice.id
      }, function (result) {
        button.disabled = false;
        if (typeof callback === "function") callback(result);
      });
    };
    var target = typeof invoice.target === "string" ? global.document.getElementById(invoice.target) : invoice.target;
    if (target && typeof target.appendChild === "function") target.appendChild(button);
    return button;
  };

  global.Pocket = Pocket;
})(window);
