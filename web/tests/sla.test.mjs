// The SLA filter of the incident queue in a real browser, against a real `hikeshi serve` whose P4
// first-response target is one second and which checks for breaches every second: the P4
// incident that nobody responded to is listed as breached, with the clock named, and the P1 one
// (four hours) is not.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hikeshi, launchBrowser, login, openPage, screenshot, USER_PASSWORD } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('SLA breaches in the web UI', () => {
  let hikeshi;
  let browser;
  let token;

  before(async () => {
    hikeshi = await Hikeshi.start({
      beforeServe: (h) =>
        appendFileSync(join(h.data, 'hikeshi.toml'), '\n[sla]\ncheck_interval_seconds = 1\n\n[sla.P4]\nfirst-response = "1s"\n'),
    });
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    token = hikeshi.token('admin');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
  });

  test('the queue filtered to breached incidents shows the one past its target, with the clock', async () => {
    const slow = await hikeshi.api('POST', '/api/v1/incidents', token, { title: 'Old spam complaint', category: 'Spam', impact: 4, urgency: 4 });
    assert.equal(slow.status, 201, JSON.stringify(slow.body));
    assert.equal(slow.body.priority, 'P4');
    const urgent = await hikeshi.api('POST', '/api/v1/incidents', token, { title: 'Ransomware on a file server', category: 'Virus', impact: 1, urgency: 1 });
    assert.equal(urgent.status, 201, JSON.stringify(urgent.body));
    assert.equal(urgent.body.priority, 'P1');
    // The server records the breach at its next check, a second or two later.
    const deadline = Date.now() + 20_000;
    let breaches = [];
    while (Date.now() < deadline && breaches.length === 0) {
      await sleep(250);
      breaches = (await hikeshi.api('GET', `/api/v1/sla/breaches?incident=${slow.body.id}`, token)).body.items;
    }
    assert.equal(breaches.length, 1, 'the first-response breach was recorded');
    assert.equal(breaches[0].clock, 'first-response');

    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.locator('table.queue tbody tr', { hasText: urgent.body.id }).waitFor();
    await page.getByLabel('SLA').selectOption('breached');
    await page.waitForURL(/sla=breached/);
    const row = page.locator('table.queue tbody tr', { hasText: slow.body.id });
    await row.waitFor();
    await row.getByText('SLA breached: First response').waitFor();
    assert.equal(await page.locator('table.queue tbody tr', { hasText: urgent.body.id }).count(), 0, 'P1 is within its target');
    await screenshot(page, 'queue-sla-breached');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });
});
