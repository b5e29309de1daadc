// The response loop in a real browser against a real `hikeshi serve` whose outgoing mail goes to a
// loopback SMTP sink: a queue that updates live from another handler's browser, triage of a report
// into a new incident (and the rule that decided another), tasks, plan and countermeasures, an
// investigation mailed encrypted to a contact's key (and one refused by the TLP rule), resolving,
// an APT incident's eradication decision, the post-incident review, splitting a report off into a new incident and merging it back,
// the dashboard's counts, and a constituent who never sees another constituency's data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hikeshi, launchBrowser, login, openPage, screenshot, USER_PASSWORD } from './harness.mjs';

// A contact's key pair made with the real gpg in a throw-away home: the armoured public key and its
// fingerprint.
function contactKey(uid) {
  const home = mkdtempSync(join(tmpdir(), 'hikeshi-gpg-'));
  const gpg = (args) => {
    const r = spawnSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { timeout: 60_000 });
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.toString();
  };
  try {
    gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const fingerprint = gpg(['--with-colons', '--list-keys']).match(/^fpr:+([0-9A-F]{40}):/m)[1];
    gpg(['--quick-add-key', fingerprint, 'cv25519', 'encr', 'never']);
    return { fingerprint, armored: gpg(['--armor', '--export', fingerprint]) };
  } finally {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    rmSync(home, { recursive: true, force: true });
  }
}

const grouped = (fpr) => fpr.replace(/(.{4})(?=.)/g, '$1 ');

const PLAYBOOK = {
  category: 'fraud/phishing',
  title: { ja: 'フィッシングサイト対応', en: 'Phishing site response' },
  tasks: [{ title: { ja: 'サイトの稼働を確認する', en: 'Check whether the site is live' }, role: 'handler', due_hours: 4 }],
  templates: [
    { name: 'takedown-request', language: 'en', subject: 'Takedown request for {{incident}}', body: 'Dear {{reporter}},\nplease take down the phishing site of {{title}}.\n-- {{handler}}' },
  ],
};

describe('the response loop in the web UI', () => {
  let hikeshi;
  let browser;
  let token;
  let phishing; // the incident the default phishing rule opened from a report
  let phishingReport;
  let playbookRevision; // "phishing@N"

  before(async () => {
    hikeshi = await Hikeshi.start({ smtpSink: true });
    hikeshi.cli(['constituency', 'add', '--name', 'univ-a', '--cidr', '198.51.100.0/24', '--domain', 'univ-a.example']);
    hikeshi.cli(['constituency', 'add', '--name', 'univ-b', '--cidr', '203.0.113.0/24']);
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    hikeshi.addUser('bob', { role: 'handler', all: true, displayName: 'Bob Handler' });
    hikeshi.addUser('carl', { role: 'constituent', constituencies: ['univ-b'] });
    token = hikeshi.token('admin');
    const playbook = await hikeshi.api('PUT', '/api/v1/playbooks/phishing', token, PLAYBOOK);
    // init installs a phishing playbook: ours is its next version.
    assert.ok(playbook.status === 200 || playbook.status === 201, JSON.stringify(playbook.body));
    playbookRevision = playbook.body.revision;
    // "phishing" in the text: the default rule set's rule "phishing" opens a P2 incident.
    const report = await hikeshi.api('POST', '/api/v1/reports', token, {
      channel: 'phone',
      reporter: 'taro@univ-a.example',
      subject: 'Phishing site imitating the univ-a webmail',
      body: 'A phishing page at http://webmail-univ-a.example.net/ asks for passwords; seen on 198.51.100.40.',
      observables: [{ type: 'ipv4', value: '198.51.100.40' }],
    });
    assert.equal(report.status, 201, JSON.stringify(report.body));
    phishingReport = report.body.id;
    const triaged = await hikeshi.api('GET', `/api/v1/reports/${phishingReport}`, token);
    assert.equal(triaged.body.status, 'linked', 'the phishing rule opened an incident');
    phishing = triaged.body.incident;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
  });

  test('an incident created in one browser appears live in the queue of another', async () => {
    const watcher = await openPage(browser);
    await login(watcher.page, hikeshi.url, 'alice', USER_PASSWORD);
    await watcher.page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await watcher.page.locator('table.queue tbody tr').first().waitFor();
    // Marks this document: a reload would lose it.
    await watcher.page.evaluate(() => (window.__notReloaded = true));

    const actor = await openPage(browser);
    await login(actor.page, hikeshi.url, 'bob', USER_PASSWORD);
    await actor.page.getByRole('link', { name: 'New incident' }).click();
    await actor.page.getByLabel('Title').fill('Live: ransomware note on a lab PC');
    await actor.page.getByLabel('Category').selectOption('Virus');
    await actor.page.getByLabel('Constituency').selectOption('univ-a');
    await actor.page.getByRole('button', { name: 'Create' }).click();
    await actor.page.getByRole('heading', { name: 'Live: ransomware note on a lab PC' }).waitFor();
    const id = (await actor.page.locator('.page-header .id').innerText()).trim();

    const row = watcher.page.locator('table.queue tbody tr', { hasText: id });
    await row.waitFor({ timeout: 10_000 });
    assert.match(await row.innerText(), /Live: ransomware note on a lab PC/);
    assert.equal(await watcher.page.evaluate(() => window.__notReloaded), true, 'the queue updated without a reload');
    await watcher.page.locator('.live-at').waitFor();
    // And a change of status, too: bob resolves it, alice's row says so.
    await actor.page.getByLabel('Status').selectOption('resolved');
    await actor.page.getByRole('button', { name: 'Save', exact: true }).click();
    await row.getByText('Resolved').waitFor({ timeout: 10_000 });
    await screenshot(watcher.page, 'queue-live');
    assert.deepEqual(watcher.unexpectedErrors(), []);
    assert.deepEqual(actor.unexpectedErrors(), []);
    await watcher.context.close();
    await actor.context.close();
  });

  test('a handler triages a report into a new incident from the keyboard', async () => {
    const report = await hikeshi.api('POST', '/api/v1/reports', token, {
      channel: 'phone',
      reporter: 'lab@univ-a.example',
      subject: 'Outbound scanning from 198.51.100.77',
      body: 'Our firewall saw 198.51.100.77 scanning port 22 across the Internet.',
      observables: [{ type: 'ipv4', value: '198.51.100.77' }],
    });
    assert.equal(report.status, 201);
    assert.equal(report.body.status, 'new', 'no rule decides this one');
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('navigation', { name: 'Report views' }).getByRole('link', { name: 'Untriaged' }).click();
    await page.locator('table.queue tbody tr', { hasText: report.body.id }).waitFor();
    // In the queue: move onto the report with j/k and open it with Enter.
    await page.locator('h1').click();
    const ids = await page.locator('table.queue tbody tr td:nth-child(2)').allInnerTexts();
    for (let i = 0; i < ids.indexOf(report.body.id); ++i) await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Outbound scanning from 198.51.100.77' }).waitFor();
    await page.getByRole('heading', { name: 'Triage', exact: true }).waitFor();
    // The decision is fetched after the page: wait for it rather than read the section too early.
    await page.locator('section.triage').getByText('Not triaged').waitFor();
    await screenshot(page, 'report-untriaged');
    // n: to the "create an incident" button; Enter presses it.
    await page.keyboard.press('n');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Create incident from this report');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Outbound scanning from 198.51.100.77' }).waitFor();
    await page.waitForURL(/\/incidents\/I-\d{4}-\d{6}$/);
    const incident = new URL(page.url()).pathname.split('/').pop();
    const linked = await hikeshi.api('GET', `/api/v1/reports/${report.body.id}`, token);
    assert.equal(linked.body.status, 'linked');
    assert.equal(linked.body.incident, incident);
    await page.getByRole('heading', { name: 'Linked reports' }).waitFor();
    await page.getByRole('link', { name: report.body.id }).waitFor();
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('the report page names the rule and version that triaged it, and an override needs a reason', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/reports/${phishingReport}`);
    const triage = page.locator('section.triage');
    await triage.getByText('Triaged by the rules').waitFor();
    assert.equal(await triage.locator('.triage-rule').innerText(), 'phishing');
    assert.match(await triage.innerText(), /Rule set\s+v1\b/);
    assert.match(await triage.innerText(), /P2 \(2 × 2\)/);
    await triage.getByRole('link', { name: phishing }).waitFor();
    // t: to the override form.
    await page.locator('h1').click();
    await page.keyboard.press('t');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'ov-category');
    await page.getByLabel('Urgency').selectOption('1');
    await page.getByLabel('Reason (required)').fill('the fake site is already collecting passwords');
    await page.getByRole('button', { name: 'Override', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Triage overridden.' }).waitFor();
    await triage.getByText('Overridden by a handler').waitFor();
    assert.match(await triage.locator('.overrides').innerText(), /alice · the fake site is already collecting passwords/);
    assert.match(await triage.locator('.overrides').innerText(), /urgency: 2 → 1/);
    await screenshot(page, 'report-triage');
    const after = await hikeshi.api('GET', `/api/v1/incidents/${phishing}`, token);
    assert.equal(after.body.urgency, 1);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a handler adds a task and ticks it off; the playbook task is there', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    const tasks = page.locator('section.tasks');
    await tasks.getByText('Check whether the site is live').waitFor();
    await tasks.getByLabel('New task').fill('Collect the proxy logs of the last week');
    await tasks.getByLabel('Assignee', { exact: true }).selectOption('alice');
    await tasks.getByRole('button', { name: 'Add task' }).click();
    const box = tasks.getByRole('checkbox', { name: 'Collect the proxy logs of the last week' });
    await box.waitFor();
    assert.equal(await box.isChecked(), false);
    await box.check();
    await tasks.locator('li.done', { hasText: 'Collect the proxy logs of the last week' }).waitFor();
    await tasks.getByText(/done by alice/).waitFor();
    const stored = await hikeshi.api('GET', `/api/v1/incidents/${phishing}/tasks`, token);
    const task = stored.body.items.find((x) => x.title === 'Collect the proxy logs of the last week');
    assert.equal(task.done, true);
    assert.equal(task.assignee, 'alice');
    assert.equal(task.done_by, 'alice');
    await page.locator('.timeline').getByText('task.done', { exact: false }).first().waitFor();
    await screenshot(page, 'incident-tasks');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('an investigation mail goes out encrypted to the contact, and the TLP rule refuses a clear one', async () => {
    const key = contactKey('Hosting Abuse <abuse@hosting.example>');
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: 'Contacts', exact: true }).waitFor();
    await page.getByLabel('Name').fill('Hosting Abuse');
    await page.getByLabel('E-mail').fill('abuse@hosting.example');
    await page.getByLabel('Organisation').fill('Hosting Example KK');
    await page.getByLabel('Kind').selectOption('hosting');
    await page.getByLabel('TLP clearance').selectOption('TLP:GREEN');
    await page.getByLabel('PGP public key (ASCII armour, optional)').fill(key.armored);
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.getByRole('status').filter({ hasText: `Contact Hosting Abuse added with key ${grouped(key.fingerprint)}.` }).waitFor();
    await page.getByLabel('Name').fill('ISP NOC');
    await page.getByLabel('E-mail').fill('noc@isp.example');
    await page.getByLabel('Kind').selectOption('isp');
    await page.getByLabel('TLP clearance').selectOption('TLP:GREEN');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.getByRole('status').filter({ hasText: 'Contact ISP NOC added.' }).waitFor();
    const row = page.locator('table.queue tbody tr', { hasText: 'abuse@hosting.example' });
    assert.match(await row.innerText(), new RegExp(grouped(key.fingerprint)));
    assert.match(await row.innerText(), /TLP:GREEN/);
    await screenshot(page, 'contacts');

    const contacts = (await hikeshi.api('GET', '/api/v1/contacts', token)).body.items;
    const contactId = (email) => String(contacts.find((c) => c.email === email).id);
    assert.equal(contacts.find((c) => c.email === 'abuse@hosting.example').pgp_fingerprint, key.fingerprint);
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    const section = page.locator('section.investigations');
    await section.getByLabel('Contact').selectOption(contactId('abuse@hosting.example'));
    await section.getByLabel('Title').fill('Takedown of the fake webmail');
    await section.getByRole('button', { name: 'Open investigation' }).click();
    const thread = section.locator('article.investigation');
    await thread.getByRole('heading', { name: /Takedown of the fake webmail/ }).waitFor();
    await thread.getByLabel('Template').selectOption(`${playbookRevision}/takedown-request/en`);
    assert.equal(await thread.getByLabel('Subject').inputValue(), `Takedown request for ${phishing}`);
    assert.match(await thread.getByLabel('Text').inputValue(), /^Dear taro@univ-a\.example,\nplease take down the phishing site of Phishing site imitating/);
    assert.match(await thread.getByLabel('Text').inputValue(), /-- Alice Handler$/);
    await thread.getByLabel('TLP of the message').selectOption('TLP:AMBER');
    const status = thread.locator('.encryption');
    assert.equal(await status.getAttribute('data-encryption'), 'pgp');
    assert.equal(await status.innerText(), `Will be encrypted to ${grouped(key.fingerprint)} and signed with the team key.`);
    await screenshot(page, 'investigation-composer');
    await thread.getByRole('button', { name: 'Send' }).click();
    await thread.getByRole('status').filter({ hasText: 'Queued for sending.' }).waitFor();
    const sent = await hikeshi.waitForMail((m) => /RCPT TO:<abuse@hosting\.example>/.test(m.envelope));
    const unfolded = sent.raw.replace(/\r\n[ \t]+/g, ' ');
    assert.match(unfolded, new RegExp(`^Subject: \\[Hikeshi ${phishing} V-\\d{4}-\\d{6}\\] Takedown request for ${phishing}\r$`, 'm'));
    assert.match(sent.raw, /multipart\/encrypted/);
    assert.doesNotMatch(sent.raw, /please take down the phishing site/, 'the text is not in clear');
    // The thread shows the sent message; its state is now waiting.
    await thread.locator('ol.thread li').first().waitFor();
    await section.locator('table.queue tbody tr', { hasText: 'Takedown of the fake webmail' }).getByText('Waiting for reply').waitFor({ timeout: 10_000 });

    // No key, cleared for GREEN: AMBER is refused before sending, GREEN goes out in clear.
    await section.getByLabel('Contact').selectOption(contactId('noc@isp.example'));
    await section.getByLabel('Title').fill('Which customer had 198.51.100.40?');
    await section.getByRole('button', { name: 'Open investigation' }).click();
    const second = section.locator('article.investigation', { hasText: 'Which customer had 198.51.100.40?' });
    await second.getByLabel('Subject').fill('Customer behind 198.51.100.40');
    await second.getByLabel('Text').fill('Please tell us which customer used 198.51.100.40 on 27 November.');
    await second.getByLabel('TLP of the message').selectOption('TLP:AMBER');
    const refusal = second.getByRole('alert').filter({ hasText: 'Cannot be sent: TLP:AMBER is above the contact’s clearance (TLP:GREEN)' });
    await refusal.waitFor();
    assert.equal(await second.getByRole('button', { name: 'Send' }).isDisabled(), true);
    await screenshot(page, 'investigation-refused');
    await second.getByLabel('TLP of the message').selectOption('TLP:GREEN');
    assert.equal(await second.locator('.encryption').getAttribute('data-encryption'), 'clear');
    await second.getByRole('button', { name: 'Send' }).click();
    await second.getByRole('status').filter({ hasText: 'Queued for sending.' }).waitFor();
    const clear = await hikeshi.waitForMail((m) => /RCPT TO:<noc@isp\.example>/.test(m.envelope));
    assert.match(clear.raw, /Please tell us which customer used 198\.51\.100\.40/);
    assert.match(clear.raw, /TLP:GREEN/);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a handler edits a contact: clearance, trust and who introduced it', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: 'Contacts', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit ISP NOC' }).click();
    const editor = page.locator('form[aria-labelledby="contacts-edit"]');
    await editor.getByRole('heading', { name: 'Edit contact ISP NOC' }).waitFor();
    await editor.getByLabel('Organisation').fill('Example ISP');
    await editor.getByLabel('TLP clearance').selectOption('TLP:AMBER');
    await editor.getByLabel('Trust').selectOption('introduced');
    await editor.getByLabel('Introduced by').selectOption({ label: 'Hosting Abuse (Hosting Example KK)' });
    await editor.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Contact ISP NOC updated.' }).waitFor();
    assert.equal(await editor.count(), 0, 'the editor closes');
    const row = page.locator('table.queue tbody tr', { hasText: 'noc@isp.example' });
    await row.getByText('introduced by Hosting Abuse').waitFor();
    assert.match(await row.innerText(), /TLP:AMBER/);
    assert.match(await row.innerText(), /Example ISP/);
    const contacts = (await hikeshi.api('GET', '/api/v1/contacts', token)).body.items;
    const noc = contacts.find((c) => c.email === 'noc@isp.example');
    const hosting = contacts.find((c) => c.email === 'abuse@hosting.example');
    assert.equal(noc.tlp_clearance, 'TLP:AMBER');
    assert.equal(noc.trust, 'introduced');
    assert.equal(noc.introduced_by, hosting.id);
    assert.equal(noc.organisation, 'Example ISP');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a handler writes the plan, applies a countermeasure and resolves the incident', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    await page.getByLabel('Plan', { exact: true }).fill('Block the site at the proxy, ask the host to take it down, warn the staff.');
    await page.getByRole('button', { name: 'Save the plan' }).click();
    await page.getByRole('status').filter({ hasText: 'Plan saved.' }).waitFor();
    await page.getByText('History (1 revisions)').waitFor();
    const cm = page.locator('section.countermeasures');
    await cm.getByLabel('Kind').selectOption('block-domain');
    await cm.getByLabel('Target').fill('webmail-univ-a.example.net');
    await cm.getByLabel('Where applied').fill('proxy px1');
    await cm.getByRole('button', { name: 'Add countermeasure' }).click();
    const cmRow = cm.locator('tbody tr', { hasText: 'webmail-univ-a.example.net' });
    await cmRow.getByText('Pending').waitFor();
    await cmRow.getByRole('button', { name: /as Active$/ }).click();
    await cmRow.getByText('Active', { exact: true }).waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('resolved');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('.badges').getByText('Resolved').waitFor();
    await page.locator('.timeline ul.changes li', { hasText: 'status: open → resolved' }).waitFor();
    await screenshot(page, 'incident-resolved');
    const stored = await hikeshi.api('GET', `/api/v1/incidents/${phishing}`, token);
    assert.equal(stored.body.status, 'resolved');
    const measures = await hikeshi.api('GET', `/api/v1/incidents/${phishing}/countermeasures`, token);
    assert.equal(measures.body.items[0].state, 'active');
    assert.equal(measures.body.items[0].where, 'proxy px1');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('on an APT incident a handler records the eradication decision, then revises it with the history kept', async () => {
    const apt = await hikeshi.api('POST', '/api/v1/incidents', token, {
      title: 'Long-term intrusion into the research network',
      category: 'APT',
      constituency: 'univ-a',
    });
    assert.equal(apt.status, 201, JSON.stringify(apt.body));
    assert.equal(apt.body.apt, true);
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${apt.body.id}`);
    const section = page.locator('.apt');
    await section.getByText('Not decided yet.').waitFor();
    await section.getByLabel('Scope first').check();
    await section.getByLabel('Rationale').fill('Three hosts known so far; find the rest before the attacker notices.');
    await section.getByRole('button', { name: 'Record the decision' }).click();
    await page.getByRole('status').filter({ hasText: 'Decision recorded.' }).waitFor();
    await section.locator('.apt-current[data-decision="scope-first"]').getByText(/decided by alice at /).waitFor();

    await section.getByLabel('Eradicate now').check();
    await section.getByLabel('Rationale').fill('Exfiltration to 203.0.113.200 started: cut it off now.');
    await section.getByRole('button', { name: 'Record the decision' }).click();
    await section.locator('.apt-current[data-decision="eradicate-now"]').waitFor();
    // Both decisions reach the timeline through the live updates, without a reload: the first made
    // the incident's plan, the second amended it.
    await page.locator('.timeline ol > li', { hasText: 'plan.create' }).waitFor();
    await page.locator('.timeline ol > li', { hasText: 'plan.apt-decision' }).waitFor();
    await section.getByText('Earlier decisions (2)').click();
    assert.match(await section.locator('details.history').innerText(), /Scope first: Three hosts known so far/);
    const plan = await hikeshi.api('GET', `/api/v1/incidents/${apt.body.id}/plan`, token);
    assert.equal(plan.body.apt_decision.decision, 'eradicate-now');
    assert.equal(plan.body.decisions.length, 2);
    await screenshot(page, 'incident-apt');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a handler writes the post-incident review with the playbook revision it prompted; an unknown one is refused', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    const review = page.locator('section.review');
    await review.getByText('No review written yet.').waitFor();
    await review.getByLabel('Root cause').fill('Staff entered passwords on a look-alike webmail page.');
    await review.getByLabel('Actions taken').fill('Site blocked at the proxy and taken down by the host.');
    await review.getByLabel('Lessons learned').fill('Warn staff within the hour; add the proxy block to the playbook.');
    await review.getByLabel('Playbook revision it prompted').fill(playbookRevision);
    await review.getByRole('button', { name: 'Save the review' }).click();
    await review.getByText(/^Last written by alice at /).waitFor();
    const stored = await hikeshi.api('GET', `/api/v1/incidents/${phishing}/review`, token);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.root_cause, 'Staff entered passwords on a look-alike webmail page.');
    assert.equal(stored.body.lessons_learned, 'Warn staff within the hour; add the proxy block to the playbook.');
    assert.equal(stored.body.playbook_revision, playbookRevision);

    // A revision that was never stored: refused with the reason, and the review stays as it was.
    await review.getByLabel('Playbook revision it prompted').fill('phishing@999');
    await review.getByLabel('Root cause').fill('changed');
    await review.getByRole('button', { name: 'Save the review' }).click();
    await review.getByRole('alert').waitFor();
    assert.match(await review.getByRole('alert').innerText(), /phishing@999/);
    const kept = await hikeshi.api('GET', `/api/v1/incidents/${phishing}/review`, token);
    assert.equal(kept.body.root_cause, 'Staff entered passwords on a look-alike webmail page.');
    assert.equal(kept.body.playbook_revision, playbookRevision);
    await screenshot(page, 'incident-review');
    // The refused save is the one 400 the browser logs.
    assert.deepEqual(unexpectedErrors([/status of 400 .*\/review$/]), []);
    await context.close();
  });

  test('the dashboard shows the counts, with CSV for each chart', async () => {
    const all = await hikeshi.api('GET', '/api/v1/incidents?limit=500', token);
    const total = all.body.items.length;
    const open = all.body.items.filter((i) => i.status === 'open');
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.locator('[data-kpi="incidents"]').waitFor();
    assert.equal(Number(await page.locator('[data-kpi="incidents"]').innerText()), total);
    assert.equal(Number(await page.locator('[data-kpi="open"]').innerText()), open.length);
    for (const p of ['P1', 'P2', 'P3', 'P4']) {
      const n = open.filter((i) => i.priority === p).length;
      const bar = page.locator('[data-chart="chart-priority"] svg g.bar', { hasText: p });
      assert.equal(await bar.locator('.value-label').textContent(), String(n), p);
    }
    const columns = await page.locator('[data-chart="chart-categories"] .column .value-label').allTextContents();
    assert.equal(columns.map(Number).reduce((a, b) => a + b, 0), total);
    for (const chart of ['chart-categories', 'chart-priority', 'chart-sla', 'chart-times', 'chart-channels']) {
      const href = await page.locator(`[data-chart="${chart}"] a.csv`).getAttribute('href');
      const csv = await page.evaluate((h) => fetch(h).then((r) => r.text()), href);
      assert.ok(csv.split('\r\n').length > 1, `${chart}: ${csv}`);
    }
    const priorityCsv = await page.evaluate(
      (h) => fetch(h).then((r) => r.text()),
      await page.locator('[data-chart="chart-priority"] a.csv').getAttribute('href'),
    );
    assert.match(priorityCsv, /^priority,open_incidents\r\n/);
    await page.getByLabel('Period').selectOption('week');
    await page.waitForURL(/period=week/);
    await page.getByRole('heading', { name: 'Incidents per category per week' }).waitFor();
    await page.locator('[data-chart="chart-categories"] svg text', { hasText: /^\d{4}-W\d{2}$/ }).first().waitFor();
    assert.equal(Number(await page.locator('[data-kpi="incidents"]').innerText()), total);
    await screenshot(page, 'dashboard');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  // After the dashboard's test: the dashboard leaves merged incidents out of its counts, and that test
  // compares them with every incident there is.
  test('a handler splits a report off into a new incident, then merges it back', async () => {
    const incident = await hikeshi.api('POST', '/api/v1/incidents', token, {
      title: 'Defacements on two univ-a web servers',
      category: 'Intrusion',
      constituency: 'univ-a',
    });
    assert.equal(incident.status, 201, JSON.stringify(incident.body));
    const original = incident.body.id;
    const reports = [];
    for (const host of ['198.51.100.81', '198.51.100.82']) {
      const r = await hikeshi.api('POST', '/api/v1/reports', token, {
        channel: 'phone',
        reporter: 'web@univ-a.example',
        subject: `Defaced page on ${host}`,
        body: `The front page of ${host} was replaced.`,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const linked = await hikeshi.api('POST', `/api/v1/reports/${r.body.id}/link`, token, { incident: original });
      assert.equal(linked.status, 200, JSON.stringify(linked.body));
      reports.push(r.body.id);
    }
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${original}`);
    await page.getByRole('link', { name: reports[1] }).waitFor();

    // Split: the second report goes to a new incident, which names where it came from.
    await page.getByRole('button', { name: 'Split reports off…' }).click();
    const split = page.getByRole('dialog', { name: `Split reports off ${original}` });
    await split.getByRole('checkbox', { name: new RegExp(reports[1]) }).check();
    await split.getByLabel('Title of the new incident').fill('Defacement of 198.51.100.82');
    await split.getByRole('button', { name: 'Split', exact: true }).click();
    await page.getByRole('heading', { name: 'Defacement of 198.51.100.82' }).waitFor();
    const created = new URL(page.url()).pathname.split('/').pop();
    assert.notEqual(created, original);
    await page.getByRole('link', { name: reports[1] }).waitFor();
    await page.locator('section.links li', { hasText: original }).getByText('split from').waitFor();
    // The timeline names the report that moved in, not the incidents' internal row numbers.
    const moveEntry = page.locator('.timeline li', { hasText: 'report.move' });
    await moveEntry.getByText(reports[1]).waitFor();
    assert.doesNotMatch(await moveEntry.innerText(), /incident_id/);
    let moved = await hikeshi.api('GET', `/api/v1/reports/${reports[1]}`, token);
    assert.equal(moved.body.incident, created);
    const stayed = await hikeshi.api('GET', `/api/v1/reports/${reports[0]}`, token);
    assert.equal(stayed.body.incident, original);
    await screenshot(page, 'incident-split');

    // Merge it back: it closes as merged, and its report returns to the original.
    await page.getByRole('button', { name: 'Merge into another incident…' }).click();
    const merge = page.getByRole('dialog', { name: `Merge ${created}` });
    await merge.getByLabel('Merge into incident').fill(original);
    await merge.getByRole('button', { name: 'Merge', exact: true }).click();
    await page.getByRole('heading', { name: 'Defacements on two univ-a web servers' }).waitFor();
    await page.locator('section.links li', { hasText: created }).getByText('merged from').waitFor();
    await page.getByRole('link', { name: reports[1] }).waitFor();
    const closed = await hikeshi.api('GET', `/api/v1/incidents/${created}`, token);
    assert.equal(closed.body.status, 'merged');
    assert.equal(closed.body.merged_into, original);
    moved = await hikeshi.api('GET', `/api/v1/reports/${reports[1]}`, token);
    assert.equal(moved.body.incident, original);
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test('a triage override reads on the incident timeline as who changed what, and why', async () => {
    const override = await hikeshi.api('POST', `/api/v1/reports/${phishingReport}/triage`, token, {
      impact: 1,
      urgency: 3,
      reason: 'the site targets every student account',
    });
    assert.equal(override.status, 200, JSON.stringify(override.body));
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    const line = page.locator('.timeline ul.changes li', { hasText: 'the site targets every student account' });
    await line.waitFor();
    assert.match(await line.innerText(), /^override: — → admin: impact \d → 1, urgency \d → 3 \(the site targets every student account\)$/);
    const entry = page.locator('.timeline ol > li', {
      has: page.locator('ul.changes li', { hasText: 'the site targets every student account' }),
    });
    assert.match(await entry.innerText(), /triage\.override/);
    assert.doesNotMatch(await entry.innerText(), /\{"/, 'no JSON on the timeline');
    await screenshot(page, 'timeline-triage-override');
    assert.deepEqual(unexpectedErrors(), []);
    await context.close();
  });

  test("a constituent never sees another constituency's data in any view", async () => {
    const theirs = await hikeshi.api('POST', '/api/v1/incidents', token, {
      title: 'Defaced web server at univ-b',
      category: 'Forged',
      constituency: 'univ-b',
      observables: [{ type: 'ipv4', value: '203.0.113.80' }],
    });
    assert.equal(theirs.status, 201);
    const contactA = await hikeshi.api('POST', '/api/v1/contacts', token, {
      name: 'univ-a helpdesk',
      email: 'help@univ-a.example',
      constituency: 'univ-a',
    });
    assert.equal(contactA.status, 201, JSON.stringify(contactA.body));
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'carl', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.locator('table.queue tbody tr', { hasText: theirs.body.id }).waitFor();
    assert.equal(await page.locator('table.queue tbody tr').count(), 1);
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(phishing));
    // An incident of univ-a made now does not reach carl's live queue; one of univ-b does.
    await hikeshi.api('POST', '/api/v1/incidents', token, { title: 'Secret univ-a matter', category: 'Scan', constituency: 'univ-a' });
    const visible = await hikeshi.api('POST', '/api/v1/incidents', token, { title: 'univ-b scan', category: 'Scan', constituency: 'univ-b' });
    await page.locator('table.queue tbody tr', { hasText: visible.body.id }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('table.queue tbody tr').count(), 2);
    assert.doesNotMatch(await page.locator('main').innerText(), /Secret univ-a matter/);
    // Reports.
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { name: 'Report queue' }).waitFor();
    await page.getByText('Nothing matches.').waitFor();
    // By URL: the incident, its tasks, the report.
    await page.goto(`${hikeshi.url}/incidents/${phishing}`);
    await page.getByRole('alert').filter({ hasText: 'Not found, or outside your constituencies.' }).waitFor();
    await page.goto(`${hikeshi.url}/reports/${phishingReport}`);
    await page.getByRole('alert').filter({ hasText: 'Not found, or outside your constituencies.' }).waitFor();
    // The pivot on univ-a's address.
    await page.goto(`${hikeshi.url}/observables?value=198.51.100.40`);
    await page.getByRole('heading', { name: 'Incidents holding it' }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(`${phishing}|${phishingReport}`));
    // The dashboard counts only univ-b's incidents.
    await page.goto(`${hikeshi.url}/dashboard`);
    await page.locator('[data-kpi="incidents"]').waitFor();
    assert.equal(Number(await page.locator('[data-kpi="incidents"]').innerText()), 2);
    // The contacts: not univ-a's.
    await page.goto(`${hikeshi.url}/contacts`);
    await page.getByRole('heading', { name: 'Contacts', exact: true }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /help@univ-a\.example/);
    // Their own incident shows its sections read-only, without asking for what they may not read.
    await page.goto(`${hikeshi.url}/incidents/${theirs.body.id}`);
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add task' }).count(), 0);
    await screenshot(page, 'incident-constituent');
    assert.deepEqual(
      unexpectedErrors([/Failed to load resource: the server responded with a status of 404.*\/api\/v1\/(incidents|reports)\//]),
      [],
    );
    await context.close();
  });
});
