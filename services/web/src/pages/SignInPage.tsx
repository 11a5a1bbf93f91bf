import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { call, IDENTITY, setSession, type SignInResponse } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import { Button, ErrorBanner, Field } from '../ui';

export const meta: PageMeta = { path: '/signin', title: 'Sign in', order: 0, public: true, hidden: true };

// Returns `next` when it is a path of this application, so a crafted link cannot send
// the browser to another site after sign-in.
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/signin')) {
    return '/';
  }
  return next;
}

export default function SignInPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { setUser } = useSession();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await call<SignInResponse>(IDENTITY, 'SignIn', { username, password });
      setSession(response.token, response.user);
      setUser(response.user);
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (reason) {
      setError(reason);
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <main className="signin-card">
        <h1>AI-LAB</h1>
        <p className="muted">Sign in to build, test and monitor models on your own images.</p>
        <ErrorBanner error={error} />
        <form onSubmit={submit} aria-label="Sign in">
          <Field label="User name">
            <input
              name="username"
              autoComplete="username"
              value={username}
              onChange={(event) => setUsername(event.target.value)}
              required
              autoFocus
            />
          </Field>
          <Field label="Password">
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
            />
          </Field>
          <Button type="submit" variant="primary" busy={busy}>
            Sign in
          </Button>
        </form>
      </main>
    </div>
  );
}
