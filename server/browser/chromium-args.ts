/**
 * Command-line flags for every browser Vitrine launches. Each one is here for a reason:
 * the session browser runs unattended, as an unprivileged user, on a closed network.
 */
import type { Viewport } from '../protocol.ts';

/**
 * Begin-frame control (capture-loop.ts): session pages paint only when Vitrine asks, so each
 * picture shows a known state of the masks. Chromium refuses it with site-per-process; cross-site
 * frames then share the page's renderer (docs/SECURITY.md says why that was chosen).
 */
export const BEGIN_FRAME_ARGS: readonly string[] = [
  '--enable-begin-frame-control',
  // Every begin-frame runs the whole pipeline before drawing: the picture is of this frame.
  '--run-all-compositor-stages-before-draw',
  '--disable-new-content-rendering-timeout',
  // Animations, scrolling and image decoding on the main thread, in step with the frame asked for.
  '--disable-threaded-animation',
  '--disable-threaded-scrolling',
  '--disable-checker-imaging',
  '--disable-image-animation-resync',
];

export function chromiumArgs(viewport: Viewport, userDataDir: string, sandbox = true): string[] {
  return [
    // Chromium's sandbox is on unless an operator turned it off explicitly (sandbox.ts).
    ...(sandbox ? [] : ['--no-sandbox']),
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    // Without these the browser phones home constantly and floods errors on a closed network.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--disable-breakpad',
    '--metrics-recording-only',
    '--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,CalculateNativeWinOcclusion,AutofillServerCommunication,PasswordManagerOnboarding',
    '--password-store=basic',
    '--use-mock-keychain',
    '--mute-audio',
    '--hide-scrollbars',
    // A backgrounded session must keep painting: participants are watching it.
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
    // WebRTC must not reveal the server's local addresses to pages.
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
    '--webrtc-ip-handling-policy=disable_non_proxied_udp',
    '--deny-permission-prompts',
    '--disable-dev-shm-usage',
    `--window-size=${viewport.width},${viewport.height}`,
    `--user-data-dir=${userDataDir}`,
  ];
}
