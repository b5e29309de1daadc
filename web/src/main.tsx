// Hikeshi's web UI: the handler views behind a session login, and the public pages.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, call, cookie, PROBLEM_OTP_REQUIRED, setUnauthenticatedHandler, type User } from './api';
import { ErrorBox, Notice } from './components';
import { I18n, initialLang, rememberLang, translator, useI18n, type Lang } from './i18n';
import { startLive, stopLive } from './live';
import { Link, navigate, useLocation } from './router';
import './style.css';
import { ConstituenciesPage, NewIncidentPage } from './views/forms';
import { IncidentPage } from './views/incident';
import { PivotPage } from './views/pivot';
import { PublicReportPage, TeamPage } from './views/public';
import { Queue } from './views/queue';
import { ContactsPage } from './views/contacts';
import { DashboardPage } from './views/dashboard';
import { FeedRunPage, FeedsPage } from './views/feeds';
import { ReportPage } from './views/report';
import { SettingsPage, UsersPage } from './views/settings';

type Session = { user: User; csrf_token: string | null };

function LangToggle() {
  const { lang, t, setLang } = useI18n();
  return (
    <button type="button" class="lang" lang={lang === 'en' ? 'ja' : 'en'} aria-label={t('lang.switchLabel')} onClick={() => setLang(lang === 'en' ? 'ja' : 'en')}>
      {t('lang.switch')}
    </button>
  );
}

function Login(props: { onLogin: (s: Session) => void; loggedOut: boolean }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  // Set once the server has said that this account needs a one-time code as well.
  const [needOtp, setNeedOtp] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const otpRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needOtp) otpRef.current?.focus();
  }, [needOtp]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { username, password };
      if (needOtp) body.otp = otp.replace(/\s+/g, '');
      const s = await call<Session>('POST', '/session', body);
      props.onLogin(s);
    } catch (err) {
      if (err instanceof ApiError && err.type === PROBLEM_OTP_REQUIRED) {
        // The password was right: keep it, and ask for the code (again, when this one failed).
        if (needOtp) setError(err);
        setNeedOtp(true);
        setOtp('');
        otpRef.current?.focus();
      } else {
        setError(err);
        setPassword('');
        setOtp('');
        setNeedOtp(false);
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <div class="login-lang">
        <LangToggle />
      </div>
      <form class="stacked card" aria-labelledby="login-title" onSubmit={submit}>
        <h1 id="login-title">{t('login.title')}</h1>
        {props.loggedOut && <Notice>{t('login.loggedOut')}</Notice>}
        <div class="field">
          <label for="username">{t('login.username')}</label>
          <input
            id="username"
            name="username"
            autoComplete="username"
            required
            value={username}
            onInput={(e) => {
              setUsername(e.currentTarget.value);
              setNeedOtp(false);
            }}
          />
        </div>
        <div class="field">
          <label for="password">{t('login.password')}</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        {needOtp && (
          <div class="field">
            <p class="notice" role="status">
              {t('login.otpNeeded')}
            </p>
            <label for="otp">{t('login.otp')}</label>
            <input
              id="otp"
              name="otp"
              ref={otpRef}
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              required
              aria-describedby="otp-help"
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value)}
            />
            <p id="otp-help" class="hint">
              {t('login.otpHelp')}
            </p>
          </div>
        )}
        {error ? (
          <div class="error" role="alert">
            <strong>{t('login.failed')}:</strong> {(error as Error).message}
          </div>
        ) : null}
        <button type="submit" disabled={busy}>
          {t('login.submit')}
        </button>
        <p class="muted">
          <Link href="/public/report">{t('nav.publicReport')}</Link> · <Link href="/public/team">{t('nav.team')}</Link>
        </p>
      </form>
    </main>
  );
}

function StaffLayout(props: { session: Session; onLogout: () => void }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const nav: [string, string][] = [
    ['/incidents', t('nav.incidents')],
    ['/reports', t('nav.reports')],
    ['/incidents/new', t('nav.newIncident')],
    ['/observables', t('nav.pivot')],
    ['/dashboard', t('nav.dashboard')],
    ['/constituencies', t('nav.constituencies')],
    ['/contacts', t('nav.contacts')],
    ...(props.session.user.role !== 'constituent' && props.session.user.constituencies === 'all'
      ? ([['/feeds', t('nav.feeds')]] as [string, string][])
      : []),
    ...(props.session.user.role === 'admin' ? ([['/users', t('nav.users')]] as [string, string][]) : []),
  ];
  const current = (href: string) =>
    href === '/incidents' ? path === '/incidents' || (path.startsWith('/incidents/') && path !== '/incidents/new') : path === href || path.startsWith(href + '/');
  let page;
  const m = path.match(/^\/(incidents|reports)\/([^/]+)$/);
  if (path === '/incidents/new') page = <NewIncidentPage />;
  else if (m && m[1] === 'incidents') page = <IncidentPage id={decodeURIComponent(m[2])} user={props.session.user} />;
  else if (m && m[1] === 'reports') page = <ReportPage id={decodeURIComponent(m[2])} />;
  else if (path === '/reports') page = <Queue kind="reports" />;
  else if (path === '/observables') page = <PivotPage />;
  else if (path === '/constituencies') page = <ConstituenciesPage />;
  else if (path === '/settings') page = <SettingsPage user={props.session.user} />;
  else if (path === '/dashboard') page = <DashboardPage />;
  else if (path === '/contacts') page = <ContactsPage />;
  else if (path === '/users') page = <UsersPage />;
  else if (path === '/feeds') page = <FeedsPage user={props.session.user} />;
  else if (path.startsWith('/feeds/runs/')) page = <FeedRunPage id={decodeURIComponent(path.slice('/feeds/runs/'.length))} />;
  else page = <Queue kind="incidents" />;
  return (
    <>
      <header class="topbar">
        <Link href="/incidents" class="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.main')}>
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current(href) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="user" data-username={props.session.user.username}>
            {props.session.user.display_name || props.session.user.username} ({props.session.user.role})
          </span>
          <Link href="/settings" aria-current={path === '/settings' ? 'page' : undefined}>
            {t('nav.settings')}
          </Link>
          <LangToggle />
          <button type="button" class="secondary" onClick={props.onLogout}>
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main">{page}</main>
    </>
  );
}

function PublicLayout() {
  const { t } = useI18n();
  const { path } = useLocation();
  return (
    <>
      <header class="topbar public-bar">
        <Link href="/public/team" class="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.main')}>
          <ul>
            <li>
              <Link href="/public/report" aria-current={path === '/public/report' ? 'page' : undefined}>
                {t('nav.publicReport')}
              </Link>
            </li>
            <li>
              <Link href="/public/team" aria-current={path === '/public/team' ? 'page' : undefined}>
                {t('nav.team')}
              </Link>
            </li>
          </ul>
        </nav>
        <div class="who">
          <LangToggle />
          <Link href="/login" class="button secondary">
            {t('nav.staffLogin')}
          </Link>
        </div>
      </header>
      <main id="main">{path === '/public/team' ? <TeamPage /> : <PublicReportPage />}</main>
    </>
  );
}

function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const i18n = useMemo(
    () => ({
      lang,
      t: translator(lang),
      setLang: (l: Lang) => {
        rememberLang(l);
        setLangState(l);
      },
    }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${i18n.t('app.name')} · ${i18n.t('app.tagline')}`;
  }, [lang]);

  const { path } = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loggedOut, setLoggedOut] = useState(false);

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession(null));
    // Without the CSRF cookie there is no session to ask about: skip the request (and its 401).
    if (!cookie('hikeshi_csrf')) {
      setSession(null);
      return;
    }
    call<Session>('GET', '/session').then(setSession, (e) => {
      setSession(null);
      if (!(e && (e as { status?: number }).status === 401)) setError(e);
    });
  }, []);

  // Live updates while someone is logged in (not on the public pages).
  const loggedIn = !!session && !path.startsWith('/public/');
  useEffect(() => {
    if (loggedIn) startLive();
    else stopLive();
  }, [loggedIn]);

  const isPublic = path.startsWith('/public/');
  let body;
  if (isPublic) body = <PublicLayout />;
  else if (session === undefined) body = <p aria-busy="true">…</p>;
  else if (session === null)
    body = (
      <Login
        loggedOut={loggedOut}
        onLogin={(s) => {
          setLoggedOut(false);
          setSession(s);
          if (path === '/login' || path === '/') navigate('/incidents', true);
        }}
      />
    );
  else
    body = (
      <StaffLayout
        session={session}
        onLogout={() => {
          call('DELETE', '/session').finally(() => {
            setSession(null);
            setLoggedOut(true);
            navigate('/login');
          });
        }}
      />
    );

  return (
    <I18n.Provider value={i18n}>
      <a href="#main" class="skip">
        Skip to content / 本文へ
      </a>
      <ErrorBox error={error} />
      {body}
    </I18n.Provider>
  );
}

render(<App />, document.getElementById('app')!);
