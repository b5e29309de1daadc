// Test harness for the browser tests: a real `hikeshi serve` on a fresh data directory and a free
// loopback port, and Debian's Chromium driven by playwright-core. Nothing is downloaded.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_ROOT = process.env.HIKESHI_WEB_ROOT || resolve(here, '..', 'dist');
export const BINARY = process.env.HIKESHI_BINARY || resolve(here, '..', '..', 'build', 'debug', 'src', 'app', 'hikeshi');
// The loopback SMTP sink of tests/support (smtp_sink --port-file FILE --out DIR).
export const SMTP_SINK = process.env.HIKESHI_SMTP_SINK || resolve(dirname(BINARY), '..', '..', 'tests', 'support', 'smtp_sink');
export const SCREENSHOTS = process.env.HIKESHI_SCREENSHOT_DIR || resolve(here, '..', '..', 'build', 'web-screenshots');
export const ADMIN_PASSWORD = 'admin-password-for-web-tests';
export const USER_PASSWORD = 'user-password-for-web-tests';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs `hikeshi ARGS` to completion, with `input` (a string or Buffer) on its standard input;
// throws with its stderr when it fails. Returns { stdout, stderr } when `both`, else stdout.
export function cli(args, env = {}, { input, both = false } = {}) {
  const r = spawnSync(BINARY, args, { env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`hikeshi ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return both ? { stdout: r.stdout, stderr: r.stderr } : r.stdout;
}

export class Hikeshi {
  // Initialises a data directory (admin password known), optionally with a team profile, runs
  // `beforeServe(h)` (e.g. to put mail in with h.mailgate), and starts `hikeshi serve` on
  // 127.0.0.1 with a port the kernel picks. With `smtpSink`, outgoing mail goes to a loopback SMTP
  // sink whose messages h.sentMail() reads.
  static async start({ teamToml, beforeServe, smtpSink = false } = {}) {
    if (!existsSync(BINARY)) throw new Error(`no hikeshi binary at ${BINARY} (set HIKESHI_BINARY)`);
    if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`the UI is not built in ${WEB_ROOT} (npm run build)`);
    const h = new Hikeshi();
    h.base = mkdtempSync(join(tmpdir(), 'hikeshi-web-'));
    h.data = join(h.base, 'data');
    cli(['init', '--data', h.data], { HIKESHI_ADMIN_PASSWORD: ADMIN_PASSWORD });
    if (teamToml) writeFileSync(join(h.data, 'team.toml'), teamToml);
    if (smtpSink) await h.startSmtpSink();
    if (beforeServe) await beforeServe(h);
    const portFile = join(h.base, 'port');
    h.stderr = '';
    h.child = spawn(
      BINARY,
      ['serve', '--data', h.data, '--listen', '127.0.0.1:0', '--port-file', portFile, '--web-root', WEB_ROOT],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    h.child.stderr.on('data', (d) => (h.stderr += d.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (h.child.exitCode !== null) break;
      try {
        const port = Number(readFileSync(portFile, 'utf8').trim());
        if (port > 0) {
          h.port = port;
          break;
        }
      } catch {}
      await sleep(50);
    }
    if (!h.port) throw new Error(`hikeshi serve did not start:\n${h.stderr}`);
    h.url = `http://127.0.0.1:${h.port}`;
    return h;
  }

  async startSmtpSink() {
    if (!existsSync(SMTP_SINK)) throw new Error(`no smtp_sink at ${SMTP_SINK} (set HIKESHI_SMTP_SINK)`);
    this.sinkDir = join(this.base, 'sink');
    mkdirSync(this.sinkDir);
    const portFile = join(this.base, 'sink.port');
    this.sink = spawn(SMTP_SINK, ['--port-file', portFile, '--out', this.sinkDir], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    let port = 0;
    while (Date.now() < deadline && !port) {
      try {
        port = Number(readFileSync(portFile, 'utf8').trim());
      } catch {}
      if (!port) await sleep(50);
    }
    if (!port) throw new Error('smtp_sink did not start');
    writeFileSync(
      join(this.data, 'hikeshi.toml'),
      `[mail]\nteam_address = "csirt@example.ac.jp"\nteam_name = "Example CSIRT"\nsmtp_url = "smtp://127.0.0.1:${port}"\ndelivery_interval_ms = 200\n`,
    );
  }

  // The messages the SMTP sink accepted so far: [{ envelope, raw }], oldest first.
  sentMail() {
    if (!this.sinkDir) return [];
    return readdirSync(this.sinkDir)
      .filter((f) => f.endsWith('.envelope'))
      .sort()
      .map((f) => ({
        envelope: readFileSync(join(this.sinkDir, f), 'utf8'),
        raw: readFileSync(join(this.sinkDir, f.replace(/\.envelope$/, '.eml')), 'utf8'),
      }));
  }

  // Waits until the sink holds a message for which `match(message)` is true, and returns it.
  async waitForMail(match, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.sentMail().find(match);
      if (found) return found;
      await sleep(100);
    }
    throw new Error(`no such mail reached the SMTP sink; it holds ${this.sentMail().length} messages`);
  }

  cli(args, env) {
    return cli([...args.slice(0, 2), '--data', this.data, ...args.slice(2)], env);
  }

  addUser(username, { role = 'handler', constituencies = [], all = false, displayName } = {}) {
    const args = ['user', 'add', '--username', username, '--role', role];
    for (const c of constituencies) args.push('--constituency', c);
    if (all) args.push('--all-constituencies');
    if (displayName) args.push('--display-name', displayName);
    this.cli(args, { HIKESHI_PASSWORD: USER_PASSWORD });
  }

  // Stores one raw message as an MTA pipe would (`hikeshi mailgate`, before `serve` starts);
  // returns the report it opened or was threaded into.
  mailgate(raw) {
    const { stdout, stderr } = cli(['mailgate', '--data', this.data], {}, { input: raw, both: true });
    const m = (stdout + stderr).match(/\b([RI]-\d{4}-\d{6})\b/);
    if (!m) throw new Error(`hikeshi mailgate named no report: ${stdout}${stderr}`);
    return m[1];
  }

  token(username) {
    return this.cli(['token', 'create', '--user', username]).trim();
  }

  // One API call with a bearer token; resolves to { status, headers, body (parsed when JSON) }.
  async api(method, path, token, body) {
    const r = await fetch(this.url + path, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: r.status, headers: r.headers, body: parsed };
  }

  // A GET with the path sent byte for byte (fetch would normalise "/../"), for traversal tests.
  rawGet(path) {
    return new Promise((resolvePromise, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolvePromise({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    if (this.sink && this.sink.exitCode === null) {
      const exited = new Promise((r) => this.sink.once('exit', r));
      this.sink.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}

// Debian's Chromium, headless, with everything that would reach the network switched off.
// playwright-core gives every launch a fresh temporary profile (user-data-dir).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// A page that records console errors, page errors and failed requests. `allow` lists patterns of
// errors a test expects (e.g. the 401 of a wrong password); anything else fails the test.
export async function openPage(browser, { lang = 'en' } = {}) {
  const context = await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // ERR_ABORTED is a request cut short by the test navigating away, not a failure of the page.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.setDefaultTimeout(15_000);
  // Requests in flight, without the live-update stream, which stays open for as long as the page
  // does (so Playwright's 'networkidle' never comes): waitForQuiet waits for these instead.
  const inFlight = new Set();
  const isStream = (r) => new URL(r.url()).pathname === '/api/v1/stream';
  page.on('request', (r) => !isStream(r) && inFlight.add(r));
  page.on('requestfinished', (r) => inFlight.delete(r));
  page.on('requestfailed', (r) => inFlight.delete(r));
  return {
    async waitForQuiet(quietMs = 400, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let quietSince = inFlight.size === 0 ? Date.now() : 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        if (inFlight.size > 0) quietSince = 0;
        else if (!quietSince) quietSince = Date.now();
        else if (Date.now() - quietSince >= quietMs) return;
      }
      throw new Error(`requests still in flight: ${[...inFlight].map((r) => r.url()).join(', ')}`);
    },
    context,
    page,
    errors,
    unexpectedErrors(allow = []) {
      return errors.filter((e) => !allow.some((a) => a.test(e)));
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export async function login(page, url, username, password) {
  await page.goto(url + '/login');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form[aria-labelledby="login-title"] button[type="submit"]').click();
}
