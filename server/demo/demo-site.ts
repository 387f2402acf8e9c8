// TEMPORARY placeholder while the demo helper writes the real one; not committed.
export interface DemoSite { url: string; close(): Promise<void>; }
export async function startDemoSite(): Promise<DemoSite> { throw new Error('demo site not written yet'); }
