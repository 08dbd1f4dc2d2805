// Wrong uses that pocket.d.ts must refuse (tests/typescript.rs expects tsc to fail here).

Pocket.pay({ amount: 560 }); // no id
Pocket.openUrl(42); // not a string
const name: number = Pocket.isInWallet(); // a boolean
