import { useState, type FormEvent } from 'react';
import { call, IDENTITY } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import { Button, ErrorBanner, Field, formatTime, Notice, PageHeader, Section } from '../ui';

export const meta: PageMeta = { path: '/account', title: 'My account', order: 90 };

// Same minimum as the identity service, checked here so the form reports it at once.
const MIN_PASSWORD_LENGTH = 12;

export default function AccountPage() {
  const { user, signOut } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  if (!user) return null;
  const local = !user.provider || user.provider === 'local';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice('');
    if (next.length < MIN_PASSWORD_LENGTH) {
      setError(new Error(`the new password has ${next.length} characters; use at least ${MIN_PASSWORD_LENGTH}`));
      return;
    }
    if (next !== repeat) {
      setError(new Error('the two new passwords differ; type the same password twice'));
      return;
    }
    setBusy(true);
    try {
      await call(IDENTITY, 'ChangePassword', { name: user.name, currentPassword: current, newPassword: next });
      setNotice('Password changed. Your other sessions have been signed out.');
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="My account" actions={<Button onClick={() => void signOut()}>Sign out</Button>} />
      <Section title="Profile">
        <dl className="definition-list">
          <dt>User name</dt>
          <dd>{user.username}</dd>
          <dt>Display name</dt>
          <dd>{user.displayName || '—'}</dd>
          <dt>User id</dt>
          <dd>
            <code>{user.name}</code>
          </dd>
          <dt>Roles</dt>
          <dd>{user.roles.join(', ') || 'none'}</dd>
          <dt>Signs in with</dt>
          <dd>{local ? 'a password' : user.provider}</dd>
          <dt>Last sign-in</dt>
          <dd>{formatTime(user.lastSignInTime)}</dd>
        </dl>
      </Section>
      {local ? (
        <Section title="Change password">
          <ErrorBanner error={error} />
          <Notice>{notice}</Notice>
          <form onSubmit={submit} aria-label="Change password">
            <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
            <Field label="Current password">
              <input type="password" autoComplete="current-password" value={current} onChange={(event) => setCurrent(event.target.value)} required />
            </Field>
            <Field label="New password" help={`At least ${MIN_PASSWORD_LENGTH} characters.`}>
              <input type="password" autoComplete="new-password" value={next} onChange={(event) => setNext(event.target.value)} required />
            </Field>
            <Field label="Repeat the new password">
              <input type="password" autoComplete="new-password" value={repeat} onChange={(event) => setRepeat(event.target.value)} required />
            </Field>
            <Button type="submit" variant="primary" busy={busy}>
              Change password
            </Button>
          </form>
        </Section>
      ) : (
        <p className="muted">Your password is managed by your hospital's sign-in service.</p>
      )}
    </>
  );
}
