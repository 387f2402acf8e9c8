/**
 * Leak fixtures beyond the shared corpus: secrets where real sites put them, none of them
 * marked for Vitrine. Secrets are drawn in #ff00ff, a control element in #00c000.
 */
const STYLE = `<style>body{font:16px sans-serif;margin:24px;background:#fff;color:#222}
.s,.s *{color:#ff00ff;font:bold 30px monospace}.c{color:#00c000;font:bold 30px sans-serif}
input,textarea,select{border:2px solid #888;padding:6px;width:520px}</style>`;
const page = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${STYLE}</head><body><p class="c">Control text</p>${body}</body></html>`;

export const LEAK_PAGES: Record<string, string> = {
  '/select': page('Select', `<select class="s" name="saved"><option>Choose</option><option selected>4111 1111 1111 1111</option></select>`),
  '/textarea': page('Textarea', `<textarea class="s" name="notes" rows="2">My card is 5555 5555 5555 4444 thanks</textarea>`),
  '/placeholder': page('Placeholder', `<input class="s" name="ref" placeholder="4242 4242 4242 4242">`),
  '/split': page('Split', `<div class="s">Card: <span>4111</span> <span>1111</span> <b>1111</b> 1111</div>`),
  '/script-value': page('Script value', `<input class="s" name="ref" id="ref"><script>setTimeout(()=>{document.getElementById('ref').value='4111111111111111'},800)</script>`),
  '/editable': page('Editable', `<div class="s" contenteditable="true" id="ed" style="position:absolute;left:40px;top:140px;width:700px;height:60px;border:2px solid #888">&nbsp;</div>`),
  '/typing-plain': page('Typing', `<input class="s" name="comment" id="comment" style="position:absolute;left:40px;top:140px;width:700px;height:60px">`),
  '/blank-frame': page(
    'Blank frame',
    `<iframe id="f" width="800" height="200"></iframe><script>
    const d=document.getElementById('f').contentDocument;d.open();d.write('<body style="font:bold 30px monospace;color:#ff00ff">4000 0566 5566 5556</body>');d.close();</script>`,
  ),
  '/srcdoc': page('Srcdoc', `<iframe width="800" height="200" srcdoc="<p style='font:bold 30px monospace;color:#ff00ff'>4000 0566 5566 5556</p>"></iframe>`),
  '/closed-shadow': page(
    'Closed shadow',
    `<div id="h"></div><script>setTimeout(()=>{const r=document.getElementById('h').attachShadow({mode:'closed'});r.innerHTML='<p style="font:bold 30px monospace;color:#ff00ff">3782 822463 10005</p><input type=password value=hunter2 style="font:bold 30px monospace;color:#ff00ff">'},300)</script>`,
  ),
  '/iban-ssn': page('IBAN and SSN', `<p class="s">GB82 WEST 1234 5698 7654 32</p><p class="s">SSN 123-45-6789</p>`),
  '/link': page('Link', `<a id="go" href="/redirect-secret" style="font:bold 40px sans-serif;position:absolute;left:40px;top:140px">Open statement</a>`),
  '/secret-target': page('Statement', `<p class="s">6011 1111 1111 1117</p>`),
  '/dialog-secret': page(
    'Late big',
    `<div id="slot"></div><script>setTimeout(()=>{slot.innerHTML='<table><tr><td class="s">4111 1111 1111 1111</td></tr></table>'},10);setTimeout(()=>{slot.insertAdjacentHTML('beforeend','<p class="s">5105 1051 0510 5100</p>')},2500)</script>`,
  ),
};

export const LEAK_CASES: { path: string; what: string; watchMs: number; type?: { click: { x: number; y: number }; text: string }; clickAt?: { x: number; y: number } }[] = [
  { path: '/select', what: 'card number as the selected option of a select', watchMs: 1500 },
  { path: '/textarea', what: 'card number inside free text in an unmarked textarea', watchMs: 1500 },
  { path: '/placeholder', what: 'card number in a placeholder', watchMs: 1500 },
  { path: '/split', what: 'card number split across elements', watchMs: 1500 },
  { path: '/script-value', what: 'card number set by script into an unmarked field', watchMs: 2000 },
  { path: '/editable', what: 'card number typed into a contenteditable', watchMs: 1500, type: { click: { x: 300, y: 170 }, text: '4242424242424242' } },
  { path: '/typing-plain', what: 'card number typed into an unmarked text field', watchMs: 1500, type: { click: { x: 300, y: 170 }, text: '4242424242424242' } },
  { path: '/blank-frame', what: 'card number written into an about:blank iframe', watchMs: 2000 },
  { path: '/srcdoc', what: 'card number in a srcdoc iframe', watchMs: 2000 },
  { path: '/closed-shadow', what: 'card number and password in a closed shadow root', watchMs: 1500 },
  { path: '/iban-ssn', what: 'IBAN and SSN in plain text', watchMs: 1500 },
  { path: '/link', what: 'a link to a 302 redirect to a page with a card number', watchMs: 2500, clickAt: { x: 120, y: 160 } },
  { path: '/dialog-secret', what: 'card numbers inserted at 10 ms and 2.5 s', watchMs: 3500 },
];
