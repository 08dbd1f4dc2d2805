// A mini-app page written against pocket.d.ts, type-checked with `tsc --strict` by
// tests/typescript.rs: if the declarations drift from how pocket.js is used, this stops compiling.

async function checkout(backend: (token: string) => Promise<PocketInvoice>): Promise<void> {
  if (!Pocket.isInWallet()) {
    return;
  }
  const tokens: PocketTokens = await Pocket.token();
  const invoice = await backend(tokens.accessToken);
  await Pocket.pay(invoice);
  const button: HTMLButtonElement = Pocket.payButton({ ...invoice, target: "pay-here" }, (result) => {
    if (result.error) {
      console.log(result.errorMessage ?? "failed");
    }
  });
  button.disabled = false;
  Pocket.getToken({}, (result: PocketResult<PocketTokens>) => console.log(result.data?.accessToken.length));
  Pocket.payInvoice({ amount: "560.00", info: "Цай", terminalId: 7001, id: 10001 });
  window.Pocket.goBack();
  await Pocket.openUrl("https://shop.example.mn");
}

void checkout;
