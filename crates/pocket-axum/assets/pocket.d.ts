// pocket.d.ts — types of pocket.js (the bridge between a mini-app page and the Pocket wallet),
// from pocket-rs. Served beside pocket.js; `/// <reference path="pocket.d.ts" />` or add it to
// your tsconfig's "files".

/** What the wallet answers to every action. */
interface PocketResult<T> {
  /** Whether the action failed. */
  error: boolean;
  /** Why it failed, for people. */
  errorMessage?: string | null;
  /** The action's result. */
  data: T | null;
}

/** The wallet user's tokens, from getToken. */
interface PocketTokens {
  /** The ID token the backend verifies. */
  accessToken: string;
  /** The wallet's refresh token. */
  refreshToken?: string;
}

/** An invoice to pay: what the backend's create-invoice answer gave. */
interface PocketInvoice {
  /** Pocket's id of the invoice. */
  id: string | number;
  /** The amount, in tögrög (sent to the wallet as text with two decimals, "560.00"). */
  amount: string | number;
  /** The note. */
  info?: string;
  /** The merchant's terminal. */
  terminalId?: string | number;
}

/** payButton's data: the invoice, and where to put the button. */
interface PocketPayButtonData extends PocketInvoice {
  /** The button's text (default "Төлбөр төлөх"). */
  label?: string;
  /** An element, or its id, to append the button to. */
  target?: string | HTMLElement;
}

type PocketCallback<T> = (result: PocketResult<T>) => void;

/** `window.Pocket`: Pocket's callback API, and Promise helpers. */
interface PocketBridge {
  /** Where the wallet's answers arrive; pocket.js fills it. */
  eventListeners: { [listener: string]: (result: PocketResult<unknown> | string) => void };
  getToken(data: object | null, callback?: PocketCallback<PocketTokens>): void;
  goBack(data?: object | null, callback?: PocketCallback<unknown>): void;
  callDeepLink(data: object, callback?: PocketCallback<unknown>): void;
  callOpenUrl(data: { url: string }, callback?: PocketCallback<unknown>): void;
  payInvoice(data: { amount: string; info?: string; terminalId?: string | number; id: string | number }, callback?: PocketCallback<unknown>): void;
  /** The user's tokens (asks the user's consent the first time). */
  token(): Promise<PocketTokens>;
  /** Opens the wallet's pay screen for an invoice. */
  pay(invoice: PocketInvoice): Promise<unknown>;
  /** Leaves the mini-app. */
  back(): Promise<unknown>;
  /** Opens a URL outside the mini-app. */
  openUrl(url: string): Promise<unknown>;
  /** Opens a deep link. */
  deepLink(data: object): Promise<unknown>;
  /** Whether the page runs inside the wallet (window.PocketMobile exists). */
  isInWallet(): boolean;
  /** A "Төлбөр төлөх" button that pays the invoice when clicked. */
  payButton(data: PocketPayButtonData, callback?: PocketCallback<unknown>): HTMLButtonElement;
}

interface Window {
  Pocket: PocketBridge;
  /** The wallet's web view; absent outside the wallet. */
  PocketMobile?: { postMessage(message: string): void };
}

declare var Pocket: PocketBridge;
