// Debian's firefox-esr, driven over WebDriver BiDi (https://w3c.github.io/webdriver-bidi/).
// playwright-core cannot drive it: its Firefox needs Playwright's patched build, and its
// `moz-firefox` BiDi channel sends commands ESR 153 does not have yet
// (emulation.setMediaFeaturesOverride on every new context). The few BiDi commands the smoke
// test needs (navigate, evaluate, screenshot, log and network events) are all in ESR 153.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX_PATH = process.env.BPFBED_FIREFOX ?? '/usr/bin/firefox-esr';

const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Whether the Firefox test can run here: undefined when it can, else why not (BPFBED_E2E=0 turns it
 * off). A missing browser under CI throws. */
export function firefoxMissing(): string | undefined {
  if (process.env.BPFBED_E2E === '0') return 'turned off by BPFBED_E2E=0';
  try {
    accessSync(FIREFOX_PATH, constants.X_OK);
    return undefined;
  } catch {
    const why = `no Firefox at ${FIREFOX_PATH} (apt-get install firefox-esr, or set BPFBED_FIREFOX)`;
    if (inCI) throw new Error(`CI=true but the playground's Firefox test cannot run: ${why}`);
    return why;
  }
}

// The WebSocket client playwright-core bundles (an exported subpath of the package): Node 20 has
// no WebSocket without --experimental-websocket.
interface WsLike {
  on(event: 'open', f: () => void): void;
  on(event: 'error', f: (err: Error) => void): void;
  on(event: 'message', f: (data: Buffer) => void): void;
  on(event: 'close', f: () => void): void;
  send(text: string): void;
  close(): void;
}
const { ws: WebSocket } = createRequire(import.meta.url)('playwright-core/lib/utilsBundle') as { ws: new (url: string) => WsLike };

// Keep Firefox's own background traffic (updates, telemetry, remote settings) off the wire.
const PREFS: Record<string, string | number | boolean> = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'network.connectivity-service.enabled': false,
  'network.captive-portal-service.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'extensions.update.enabled': false,
};

interface BidiMessage {
  id?: number;
  type: 'success' | 'error' | 'event';
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: string;
  message?: string;
}

export class BidiFirefox {
  /** Console errors and uncaught exceptions of the page and its workers. */
  readonly errors: string[] = [];
  /** URLs the page (and its workers) requested. */
  readonly requests: string[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, (m: BidiMessage) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
    private readonly socket: WsLike,
    private context = '',
  ) {
    socket.on('message', (data) => this.onMessage(JSON.parse(data.toString()) as BidiMessage));
  }

  /** Starts Firefox headless with a fresh profile, opens a BiDi session and takes its tab. */
  static async launch(viewport: { width: number; height: number }): Promise<BidiFirefox> {
    const profile = mkdtempSync(join(tmpdir(), 'bpfbed-firefox-'));
    writeFileSync(join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
    // HOME is the temp folder too: Firefox refuses to run as root when $HOME belongs to another
    // user (as in some CI containers), and it leaves nothing in the real home this way.
    const child = spawn(FIREFOX_PATH, ['--headless', '--no-remote', '--remote-debugging-port=0', '--profile', profile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HOME: profile, MOZ_CRASHREPORTER_DISABLE: '1' },
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${FIREFOX_PATH} did not open WebDriver BiDi within 60 s: ${stderr.slice(-500)}`)), 60_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${FIREFOX_PATH} exited (${code}) before opening WebDriver BiDi: ${stderr.slice(-500)}`));
      });
    }).catch((err: Error) => {
      child.kill();
      rmSync(profile, { recursive: true, force: true });
      throw err;
    });
    const socket = new WebSocket(`${url}/session`);
    await new Promise<void>((resolve, reject) => {
      socket.on('open', resolve);
      socket.on('error', reject);
    });
    const ff = new BidiFirefox(child, profile, socket);
    await ff.send('session.new', { capabilities: {} });
    await ff.send('session.subscribe', { events: ['log.entryAdded', 'network.beforeRequestSent'] });
    const tree = (await ff.send('browsingContext.getTree', {})) as { contexts: { context: string }[] };
    ff.context = tree.contexts[0].context;
    await ff.send('browsingContext.setViewport', { context: ff.context, viewport });
    return ff;
  }

  private onMessage(m: BidiMessage): void {
    if (m.id !== undefined && this.pending.has(m.id)) {
      this.pending.get(m.id)!(m);
      this.pending.delete(m.id);
      return;
    }
    const p = m.params ?? {};
    if (m.method === 'log.entryAdded' && p.level === 'error') this.errors.push(String(p.text));
    // Requests of Firefox itself (no browsing context) are not the page's.
    if (m.method === 'network.beforeRequestSent' && p.context) this.requests.push(String((p.request as { url: string }).url));
  }

  send(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.type === 'error' ? reject(new Error(`${method}: ${m.error}: ${m.message}`)) : resolve(m.result ?? {})));
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async navigate(url: string): Promise<void> {
    await this.send('browsingContext.navigate', { context: this.context, url, wait: 'complete' });
  }

  /** Runs `body` (a function body returning a JSON-able value, may await) in the page. */
  async evaluate<T>(body: string): Promise<T> {
    const r = (await this.send('script.evaluate', {
      expression: `(async () => JSON.stringify(await (async () => { ${body} })()))()`,
      target: { context: this.context },
      awaitPromise: true,
    })) as { type: string; result?: { value?: string }; exceptionDetails?: { text: string } };
    if (r.type === 'exception') throw new Error(`in Firefox: ${r.exceptionDetails?.text}`);
    return JSON.parse(r.result?.value ?? 'null') as T;
  }

  /** Polls `body` until it returns something truthy; returns it. */
  async waitFor<T>(body: string, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(body);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`Firefox: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async screenshot(path: string): Promise<void> {
    const r = (await this.send('browsingContext.captureScreenshot', { context: this.context })) as { data: string };
    writeFileSync(path, Buffer.from(r.data, 'base64'));
  }

  async close(): Promise<void> {
    await this.send('session.end', {}).catch(() => {});
    this.socket.close();
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
    rmSync(this.profile, { recursive: true, force: true });
  }
}
