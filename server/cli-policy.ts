/**
 * `vitrine policy check <file>` validates a policy file and lists every problem with its path.
 * `vitrine policy preview <url> --policy <name> [--out shot.png]` renders the URL as an agent
 * would see it under that policy (a staff capture, sealed like every staff frame) and lists
 * which rules matched which elements.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { CaptureLoop } from './browser/capture-loop.ts';
import { launchBrowser, newControlledPage } from './browser/launch.ts';
import { RedactionGate } from './browser/redaction/redaction-gate.ts';
import { resolveSandbox } from './browser/sandbox.ts';
import { loadConfig } from './config.ts';
import { compilePolicy } from './policy/engine.ts';
import { parsePolicy, PolicyStore } from './policy/store.ts';

const argv = process.argv.slice(2);
if (argv[0] === 'policy') argv.shift();
const [sub, ...rest] = argv;

async function check(file: string | undefined): Promise<number> {
  if (!file) return usage();
  const r = parsePolicy(basename(file).replace(/\.ya?ml$/, ''), readFileSync(file, 'utf8'));
  if (!r.policy) {
    for (const p of r.problems) console.error(`✗ ${p}`);
    return 1;
  }
  for (const w of r.policy.warnings) console.warn(`! ${w}`);
  console.log(`✓ ${file}: valid (policy "${r.policy.name}", version ${r.policy.version})`);
  return 0;
}

async function preview(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { policy: { type: 'string', default: 'default' }, out: { type: 'string', default: 'preview.png' }, wait: { type: 'string', default: '1500' } } });
  const url = positionals[0];
  if (!url) return usage();
  const config = loadConfig(process.env);
  const policy = PolicyStore.load(config.policyDir).require(values.policy!);
  const sandbox = resolveSandbox({ unsafeNoSandbox: config.browserSandbox.unsafeNoSandbox, browserUser: config.browserSandbox.user, switcher: config.browserSandbox.switcher, unsafeSameUser: config.browserSandbox.unsafeSameUser });
  const browser = await launchBrowser({ chromiumPath: config.chromiumPath, viewport: config.viewport, beginFrameControl: true, sandbox });
  let loop: CaptureLoop | undefined;
  try {
    const page = await newControlledPage(browser.browser, await browser.browser.createBrowserContext(), config.viewport);
    const gate = await new RedactionGate(page, compilePolicy(policy)).attach();
    // The page paints only when asked: keep it painting (unseen) while it loads.
    loop = new CaptureLoop(await page.createCDPSession(), gate, { frame: () => undefined, withheld: () => undefined }, { viewport: config.viewport, quality: config.jpegQuality, wants: () => ({ customer: false, staff: false }) });
    loop.start();
    try {
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    } catch (e) {
      console.error(`✗ ${url} could not be loaded: ${(e as Error).message.split('\n')[0]}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, Number(values.wait)));
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
    writeFileSync(values.out!, still);
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

function usage(): number {
  console.error('usage: vitrine policy check <file.yaml> | vitrine policy preview <url> --policy <name> [--out shot.png]');
  return 2;
}

const code = sub === 'check' ? await check(rest[0]) : sub === 'preview' ? await preview(rest) : usage();
process.exit(code);
