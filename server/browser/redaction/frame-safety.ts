/**
 * Whether staff may see a page, from what is known of each of its frames. Pure, so that the rule
 * the whole fail-closed guarantee rests on is tested on its own (test/unit/frame-safety.test.ts).
 *
 * A frame's document is safe for staff when it has confirmed its own masks, or when it is still
 * covered: a frame element is covered (masked whole) by its parent's script from the element's
 * first paint until the server releases it after its document confirmed, so an unconfirmed
 * frame that was never released is hidden by its parent, or by whatever hides its parent.
 * A released frame whose document changed since is unsafe until it is covered again.
 */
export interface FrameFacts {
  id: string;
  parentId: string | null;
  /** Its current document answered that the policy's current version is in force. */
  confirmed: boolean;
  /** The server told its parent to show it (after it confirmed), and has not covered it since. */
  released: boolean;
}

/** Why staff may not see the page now, or null when every frame is confirmed or covered. */
export function staffBlocker(frames: readonly FrameFacts[]): string | null {
  const byId = new Map(frames.map((f) => [f.id, f]));
  const main = frames.find((f) => f.parentId === null);
  if (!main) return 'the page has no document yet';
  if (!main.confirmed) return 'the page has not confirmed the privacy policy';
  const safe = (f: FrameFacts, depth: number): boolean => {
    if (f.confirmed) return true;
    if (f.released || f.parentId === null || depth > 64) return false;
    const parent = byId.get(f.parentId);
    return parent !== undefined && safe(parent, depth + 1);
  };
  for (const f of frames) if (!safe(f, 0)) return 'a frame changed its document and is being covered';
  return null;
}
