// Reports that came by e-mail, in a real browser against a real `hikeshi serve`: the mail view of
// the report page (parsed beside raw, PGP status, acknowledgement, attachments as authenticated
// downloads), the mail of an incident, and the parse-failed and untriaged queues with their bulk
// actions. The messages are put in with `hikeshi mailgate` before the server starts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hikeshi, launchBrowser, login, openPage, screenshot, USER_PASSWORD } from './harness.mjs';

const PLAIN = `From: Taro Yamada <taro@univ-a.example>
To: csirt@example.ac.jp
Subject: Suspicious VPN logins from 198.51.100.77
Date: Tue, 03 Mar 2026 10:00:00 +0900
Message-ID: <plain-1@univ-a.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,
we saw logins to our VPN from 198.51.100.77 at 09:12 JST.
<script>window.injected = 1</script><b>not bold</b>
`;

const LOG_LINE = '203.0.113.5 - - [03/Mar/2026:10:58:00 +0900] "GET /wp-login.php" 404\n';
// Declared as a PDF; libmagic sees plain text. No PGP at all.
const WITH_ATTACHMENT = [
  'From: Hanako Suzuki <hanako@univ-b.example>',
  'To: csirt@example.ac.jp',
  'Subject: Web server log attached',
  'Date: Tue, 03 Mar 2026 11:00:00 +0900',
  'Message-ID: <att-1@univ-b.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Please find the access log of our web server attached.',
  '--b1',
  'Content-Type: application/pdf; name="access.log"',
  'Content-Disposition: attachment; filename="access.log"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from(LOG_LINE).toString('base64'),
  '--b1--',
  '',
].join('\r\n');

// Not a message at all: GMime finds nothing in it, so the report is flagged parse_failed and
// keeps the bytes as readable text.
const UNPARSABLE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe, 0x20, 0x62, 0x69, 0x6e]);

// A PGP/MIME signed message (RFC 3156) from a key made with the real gpg in a throw-away home;
// Hikeshi's keyring does not hold that key. Returns the message and the key's fingerprint.
function signedByUnknownKey() {
  const home = mkdtempSync(join(tmpdir(), 'hikeshi-gpg-'));
  const gpg = (args, input) => {
    const r = spawnSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, timeout: 60_000 });
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.toString();
  };
  try {
    gpg(['--quick-gen-key', 'Kenji Signer <kenji@univ-a.example>', 'ed25519', 'sign', 'never']);
    const fingerprint = gpg(['--with-colons', '--list-keys']).match(/^fpr:+([0-9A-F]{40}):/m)[1];
    const part = 'Content-Type: text/plain; charset=utf-8\r\n\r\nSigned report: port scans from 198.51.100.99.\r\n';
    const signature = gpg(['--armor', '--detach-sign', '--digest-algo', 'sha256'], part);
    const message = [
      'From: Kenji Signer <kenji@univ-a.example>',
      'To: csirt@example.ac.jp',
      'Subject: Signed report of port scans',
      'Message-ID: <signed-1@univ-a.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="s1"',
      '',
      '--s1',
      part + '--s1',
      'Content-Type: application/pgp-signature; name="signature.asc"',
      '',
      signature + '--s1--',
      '',
    ].join('\r\n');
    return { message, fingerprint };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('mail in the web UI', () => {
  let hikeshi;
  let browser;
  let adminToken;
  const ids = {};
  let signer;

  before(async () => {
    hikeshi = await Hikeshi.start({
      beforeServe: (h) => {
        ids.plain = h.mailgate(PLAIN);
        ids.attachment = h.mailgate(WITH_ATTACHMENT);
        ids.unparsable = h.mailgate(UNPARSABLE);
        signer = signedByUnknownKey();
        ids.signed = h.mailgate(signer.message);
      },
    });
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    adminToken = hikeshi.token('admin');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
  });

  test('mailgate stored four reports and flagged only the unparsable one', async () => {
    assert.equal(new Set(Object.values(ids)).size, 4);
    const r = await hikeshi.api('GET', '/api/v1/reports?flag=parse_failed', adminToken);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.items.map((i) => i.id),
      [ids.unparsable],
    );
  });

  test('the report page shows the message parsed beside its raw bytes, as text', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports/${ids.plain}`);
    await page.getByRole('heading', { name: 'Mail (2)' }).waitFor();
    const received = page.locator('article.mail').first();
    assert.match(await received.locator('.badges').innerText(), /Received: report/);
    const parsed = received.getByRole('region', { name: 'Parsed message' });
    const parsedText = await parsed.innerText();
    assert.match(parsedText, /Taro Yamada <taro@univ-a\.example>/);
    assert.match(parsedText, /plain-1@univ-a\.example/);
    assert.match(await parsed.getByLabel('Message text').innerText(), /we saw logins to our VPN from 198\.51\.100\.77/);
    const raw = received.getByRole('region', { name: 'Raw message' }).locator('pre.raw');
    await raw.filter({ hasText: 'Message-ID: <plain-1@univ-a.example>' }).waitFor();
    const rawText = await raw.innerText();
    assert.match(rawText, /^From: Taro Yamada <taro@univ-a\.example>$/m);
    assert.match(rawText, /^Content-Type: text\/plain; charset=utf-8$/m);
    // The markup in the message is text on the page, never elements.
    assert.match(rawText, /<script>window\.injected = 1<\/script><b>not bold<\/b>/);
    assert.equal(await page.locator('article.mail script, article.mail b').count(), 0);
    assert.equal(await page.evaluate(() => window.injected), undefined);
    // No PGP; the acknowledgement is queued and its outgoing message is listed too.
    assert.match(await received.locator('.pgp').innerText(), /Not encrypted[\s\S]*No signature\./);
    assert.equal(await received.locator('.ack-status').innerText(), 'Queued to be sent');
    const ack = page.locator('article.mail').nth(1);
    assert.match(await ack.locator('.badges').innerText(), /Sent: acknowledgement/);
    assert.match(await ack.locator('.ack-status').innerText(), /Waiting to be sent/);
    assert.match(await ack.getByRole('region', { name: 'Parsed message' }).innerText(), /taro@univ-a\.example/);
    await screenshot(page, 'report-mail');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a signature by a key Hikeshi does not hold shows as unknown key, with its fingerprint', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports/${ids.signed}`);
    const signature = page.locator('article.mail').first().locator('li.signature');
    await signature.waitFor();
    assert.equal(await signature.getAttribute('data-validity'), 'unknown-key');
    assert.equal(await signature.locator('.badge-sig').innerText(), 'Unknown key');
    assert.equal((await signature.locator('code.fpr').innerText()).replaceAll(' ', ''), signer.fingerprint);
    assert.match(await page.locator('article.mail').first().getByLabel('Message text').innerText(), /port scans from 198\.51\.100\.99/);
    await screenshot(page, 'report-mail-signed');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('attachments are listed with declared and detected type and download through the authenticated route', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports/${ids.attachment}`);
    const table = page.getByRole('table', { name: 'Attachments' }).first();
    await table.waitFor();
    const cells = await table.locator('tbody tr').first().locator('td').allInnerTexts();
    assert.equal(cells[0], 'access.log');
    assert.equal(cells[1], 'application/pdf');
    assert.match(cells[2], /^text\/plain differs from the declared type$/);
    assert.equal(cells[3], `${LOG_LINE.length} B`);
    await screenshot(page, 'report-mail-attachment');

    const link = table.getByRole('link', { name: 'Download access.log' });
    const href = await link.getAttribute('href');
    assert.match(href, new RegExp(`^/api/v1/reports/${ids.attachment}/mail/\\d+/attachments/[0-9a-f]{64}$`));
    // With the session cookie of the browser context: a download, never an inline page.
    const response = await context.request.get(hikeshi.url + href);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['content-disposition'], "attachment; filename*=UTF-8''access.log");
    assert.equal(response.headers()['content-type'], 'application/octet-stream');
    assert.equal(await response.text(), LOG_LINE);
    // Clicking the link downloads the file.
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'access.log');
    // Without a session the route answers 401, not the bytes.
    const anonymous = await fetch(hikeshi.url + href);
    assert.equal(anonymous.status, 401);
    // The raw message downloads the same way.
    const rawHref = await page.getByRole('link', { name: /^Download the raw message/ }).getAttribute('href');
    const rawResponse = await context.request.get(hikeshi.url + rawHref);
    assert.equal(rawResponse.status(), 200);
    assert.match(rawResponse.headers()['content-disposition'], /^attachment; /);
    assert.match(await rawResponse.text(), /Message-ID: <att-1@univ-b\.example>/);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the parse-failed queue shows exactly the unparsable report, with its reason', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { name: 'Report queue' }).waitFor();
    await page.getByRole('navigation', { name: 'Report views' }).getByRole('link', { name: 'Parse failed' }).click();
    await page.getByRole('heading', { name: 'Reports that could not be parsed' }).waitFor();
    assert.match(page.url(), /flag=parse_failed/);
    // Wait for the filtered page to replace the full list, which also held this report.
    await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
    assert.equal(await page.locator('table.queue tbody tr', { hasText: ids.unparsable }).count(), 1);
    await screenshot(page, 'queue-parse-failed');

    await page.getByRole('link', { name: ids.unparsable }).click();
    await page.getByRole('heading', { name: 'Mail (1)' }).waitFor();
    const mail = page.locator('article.mail').first();
    assert.match(await mail.locator('.badges').innerText(), /parse_failed/);
    assert.match(await mail.getByRole('note', { name: 'Problems' }).innerText(), /parse_failed: GMime found no message in the input/);
    assert.equal(await mail.locator('.ack-status').innerText(), 'Not sent: no usable sender address');
    await mail.getByRole('region', { name: 'Raw message' }).locator('pre.raw').filter({ hasText: /PNG[\s\S]*IHDR/ }).waitFor();
    await screenshot(page, 'report-parse-failed');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a bulk reject of two untriaged reports rejects both, selected by checkbox and by x', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports`);
    await page.getByRole('navigation', { name: 'Report views' }).getByRole('link', { name: 'Untriaged' }).click();
    await page.getByRole('heading', { name: 'Untriaged reports' }).waitFor();
    await page.locator('table.queue tbody tr', { hasText: ids.plain }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 4);
    // Select all, then none, with the header box.
    // (Preact renders after the event: wait for what the page shows rather than read it at once.)
    const count = (n) => page.locator('.selected-count', { hasText: new RegExp(`^${n} selected$`) }).waitFor();
    await page.getByLabel('Select all shown').check();
    await count(4);
    assert.equal(await page.locator('table.queue tbody input[type=checkbox]:checked').count(), 4);
    await page.getByLabel('Select all shown').uncheck();
    await count(0);
    // One by its checkbox, one with the keyboard: move onto its row and press x.
    await page.getByLabel(`Select ${ids.unparsable}`).check();
    await page.locator('h1').click();
    const rowIds = await page.locator('table.queue tbody tr td:nth-child(2)').allInnerTexts();
    const target = rowIds.indexOf(ids.plain);
    for (let i = 0; i < 4; ++i) await page.keyboard.press('k');
    for (let i = 0; i < target; ++i) await page.keyboard.press('j');
    await page.locator('tr.selected td:nth-child(2)', { hasText: ids.plain }).waitFor();
    await page.keyboard.press('x');
    await count(2);
    assert.ok(await page.getByLabel(`Select ${ids.plain}`).isChecked());
    assert.ok(await page.getByLabel(`Select ${ids.unparsable}`).isChecked());
    await page.getByLabel('Reject reason').selectOption('spam');
    await page.getByLabel('Comment').fill('bulk test');
    await page.getByRole('button', { name: 'Reject selected' }).click();
    await page.getByRole('status').filter({ hasText: '2 done.' }).waitFor();
    // The untriaged view now holds only the other two reports.
    await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
    const left = await page.locator('table.queue tbody tr td:nth-child(2)').allInnerTexts();
    assert.deepEqual(left.sort(), [ids.attachment, ids.signed].sort());
    for (const id of [ids.plain, ids.unparsable]) {
      const r = await hikeshi.api('GET', `/api/v1/reports/${id}`, adminToken);
      assert.equal(r.body.status, 'rejected', id);
      assert.equal(r.body.reject_reason, 'spam', id);
      assert.equal(r.body.reject_comment, 'bulk test', id);
    }
    await page.getByRole('navigation', { name: 'Report views' }).getByRole('link', { name: 'All reports' }).click();
    await page.getByRole('heading', { name: 'Report queue' }).waitFor();
    for (const id of [ids.plain, ids.unparsable]) {
      await page.locator('table.queue tbody tr', { hasText: id }).getByText('Rejected').waitFor();
    }
    await screenshot(page, 'queue-bulk-rejected');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a bulk link reports each failure with its report and reason', async () => {
    const incident = await hikeshi.api('POST', '/api/v1/incidents', adminToken, { title: 'Web server compromise at univ-b', category: 'Intrusion' });
    assert.equal(incident.status, 201);
    const { page, context, unexpectedErrors } = await openPage(browser, {});
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports`);
    await page.locator('table.queue tbody tr', { hasText: ids.attachment }).waitFor();
    await page.getByLabel(`Select ${ids.attachment}`).check();
    await page.getByLabel(`Select ${ids.plain}`).check(); // already rejected: cannot be linked
    await page.getByLabel('Incident').fill(incident.body.id);
    await page.getByRole('button', { name: 'Link selected' }).click();
    const alert = page.getByRole('alert').filter({ hasText: '1 done, 1 failed:' });
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`${ids.plain}: report ${ids.plain} is already rejected`));
    const linked = await hikeshi.api('GET', `/api/v1/reports/${ids.attachment}`, adminToken);
    assert.equal(linked.body.status, 'linked');
    assert.equal(linked.body.incident, incident.body.id);
    await screenshot(page, 'queue-bulk-failure');
    assert.deepEqual(
      unexpectedErrors([/Failed to load resource: the server responded with a status of 409.*\/api\/v1\/reports\/.*\/link/]),
      [],
    );
    await context.close();
  });

  test('a reply threaded into an incident shows in the incident page mail', async () => {
    const incident = await hikeshi.api('POST', '/api/v1/incidents', adminToken, { title: 'Phishing wave', category: 'Phishing' });
    const reply = [
      'From: Hanako Suzuki <hanako@univ-b.example>',
      'To: csirt@example.ac.jp',
      `Subject: Re: [Hikeshi ${incident.body.id}] Phishing wave`,
      'Message-ID: <reply-1@univ-b.example>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '続報です。同じ送信元から 5 通届きました。',
      '',
    ].join('\r\n');
    const posted = await fetch(hikeshi.url + '/api/v1/mail', {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'message/rfc822' },
      body: reply,
    });
    assert.equal(posted.status, 201, await posted.text());
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${incident.body.id}`);
    await page.getByRole('heading', { name: 'Mail (1)' }).waitFor();
    const mail = page.locator('article.mail').first();
    assert.match(await mail.locator('.badges').innerText(), /Received: reply/);
    assert.match(await mail.getByLabel('Message text').innerText(), /同じ送信元から 5 通届きました/);
    await mail.getByRole('region', { name: 'Raw message' }).locator('pre.raw').filter({ hasText: 'Message-ID: <reply-1@univ-b.example>' }).waitFor();
    assert.equal(await mail.locator('.ack-status').innerText(), 'None (a reply is not acknowledged)');
    await screenshot(page, 'incident-mail');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });
});
