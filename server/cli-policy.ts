/**
 * `vitrine policy check <file>` validates a policy file and lists every problem with its path.
 * `vitrine policy preview <url> --policy <name> [--out shot.png]` renders the URL as an agent
 * would see it under that policy (a staff capture, sealed like every staff frame) and lists
 * which rules matched which elements. The browser modules load only for a preview.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { command } from './cli-parser.ts';
import { loadConfig } from './config.ts';
import { VitrineError } from './errors.ts';
import { compilePolicy } from './policy/engine.ts';
import { parsePolicy, PolicyStore } from './policy/store.ts';

export const policyCheck = command({
  name: 'policy check',
  summary: 'Validates a policy file and lists every problem with its path',
  args: [{ name: 'file', help: 'the policy file (.yaml)' }],
  exits: { 0: 'the policy is valid (warnings are printed)', 1: 'it is not (every problem is listed), or cannot be read', 2: 'bad usage' },
  run: ({ args: [file] }) => check(file!),
});

export const policyPreview = command({
  name: 'policy preview',
  summary: 'Renders a page as an agent would see it under a policy, and lists which rules matched',
  description: 'A staff capture, sealed like every staff frame; uses the configured browser (CHROMIUM_PATH) and VITRINE_POLICY_DIR.',
  args: [{ name: 'url', help: 'the page to render' }],
  options: {
    policy: { type: 'string', default: 'default', value: 'name', help: 'the policy, by name, from VITRINE_POLICY_DIR' },
    out: { type: 'string', default: 'preview.png', value: 'png', help: 'where to write the capture' },
    wait: { type: 'string', default: '1500', value: 'ms', help: 'how long to let the page settle after it loaded' },
  },
  exits: {
    0: 'the capture was written',
    1: 'the page did not load, or its masks could not be confirmed',
    2: 'bad usage (an unknown policy too) or configuration',
    3: 'no browser, or the policies do not load',
  },
  run: ({ args: [url], options }) => preview(url!, options),
});

async function check(file: string): Promise<number> {
  const r = parsePolicy(basename(file).replace(/\.ya?ml$/, ''), readFileSync(file, 'utf8'));
  if (!r.policy) {
    for (const p of r.problems) console.error(`✗ ${p}`);
    return 1;
  }
  for (const w of r.policy.warnings) console.warn(`! ${w}`);
  console.log(`✓ ${file}: valid (policy "${r.policy.name}", version ${r.policy.version})`);
  return 0;
}

async function preview(url: string, values: { policy: string; out: string; wait: string }): Promise<number> {
  const settle = Number(values.wait);
  if (!Number.isFinite(settle) || settle < 0) throw new VitrineError('USAGE', `--wait must be milliseconds (not "${values.wait}")\nRun "vitrine policy preview --help" for usage.`);
  const config = loadConfig(process.env);
  const store = PolicyStore.load(config.policyDir);
  const policy = store.get(values.policy);
  if (!policy) throw new VitrineError('USAGE', `--policy: no policy "${values.policy}" in ${config.policyDir} (there: ${store.names().join(', ')})`);
  const [{ CaptureLoop }, { launchBrowser, newControlledPage }, { RedactionGate }, { resolveSandbox }] = await Promise.all([
    import('./browser/capture-loop.ts'),
    import('./browser/launch.ts'),
    import('./browser/redaction/redaction-gate.ts'),
    import('./browser/sandbox.ts'),
  ]);
  const sandbox = resolveSandbox({
    unsafeNoSandbox: config.browserSandbox.unsafeNoSandbox,
    browserUser: config.browserSandbox.user,
    switcher: config.browserSandbox.switcher,
    unsafeSameUser: config.browserSandbox.unsafeSameUser,
  });
  const browser = await launchBrowser({ chromiumPath: config.chromiumPath, viewport: config.viewport, beginFrameControl: true, sandbox });
  let loop: InstanceType<typeof CaptureLoop> | undefined;
  try {
    const page = await newControlledPage(browser.browser, await browser.browser.createBrowserContext(), config.viewport);
    const gate = await new RedactionGate(page, compilePolicy(policy)).attach();
    // The page paints only when asked: keep it painting (unseen) while it loads.
    loop = new CaptureLoop(
      await page.createCDPSession(),
      gate,
      { frame: () => undefined, withheld: () => undefined },
      { viewport: config.viewport, quality: config.jpegQuality, wants: () => ({ customer: false, staff: false }) },
    );
    loop.start();
    try {
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    } catch (e) {
      console.error(`✗ ${url} could not be loaded: ${(e as Error).message.split('\n')[0]}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, settle));
    if (gate.closedReason() !== null) {
      console.error(`✗ the page did not confirm the policy: ${gate.closedReason()} — an agent would see the protected-content placeholder`);
      return 1;
    }
    // Exactly what staff would be sent: a capture sealed with every document's masks confirmed on.
    const still = await loop.staffStill('png');
    if (!still) {
      console.error(`✗ the masks could not be confirmed for a staff capture (${gate.closedReason() ?? 'a document changed during the capture'}) — an agent would get no frame`);
      return 1;
    }
    writeFileSync(values.out, still);
    console.log(`Agent's view of ${url} under "${policy.name}" (version ${policy.version}) saved to ${values.out}`);
    const rules = policy.file.rules ?? [];
    for (const frame of await gate.report()) {
      console.log(`\nframe ${frame.url}`);
      console.log(`  URL rules matched: ${frame.matchedRules.length ? frame.matchedRules.map((i) => `#${i} ${JSON.stringify(rules[i]?.match)}`).join(', ') : 'none'}`);
      for (const [sel, n] of Object.entries(frame.selectors)) console.log(`  ${String(n).padStart(4)} × ${sel}`);
      for (const [name, n] of Object.entries(frame.patterns)) console.log(`  ${String(n).padStart(4)} × pattern ${name}`);
      for (const e of frame.errors) console.log(`  error: ${e}`);
    }
    return 0;
  } finally {
    await loop?.close();
    await browser.close();
  }
}
