/** The demo bank's page frame: one header, one stylesheet, nothing from the internet. */
export function layout(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Northwind Bank</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><span class="brand">Northwind Bank</span>
<nav><a href="/">Home</a><a href="/signin">Sign in</a><a href="/account">Accounts</a><a href="/pay">Pay by card</a><a href="/help">Help</a></nav>
<span class="demo-flag">Demo site — no real data</span></header>
<main>${body}</main>${script ? `<script src="${script}"></script>` : ''}
</body></html>`;
}
