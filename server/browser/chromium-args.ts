/**
 * Command-line flags for every browser Vitrine launches. Each one is here for a reason:
 * the session browser runs unattended, as root in containers, on a closed network.
 */
import type { Viewport } from '../protocol.ts';

export function chromiumArgs(viewport: Viewport, userDataDir: string): string[] {
  return [
    // Root in a container has no usable sandbox; the container is the isolation boundary.
    '--no-sandbox',
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
