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
  var HIDE = hideList.length ? ':is(' + hideList.join(',') + ')' : null;
  var C = cfg.colour;
  var css =
    MASK + '{background:' + C + ' !important;background-image:none !important;color:transparent !important;' +
    '-webkit-text-fill-color:transparent !important;text-shadow:none !important;caret-color:transparent !important;' +
    'border-color:' + C + ' !important;outline-color:' + C + ' !important;box-shadow:none !important;' +
    // The masks are switched off for the customer's capture and on for staff's, every tick: a
    // transition or animation would restart at each switch and the customer would never see
    // the content settle.
    'transition:none !important;animation:none !important;}' +
    MASK + ' *{opacity:0 !important;visibility:hidden !important;transition:none !important;animation:none !important;}' +
    MASK + '::placeholder{color:transparent !important;-webkit-text-fill-color:transparent !important;}' +
    MASK + '::before,' + MASK + '::after{visibility:hidden !important;}' +
    MASK + '::selection{color:transparent !important;background:' + C + ' !important;}' +
    MASK + ':is(img,video,canvas,iframe,frame,svg,object,embed,picture){filter:brightness(0) !important;}' +
    // SVG text has no box to paint: its glyphs are filled and stroked so thickly in the mask
    // colour that they run together into a solid bar, and nothing of their shape is legible.
    MASK + ':is(text,tspan,textPath){fill:' + C + ' !important;stroke:' + C + ' !important;stroke-width:.8em !important;' +
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
  function matches(text) {
    if (!text || (digitsOnly && !/\d/.test(text))) return null;
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
  function startsPattern(text) {
    if (!text) return null;
    for (var i = 0; i < compiled.length; i++) if (compiled[i].prefix && compiled[i].prefix.test(text)) return compiled[i].name;
    return null;
  }
  function mark(el, why) {
    if (!el.hasAttribute(MARK)) {
      el.setAttribute(MARK, '');
      counts[why] = (counts[why] || 0) + 1;
    }
  }
  function isEditable(el) {
    return !!(el && el.isContentEditable);
  }
  function scanTextNode(node) {
    var el = node.parentElement;
    if (!el || el.tagName === 'SCRIPT' || el.tagName === 'STYLE' || el.tagName === 'TEMPLATE') return;
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
    // A number split across elements ("4111 <b>1111</b> …"): test small ancestors as a whole,
    // starting only from text that could be part of one, and never masking the page itself.
    if (!/\S/.test(node.data) || (digitsOnly && !/\d/.test(node.data))) return;
    var up = el;
    for (var depth = 0; depth < 3 && up && up !== document.body && up !== document.documentElement && up.tagName !== 'HEAD'; depth++, up = up.parentElement) {
      var t = up.textContent || '';
      if (t.length > 300) break;
      var w = matches(t);
      if (w) {
        if (!someTextMatches(up)) mark(up, w);
        return;
      }
    }
  }
  // True when one text node under `el` holds a whole match: that node's own element is masked.
  function someTextMatches(el) {
    var walker = document.createTreeWalker(el, 4);
    var n;
    while ((n = walker.nextNode())) if (matches(n.data)) return true;
    return false;
  }
  function scanField(el) {
    if (!el || el.nodeType !== 1) return;
    var tag = el.tagName;
    var value = '';
    if (tag === 'INPUT' || tag === 'TEXTAREA') value = el.value;
    else if (tag === 'SELECT') value = el.selectedIndex >= 0 && el.options[el.selectedIndex] ? el.options[el.selectedIndex].text : '';
    else return;
    var why = matches(value) || startsPattern(value) || matches(el.getAttribute('placeholder') || '') || matches(el.getAttribute('title') || '');
    if (why) mark(el, why);
  }
  function scanElement(el) {
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') scanField(el);
    else if (el.hasAttribute && (el.hasAttribute('title') || el.hasAttribute('aria-label'))) {
      var w = matches(el.getAttribute('title') || '') || matches(el.getAttribute('aria-label') || '');
      if (w) mark(el, w);
    }
    if (el.shadowRoot) setupRoot(el.shadowRoot);
  }
  function scanTree(root) {
    if (root.nodeType === 3) return scanTextNode(root);
    if (root.nodeType === 1) scanElement(root);
    if (root.nodeType !== 1 && root.nodeType !== 11 && root.nodeType !== 9) return;
    var walker = document.createTreeWalker(root, 5 /* elements and text */);
    var n;
    while ((n = walker.nextNode())) {
      if (n.nodeType === 3) scanTextNode(n);
      else scanElement(n);
    }
  }

  // --- observing documents and shadow roots --------------------------------------------------
  var roots = [];
  function onRecords(records) {
    touched();
    ensureSheet(document);
    for (var i = 0; i < records.length; i++) {
      var r = records[i];
      try {
        if (r.type === 'childList') {
          for (var j = 0; j < r.addedNodes.length; j++) scanTree(r.addedNodes[j]);
          if (r.target.nodeType === 1 && r.target.tagName === 'SELECT') scanField(r.target);
        } else if (r.type === 'characterData') scanTextNode(r.target);
        else if (r.type === 'attributes') {
          if (r.attributeName === MARK && r.oldValue !== null && !r.target.hasAttribute(MARK)) r.target.setAttribute(MARK, '');
          else scanElement(r.target);
        }
      } catch (e) {
        errors.push('scan: ' + e);
      }
    }
  }
  var observeOptions = { subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true,
    attributeFilter: [MARK, 'value', 'placeholder', 'title', 'aria-label', 'type', 'name', 'id', 'autocomplete', 'contenteditable', 'selected'] };
  function setupRoot(root) {
    if (roots.indexOf(root) !== -1) return;
    roots.push(root);
    ensureSheet(root);
    new MutationObserver(function (records) { ensureSheet(root); onRecords(records); }).observe(root, observeOptions);
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
  if (document.documentElement) scanTree(document.documentElement);

  // Script-set values fire no event and no mutation: catch them at the setter.
  [[HTMLInputElement.prototype, 'value'], [HTMLTextAreaElement.prototype, 'value'], [HTMLSelectElement.prototype, 'value'], [HTMLSelectElement.prototype, 'selectedIndex']].forEach(function (pair) {
    var d = Object.getOwnPropertyDescriptor(pair[0], pair[1]);
    if (!d || !d.set) return;
    Object.defineProperty(pair[0], pair[1], {
      configurable: true,
      enumerable: d.enumerable,
      get: d.get,
      set: function (v) { d.set.call(this, v); try { scanField(this); } catch (e) { errors.push('field: ' + e); } },
    });
  });
  ['input', 'change', 'keyup', 'paste', 'compositionend'].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var t = e.composedPath ? e.composedPath()[0] : e.target;
      touched();
      try { if (t && t.nodeType === 1) { scanField(t); if (isEditable(t)) scanTree(t); } } catch (err) { errors.push('event: ' + err); }
    }, true);
  });
  window.addEventListener('scroll', touched, true);

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
    if (tampered || errors.length) return false;
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
        return { version: cfg.compiled.version, url: String(location.href), errors: errors.slice(0, 20), ready: errors.length === 0 };
      },
      /** Before a tick: has anything changed since the last one, and is anything masked in view? */
      probe: function (t) {
        if (!allowed(t)) return null;
        var c = changed;
        changed = false;
        rung = false;
        return { changed: c, masked: maskedInView(), ok: intact() };
      },
      unmask: function (t) {
        if (!allowed(t)) return null;
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
