// The feeds page in a real browser, against a real `hikeshi serve`: a handler sends a gzip-
// compressed Shadowserver report through the page; the run's counts come back at once, the run is
// listed, its reject shows the line, the reason and the raw row, and the reports it made are in
// the queue. A viewer sees the runs but cannot send a feed. A file far over the server's request
// size limit goes through the same form, read by the server as it arrives, and its run shows
// progress while it is sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { Hikeshi, launchBrowser, login, openPage, screenshot, USER_PASSWORD } from './harness.mjs';

const HEADER =
  '"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sector","rdp_protocol"';

describe('Feeds in the web UI', () => {
  let hikeshi;
  let browser;
  let dir;
  let file;
  let big;

  before(async () => {
    hikeshi = await Hikeshi.start();
    hikeshi.cli(['constituency', 'add', '--name', 'univ-a', '--cidr', '198.51.100.0/24']);
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    hikeshi.addUser('vic', { role: 'viewer', all: true });
    dir = mkdtempSync(join(tmpdir(), 'hikeshi-feeds-'));
    // Two exposed RDP servers of univ-a and one row with an impossible address (line 4).
    const csv = [
      HEADER,
      '"2026-11-26 00:12:44","medium","198.51.100.33","tcp",3389,"rdp33.univ-a.example","rdp",64500,"JP","TOKYO","CHIYODA",0,"","RDP"',
      '"2026-11-26 01:02:03","medium","198.51.100.34","tcp",3389,"","rdp",64500,"JP","OSAKA","OSAKA",0,"","RDP"',
      '"2026-11-26 02:00:00","medium","198.51.100.300","tcp",3389,"","rdp",64500,"JP","","",0,"","RDP"',
    ].join('\n');
    file = join(dir, '2026-11-26-scan_rdp-japan-geo.csv.gz');
    writeFileSync(file, gzipSync(Buffer.from(csv + '\n')));
    // 30,000 Suricata alerts from 20 scanners in univ-a (about 13 MB, uncompressed): twelve times the
    // server's default request size limit, and three of its 10,000-event batches.
    const lines = [];
    for (let i = 0; i < 30000; i++) {
      lines.push(
        JSON.stringify({
          timestamp: `2026-11-27T02:${String(i % 60).padStart(2, '0')}:00.000000+0000`,
          flow_id: 5000000 + i,
          event_type: 'alert',
          src_ip: `198.51.100.${100 + (i % 20)}`,
          src_port: 40000 + (i % 1000),
          dest_ip: '203.0.113.9',
          dest_port: 22,
          proto: 'TCP',
          alert: { action: 'allowed', gid: 1, signature_id: 2001219, rev: 20, signature: 'ET SCAN Potential SSH Scan', category: 'Attempted Information Leak', severity: 2 },
          payload_printable: 'x'.repeat(150),
        }),
      );
    }
    big = join(dir, 'sensor-7.eve.json');
    writeFileSync(big, lines.join('\n') + '\n');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a handler sends a compressed Shadowserver report and follows it to its reject and its reports', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Feeds' }).click();
    await page.getByRole('heading', { name: 'Feeds', level: 1 }).waitFor();
    await page.getByText('No feed has been ingested yet.').waitFor();

    await page.getByLabel('File', { exact: true }).setInputFiles(file);
    await page.getByLabel('Format').selectOption('shadowserver');
    assert.equal(await page.getByLabel('TLP of its reports').inputValue(), 'TLP:AMBER');
    await page.getByRole('button', { name: 'Ingest' }).click();
    await page
      .getByRole('status')
      .getByText('Run 1: 3 records: 2 stored, 0 duplicate, 1 rejected; reports 2 created, 0 updated.')
      .waitFor();
    const row = page.locator('table.queue tbody tr[data-run="1"]');
    await row.waitFor();
    assert.match(await row.innerText(), /shadowserver\s+2026-11-26-scan_rdp-japan-geo\.csv\.gz\s+Finished\s+3\s+2\s+0\s+1\s+2\s+0/);
    await screenshot(page, 'feeds-after-send');

    await row.getByRole('link', { name: '1' }).click();
    await page.getByRole('heading', { name: 'Feed run 1' }).waitFor();
    const reject = page.locator('table.rejects tbody tr');
    await reject.first().waitFor();
    assert.equal(await reject.count(), 1);
    const cells = reject.first().locator('td');
    assert.equal(await cells.nth(0).innerText(), '4');
    assert.match(await cells.nth(1).innerText(), /^line 4: column 'ip': '198\.51\.100\.300' is not an IPv4 address/);
    assert.match(await cells.nth(2).innerText(), /"198\.51\.100\.300","tcp",3389/);
    await screenshot(page, 'feeds-run-rejects');

    // The reports it made are univ-a's, named after the report type the file name gives.
    await page.goto(`${hikeshi.url}/reports`);
    for (const ip of ['198.51.100.33', '198.51.100.34']) {
      const report = page.locator('table.queue tbody tr', { hasText: `shadowserver: scan_rdp ${ip}` });
      await report.waitFor();
      assert.match(await report.innerText(), /univ-a/);
    }
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a viewer sees the runs but is not offered the form', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'vic', USER_PASSWORD);
    await page.getByRole('link', { name: 'Feeds' }).click();
    await page.locator('table.queue tbody tr[data-run="1"]').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Ingest a feed file' }).count(), 0);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });
  test('a feed file twelve times the request size limit goes through the form whole, its run showing progress', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Feeds' }).click();
    await page.getByRole('heading', { name: 'Feeds', level: 1 }).waitFor();
    await page.getByLabel('File', { exact: true }).setInputFiles(big);
    await page.getByLabel('Format').selectOption('suricata-eve');
    // A slow uplink (2 MB/s), so the upload lasts several seconds however fast the server is.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2_000_000 });
    await page.getByRole('button', { name: 'Ingest' }).click();
    // While the file is still being ingested, its run is listed as running, with what it has
    // committed so far.
    const row = page.locator('table.queue tbody tr[data-run="2"]');
    await row.filter({ hasText: 'Running' }).waitFor({ timeout: 60_000 });
    const during = await row.innerText();
    assert.match(during, /suricata-eve\s+sensor-7\.eve\.json\s+Running\s+(\d+)\s+(\d+)/);
    assert.ok(Number(during.match(/Running\s+(\d+)/)[1]) < 30000, during);
    await page
      .getByRole('status')
      .getByText('Run 2: 30000 records: 30000 stored, 0 duplicate, 0 rejected; reports 20 created, 0 updated.')
      .waitFor({ timeout: 120_000 });
    assert.match(await row.innerText(), /suricata-eve\s+sensor-7\.eve\.json\s+Finished\s+30000\s+30000\s+0\s+0\s+20\s+0/);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });
});
