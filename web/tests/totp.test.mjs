// Two-factor login in a real browser against a real `hikeshi serve`: a handler turns TOTP on from
// the settings page (reading the secret off the page as they would type it into an app), logs out,
// and logs in again with password and code. The codes are computed here from that secret (RFC 6238:
// HMAC-SHA-1, 30 s, 6 digits), as an authenticator app does; node's crypto, not Hikeshi's code.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, Hikeshi, launchBrowser, login, openPage, screenshot, USER_PASSWORD } from './harness.mjs';

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[19] & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(binary).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

// The code-less and wrong-code logins answer 401, which Chromium logs as a failed resource load.
const LOGIN_401 = /Failed to load resource: the server responded with a status of 401.*\/api\/v1\/session/;

describe('two-factor login', () => {
  let hikeshi;
  let browser;

  before(async () => {
    hikeshi = await Hikeshi.start();
    hikeshi.addUser('alice', { role: 'handler', all: true, displayName: 'Alice Handler' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hikeshi?.stop();
  });

  test('a handler turns TOTP on, then needs the code to log in; an admin resets it', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser);
    await login(page, hikeshi.url, 'alice', USER_PASSWORD);
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Two-factor login (TOTP)' }).waitFor();
    await page.getByText('Off: you log in with your password alone.').waitFor();
    await page.getByRole('button', { name: 'Turn on two-factor login' }).click();
    const shown = (await page.locator('.totp-secret').innerText()).trim();
    assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const uri = await page.locator('.totp-uri').innerText();
    assert.ok(uri.startsWith('otpauth://totp/CSIRT:alice?secret=' + shown.replace(/ /g, '') + '&issuer=CSIRT&'), uri);
    assert.equal(await page.getByRole('link', { name: 'Open in an authenticator app' }).getAttribute('href'), uri);
    await screenshot(page, 'settings-totp-enrol');
    const secret = base32Decode(shown);
    assert.equal(secret.length, 20);
    const confirmStep = stepNow();
    await page.getByLabel('Code from the app').fill(totp(secret, confirmStep));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'Two-factor login is on.' }).waitFor();
    await page.getByText('On: login asks for a code from your authenticator app.').waitFor();
    await screenshot(page, 'settings-totp-on');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();

    // The password alone now leads to the code field, without losing the password.
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const otp = page.getByLabel('One-time code');
    await otp.waitFor();
    assert.equal(await page.locator('#otp').evaluate((el) => el === document.activeElement), true);
    await screenshot(page, 'login-otp');
    // A wrong code is refused and says so.
    await otp.fill(totp(secret, confirmStep + 9));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong or expired one-time code' }).waitFor();
    // A code newer than the confirming one (which is used up) logs in.
    await otp.fill(totp(secret, Math.max(stepNow(), confirmStep + 1)));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    assert.match(await page.locator('.user').innerText(), /Alice Handler/);
    assert.deepEqual(unexpectedErrors([LOGIN_401]), []);
    await context.close();

    // The admin resets it from the user list (a lost phone); the password alone works again.
    const admin = await openPage(browser);
    await login(admin.page, hikeshi.url, 'admin', ADMIN_PASSWORD);
    await admin.page.getByRole('link', { name: 'Users' }).click();
    admin.page.once('dialog', (d) => d.accept());
    await admin.page.getByRole('button', { name: 'Reset two-factor login of alice' }).click();
    await admin.page.getByRole('status').filter({ hasText: 'Two-factor login of alice removed.' }).waitFor();
    await screenshot(admin.page, 'users');
    assert.deepEqual(admin.unexpectedErrors(), []);
    await admin.context.close();

    const again = await openPage(browser);
    await login(again.page, hikeshi.url, 'alice', USER_PASSWORD);
    await again.page.getByRole('heading', { name: 'Incident queue' }).waitFor();
    assert.deepEqual(again.unexpectedErrors(), []);
    await again.context.close();
  });

  test('the login form asks for the code in Japanese too', async () => {
    const token = hikeshi.token('admin');
    const start = await hikeshi.api('POST', '/api/v1/session/totp', token);
    assert.equal(start.status, 201, JSON.stringify(start.body));
    const secret = base32Decode(start.body.secret);
    const confirmStep = stepNow();
    const confirm = await hikeshi.api('POST', '/api/v1/session/totp/confirm', token, { code: totp(secret, confirmStep) });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    const { page, context, unexpectedErrors } = await openPage(browser, { lang: 'ja' });
    await page.goto(hikeshi.url + '/login');
    await page.getByLabel('ユーザー名').fill('admin');
    await page.getByLabel('パスワード').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.getByLabel('ワンタイムコード').fill(totp(secret, Math.max(stepNow(), confirmStep + 1)));
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.getByRole('heading', { name: 'インシデント一覧' }).waitFor();
    assert.deepEqual(unexpectedErrors([LOGIN_401]), []);
    await context.close();
  });
});
