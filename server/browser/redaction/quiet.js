// Runs before inpage.js in every document of a session page (the same preload script). Console
// calls reach no one in a session: nobody has developer tools open on it. Yet each call costs a
// V8 inspector message kept in the renderer (objects and all) and an event on every CDP session
// with Runtime enabled (puppeteer's own needs it), through the one pipe that all sessions of the
// browser share: a console.log flood halved a bystander's frame rate and grew the server by
// 360 MB. So the console's methods do nothing here, and the same is done to every same-origin
// frame's window as soon as this document reaches it (before the frame's own preload, an
// about:blank frame's console would be pristine). Workers get it too, evaluated by the server
// as each starts (session-page.ts). Plain JavaScript: shipped into pages as it is.
(function quiet(win) {
  'use strict';
  var DONE = typeof Symbol === 'function' ? Symbol.for('vitrine.quiet') : '__vitrine_quiet';
  function noop() {}
  function hush(w) {
    try {
      var c = w && w.console;
      if (!c || c[DONE]) return;
      var names = Object.getOwnPropertyNames(c);
      for (var i = 0; i < names.length; i++) {
        if (typeof c[names[i]] === 'function') {
          try {
            Object.defineProperty(c, names[i], { value: noop, writable: true, configurable: true, enumerable: true });
          } catch (e) {
            /* frozen: left */
          }
        }
      }
      Object.defineProperty(c, DONE, { value: true });
    } catch (e) {
      // A cross-origin window: its own preload script hushes it.
    }
  }
  // Installed once per document (the server may install directly where the preload missed).
  if (win.console && win.console[DONE]) return;
  hush(win);
  // A frame's window reached through its element: hushed before the page gets it.
  [win.HTMLIFrameElement, win.HTMLFrameElement, win.HTMLObjectElement].forEach(function (C) {
    if (!C) return;
    ['contentWindow', 'contentDocument'].forEach(function (prop) {
      var d = Object.getOwnPropertyDescriptor(C.prototype, prop);
      if (!d || !d.get) return;
      var get = function () {
        var v = d.get.call(this);
        if (v) hush(prop === 'contentWindow' ? v : v.defaultView);
        return v;
      };
      Object.defineProperty(C.prototype, prop, { configurable: true, enumerable: d.enumerable, get: get });
    });
  });
})(typeof window !== 'undefined' ? window : self);
