import { useState } from 'preact/hooks';
import { devSignIn, startHostedSignIn, type ConsoleConfig } from '../auth';
import { ErrorBox } from '../ui';

export function SignInPage({ config, reason }: { config: ConsoleConfig; reason?: string }) {
  const [email, setEmail] = useState('admin@example.com');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const go = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (config.mode === 'local') await devSignIn(email.trim());
      else await startHostedSignIn(config);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" tabIndex={-1} class="signin">
      <h1>Sign in to Sluice</h1>
      {reason && <p class="notice" role="status">{reason}</p>}
      {config.mode === 'local' ? (
        <form onSubmit={go}>
          <p class="muted">
            Local sign-in (<code>npm start</code> only): the server signs a 12-hour token for this email with its own key,
            as <code>npm run token</code> does. The API then acts as the user with that email.
          </p>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" required autocomplete="username" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          <button type="submit" disabled={busy}>Sign in</button>
        </form>
      ) : (
        <form onSubmit={go}>
          <p>Sign in with your Sluice account (the workspace's Cognito user pool).</p>
          <button type="submit" disabled={busy}>Sign in</button>
        </form>
      )}
      <ErrorBox error={error} />
    </main>
  );
}
