// The demo shop's page: sign in with the wallet, pick items, pay, see it paid.
(function () {
  "use strict";
  var token = null;
  var products = [];
  var cart = {};

  function $(id) { return document.getElementById(id); }
  function show(text, state) { $("status").textContent = text; $("status").setAttribute("data-state", state || "busy"); }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: { "content-type": "application/json", "authorization": "Bearer " + token },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw new Error(json.error_description || json.error || ("HTTP " + response.status));
        return json;
      });
    });
  }

  function total() {
    return products.reduce(function (sum, p) { return sum + p.price * (cart[p.id] || 0); }, 0);
  }

  function render() {
    $("cart").textContent = "Сагс: " + total() + " ₮";
    $("checkout").disabled = total() < 500;
  }

  function showProducts(list) {
    products = list;
    list.forEach(function (product) {
      var row = document.createElement("div");
      row.className = "product";
      var label = document.createElement("span");
      label.textContent = product.name + " — " + product.price + " ₮";
      var add = document.createElement("button");
      add.id = "add-" + product.id;
      add.textContent = "+";
      add.onclick = function () { cart[product.id] = (cart[product.id] || 0) + 1; render(); };
      row.appendChild(label);
      row.appendChild(add);
      $("products").appendChild(row);
    });
    render();
  }

  function waitUntilPaid(invoiceId, triesLeft) {
    return api("GET", "/api/orders/" + encodeURIComponent(invoiceId)).then(function (order) {
      if (order.paid) return order;
      if (triesLeft <= 0) throw new Error("the payment was not confirmed yet");
      return new Promise(function (resolve) { setTimeout(resolve, 500); }).then(function () {
        return waitUntilPaid(invoiceId, triesLeft - 1);
      });
    });
  }

  function checkout() {
    $("checkout").disabled = true;
    var items = Object.keys(cart).map(function (id) { return { id: id, quantity: cart[id] }; });
    show("Нэхэмжлэх үүсгэж байна… (creating the invoice)");
    api("POST", "/api/checkout", { items: items })
      .then(function (invoice) {
        show("Pocket-оор төлнө үү… (pay in the wallet)");
        return Pocket.pay(invoice).then(function () { return invoice; });
      })
      .then(function (invoice) {
        show("Төлбөр баталгаажиж байна… (confirming)");
        return waitUntilPaid(invoice.id, 60);
      })
      .then(function () {
        cart = {};
        render();
        show("Төлөгдсөн — paid ✓", "paid");
      })
      .catch(function (error) {
        show("Төлбөр амжилтгүй: " + error.message, "failed");
        render();
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("checkout").onclick = checkout;
    if (!Pocket.isInWallet()) {
      show("Open this page inside the Pocket wallet, or in the sandbox wallet simulator.", "failed");
      return;
    }
    Pocket.token()
      .then(function (data) { token = data.accessToken; return api("GET", "/api/me"); })
      .then(function (me) {
        $("greeting").textContent = "Сайн байна уу, " + me.name + "!";
        return api("GET", "/api/products");
      })
      .then(showProducts)
      .catch(function (error) { show("Нэвтэрч чадсангүй (could not sign in): " + error.message, "failed"); });
  });
})();
