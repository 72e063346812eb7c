// The Sluice console: a client of the public HTTP API only (DESIGN.md, "Surfaces are clients").
// Hash routes, so any static host serves it and a reload lands on the same page.
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, userEmails, type User } from './api';
import { currentToken, finishHostedSignIn, loadConfig, onAuthChange, signOut, tokenEmail, type ConsoleConfig } from './auth';
import { AdminPage } from './pages/admin';
import { ApprovalRulesPage } from './pages/approval-rules';
import { CreateIssuePage } from './pages/create';
import { DatabasePage } from './pages/database';
import { IssuePage } from './pages/issue';
import { IssuesPage } from './pages/issues';
import { ProjectsPage } from './pages/projects';
import { ReviewConfigPage, ReviewConfigsPage } from './pages/review-configs';
import { SignInPage } from './pages/signin';
import { SqlEditorPage } from './pages/sql-editor';
import { ErrorBox, Loading } from './ui';

export interface Session { me: User | undefined; email: string }

function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const f = () => setRoute(parse());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

function Page({ route, session }: { route: string[]; session: Session }) {
  const [a, b, c, d] = route;
  if (!a) return <ProjectsPage />;
  if (a === 'projects' && b && !c) return <IssuesPage project={b} session={session} />;
  if (a === 'projects' && b && c === 'issues' && d === 'new') return <CreateIssuePage project={b} />;
  if (a === 'projects' && b && c === 'issues' && d) return <IssuePage project={b} issue={d} session={session} />;
  if (a === 'projects' && b && c === 'sql') return <SqlEditorPage project={b} sheet={d} />;
  if (a === 'instances' && b && c === 'databases' && d) return <DatabasePage instance={b} database={d} session={session} />;
  if (a === 'admin') return <AdminPage session={session} />;
  if (a === 'review-configs' && b) return <ReviewConfigPage id={b} session={session} />;
  if (a === 'review-configs') return <ReviewConfigsPage session={session} />;
  if (a === 'approval-rules') return <ApprovalRulesPage session={session} />;
  return (
    <main id="main">
      <h1>Not found</h1>
      <p>No page here. <a href="#/">Back to the projects</a>.</p>
    </main>
  );
}

function App({ config }: { config: ConsoleConfig }) {
  const route = useRoute();
  const [token, setToken] = useState(currentToken());
  const [reason, setReason] = useState<string | undefined>();
  const [me, setMe] = useState<User | undefined>();
  useEffect(() => onAuthChange((why) => {
    setToken(currentToken());
    setReason(why);
  }), []);
  const email = tokenEmail(token);
  useEffect(() => {
    setMe(undefined);
    if (!email) return;
    // Who the caller is: the user whose email is the token's (the API's own rule).
    api<{ users: User[] }>('/v1/users?pageSize=1000').then((r) => {
      for (const u of r.users) if (u.email) userEmails.set(u.name, u.email);
      setMe(r.users.find((u) => u.email === email));
    }, () => setMe(undefined));
  }, [email]);

  if (!token || !email) return <SignInPage config={config} reason={reason} />;
  const session: Session = { me, email };
  return (
    <>
      <a class="skip" href="#main" onClick={(ev) => { ev.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="top">
        <nav aria-label="Main">
          <a class="brand" href="#/">Sluice</a>
          <a href="#/">Projects</a>
          <a href="#/admin">Admin</a>
        </nav>
        <div class="who">
          <span>Signed in as <strong data-testid="me">{email}</strong>{me ? ` (${me.role})` : ''}</span>
          <button type="button" class="link" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <Page route={route} session={session} />
    </>
  );
}

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const config = await loadConfig();
    if (config.mode === 'cognito') await finishHostedSignIn(config);
    render(<App config={config} />, root);
  } catch (e) {
    render(<main id="main"><h1>Sluice</h1><ErrorBox error={e} /></main>, root);
  }
}

render(<Loading />, document.getElementById('app')!);
void boot();
