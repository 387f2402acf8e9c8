// Runs in every document of a session page before any page script (a CDP preload script), in
// the main world, and again on demand in frames that preload scripts miss (initial about:blank
// documents). It masks what the policy names before it can be painted: stylesheets for
// selectors, a MutationObserver (its callbacks run before the next paint) for text patterns and
// new content, input/change listeners and value-setter hooks for form fields, and the same in
// every shadow root. The server asks it for its status through a non-writable property with a
// per-session random name; a document without that answer is never shown.
// Plain JavaScript on purpose: its source text is shipped into pages as it is.
(function install(cfg, mergeSections, luhnValid, ibanValid) {
  'use strict';
  var KEY = cfg.key;
  var MARK = 'data-vitrine-masked';
  if (Object.prototype.hasOwnProperty.call(window, KEY)) return;
  var errors = [];
  // The server's doorbell (a CDP binding with a per-session name): rung once when the document
  // changes after a capture, so a change that paints nothing for staff (inside a mask) still
  // reaches the customer. Taken off the window at once: the page never sees it.
  var bell = typeof window[cfg.binding] === 'function' ? window[cfg.binding] : null;
  try { delete window[cfg.binding]; } catch (e) { /* not configurable: stays, harmless */ }
  var rung = false;
  var changed = true;
  function touched() {
    changed = true;
    if (!rung && bell) { rung = true; try { bell(''); } catch (e) { /* the server will look anyway */ } }
  }
  var eff;
  try {
    eff = mergeSections(cfg.compiled, String(location.href));
  } catch (e) {
    errors.push('policy: ' + e);
    eff = { mask: cfg.compiled.builtinMasks, hide: cfg.compiled.builtinHides, patterns: cfg.compiled.alwaysPatterns, iframes: 'mask' };
  }
  var maskList = eff.mask.slice();
  if (eff.iframes === 'block') maskList.push('iframe', 'frame', 'object', 'embed');
  maskList.push('[' + MARK + ']');
  // Drop selectors the browser cannot parse, loudly: they would mask nothing.
  maskList = maskList.filter(function (s) {
    try { document.createDocumentFragment().querySelector(s); return true; } catch (e) { errors.push('bad selector: ' + s); return false; }
  });
  var hideList = eff.hide.filter(function (s) {
    try { document.createDocumentFragment().querySelector(s); return true; } catch (e) { errors.push('bad selector: ' + s); return false; }
  });
  var MASK = ':is(' + maskList.join(',') + ')';
  // The mask rules, one selector per policy selector rather than one :is() of them all: Blink
  // files a rule under its rightmost tag, id, class or attribute and tries it only on elements
  // that have it, while an :is() of 80 selectors is tried on every element of the page, in
  // every rule (a 200,000-node page spent 3–4 s more in style with it). A selector that is
  // itself a list stays wrapped, so that the suffix applies to each of its parts.
  // One invalid member drops a whole selector list (where :is() only drops the member), so each
  // member is checked with its suffix, and one that does not parse stays inside :is().
  function supported(sel) {
    try { return CSS.supports('selector(' + sel + ')'); } catch (e) { return false; }
  }
  function maskRule(suffix) {
    return maskList.map(function (s) { return supported(s + suffix) ? s + suffix : ':is(' + s + ')' + suffix; }).join(',');
  }
  var HIDE = hideList.length ? ':is(' + hideList.join(',') + ')' : null;
  var C = cfg.colour;
  var css =
    maskRule('') + '{background:' + C + ' !important;background-image:none !important;color:transparent !important;' +
    '-webkit-text-fill-color:transparent !important;text-shadow:none !important;caret-color:transparent !important;' +
    'border-color:' + C + ' !important;outline-color:' + C + ' !important;box-shadow:none !important;' +
    // The masks are switched off for the customer's capture and on for staff's, every tick: a
    // transition or animation would restart at each switch and the customer would never see
    // the content settle.
    'transition:none !important;animation:none !important;}' +
    (maskRule(' *') + '{opacity:0 !important;visibility:hidden !important;transition:none !important;animation:none !important;}') +
    maskRule('::placeholder') + '{color:transparent !important;-webkit-text-fill-color:transparent !important;}' +
    maskRule('::before') + ',' + maskRule('::after') + '{visibility:hidden !important;}' +
    maskRule('::selection') + '{color:transparent !important;background:' + C + ' !important;}' +
    maskRule(':is(img,video,canvas,iframe,frame,svg,object,embed,picture)') + '{filter:brightness(0) !important;}' +
    // SVG text has no box to paint: its glyphs are filled and stroked so thickly in the mask
    // colour that they run together into a solid bar, and nothing of their shape is legible.
    maskRule(':is(text,tspan,textPath)') + '{fill:' + C + ' !important;stroke:' + C + ' !important;stroke-width:.8em !important;' +
    'stroke-linejoin:round !important;stroke-linecap:round !important;paint-order:stroke !important;}' +
    (HIDE ? HIDE + '{visibility:hidden !important;opacity:0 !important;transition:none !important;animation:none !important;}' : '');
  // Never switched off: a caret takes the text's colour, so in a field not (yet) masked it would
  // draw a sliver of whatever colour the page gives sensitive text; a neutral one everywhere
  // (masked fields keep theirs transparent: that rule is more specific). And a steady one: a
  // blinking caret repaints the page twice a second, each a full frame to capture and send.
  var fixedCss = '*{caret-color:#808080 !important;caret-animation:manual !important;}';

  var sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  var fixedSheet = new CSSStyleSheet();
  fixedSheet.replaceSync(fixedCss);
  var RULES = sheet.cssRules.length;
  // Every mask rule parsed (a rule the parser dropped would leave its part of the masks off).
  if (RULES !== (HIDE ? 8 : 7)) errors.push('mask sheet: ' + RULES + ' rules parsed');
  var FIRST_RULE = RULES ? sheet.cssRules[0].cssText : '';
  // Set when anything but this script touched the mask sheet, or a root lost it: the document
  // then never again confirms its masks (the server withholds staff frames and says why).
  var tampered = false;
  var adoptedDesc = Object.getOwnPropertyDescriptor(Document.prototype, 'adoptedStyleSheets');
  var shadowAdoptedDesc = Object.getOwnPropertyDescriptor(ShadowRoot.prototype, 'adoptedStyleSheets');
  function ours(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) if (list[i] !== sheet && list[i] !== fixedSheet) out.push(list[i]);
    return out.concat([fixedSheet, sheet]);
  }
  function rawAdopted(root) {
    return (root.nodeType === 9 ? adoptedDesc : shadowAdoptedDesc).get.call(root);
  }
  function ensureSheet(root) {
    var list = rawAdopted(root);
    if (list[list.length - 1] !== sheet || list.indexOf(fixedSheet) === -1) (root.nodeType === 9 ? adoptedDesc : shadowAdoptedDesc).set.call(root, ours(list));
  }
  // Frameworks assign adoptedStyleSheets wholesale: whatever they assign, the masks stay last
  // (so they win ties) and in force. Reading gives the page its own list back, without ours.
  [[Document.prototype, adoptedDesc], [ShadowRoot.prototype, shadowAdoptedDesc]].forEach(function (pair) {
    var d = pair[1];
    if (!d || !d.set) return;
    Object.defineProperty(pair[0], 'adoptedStyleSheets', {
      configurable: true,
      enumerable: d.enumerable,
      get: function () {
        var list = d.get.call(this);
        var out = [];
        for (var i = 0; i < list.length; i++) if (list[i] !== sheet && list[i] !== fixedSheet) out.push(list[i]);
        return out;
      },
      set: function (v) { d.set.call(this, ours(Array.prototype.slice.call(v))); },
    });
  });
  // The mask sheet is never handed to the page (see the getter above); should it reach it
  // anyway, every way to change or disable it is refused and remembered.
  ['replace', 'replaceSync', 'insertRule', 'deleteRule', 'addRule', 'removeRule'].forEach(function (name) {
    var orig = CSSStyleSheet.prototype[name];
    if (typeof orig !== 'function') return;
    CSSStyleSheet.prototype[name] = function () {
      if (this === sheet || this === fixedSheet) { tampered = true; throw new DOMException('not allowed', 'NotAllowedError'); }
      return orig.apply(this, arguments);
    };
  });
  var disabledDesc = Object.getOwnPropertyDescriptor(StyleSheet.prototype, 'disabled');
  Object.defineProperty(StyleSheet.prototype, 'disabled', {
    configurable: true,
    enumerable: disabledDesc.enumerable,
    get: disabledDesc.get,
    set: function (v) {
      if ((this === sheet || this === fixedSheet) && !switching) { tampered = true; return; }
      disabledDesc.set.call(this, v);
    },
  });
  var switching = false;
  function setMasks(on) {
    // Setting the same value still invalidates style, and so paints: only switch for real.
    if (disabledDesc.get.call(sheet) === !on) return;
    switching = true;
    try { disabledDesc.set.call(sheet, !on); } finally { switching = false; }
  }

  // --- text patterns -------------------------------------------------------------------------
  var compiled = eff.patterns.map(function (p) {
    return {
      name: p.name,
      re: new RegExp(p.source, p.flags.indexOf('g') === -1 ? p.flags + 'g' : p.flags),
      check: p.check,
      prefix: p.prefix ? new RegExp(p.prefix.source, p.prefix.flags) : null,
    };
  });
  var digitsOnly = compiled.every(function (p) { return ['card-number', 'iban', 'us-ssn', 'phone'].indexOf(p.name) !== -1; });
  var counts = {};
  // Patterns are tested on text as a person reads it, not as it is encoded: a number written in
  // Arabic-Indic, Devanagari or full-width digits, grouped by no-break or thin spaces, split by
  // zero-width characters or soft hyphens, or laid out over several source lines reads as the
  // same card number. So: compatibility forms folded (NFKC: full-width, mathematical, circled and
  // superscript digits and letters, every space separator), invisible characters deleted (format
  // and default-ignorable: zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
  // marks, variation selectors), every other decimal digit mapped to its ASCII value, marks
  // stacked on a digit dropped, dashes made '-', and white space collapsed as layout does.
  var ZEROS = (cfg.digitZeros || []).slice().sort(function (a, b) { return a - b; });
  // eslint-disable-next-line no-control-regex -- the complement of ASCII, NUL included
  var NON_ASCII = /[^\x00-\x7f]/;
  var LOOSE_SPACE = /[\t\n\v\f\r]| {2}/;
  var IGNORABLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
  var OTHER_DIGIT = /(?![0-9])\p{Nd}/gu;
  var ND = /\p{Nd}/u;
  var MARKED_DIGIT = /([0-9])\p{M}+/gu;
  var DASH = /(?!-)\p{Dash}/gu;
  var SPACE = /[\s\x85\p{Zs}]+/gu;
  // Everything NFKC turns into a digit is a number (N*) or a CJK compatibility square (U+32xx,
  // U+33xx: "1月", "10点"), so text with none of these can hold no digit at all once read.
  var MAYBE_DIGIT = /[\p{N}\u3200-\u33ff]/u;
  function digitOf(ch) {
    var cp = ch.codePointAt(0);
    var lo = 0, hi = ZEROS.length - 1, zero = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (ZEROS[mid] <= cp) { zero = ZEROS[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    if (zero >= 0 && cp - zero < 10) return String(cp - zero);
    // A script newer than the server's Unicode tables: its run starts where Nd stops, and runs
    // only ever touch in whole tens.
    var z = cp;
    while (cp - z < 60 && ND.test(String.fromCodePoint(z - 1))) z--;
    return String((cp - z) % 10);
  }
  function readable(text) {
    if (NON_ASCII.test(text)) {
      text = text.replace(IGNORABLE, '').normalize('NFKC')
        .replace(OTHER_DIGIT, digitOf).replace(MARKED_DIGIT, '$1').replace(DASH, '-');
      return text.replace(SPACE, ' ');
    }
    return LOOSE_SPACE.test(text) ? text.replace(SPACE, ' ') : text;
  }
  function noDigits(text) {
    return !/[0-9]/.test(text) && (!NON_ASCII.test(text) || !MAYBE_DIGIT.test(text));
  }
  function test1(text) {
    for (var i = 0; i < compiled.length; i++) {
      var p = compiled[i];
      p.re.lastIndex = 0;
      var m;
      while ((m = p.re.exec(text))) {
        if ((p.check !== 'luhn' || luhnValid(m[0])) && (p.check !== 'iban' || ibanValid(m[0]))) return p.name;
        if (m[0].length === 0) p.re.lastIndex++;
      }
    }
    return null;
  }
  // The text as read first; as written too, for custom patterns aimed at the raw characters.
  function matches(text) {
    if (!text || (digitsOnly && noDigits(text))) return null;
    var r = readable(text);
    return test1(r) || (r !== text ? test1(text) : null);
  }
  function startsPattern(text) {
    if (!text) return null;
    var r = readable(text);
    for (var i = 0; i < compiled.length; i++) {
      var pre = compiled[i].prefix;
      if (pre && (pre.test(r) || (r !== text && pre.test(text)))) return compiled[i].name;
    }
    return null;
  }
  function mark(el, why) {
    if (!el.hasAttribute(MARK)) {
      el.setAttribute(MARK, '');
      counts[why] = (counts[why] || 0) + 1;
    }
  }
  // Asked of every text node that does not match: isContentEditable would make the page bring
  // its style up to date each time, which while a huge document is parsed costs seconds. What
  // makes text editable is an attribute or the document's design mode (the CSS user-modify of
  // old WebKit aside); only then is the real answer asked.
  function isEditable(el) {
    if (!el) return false;
    if (document.designMode !== 'on' && !el.closest('[contenteditable]')) return false;
    return !!el.isContentEditable;
  }
  // Text nodes, and CDATA sections (an XML document's SVG text may be one): NodeFilter bits.
  var TEXT = 4 | 8;
  // Elements whose text is never painted as text (lower case: SVG keeps its own spelling).
  var UNPAINTED = { script: 1, style: 1, template: 1 };
  // The select that shows `el`, when `el` is its selected option.
  function showingSelect(el) {
    return el.localName === 'option' && el.selected ? el.closest('select') : null;
  }
  function scanTextNode(node) {
    var el = node.parentElement;
    if (!el || UNPAINTED[el.localName]) return;
    // A selected option's text is also what its select shows.
    var sel = showingSelect(el);
    if (sel) scanField(sel);
    var why = matches(node.data) || (isEditable(el) ? startsPattern(node.data) : null);
    if (why) {
      if (el === document.body || el === document.documentElement || (el.textContent || '').length > 2000) {
        // Masking the whole container would hide the page: wrap just this text instead.
        var span = document.createElement('span');
        span.setAttribute(MARK, '');
        node.parentNode.insertBefore(span, node);
        span.appendChild(node);
        counts[why] = (counts[why] || 0) + 1;
      } else mark(el, why);
      return;
    }
    // A number split across elements ("4111 <b>1111</b> …", <wbr>, SVG <tspan>, MathML <mn>):
    // test small ancestors as a whole, starting only from text that could be part of one, and
    // never masking the page itself. The mark lands on the smallest element that reads as a
    // match (an SVG <text>, not its <tspan>; a MathML <mrow>, not its <mn>).
    if (!/\S/.test(node.data) || (digitsOnly && noDigits(node.data))) return;
    var up = el;
    for (var depth = 0; depth < 3 && up && up !== document.body && up !== document.documentElement && up.tagName !== 'HEAD'; depth++, up = up.parentElement) {
      var known = readThisPass(up);
      if (known === BIG) break;
      if (known === CLEAN) continue;
      var t = smallText(up);
      if (t === null) { passCache.set(up, BIG); break; }
      var w = matches(t);
      if (w) {
        markSmallest(up, w);
        return;
      }
      passCache.set(up, CLEAN);
    }
  }
  // Ancestors read in this synchronous pass (every text node of a table row reads the same row):
  // their text cannot change before the pass ends, and anything changed after it is scanned
  // again by the observer, whose callback comes after the cache is dropped (a microtask queued
  // earlier). BIG: too long to be one small number; CLEAN: read, no match.
  var BIG = 1, CLEAN = 2;
  var passCache = null;
  function readThisPass(el) {
    if (!passCache) {
      passCache = new Map();
      queueMicrotask(function () { passCache = null; });
    }
    return passCache.get(el);
  }
  // Elements whose parts a person reads apart: the cells and rows of a table, list items, terms,
  // paragraphs, headings, options, and line breaks. Text on the two sides of such an edge is
  // joined with a character no pattern crosses, so that the date and the amount columns of an
  // order row do not read as one card number (in a 20,000-row order table half the rows did).
  // Generic containers (div, span) and inline elements join their text as it is: they mean
  // nothing by themselves and may well put a number's groups on one line (in doubt, mask).
  var APART = { td: 1, th: 1, tr: 1, caption: 1, table: 1, thead: 1, tbody: 1, tfoot: 1, li: 1, dt: 1, dd: 1,
    p: 1, h1: 1, h2: 1, h3: 1, h4: 1, h5: 1, h6: 1, option: 1, optgroup: 1, br: 1, hr: 1, legend: 1 };
  var APART_SEP = '\u001f';
  var HTML_NS = 'http://www.w3.org/1999/xhtml';
  function apart(el) {
    return el.namespaceURI === HTML_NS && APART[el.localName] === 1;
  }
  // The innermost element under `top` (or `top`) that holds `node` as one part.
  function partOf(node, top) {
    for (var e = node.parentNode; e && e !== top; e = e.parentNode) if (e.nodeType === 1 && apart(e)) return e;
    return top;
  }
  // The text of `el` as read (textContent, with the edges above marked) when it is short, else
  // null. Read node by node and given up early: textContent would build a big container's whole
  // text once per text node in it.
  function smallText(el) {
    var walker = document.createTreeWalker(el, 1 | TEXT);
    var out = '';
    var n, k = 0, part = null;
    while ((n = walker.nextNode())) {
      if (++k > 200) return null;
      if (n.nodeType === 1) {
        if (n.localName === 'br' || n.localName === 'hr') out += APART_SEP;
        continue;
      }
      var at = partOf(n, el);
      if (part !== null && at !== part) out += APART_SEP;
      part = at;
      out += n.data;
      if (out.length > 300) return null;
    }
    return out;
  }
  // `el` reads as a match, but the match may lie wholly inside one of its children (the text
  // that climbed here sits in another row of the same table): the mark goes on the smallest
  // element that still reads as one. `el` is small (smallText), so this costs little.
  function markSmallest(el, why) {
    for (var cur = el, next = null; cur; cur = next, next = null) {
      for (var c = cur.firstElementChild; c && !next; c = c.nextElementSibling) {
        var t = smallText(c);
        var w = t !== null ? matches(t) : null;
        if (w) { next = c; why = w; }
      }
      if (!next) return mark(cur, why);
    }
  }
  // Input types whose value is never painted, and those that paint it but are not typed into.
  var VALUELESS = { checkbox: 1, radio: 1, hidden: 1, range: 1, color: 1 };
  var BUTTON = { button: 1, submit: 1, reset: 1, image: 1 };
  function scanField(el) {
    if (!el || el.nodeType !== 1) return;
    var tag = el.tagName;
    var value = '';
    var typed;
    if (tag === 'INPUT' || tag === 'TEXTAREA') {
      var type = tag === 'INPUT' ? el.type : 'textarea';
      if (!VALUELESS[type]) value = el.value;
      typed = !BUTTON[type];
      // Autofill previews a value the page cannot read: what the field shows is unknown.
      if (!value && typed && autofilled(el)) { mark(el, 'autofill'); return; }
    } else if (tag === 'SELECT') {
      // Chosen, not typed: a whole match masks it, a leading digit does not.
      var opt = el.selectedIndex >= 0 ? el.options[el.selectedIndex] : null;
      value = opt ? opt.label : '';
      typed = false;
    } else return;
    var why = matches(value) || (typed ? startsPattern(value) : null) || matches(el.getAttribute('placeholder') || '') ||
      matches(el.getAttribute('title') || '') || (tag === 'INPUT' ? matches(el.getAttribute('alt') || '') : null);
    if (why) mark(el, why);
  }
  var AUTOFILL = [':autofill', ':-webkit-autofill'].filter(function (s) {
    try { document.createDocumentFragment().querySelector(s); return true; } catch (e) { return false; }
  })[0];
  function autofilled(el) {
    return !!AUTOFILL && el.matches(AUTOFILL);
  }
  function scanElement(el) {
    var tag = el.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') scanField(el);
    else {
      var w = null;
      if (el.hasAttribute('title') || el.hasAttribute('aria-label')) w = matches(el.getAttribute('title') || '') || matches(el.getAttribute('aria-label') || '');
      // Painted text that lives in attributes: a broken image shows its alt, an option its label.
      if (!w && tag === 'IMG') w = matches(el.getAttribute('alt') || '');
      if (!w && tag === 'OPTION') w = matches(el.getAttribute('label') || '');
      if (w) mark(el, w);
      var sel = tag === 'OPTION' ? showingSelect(el) : null;
      if (sel) scanField(sel);
    }
    if (el.shadowRoot) setupRoot(el.shadowRoot);
  }
  // Painted text kept in attributes the shared observer does not watch (alt, label): a second
  // observer, on the document and on each shadow root as its first scan starts.
  var painted = new MutationObserver(function (records) {
    touched();
    for (var i = 0; i < records.length; i++) {
      try { scanElement(records[i].target); } catch (e) { errors.push('scan: ' + e); }
    }
  });
  var paintedWatched = new WeakSet();
  function watchPainted(root) {
    if (paintedWatched.has(root)) return;
    paintedWatched.add(root);
    painted.observe(root, { subtree: true, attributes: true, attributeFilter: ['alt', 'label'] });
  }
  function scanTree(root) {
    if (root.nodeType === 11 && root.host) watchPainted(root);
    if (root.nodeType === 3 || root.nodeType === 4) return scanTextNode(root);
    if (root.nodeType === 1) scanElement(root);
    if (root.nodeType !== 1 && root.nodeType !== 11 && root.nodeType !== 9) return;
    var walker = document.createTreeWalker(root, 1 | TEXT);
    var n;
    var many = root.nodeType === 1 && root.firstChild !== null;
    while ((n = walker.nextNode())) {
      if (many) seen.add(n);
      if (n.nodeType === 1) scanElement(n);
      else scanTextNode(n);
    }
  }
  // --- observing documents and shadow roots --------------------------------------------------
  var roots = [];
  // Attributes that change how things look but hold no text to scan: they only ring the
  // doorbell, so that a change the masked view does not show still reaches the customer.
  var bellObserver = new MutationObserver(function () { touched(); });
  var bellOptions = { subtree: true, attributes: true, attributeFilter: ['class', 'style', 'hidden', 'open', 'src', 'checked', 'disabled'] };
  // A frame's document is covered by its element here, from the element's first paint, until
  // the server has confirmed that document's own masks and released it; a new document in it
  // (a changed src or srcdoc) is covered again at once. Only the server releases (see `release`).
  var FRAME_TAGS = { IFRAME: 1, FRAME: 1, OBJECT: 1, EMBED: 1, PORTAL: 1, FENCEDFRAME: 1 };
  var released = new WeakSet();
  function coverFrame(el) {
    released.delete(el);
    if (!el.hasAttribute(MARK)) el.setAttribute(MARK, '');
    gen++;
  }
  function coverFrames(node) {
    if (node.nodeType !== 1 && node.nodeType !== 11) return;
    if (node.nodeType === 1 && FRAME_TAGS[node.tagName]) coverFrame(node);
    // The parser adds most elements before their children: nothing under them to look for yet.
    if (node.querySelectorAll && (node.nodeType === 11 || node.firstElementChild)) {
      var list = node.querySelectorAll('iframe,frame,object,embed,portal,fencedframe');
      for (var i = 0; i < list.length; i++) coverFrame(list[i]);
    }
  }
  // Work proportional to what changed, in slices: the records of a mutation are queued and
  // scanned at once for up to SLICE_MS, the rest in later tasks, so that a huge document (the
  // parser adds a million nodes) never holds the page's thread for seconds and the server's
  // questions are answered meanwhile. While anything is queued the masks do not count as intact
  // (intact() below): staff get no frame until the scan has caught up; the customer's frames go on.
  var SLICE_MS = 8;
  var backlog = [];
  var backlogAt = 0;
  var recordAt = 0;
  // Nodes scanned since the last records arrived: the parser reports a paragraph and then each
  // of its children, which the paragraph's scan already read. Dropped when records arrive (the
  // page may have moved a node since, changing which ancestors it reads with).
  var seen = new Set();
  var slicer = new MessageChannel();
  var sliceQueued = false;
  slicer.port1.onmessage = function () { sliceQueued = false; drain(); };
  function onRecords(records) {
    touched();
    ensureSheet(document);
    seen.clear();
    backlog.push(records);
    drain();
  }
  function drain() {
    var until = Date.now() + SLICE_MS;
    while (backlogAt < backlog.length) {
      var records = backlog[backlogAt];
      // A slice resumes within a record list, where the last one stopped.
      while (recordAt < records.length) {
        if (Date.now() > until) return later();
        applyRecord(records[recordAt++]);
      }
      backlogAt++;
      recordAt = 0;
    }
    backlog = [];
    backlogAt = 0;
    seen.clear();
  }
  function later() {
    if (!sliceQueued) { sliceQueued = true; slicer.port2.postMessage(0); }
  }
  function pendingWork() {
    return backlog.length - backlogAt;
  }
  function applyRecord(r) {
    {
      try {
        if (r.type === 'childList') {
          for (var j = 0; j < r.addedNodes.length; j++) {
            var added = r.addedNodes[j];
            if (seen.has(added)) continue;
            coverFrames(added); scanTree(added);
          }
          if (r.target.nodeType === 1 && r.target.tagName === 'SELECT') scanField(r.target);
        } else if (r.type === 'characterData') scanTextNode(r.target);
        else if (r.type === 'attributes') {
          if (r.attributeName === MARK && r.oldValue !== null && !r.target.hasAttribute(MARK) && !released.has(r.target)) r.target.setAttribute(MARK, '');
          else if ((r.attributeName === 'src' || r.attributeName === 'srcdoc' || r.attributeName === 'data') && FRAME_TAGS[r.target.tagName]) coverFrame(r.target);
          else scanElement(r.target);
        }
      } catch (e) {
        errors.push('scan: ' + e);
      }
    }
  }
  var observeOptions = { subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true,
    attributeFilter: [MARK, 'src', 'srcdoc', 'data', 'value', 'placeholder', 'title', 'aria-label', 'type', 'name', 'id', 'autocomplete', 'contenteditable', 'selected'] };
  function setupRoot(root) {
    if (roots.indexOf(root) !== -1) return;
    roots.push(root);
    ensureSheet(root);
    new MutationObserver(function (records) { ensureSheet(root); onRecords(records); }).observe(root, observeOptions);
    bellObserver.observe(root, bellOptions);
    coverFrames(root);
    scanTree(root);
  }
  var attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function () {
    var root = attachShadow.apply(this, arguments);
    try { setupRoot(root); } catch (e) { errors.push('shadow: ' + e); }
    return root;
  };
  ensureSheet(document);
  new MutationObserver(onRecords).observe(document, observeOptions);
  bellObserver.observe(document, bellOptions);
  if (document.documentElement) { coverFrames(document.documentElement); scanTree(document.documentElement); }

  // Script-set values fire no event and no mutation: catch them at the setter, or after the
  // method, that changed them. `fieldOf` names the field whose painted text may have changed.
  function itself(el) { return el; }
  function selectOf(el) { return el && el.closest ? el.closest('select') : null; }
  function collectionSelect(c) { return c.length ? selectOf(c[0]) : null; }
  function scanSafely(el) {
    try { scanField(el); } catch (e) { errors.push('field: ' + e); }
  }
  [[HTMLInputElement.prototype, 'value', itself], [HTMLTextAreaElement.prototype, 'value', itself],
    [HTMLInputElement.prototype, 'valueAsNumber', itself], [HTMLInputElement.prototype, 'valueAsDate', itself],
    [HTMLSelectElement.prototype, 'value', itself], [HTMLSelectElement.prototype, 'selectedIndex', itself],
    [HTMLOptionElement.prototype, 'selected', selectOf],
    [typeof HTMLOptionsCollection === 'function' ? HTMLOptionsCollection.prototype : null, 'selectedIndex', collectionSelect]].forEach(function (hook) {
    var d = hook[0] && Object.getOwnPropertyDescriptor(hook[0], hook[1]);
    if (!d || !d.set) return;
    var fieldOf = hook[2];
    Object.defineProperty(hook[0], hook[1], {
      configurable: true,
      enumerable: d.enumerable,
      get: d.get,
      set: function (v) { d.set.call(this, v); scanSafely(fieldOf(this)); },
    });
  });
  function formFields(form) { return Array.prototype.slice.call(form.elements || []); }
  function activeField() { var a = deepActive(); return a ? [a] : []; }
  function after(proto, name, fieldsOf) {
    var orig = proto && proto[name];
    if (typeof orig !== 'function') return;
    proto[name] = function () {
      try { return orig.apply(this, arguments); } finally {
        try { fieldsOf(this).forEach(scanSafely); } catch (e) { errors.push('field: ' + e); }
      }
    };
  }
  function one(el) { return [el]; }
  after(HTMLInputElement.prototype, 'setRangeText', one);
  after(HTMLTextAreaElement.prototype, 'setRangeText', one);
  after(HTMLInputElement.prototype, 'stepUp', one);
  after(HTMLInputElement.prototype, 'stepDown', one);
  // Resetting restores default values and selections without a mutation or an input event.
  after(HTMLFormElement.prototype, 'reset', formFields);
  // execCommand fires `input` on the field it edits; checked again here all the same.
  after(Document.prototype, 'execCommand', activeField);
  // document.open() (and write() on a closed document, which opens it) erases the document's and
  // window's event listeners: put them back at once.
  ['open', 'write', 'writeln'].forEach(function (name) {
    after(Document.prototype, name, function (doc) { if (doc === document) listen(); return []; });
  });

  // Text a script draws into a 2D canvas is read like page text: each string, and a run of
  // strings drawn side by side on one line (a number drawn group by group); a match masks the
  // whole canvas, and a copy of a masked canvas masks the one it is drawn into. Not seen: glyphs
  // drawn as paths or images, WebGL, workers' OffscreenCanvas (a gap, see docs/redaction.md).
  var runs = new WeakMap();
  function drawText(ctx, args) {
    var canvas = ctx.canvas;
    if (!canvas || canvas.nodeType !== 1 || canvas.hasAttribute(MARK)) return;
    var text = String(args[0]);
    var x = +args[1], y = +args[2];
    var run = runs.get(ctx);
    if (!run && digitsOnly && noDigits(text)) return;
    var m = ctx.measureText(text);
    var left = x - m.actualBoundingBoxLeft, right = x + m.actualBoundingBoxRight;
    // Side by side: same baseline, starting after the last one within about two spaces.
    var near = run && run.y === y && left - run.right >= -1 && left - run.right <= 2 * ctx.measureText(' ').width;
    var joined = near ? (run.text + ' ' + text).slice(-80) : text;
    runs.set(ctx, { y: y, right: right, text: joined });
    var why = matches(text) || (joined !== text ? matches(joined) : null);
    if (why) mark(canvas, why);
  }
  if (typeof CanvasRenderingContext2D === 'function') {
    ['fillText', 'strokeText'].forEach(function (name) {
      var orig = CanvasRenderingContext2D.prototype[name];
      CanvasRenderingContext2D.prototype[name] = function () {
        try { drawText(this, arguments); } catch (e) { errors.push('canvas: ' + e); }
        return orig.apply(this, arguments);
      };
    });
    var drawImage = CanvasRenderingContext2D.prototype.drawImage;
    CanvasRenderingContext2D.prototype.drawImage = function (src) {
      try { if (src && src.nodeType === 1 && src.hasAttribute(MARK) && this.canvas && this.canvas.nodeType === 1) mark(this.canvas, 'canvas copy'); } catch (e) { errors.push('canvas: ' + e); }
      return drawImage.apply(this, arguments);
    };
  }

  // Fields change under the user's hands without a mutation: look at their values on every
  // input event, in whatever shadow root the field is.
  function fieldEvent(e) {
    var t = e.composedPath ? e.composedPath()[0] : e.target;
    touched();
    try {
      if (!t || t.nodeType !== 1) return;
      scanField(t);
      if (isEditable(t)) scanTree(t);
      // From inside a closed shadow root the event arrives retargeted to its host: look inside.
      else if (roots.length && t.tagName !== 'INPUT' && t.tagName !== 'TEXTAREA' && t.tagName !== 'SELECT') fieldsHostedBy(t).forEach(scanField);
    } catch (err) { errors.push('event: ' + err); }
  }
  function fieldsHostedBy(host) {
    var out = [];
    for (var i = 0; i < roots.length; i++) {
      for (var r = roots[i]; r && r.host; r = r.host.getRootNode()) {
        if (r.host !== host) continue;
        out = out.concat(Array.prototype.slice.call(roots[i].querySelectorAll('input,textarea,select')));
        break;
      }
    }
    return out;
  }
  // The reset event fires before the form resets (a reset button needs no script): look again
  // once it has, in the next frame's animation callbacks, which run before that frame is painted.
  function resetEvent(e) {
    var form = e.target;
    requestAnimationFrame(function () {
      try { if (form && form.elements) formFields(form).forEach(scanField); } catch (err) { errors.push('event: ' + err); }
    });
  }
  function listen() {
    ['input', 'change', 'keyup', 'paste', 'compositionend'].forEach(function (type) { document.addEventListener(type, fieldEvent, true); });
    document.addEventListener('reset', resetEvent, true);
    window.addEventListener('scroll', touched, true);
  }
  listen();
  watchPainted(document);

  // A sweep over every field, run by the API's probe once per capture tick before the staff
  // capture, for what no hook or listener sees: a setter or method taken from another realm (a
  // frame's prototypes), a listener erased by a cross-realm document.open(), autofill. Capped and
  // resumed where it stopped, so a page with thousands of fields pays for SWEEP of them per tick;
  // a masked field, or one whose shown value is the one read last time, costs a lookup.
  var SWEEP = 500;
  var sweepAt = 0;
  var lastShown = new WeakMap();
  function shownValue(el) {
    if (el.tagName !== 'SELECT') return el.value;
    var o = el.selectedIndex >= 0 ? el.options[el.selectedIndex] : null;
    return o ? o.label : '';
  }
  function rescanFields() {
    try {
      listen();
      var lists = [document.getElementsByTagName('input'), document.getElementsByTagName('textarea'), document.getElementsByTagName('select')];
      for (var r = 0; r < roots.length; r++) lists.push(roots[r].querySelectorAll('input,textarea,select'));
      var total = 0;
      for (var i = 0; i < lists.length; i++) total += lists[i].length;
      if (!total) return;
      var at = sweepAt % total;
      var li = 0;
      while (at >= lists[li].length) { at -= lists[li].length; li++; }
      for (var n = 0; n < Math.min(SWEEP, total); n++) {
        var el = lists[li][at];
        if (++at >= lists[li].length) { at = 0; do li = (li + 1) % lists.length; while (!lists[li].length); }
        if (el.hasAttribute(MARK)) continue;
        var shown = shownValue(el);
        var before = lastShown.get(el);
        if (before === shown && !autofilled(el)) continue;
        lastShown.set(el, shown);
        // Painted anew with no event or mutation to say so: the next captures must show it.
        if (before !== undefined && before !== shown) changed = true;
        scanField(el);
        if (el.hasAttribute(MARK)) changed = true;
      }
      sweepAt = (sweepAt + Math.min(SWEEP, total)) % total;
    } catch (e) {
      errors.push('sweep: ' + e);
    }
  }

  function deepActive() {
    var a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }
  function isMasked(el) {
    for (var n = el; n; n = n.parentElement || (n.getRootNode && n.getRootNode().host) || null) {
      if (n.nodeType !== 1) break;
      if (n.matches(MASK) || (HIDE && n.matches(HIDE))) return true;
    }
    return false;
  }
  function countSelectors() {
    var out = {};
    var all = maskList.concat(hideList);
    for (var i = 0; i < all.length; i++) {
      var n = 0;
      for (var r = 0; r < roots.length + 1; r++) n += (r === 0 ? document : roots[r - 1]).querySelectorAll(all[i]).length;
      if (n) out[all[i]] = n;
    }
    return out;
  }
  // --- the per-tick switch ------------------------------------------------------------------
  // Every capture tick the server switches the masks off (customer's capture) and on again
  // (staff's capture), then asks whether they stayed on. `gen` counts switches: a staff capture
  // is kept only if no switch happened between "on" and the check after it.
  var gen = 0;
  function intact() {
    if (tampered || errors.length || pendingWork()) return false;
    if (disabledDesc.get.call(sheet) || sheet.cssRules.length !== RULES || (RULES && sheet.cssRules[0].cssText !== FIRST_RULE)) return false;
    var list = rawAdopted(document);
    if (list[list.length - 1] !== sheet) return false;
    for (var i = 0; i < roots.length; i++) {
      var l = rawAdopted(roots[i]);
      if (l[l.length - 1] !== sheet) return false;
    }
    return true;
  }
  // Is anything masked or hidden painted in the viewport? When nothing is, one capture serves
  // both audiences. Counted generously: anything in doubt counts as masked.
  var presenceSlow = 0;
  function maskedInView() {
    if (Date.now() < presenceSlow) return true;
    var started = Date.now();
    var sel = HIDE ? MASK + ',' + HIDE : MASK;
    var w = innerWidth, h = innerHeight;
    var found = false;
    for (var r = 0; r <= roots.length && !found; r++) {
      var list = (r === 0 ? document : roots[r - 1]).querySelectorAll(sel);
      if (list.length > 200) { found = true; break; }
      for (var i = 0; i < list.length; i++) {
        var b = list[i].getBoundingClientRect();
        if (b.right > 0 && b.bottom > 0 && b.left < w && b.top < h && (b.width > 0 || b.height > 0)) { found = true; break; }
        // A zero-size box can still paint (overflow, SVG, inline content): count it.
        if (b.width === 0 && b.height === 0 && list[i].getClientRects().length === 0 && list[i].namespaceURI !== 'http://www.w3.org/1999/xhtml') { found = true; break; }
      }
    }
    // On a huge document the search itself would cost more than a second capture: skip it a while.
    if (Date.now() - started > 4) presenceSlow = Date.now() + 2000;
    return found;
  }
  function allowed(t) {
    return t === cfg.token;
  }
  Object.defineProperty(window, KEY, {
    value: Object.freeze({
      status: function () {
        // `pending`: mutation batches not scanned yet (the page is being prepared, see drain()).
        return { version: cfg.compiled.version, url: String(location.href), errors: errors.slice(0, 20), ready: errors.length === 0 && !pendingWork(), pending: pendingWork() };
      },
      /**
       * Before a tick: has anything changed since the last one, and is anything masked in view?
       * With `unmask`, a document that shows something masked also switches its masks off, as
       * unmask() would: the server asks so when it will capture for the customer anyway.
       */
      probe: function (t, unmask) {
        if (!allowed(t)) return null;
        // Still scanning (a huge document being parsed): nothing is confirmed, so there is no
        // point in the sweep and the search over the whole document, which would only slow the
        // scan down. The frame is treated as masked and changed, and keeps its masks on.
        if (pendingWork()) { changed = false; rung = false; return { changed: true, masked: true, ok: false, unmasked: false }; }
        rescanFields();
        var c = changed;
        changed = false;
        rung = false;
        var m = maskedInView();
        var ok = intact();
        var off = unmask === true && (m || !ok);
        if (off) { gen++; setMasks(false); }
        return { changed: c, masked: m, ok: ok, unmasked: off };
      },
      unmask: function (t) {
        if (!allowed(t)) return null;
        // Switching the sheet restyles the whole document (its rules end in `*`): not while a
        // huge document is still being scanned, twice a tick. The customer keeps the masked
        // picture for that moment, never the reverse.
        if (pendingWork()) return null;
        gen++;
        setMasks(false);
        return gen;
      },
      mask: function (t) {
        if (!allowed(t)) return null;
        gen++;
        setMasks(true);
        ensureSheet(document);
        for (var i = 0; i < roots.length; i++) ensureSheet(roots[i]);
        return intact() ? gen : -1;
      },
      check: function (t, g) {
        if (!allowed(t)) return false;
        return gen === g && intact();
      },
      /** The server confirmed the document inside this frame element: show it (to staff too). */
      release: function (t, el) {
        if (!allowed(t) || !el || !FRAME_TAGS[el.tagName]) return false;
        released.add(el);
        el.removeAttribute(MARK);
        return true;
      },
      cover: function (t, el) {
        if (!allowed(t) || !el) return false;
        coverFrame(el);
        return true;
      },
      focusMasked: function () {
        var a = deepActive();
        if (!a || a === document.body || a === document.documentElement) return false;
        if (a.tagName === 'IFRAME' || a.tagName === 'FRAME') return null; // the child frame answers
        return isMasked(a);
      },
      report: function () {
        return { selectors: countSelectors(), patterns: Object.assign({}, counts), matchedRules: eff.matchedRules || [], errors: errors.slice() };
      },
    }),
    enumerable: false,
    writable: false,
    configurable: false,
  });
})
