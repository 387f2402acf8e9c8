// Runs in every document of a session page before any page script, in the main world, just
// before inpage.js (which then takes the binding off the window). The session browser's
// clipboard is one per browser process, shared by every session it runs: anything a page copied
// there could be pasted by another session's participant. So nothing a page copies may land
// there, and nothing there may reach a page:
// - a trusted copy or cut is cancelled at the window before any page listener runs (the page
//   does not see that cancellation: its own preventDefault and defaultPrevented still work);
//   what the page set on the event, or if it did not cancel, what is selected, goes to the
//   server through the binding, and the server gives it to the customer alone;
// - navigator.clipboard.writeText / write (text) go the same way while a person's input has
//   activated the page (the pool denies the clipboard permissions, so they would fail anyway);
// - a trusted paste is stopped before any page listener sees its data (the server replays no
//   paste shortcut; a participant's paste arrives as inserted text).
// Plain JavaScript on purpose: its source text is shipped into pages as it is.
(function clipboard(cfg) {
  'use strict';
  var GUARD = cfg.key + ':clipboard';
  if (Object.prototype.hasOwnProperty.call(window, GUARD)) return;
  try { Object.defineProperty(window, GUARD, { value: true }); } catch (e) { return; }
  var send = typeof window[cfg.binding] === 'function' ? window[cfg.binding] : null;
  var MAX = cfg.maxCopy;
  var define = Object.defineProperty;
  var stop = Event.prototype.stopImmediatePropagation;
  var cancel = Event.prototype.preventDefault;
  var nativeSetData = DataTransfer.prototype.setData;
  var nativeGetData = DataTransfer.prototype.getData;
  var nativeClearData = DataTransfer.prototype.clearData;
  // The copy or cut being dispatched now: what the page set on it and whether it cancelled it.
  var pending = null;

  // A page can copy in a loop while a person's input activates it (execCommand('copy')): a few
  // copies a second reach the binding, the rest are dropped here rather than flood the server
  // (which limits them again, per session).
  var tokens = 5;
  var refilled = Date.now();
  function deliver(text) {
    if (!send || typeof text !== 'string' || !text) return;
    var now = Date.now();
    tokens = Math.min(5, tokens + ((now - refilled) / 1000) * 2);
    refilled = now;
    if (tokens < 1) return;
    tokens -= 1;
    try { send(JSON.stringify({ copy: text.slice(0, MAX) })); } catch (e) { /* nothing to deliver to */ }
  }

  function plain(format) {
    var f = String(format).toLowerCase();
    return f === 'text' || f === 'text/plain';
  }

  // Data the page puts on the event stays with us: the browser would otherwise write it to its
  // clipboard when the event is cancelled. Reads on the same event see what the page set.
  DataTransfer.prototype.setData = function setData(format, data) {
    if (pending && pending.dt === this) {
      if (plain(format)) pending.set = String(data);
      return;
    }
    return nativeSetData.apply(this, arguments);
  };
  DataTransfer.prototype.getData = function getData(format) {
    if (pending && pending.dt === this) return plain(format) && pending.set !== null ? pending.set : '';
    return nativeGetData.apply(this, arguments);
  };
  DataTransfer.prototype.clearData = function clearData() {
    if (pending && pending.dt === this) { pending.set = null; return; }
    return nativeClearData.apply(this, arguments);
  };

  function deepActive() {
    var a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  // What the browser itself would copy: a text field's selection (never a password's), or the
  // document's selection.
  function selected() {
    var a = deepActive();
    if (a && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA')) {
      if (String(a.type).toLowerCase() === 'password') return { text: '', editable: false };
      try {
        if (typeof a.selectionStart === 'number') return { text: String(a.value).slice(a.selectionStart, a.selectionEnd), editable: !a.readOnly && !a.disabled };
      } catch (e) { /* a field type without a selection */ }
      return { text: '', editable: false };
    }
    var s = window.getSelection();
    return { text: s ? String(s) : '', editable: !!(a && a.isContentEditable) };
  }

  function onCopy(e) {
    if (!e.isTrusted || pending) return;
    cancel.call(e);
    var p = { dt: e.clipboardData, set: null, prevented: false, sel: selected(), cut: e.type === 'cut' };
    pending = p;
    define(e, 'defaultPrevented', { configurable: true, get: function () { return p.prevented; } });
    define(e, 'returnValue', { configurable: true, get: function () { return !p.prevented; }, set: function (v) { if (v === false) p.prevented = true; } });
    define(e, 'preventDefault', { configurable: true, value: function preventDefault() { p.prevented = true; } });
    // Every listener of this dispatch has run by the time a task runs.
    setTimeout(function () {
      pending = null;
      // As the browser would: a cancelled event copies what its listeners set, else the selection.
      deliver(p.prevented ? p.set : p.sel.text);
      // A cut the page let happen removes the selected text, which the cancelled default did not.
      if (p.cut && !p.prevented && p.sel.text && p.sel.editable) {
        try { document.execCommand('delete'); } catch (err) { /* nothing editable any more */ }
      }
    }, 0);
  }
  window.addEventListener('copy', onCopy, true);
  window.addEventListener('cut', onCopy, true);
  window.addEventListener('paste', function (e) {
    if (!e.isTrusted) return;
    stop.call(e);
    cancel.call(e);
  }, true);

  function activated() {
    return !!(navigator.userActivation && navigator.userActivation.isActive);
  }
  function refused() {
    return Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
  }
  if (typeof Clipboard === 'function') {
    Clipboard.prototype.writeText = function writeText(text) {
      if (!activated()) return refused();
      deliver(String(text));
      return Promise.resolve();
    };
    Clipboard.prototype.write = function write(items) {
      if (!activated()) return refused();
      var item = items && items[0];
      // Only text crosses to the customer; nothing else is written anywhere.
      if (!item || typeof item.getType !== 'function' || !Array.prototype.includes.call(item.types || [], 'text/plain')) return refused();
      return Promise.resolve(item.getType('text/plain')).then(function (blob) { return blob.text(); }).then(deliver);
    };
  }
})
