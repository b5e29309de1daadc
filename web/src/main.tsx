// Hikeshi's web UI: the handler views behind a session login, and the public pages.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, cookie, setUnauthenticatedHandler, type User } from './api';
import { ErrorBox, Notice } from './components';
import { I18n, initialLang, rememberLang, translator, useI18n, type Lang } from './i18n';
import { Link, navigate, useLocation } from './router';
import './style.css';
import { ConstituenciesPage, NewIncidentPage } from './views/forms';
import { IncidentPage } from './views/incident';
import { PivotPage } from './views/pivot';
import { PublicReportPage, TeamPage } from './views/public';
import { Queue } from './views/queue';
import { ReportPage } from './views/report';

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
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await call<Session>('POST', '/session', { username, password });
      props.onLogin(s);
    } catch (err) {
      setError(err);
      setPassword('');
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
          <input id="username" name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="password">{t('login.password')}</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
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
    ['/constituencies', t('nav.constituencies')],
  ];
  const current = (href: string) =>
    href === '/incidents' ? path === '/incidents' || (path.startsWith('/incidents/') && path !== '/incidents/new') : path === href || path.startsWith(href + '/');
  let page;
  const m = path.match(/^\/(incidents|reports)\/([^/]+)$/);
  if (path === '/incidents/new') page = <NewIncidentPage />;
  else if (m && m[1] === 'incidents') page = <IncidentPage id={decodeURIComponent(m[2])} />;
  else if (m && m[1] === 'reports') page = <ReportPage id={decodeURIComponent(m[2])} />;
  else if (path === '/reports') page = <Queue kind="reports" />;
  else if (path === '/observables') page = <PivotPage />;
  else if (path === '/constituencies') page = <ConstituenciesPage />;
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
