// The web UI in a real browser (Debian's Chromium, headless) against a real `hikeshi serve`:
// what a handler, a constituent and an outsider see and do. Screenshots of the key pages are saved
// under HIKESHI_SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ADMIN_PASSWORD,
  Hikeshi,
  launchBrowser,
  login,
  openPage,
  screenshot,
  USER_PASSWORD,
} from './harness.mjs';

const TEAM_TOML = `name = "Example University CSIRT"
mission = "We help the university's people handle security incidents."
constituency = "Staff and students of Example University (univ-a, univ-b)"
services = ["Incident handling", "Vulnerability coordination"]
pgp_fingerprint = "0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567"

[[contacts]]
kind = "email"
value = "csirt@example.ac.jp"
`;

// The wrong-password login answers 401, which Chromium logs as a failed resource load.
const WRONG_PASSWORD_401 = /Failed to load resource: the server responded with a status of 401.*\/api\/v1\/session/;
// A scoped user opening another constituency's incident by URL gets the API's 404.
const SCOPED_404 = /Failed to load resource: the server responded with a status of 404.*\/api\/v1\/incidents\//;

describe('web UI', () => {
  let hikeshi;
  let browser;
  let adminToken;
  let created; // the incident the handler creates through the UI

  before(async () => {
    hikeshi = await Hikeshi.start({ teamToml: TEAM_TOML });
    hikeshi.cli(['constituency', 'add', '--name', 'univ-a', '--cidr', '198.51.100.0/24', '--domain', 'univ-a.example']);
    hikeshi.cli(['constituency', 'add', '--name', 'univ-b', '--cidr', '203.0.113.0/24']);
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    hikeshi.addUser('carl', { role: 'constituent', constituencies: ['univ-b'] });
    adminToken = hikeshi.token('admin');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
  });

  test('every page carries the strict Content-Security-Policy and no path leaves the web root', async () => {
    const index = await hikeshi.rawGet('/');
    assert.equal(index.status, 200);
    assert.equal(
      index.headers['content-security-policy'],
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['referrer-policy'], 'no-referrer');
    assert.doesNotMatch(index.body, /<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|style=/, 'inline script or style in index.html');
    const asset = index.body.match(/src="(\/assets\/[^"]+\.js)"/)[1];
    const js = await hikeshi.rawGet(asset);
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type'], /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const route = await hikeshi.rawGet('/incidents/I-2026-000001');
    assert.equal(route.status, 200, 'an app route falls back to index.html');
    assert.equal(route.body, index.body);
    for (const path of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2f..%2fetc%2fpasswd', '/assets/%2e%2e/%2e%2e/hikeshi.db']) {
      const r = await hikeshi.rawGet(path);
      assert.ok(r.status === 404 || r.status === 400, `${path} answered ${r.status}`);
      assert.doesNotMatch(r.body, /root:|SQLite format/, path);
    }
  });

  test('login fails with a wrong password and succeeds with the right one', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await page.goto(hikeshi.url + '/');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Login failed/);
    await screenshot(page, 'login-failed');
    await page.getByLabel('Password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    assert.match(await page.locator('.user').innerText(), /Alice Handler/);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();
    assert.deepEqual(unexpectedErrors([WRONG_PASSWORD_401]), []);
    await context.close();
  });

  test('a handler creates an incident and finds it in the queue by a Japanese word', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.getByRole('link', { name: 'New incident' }).click();
    await page.getByLabel('Title').fill('経理部に届いたフィッシングメール');
    await page.getByLabel('Description').fill('偽の銀行サイトへ誘導するメールが 3 通届いた。');
    await page.getByLabel('Category').selectOption('Phishing');
    await page.getByLabel('Constituency').selectOption('univ-a');
    await page.getByLabel('Impact').selectOption('2');
    await page.getByLabel('Urgency').selectOption('2');
    await page.getByLabel('Observables').fill('198.51.100.23\nphish.univ-a.example');
    await screenshot(page, 'new-incident');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: '経理部に届いたフィッシングメール' }).waitFor();
    created = (await page.locator('.page-header .id').innerText()).trim();
    assert.match(created, /^I-\d{4}-\d{6}$/);
    // An unrelated incident, so that the search has something to leave out.
    const other = await hikeshi.api('POST', '/api/v1/incidents', adminToken, {
      title: 'Port scan from a student dormitory',
      category: 'Scan',
      constituency: 'univ-a',
    });
    assert.equal(other.status, 201);

    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByLabel('Full text (Japanese or English)').fill('経理');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=%E7%B5%8C%E7%90%86/);
    const rows = page.locator('table.queue tbody tr');
    // Wait for the searched page to replace the list (the row was there before the search too).
    await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
    assert.equal(await page.locator('table.queue tbody tr', { hasText: created }).count(), 1);
    assert.equal(await rows.count(), 1);
    await screenshot(page, 'queue-search-ja');
    // Keyboard: leave the search box, move with j/k and open with Enter.
    await page.keyboard.press('Escape');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '経理部に届いたフィッシングメール' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/incidents/${created}`);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the queue filters by priority and moves with the keyboard', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.locator('table.queue tbody tr').first().waitFor();
    assert.equal(await page.locator('table.queue tbody tr').count(), 2);
    await page.getByLabel('Priority').selectOption('P2');
    await page.waitForURL(/priority=P2/);
    // The filtered page replaces the list once its fetch returns: wait for that, not for a row
    // that was already there before the filter.
    await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
    assert.equal(await page.locator('table.queue tbody tr', { hasText: created }).count(), 1);
    await page.getByLabel('Priority').selectOption('');
    await page.waitForURL((u) => !u.search.includes('priority'));
    await page.locator('table.queue tbody tr').nth(1).waitFor();
    await page.locator('h1').click();
    assert.equal(await page.locator('tr.selected').count(), 1);
    const first = await page.locator('tr.selected td').first().innerText();
    await page.keyboard.press('ArrowDown');
    const second = await page.locator('tr.selected td').first().innerText();
    assert.notEqual(first, second);
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.locator('tr.selected td').first().innerText(), first);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a handler changes the status and sees it on the timeline, then pivots on an observable', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${created}`);
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    // The creation lists the observables by their values, not as JSON.
    await page.locator('.timeline ul.changes li', { hasText: 'observables: — → 198.51.100.23, phish.univ-a.example' }).waitFor();
    await page.getByLabel('Phase').selectOption('analysis');
    await page.getByLabel('Owner').selectOption('alice');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.locator('.timeline ul.changes li', { hasText: 'phase: triage → analysis' }).waitFor();
    await page.getByLabel('Status').selectOption('resolved');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('.timeline ul.changes li', { hasText: 'status: open → resolved' }).waitFor();
    assert.match(await page.locator('.badges').innerText(), /Resolved/);
    await screenshot(page, 'incident');

    await page.getByRole('link', { name: '198.51.100.23' }).click();
    await page.getByRole('heading', { name: 'Observable pivot' }).waitFor();
    await page.getByRole('table', { name: 'Incidents holding it' }).getByRole('link', { name: created }).waitFor();
    await screenshot(page, 'pivot');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test("a constituent never sees another constituency's incidents", async () => {
    const theirs = await hikeshi.api('POST', '/api/v1/incidents', adminToken, {
      title: 'Compromised web server in univ-b',
      category: 'Intrusion',
      constituency: 'univ-b',
      observables: [{ type: 'ipv4', value: '203.0.113.9' }],
    });
    assert.equal(theirs.status, 201);
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'carl', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.locator('table.queue tbody tr', { hasText: theirs.body.id }).waitFor();
    const text = await page.locator('table.queue').innerText();
    assert.doesNotMatch(text, new RegExp(created));
    assert.doesNotMatch(text, /Port scan from a student dormitory/);
    assert.equal(await page.locator('table.queue tbody tr').count(), 1);
    await screenshot(page, 'queue-constituent');
    // Not by search, not by URL, not by pivot.
    await page.getByLabel('Full text (Japanese or English)').fill('経理');
    await page.keyboard.press('Enter');
    await page.getByText('Nothing matches.').waitFor();
    await page.goto(`${hikeshi.url}/incidents/${created}`);
    await page.getByRole('alert').filter({ hasText: 'Not found, or outside your constituencies.' }).waitFor();
    await page.goto(`${hikeshi.url}/observables?value=198.51.100.23`);
    await page.getByRole('heading', { name: 'Incidents holding it' }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(created));
    assert.deepEqual(unexpectedErrors([SCOPED_404]), []);
    await context.close();
  });

  test('anyone can report through the public form and a handler sees the report in the queue', async () => {
    const outsider = await openPage(browser);
    await outsider.page.goto(hikeshi.url + '/public/report');
    await outsider.page.getByLabel('What kind of incident is it?').selectOption('Phishing');
    await outsider.page.getByLabel('What happened?').fill('銀行を名乗るメールが届きました。リンク先は http://bank-login.example.net/ です。');
    await outsider.page.getByLabel('Your e-mail address (optional)').fill('taro@example.org');
    await screenshot(outsider.page, 'public-report-form');
    await outsider.page.getByRole('button', { name: 'Send report' }).click();
    const tracking = (await outsider.page.locator('.tracking').innerText()).trim();
    assert.match(tracking, /^R-\d{4}-\d{6}$/);
    await screenshot(outsider.page, 'public-report-thanks');
    assert.deepEqual(outsider.unexpectedErrors(), []);
    await outsider.context.close();

    const stored = await hikeshi.api('GET', `/api/v1/reports/${tracking}`, adminToken);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.channel, 'web');
    assert.equal(stored.body.reporter, 'taro@example.org');
    assert.equal(stored.body.category, 'fraud/phishing');

    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { name: 'Report queue' }).waitFor();
    await page.getByRole('link', { name: tracking }).click();
    await page.getByRole('heading', { name: 'Raw' }).waitFor();
    assert.match(await page.locator('pre.raw').innerText(), /銀行を名乗るメール/);
    await screenshot(page, 'report');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a filled honeypot gets a tracking id but stores nothing', async () => {
    const before = await hikeshi.api('GET', '/api/v1/reports?limit=500', adminToken);
    const { page, context, unexpectedErrors } = await openPage(browser);
    await page.goto(hikeshi.url + '/public/report');
    await page.getByLabel('What happened?').fill('Buy cheap watches');
    await page.locator('#pr-website').fill('http://spam.example.com/', { force: true });
    await page.getByRole('button', { name: 'Send report' }).click();
    assert.match((await page.locator('.tracking').innerText()).trim(), /^R-\d{4}-\d{6}$/);
    const afterwards = await hikeshi.api('GET', '/api/v1/reports?limit=500', adminToken);
    assert.equal(afterwards.body.items.length, before.body.items.length);
    assert.match(hikeshi.stderr, /honeypot/);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the team page is generated from team.toml without login', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await page.goto(hikeshi.url + '/public/team');
    await page.getByRole('heading', { name: 'Example University CSIRT' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Vulnerability coordination/);
    await page.getByRole('link', { name: 'csirt@example.ac.jp' }).waitFor();
    await screenshot(page, 'public-team');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the language switches to Japanese and stays switched', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.getByRole('button', { name: 'Switch the language to Japanese' }).click();
    await page.getByRole('heading', { name: 'インシデント一覧' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
    await page.reload();
    await page.getByRole('heading', { name: 'インシデント一覧' }).waitFor();
    assert.ok(await page.getByLabel('全文検索（日本語・英語）').isVisible());
    await screenshot(page, 'queue-ja');
    await page.goto(`${hikeshi.url}/incidents/${created}`);
    await page.getByRole('heading', { name: 'タイムライン' }).waitFor();
    await screenshot(page, 'incident-ja');
    await page.getByRole('button', { name: '表示言語を英語に切り替える' }).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('every control on the main pages has an accessible name', async () => {
    const { page, context, unexpectedErrors, waitForQuiet } = await openPage(browser);
    await login(page, hikeshi.url, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    const paths = ['/incidents', '/reports', '/incidents/new', '/observables', '/constituencies', `/incidents/${created}`, '/public/report'];
    paths.push('/contacts', '/dashboard', '/settings', '/users', '/reports?status=new');
    const report = (await hikeshi.api('GET', '/api/v1/reports?limit=1', adminToken)).body.items[0];
    if (report) paths.push(`/reports/${report.id}`);
    for (const path of paths) {
      await page.goto(hikeshi.url + path);
      await page.locator('main h1').first().waitFor();
      await waitForQuiet();
      const unnamed = await page.evaluate(() => {
        const out = [];
        for (const el of document.querySelectorAll('input, select, textarea, button')) {
          if (el.closest('[aria-hidden="true"]')) continue;
          const labelled =
            (el.id && document.querySelector(`label[for="${el.id}"]`)) ||
            el.getAttribute('aria-label') ||
            el.getAttribute('aria-labelledby') ||
            (el.tagName === 'BUTTON' && el.textContent.trim());
          if (!labelled) out.push(el.outerHTML.slice(0, 80));
        }
        return out;
      });
      assert.deepEqual(unnamed, [], path);
    }
    // Admins create constituencies from the list page.
    await page.goto(hikeshi.url + '/constituencies');
    await page.getByLabel('Name').fill('univ-c');
    await page.getByLabel('Networks (CIDR, one per line)').fill('192.0.2.0/25');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Constituency univ-c created.' }).waitFor();
    await page.getByRole('cell', { name: '192.0.2.0/25' }).waitFor();
    await screenshot(page, 'constituencies');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the public form is rate limited per address', async () => {
    let limited = 0;
    for (let i = 0; i < 12 && limited === 0; ++i) {
      const r = await hikeshi.api('POST', '/api/v1/public/reports', null, { description: `report ${i}` });
      if (r.status === 429) limited = i + 1;
      else assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    assert.ok(limited > 0, 'no 429 after 12 submissions from one address');
    const r = await hikeshi.api('POST', '/api/v1/public/reports', null, { description: 'one more' });
    assert.equal(r.status, 429);
    assert.match(r.body.detail, /too many reports/);
  });
});
