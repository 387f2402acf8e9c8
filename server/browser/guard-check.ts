/**
 * What a staff click or key would activate, found by the browser, not by the page: the hit test
 * is CDP's (DOM.getNodeForLocation, the renderer's own hit testing, every frame of the page
 * since all of them share its renderer), selectors are matched in an isolated world (the page's
 * scripts cannot reach its prototypes, so `matches` cannot be made to lie), and accessible
 * names come from Chromium's accessibility tree (Accessibility.getPartialAXTree). The walk goes
 * up the event path: slots, shadow hosts and frame owners included, so a click on the text
 * inside a guarded button, or anywhere inside a guarded iframe, counts as a click on it.
 *
 * Anything that cannot be established throws; the caller refuses (server/session/guards.ts).
 */
import type { CDPSession } from 'puppeteer-core';

import type { GuardFacts, GuardPathNode, GuardWhere } from '../core/ports.ts';

// The shapes are the session core's (core/ports.ts); this is where the browser fills them in.
export type { GuardFacts, GuardPathNode, GuardWhere };

interface RemoteObject {
  objectId?: string;
}

const WORLD = '__vitrine_guard';
const STEP_MS = 1500;

/** Runs in the isolated world with `this` = the target element: the event path, top-most last, as elements. */
const PATH_FN = `function () {
  var out = [];
  var n = this;
  while (n && out.length < 400) {
    if (n.nodeType === 1) out.push(n);
    if (n.assignedSlot) n = n.assignedSlot;
    else if (n.parentNode && n.parentNode.nodeType === 11 && n.parentNode.host) n = n.parentNode.host;
    else n = n.parentNode;
  }
  return out;
}`;

/** Which selectors each element of an array matches (an invalid selector throws: fail closed). */
const MATCH_FN = `function (selectors) {
  var out = [];
  for (var i = 0; i < this.length; i++) {
    var hits = [];
    for (var j = 0; j < selectors.length; j++) if (selectors[j] && this[i].matches(selectors[j])) hits.push(j);
    out.push(hits);
  }
  return out;
}`;

/**
 * The focused element of this document (through shadow roots), or null when this document does
 * not hold the focus or its focus is a frame (the child document answers); with `submit`, also
 * the button an Enter in it would press (implicit submission: the form's first submit button).
 */
const FOCUS_FN = `function (submit) {
  if (!document.hasFocus()) return null;
  var a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body || a === document.documentElement) return null;
  if (a.tagName === 'IFRAME' || a.tagName === 'FRAME') return null;
  var out = [a];
  if (submit && a.form) {
    var els = a.form.elements;
    for (var i = 0; i < els.length; i++) {
      var e = els[i];
      var t = (e.getAttribute('type') || '').toLowerCase();
      if ((e.tagName === 'BUTTON' && (t === '' || t === 'submit')) || (e.tagName === 'INPUT' && (t === 'submit' || t === 'image'))) { if (e !== a) out.push(e); break; }
    }
  }
  return out;
}`;

const bounded = <T>(p: Promise<T>, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`guard check: ${what} did not answer`)), STEP_MS).unref())]);

export class GuardCheck {
  readonly #cdp: CDPSession;
  readonly #worlds = new Map<string, number>();

  constructor(cdp: CDPSession) {
    this.#cdp = cdp;
  }

  /** The paths of what a click at a point, or a key at the focus, would activate. Throws when unsure. */
  async facts(where: GuardWhere, selectors: string[], names: boolean): Promise<GuardFacts> {
    const tree = await bounded(this.#cdp.send('Page.getFrameTree'), 'the frame tree');
    const parents = new Map<string, string | null>();
    const walk = (t: typeof tree.frameTree, parent: string | null) => {
      parents.set(t.frame.id, parent);
      for (const c of t.childFrames ?? []) walk(c, t.frame.id);
    };
    walk(tree.frameTree, null);
    if ('at' in where) {
      const hit = await bounded(
        this.#cdp.send('DOM.getNodeForLocation', { x: Math.round(where.at.x), y: Math.round(where.at.y), includeUserAgentShadowDOM: false, ignorePointerEventsNone: false }),
        'the hit test',
      );
      if (!hit.frameId) throw new Error('guard check: the hit test named no frame');
      const target = await this.#resolve(hit.backendNodeId, hit.frameId);
      return { paths: [await this.#path(target, hit.frameId, parents, selectors, names)] };
    }
    // The focus: the one document that has it and whose active element is not a frame.
    for (const frameId of parents.keys()) {
      const ctx = await this.#world(frameId);
      const r = await bounded(
        this.#cdp.send('Runtime.callFunctionOn', { functionDeclaration: `function (s) { return (${FOCUS_FN}).call(null, s); }`, executionContextId: ctx, arguments: [{ value: where.focus.submit }] }),
        'the focus',
      );
      if (r.exceptionDetails) throw new Error('guard check: the focus could not be read');
      if (!r.result.objectId) continue;
      try {
        const n = await this.#length(r.result.objectId);
        const paths: GuardPathNode[][] = [];
        for (let i = 0; i < n; i++) {
          const el = await bounded(
            this.#cdp.send('Runtime.callFunctionOn', { objectId: r.result.objectId, functionDeclaration: 'function (i) { return this[i]; }', arguments: [{ value: i }] }),
            'the focus',
          );
          paths.push(await this.#path(el.result, frameId, parents, selectors, names));
        }
        return { paths };
      } finally {
        void this.#cdp.send('Runtime.releaseObject', { objectId: r.result.objectId }).catch(() => undefined);
      }
    }
    return { paths: [] };
  }

  async #length(objectId: string): Promise<number> {
    const r = await bounded(this.#cdp.send('Runtime.callFunctionOn', { objectId, functionDeclaration: 'function () { return this.length; }', returnByValue: true }), 'a path');
    const n = r.result.value;
    if (typeof n !== 'number' || n < 0) throw new Error('guard check: no path');
    return n;
  }

  /** An isolated world of the frame's current document (made again when that document changed). */
  async #world(frameId: string, fresh = false): Promise<number> {
    const known = this.#worlds.get(frameId);
    if (known !== undefined && !fresh) return known;
    const { executionContextId } = await bounded(this.#cdp.send('Page.createIsolatedWorld', { frameId, worldName: WORLD, grantUniveralAccess: false }), 'an isolated world');
    this.#worlds.set(frameId, executionContextId);
    return executionContextId;
  }

  async #resolve(backendNodeId: number, frameId: string): Promise<RemoteObject> {
    try {
      return (await bounded(this.#cdp.send('DOM.resolveNode', { backendNodeId, executionContextId: await this.#world(frameId) }), 'a node')).object;
    } catch {
      // The document was replaced since its world was made: once more in a fresh world.
      return (await bounded(this.#cdp.send('DOM.resolveNode', { backendNodeId, executionContextId: await this.#world(frameId, true) }), 'a node')).object;
    }
  }

  /** The target's path in its document, then on through each frame owner up to the top document. */
  async #path(target: RemoteObject, frameId: string, parents: Map<string, string | null>, selectors: string[], names: boolean): Promise<GuardPathNode[]> {
    const out: GuardPathNode[] = [];
    let obj: RemoteObject = target;
    let frame: string | null = frameId;
    for (let depth = 0; frame !== null && depth < 32; depth++) {
      if (!obj.objectId) throw new Error('guard check: no element');
      out.push(...(await this.#docPath(obj.objectId, selectors, names)));
      const parent: string | null | undefined = parents.get(frame);
      if (parent === undefined) throw new Error('guard check: unknown frame');
      if (parent === null) break;
      const owner = await bounded(this.#cdp.send('DOM.getFrameOwner', { frameId: frame }), 'a frame owner');
      obj = await this.#resolve(owner.backendNodeId, parent);
      frame = parent;
    }
    return out;
  }

  async #docPath(objectId: string, selectors: string[], names: boolean): Promise<GuardPathNode[]> {
    const cdp = this.#cdp;
    const path = await bounded(cdp.send('Runtime.callFunctionOn', { objectId, functionDeclaration: PATH_FN }), 'a path');
    if (path.exceptionDetails || !path.result.objectId) throw new Error('guard check: no path');
    const pathId = path.result.objectId;
    try {
      const matched = await bounded(cdp.send('Runtime.callFunctionOn', { objectId: pathId, functionDeclaration: MATCH_FN, arguments: [{ value: selectors }], returnByValue: true }), 'the selectors');
      if (matched.exceptionDetails) throw new Error('guard check: a guard selector does not parse');
      const hits = matched.result.value as number[][];
      const props = await bounded(cdp.send('Runtime.getProperties', { objectId: pathId, ownProperties: true }), 'a path');
      const elements = props.result.filter((p) => /^\d+$/.test(p.name)).sort((a, b) => Number(a.name) - Number(b.name));
      if (elements.length !== hits.length) throw new Error('guard check: the path changed');
      const ids = await Promise.all(elements.map((p) => bounded(cdp.send('DOM.describeNode', { objectId: p.value!.objectId! }), 'a node').then((d) => d.node.backendNodeId)));
      const ax = new Map<number, { role: string; name: string }>();
      if (names) {
        const tree = await bounded(cdp.send('Accessibility.getPartialAXTree', { objectId, fetchRelatives: true }), 'the accessibility tree').finally(() => {
          // Nothing else in a session uses the accessibility tree: the renderer need not keep it.
          void cdp.send('Accessibility.disable').catch(() => undefined);
        });
        for (const n of tree.nodes) {
          if (n.backendDOMNodeId === undefined) continue;
          ax.set(n.backendDOMNodeId, { role: String(n.role?.value ?? ''), name: String(n.name?.value ?? '') });
        }
      }
      return ids.map((id, i) => ({ id: String(id), selectors: hits[i] ?? [], role: ax.get(id)?.role ?? '', name: ax.get(id)?.name ?? '' }));
    } finally {
      void cdp.send('Runtime.releaseObject', { objectId: pathId }).catch(() => undefined);
    }
  }
}
