/**
 * The demo bank's pages. Everything is fake and fixed; the pages exercise what co-browsing
 * must handle: a password, a card form, an IBAN and a card number revealed in plain text, a
 * long page to scroll, and a click target for tests.
 */
import { layout } from './layout.ts';

export const PAGES: Record<string, string> = {
  '/': layout(
    'Welcome',
    `<div class="card"><h1>Banking that stays out of your way</h1>
<p>This is the built-in demo site of Vitrine. Start a co-browsing session on it to see how the agent's view masks passwords, card numbers and account numbers.</p>
<a class="button" href="/signin">Sign in</a></div>
<div class="card"><h2>Need help?</h2><p>Our support team can look at this page together with you. See <a href="/help">Help</a>.</p></div>`,
  ),
  '/signin': layout(
    'Sign in',
    `<div class="card"><h1>Sign in</h1>
<form method="post" action="/signin">
<label for="username">Username</label><input id="username" name="username" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<label><input type="checkbox" name="remember"> Remember me</label>
<button type="submit">Sign in</button></form></div>`,
  ),
  '/account': layout(
    'Your accounts',
    `<div class="card"><h1>Current account</h1>
<dl><dt>Account holder</dt><dd>Jordan Example</dd>
<dt>IBAN</dt><dd>DE89 3704 0044 0532 0130 00</dd>
<dt>Balance</dt><dd>€ 4,218.77</dd>
<dt>Contact email</dt><dd>jordan.example@example.com</dd>
<dt>Phone</dt><dd>+1 202 555 0143</dd>
<dt>Debit card</dt><dd><span id="card-number">•••• 4242</span> <button class="secondary" id="reveal" type="button">Show full card number</button></dd></dl></div>
<div class="card"><h2>Recent transactions</h2><table>
<tr><th>Date</th><th>Description</th><th class="amount">Amount</th></tr>
<tr><td>2026-11-21</td><td>Grocery market</td><td class="amount">−€ 54.10</td></tr>
<tr><td>2026-11-20</td><td>Salary</td><td class="amount">+€ 2,950.00</td></tr>
<tr><td>2026-11-18</td><td>Electricity</td><td class="amount">−€ 72.35</td></tr>
<tr><td>2026-11-16</td><td>Book shop</td><td class="amount">−€ 18.90</td></tr></table></div>`,
    '/account.js',
  ),
  '/pay': layout(
    'Pay by card',
    `<div class="card"><h1>Pay by card</h1>
<form method="post" action="/pay">
<label for="cc-name">Name on card</label><input id="cc-name" name="ccname" autocomplete="cc-name">
<label for="cardnumber">Card number</label><input id="cardnumber" name="cardnumber" autocomplete="cc-number" inputmode="numeric">
<div class="row"><div><label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" autocomplete="cc-exp"></div>
<div><label for="cvc">CVC</label><input id="cvc" name="cvc" autocomplete="cc-csc" inputmode="numeric"></div></div>
<label for="amount">Amount (€)</label><input id="amount" name="amount" type="number" value="25.00">
<button type="submit">Pay</button></form></div>`,
  ),
  '/pay/done': layout('Payment accepted', '<div class="card"><h1>Payment accepted (demo)</h1><p>No money moved: this is the demo site.</p><a class="button" href="/account">Back to accounts</a></div>'),
  '/help': layout(
    'Help',
    `<div class="card"><h1>Help and FAQ</h1>${Array.from({ length: 14 }, (_, i) => `<h3>Question ${i + 1}: how do I ${['change my address', 'order a new card', 'block a card', 'set up a transfer', 'see my statements', 'reset my password', 'contact support'][i % 7]}?</h3><p>Open the menu, choose the matching entry and follow the steps. A support agent can guide you through the page in a co-browsing session; they never see your password or card numbers.</p>`).join('')}
<details><summary>What can a support agent see?</summary><p>A live picture of this page with passwords, card numbers and account numbers masked.</p></details>
<p><a href="/">Back to the start page</a></p></div>`,
  ),
  // Layout fixed in CSS (.big-button at left 40px, top 120px, 300×120): tests click its centre.
  '/clicks': `<!doctype html><html><head><meta charset="utf-8"><title>Click test</title><link rel="stylesheet" href="/style.css"></head>
<body><button id="big" class="big-button" type="button">Toggle colour</button><input id="field" class="clicks-field" aria-label="test field"><script src="/clicks.js"></script></body></html>`,
};

export const SCRIPTS: Record<string, string> = {
  '/account.js': `document.getElementById('reveal').addEventListener('click', () => { document.getElementById('card-number').textContent = '4111 1111 1111 1111'; });`,
  '/clicks.js': `let on = false; document.getElementById('big').addEventListener('click', () => { on = !on; document.body.style.background = on ? '#0050ff' : '#ffffff'; });`,
};
