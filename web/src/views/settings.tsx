// The user's own account: two-factor login (TOTP) enrolment, confirmation and removal. And, for
// admins, the user list with the reset of someone's second factor (a lost phone).
import { useEffect, useState } from 'preact/hooks';
import { call, type User } from '../api';
import { Dl, ErrorBox, Notice } from '../components';
import { labelOf, useI18n } from '../i18n';

type TotpState = 'none' | 'pending' | 'confirmed';
type Enrolment = { state: TotpState; secret: string; uri: string };

// "JBSW Y3DP EHPK 3PXP": groups of four are easier to type into an app.
function grouped(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

function CodeInput(props: { id: string; value: string; onInput: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <div class="field">
      <label for={props.id}>{t('totp.code')}</label>
      <input
        id={props.id}
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9 ]{6,7}"
        maxLength={7}
        required
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  );
}

function TotpPanel() {
  const { t } = useI18n();
  const [state, setState] = useState<TotpState | null>(null);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const load = () => call<{ state: TotpState }>('GET', '/session/totp').then((r) => setState(r.state), setError);
  useEffect(() => {
    load();
  }, []);

  const start = async () => {
    setError(null);
    setDone('');
    try {
      const e = await call<Enrolment>('POST', '/session/totp');
      setEnrolment(e);
      setState('pending');
      setCode('');
    } catch (err) {
      setError(err);
    }
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await call('POST', '/session/totp/confirm', { code: code.replace(/\s+/g, '') });
      setEnrolment(null);
      setCode('');
      setDone(t('totp.confirmed'));
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const disable = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await call('DELETE', '/session/totp', { code: code.replace(/\s+/g, '') });
      setCode('');
      setDone(t('totp.disabled'));
      await load();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section class="panel" aria-labelledby="totp-title">
      <h2 id="totp-title">{t('totp.title')}</h2>
      {state === null && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {state && (
        <p class="totp-state" data-state={state}>
          {t(`totp.state.${state}`)}
        </p>
      )}
      {done && <Notice>{done}</Notice>}
      {(state === 'none' || (state === 'pending' && !enrolment)) && (
        <button type="button" onClick={start}>
          {state === 'none' ? t('totp.start') : t('totp.restart')}
        </button>
      )}
      {enrolment && (
        <div class="enrolment">
          <p>{t('totp.enrolIntro')}</p>
          <Dl
            rows={[
              [
                t('totp.secret'),
                <code class="totp-secret" data-secret={enrolment.secret}>
                  {grouped(enrolment.secret)}
                </code>,
              ],
              [
                t('totp.uri'),
                <>
                  <code class="totp-uri">{enrolment.uri}</code>
                  <br />
                  <a href={enrolment.uri}>{t('totp.openInApp')}</a>
                </>,
              ],
            ]}
          />
          <p class="hint">{t('totp.shownOnce')}</p>
          <form class="inline-form" onSubmit={confirm}>
            <CodeInput id="totp-confirm-code" value={code} onInput={setCode} />
            <div class="field buttons">
              <button type="submit">{t('totp.confirm')}</button>
            </div>
          </form>
        </div>
      )}
      {state === 'confirmed' && (
        <form class="inline-form" aria-labelledby="totp-disable-title" onSubmit={disable}>
          <h3 id="totp-disable-title" class="visually-hidden">
            {t('totp.disableTitle')}
          </h3>
          <CodeInput id="totp-disable-code" value={code} onInput={setCode} />
          <div class="field buttons">
            <button type="submit" class="danger">
              {t('totp.disable')}
            </button>
          </div>
        </form>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

export function SettingsPage(props: { user: User }) {
  const { t } = useI18n();
  const u = props.user;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>
      <section class="panel" aria-labelledby="account-title">
        <h2 id="account-title">{t('settings.account')}</h2>
        <Dl
          rows={[
            [t('users.username'), u.username],
            [t('users.displayName'), u.display_name],
            [t('settings.role'), labelOf(t, 'role', u.role)],
            [t('users.scope'), u.constituencies === 'all' ? t('users.all') : u.constituencies.join(', ')],
          ]}
        />
      </section>
      <TotpPanel />
    </section>
  );
}

export function UsersPage() {
  const { t } = useI18n();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    call<{ items: User[] }>('GET', '/users').then((r) => setUsers(r.items), setError);
  }, []);
  const reset = async (username: string) => {
    if (!window.confirm(t('users.resetConfirm', { user: username }))) return;
    setError(null);
    setNotice('');
    try {
      await call('DELETE', `/users/${encodeURIComponent(username)}/totp`);
      setNotice(t('users.resetDone', { user: username }));
    } catch (err) {
      if ((err as { status?: number }).status === 409) setNotice(t('users.resetNone', { user: username }));
      else setError(err);
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={error} />
      {!users && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {users && (
        <table class="queue" aria-labelledby="users-title">
          <thead>
            <tr>
              <th scope="col">{t('users.username')}</th>
              <th scope="col">{t('users.displayName')}</th>
              <th scope="col">{t('users.role')}</th>
              <th scope="col">{t('users.scope')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('users.resetTotpShort')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.username}>
                <td>{u.username}</td>
                <td>{u.display_name}</td>
                <td>{labelOf(t, 'role', u.role)}</td>
                <td>{u.constituencies === 'all' ? t('users.all') : u.constituencies.join(', ')}</td>
                <td>
                  <button type="button" class="secondary" aria-label={t('users.resetTotp', { user: u.username })} onClick={() => reset(u.username)}>
                    {t('users.resetTotpShort')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
