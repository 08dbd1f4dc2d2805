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
 * Pocket.isInWallet() says whether window.PocketMobile exists.
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

  global.Pocket = Pocket;
})(window);
