import { useState, type FormEvent } from 'react';
import {
  call,
  IDENTITY,
  ROLES,
  type ListAuditEventsResponse,
  type ListUsersResponse,
  type User,
} from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import {
  Button,
  ErrorBanner,
  Field,
  formatTime,
  Notice,
  PageHeader,
  Pager,
  Section,
  Table,
  useLoad,
} from '../ui';

export const meta: PageMeta = { path: '/users', title: 'Users and audit', order: 95, roles: ['administrator'] };

export default function UsersPage() {
  return (
    <>
      <PageHeader
        title="Users and audit"
        description="Create accounts, set their roles, disable them, and read the audit log of every request."
      />
      <UserList />
      <AuditLog />
    </>
  );
}

function RoleBoxes({
  roles,
  onChange,
  idPrefix,
}: {
  roles: string[];
  onChange: (roles: string[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset>
      <legend>Roles</legend>
      {ROLES.map((role) => (
        <label key={role} className="checkbox" htmlFor={`${idPrefix}-${role}`}>
          <input
            id={`${idPrefix}-${role}`}
            type="checkbox"
            checked={roles.includes(role)}
            onChange={(event) =>
              onChange(event.target.checked ? [...roles, role] : roles.filter((item) => item !== role))
            }
          />
          {role.replace('_', ' ')}
        </label>
      ))}
    </fieldset>
  );
}

function UserList() {
  const { user: me } = useSession();
  const [pageToken, setPageToken] = useState('');
  const users = useLoad(() => call<ListUsersResponse>(IDENTITY, 'ListUsers', { pageSize: 50, pageToken }), [pageToken]);
  const [selected, setSelected] = useState<User | null>(null);
  const [roles, setRoles] = useState<string[]>([]);
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const select = (user: User) => {
    setSelected(user);
    setRoles(user.roles ?? []);
    setDisplayName(user.displayName ?? '');
    setNotice('');
    setError(null);
  };

  const update = async (change: { roles?: string[]; disabled?: boolean; displayName?: string }) => {
    if (!selected) return;
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      const fields: string[] = [];
      if (change.roles) fields.push('roles');
      if (change.disabled !== undefined) fields.push('disabled');
      if (change.displayName !== undefined) fields.push('display_name');
      const updated = await call<User>(IDENTITY, 'UpdateUser', {
        name: selected.name,
        updateFields: fields,
        ...change,
      });
      select(updated);
      setNotice(`Saved ${updated.username}.`);
      users.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Section title="Users">
        <ErrorBanner error={users.error} />
        <Table
          caption="Users"
          rows={users.data?.users ?? (users.loading ? undefined : [])}
          rowKey={(row) => row.name}
          selectedKey={selected?.name}
          onSelect={select}
          columns={[
            { header: 'User name', cell: (row) => row.username },
            { header: 'Display name', cell: (row) => row.displayName ?? '' },
            { header: 'Roles', cell: (row) => (row.roles ?? []).join(', ') },
            { header: 'Sign-in', cell: (row) => (!row.provider || row.provider === 'local' ? 'password' : row.provider) },
            { header: 'Status', cell: (row) => (row.disabled ? 'disabled' : 'active') },
            { header: 'Last sign-in', cell: (row) => formatTime(row.lastSignInTime) },
          ]}
        />
        <Pager pageToken={pageToken} nextPageToken={users.data?.nextPageToken} onPage={setPageToken} />
      </Section>
      {selected ? (
        <Section title={`Edit ${selected.username}`}>
          <ErrorBanner error={error} />
          <Notice>{notice}</Notice>
          <div className="row">
            <Field label="Display name">
              <input value={displayName} onChange={(event) => setDisplayName(event.target.value)} />
            </Field>
            <Button busy={busy} onClick={() => void update({ displayName })}>
              Save name
            </Button>
          </div>
          <RoleBoxes roles={roles} onChange={setRoles} idPrefix="edit-role" />
          <div className="row">
            <Button variant="primary" busy={busy} disabled={roles.length === 0} onClick={() => void update({ roles })}>
              Save roles
            </Button>
            {selected.disabled ? (
              <Button busy={busy} onClick={() => void update({ disabled: false })}>
                Enable account
              </Button>
            ) : (
              <Button
                variant="danger"
                busy={busy}
                disabled={selected.name === me?.name}
                title={selected.name === me?.name ? 'You cannot disable your own account' : undefined}
                onClick={() => void update({ disabled: true })}
              >
                Disable account
              </Button>
            )}
          </div>
          <ResetPassword user={selected} />
        </Section>
      ) : null}
      <CreateUser onCreated={users.reload} />
    </>
  );
}

function ResetPassword({ user }: { user: User }) {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  if (user.provider && user.provider !== 'local') return null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      await call(IDENTITY, 'ChangePassword', { name: user.name, newPassword: password });
      setPassword('');
      setNotice('Password set; the account was signed out everywhere.');
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="row" onSubmit={submit} aria-label="Set a new password">
      <ErrorBanner error={error} />
      <Notice>{notice}</Notice>
      <Field label="New password" help="At least 12 characters.">
        <input type="password" autoComplete="new-password" minLength={12} value={password} onChange={(event) => setPassword(event.target.value)} required />
      </Field>
      <Button type="submit" busy={busy}>
        Set password
      </Button>
    </form>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<string[]>(['radiologist']);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      const created = await call<User>(IDENTITY, 'CreateUser', { username, displayName, roles, password });
      setNotice(`Created ${created.username}.`);
      setUsername('');
      setDisplayName('');
      setPassword('');
      onCreated();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Create a user">
      <ErrorBanner error={error} />
      <Notice>{notice}</Notice>
      <form onSubmit={submit} aria-label="Create a user">
        <div className="row">
          <Field label="New user name" help='3 to 64 letters, digits, ".", "_", "-" or "@".'>
            <input
              value={username}
              onChange={(event) => setUsername(event.target.value)}
              pattern="[A-Za-z0-9._@\-]{3,64}"
              autoComplete="off"
              required
            />
          </Field>
          <Field label="New user display name">
            <input value={displayName} onChange={(event) => setDisplayName(event.target.value)} />
          </Field>
          <Field label="Initial password" help="At least 12 characters.">
            <input
              type="password"
              autoComplete="new-password"
              minLength={12}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
            />
          </Field>
        </div>
        <RoleBoxes roles={roles} onChange={setRoles} idPrefix="new-role" />
        <Button type="submit" variant="primary" busy={busy} disabled={roles.length === 0}>
          Create user
        </Button>
      </form>
    </Section>
  );
}

function AuditLog() {
  const [pageToken, setPageToken] = useState('');
  const [history, setHistory] = useState<string[]>([]);
  const [userFilter, setUserFilter] = useState('');
  const [resourcePrefix, setResourcePrefix] = useState('');
  const [applied, setApplied] = useState({ user: '', resourcePrefix: '' });
  const events = useLoad(
    () =>
      call<ListAuditEventsResponse>(IDENTITY, 'ListAuditEvents', {
        pageSize: 50,
        pageToken,
        ...applied,
      }),
    [pageToken, applied],
  );
  return (
    <Section title="Audit log">
      <form
        className="row"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ user: userFilter.trim(), resourcePrefix: resourcePrefix.trim() });
          setPageToken('');
          setHistory([]);
        }}
      >
        <Field label="User id">
          <input value={userFilter} onChange={(event) => setUserFilter(event.target.value)} />
        </Field>
        <Field label="Resource starts with" help='For example "datasets/".'>
          <input value={resourcePrefix} onChange={(event) => setResourcePrefix(event.target.value)} />
        </Field>
        <Button type="submit">Filter</Button>
      </form>
      <ErrorBanner error={events.error} />
      <Table
        caption="Audit events, newest first"
        rows={events.data?.events ?? (events.loading ? undefined : [])}
        rowKey={(row) => `${row.requestId}-${row.time}`}
        columns={[
          { header: 'Time', cell: (row) => formatTime(row.time) },
          { header: 'User', cell: (row) => row.user || 'not signed in' },
          { header: 'Request', cell: (row) => row.rpcMethod || `${row.httpMethod ?? ''} ${row.path ?? ''}` },
          { header: 'Resource', cell: (row) => row.resource ?? '' },
          { header: 'Status', numeric: true, cell: (row) => row.httpStatus ?? '' },
          { header: 'Request id', cell: (row) => <code>{row.requestId}</code> },
          { header: 'Client', cell: (row) => row.clientAddress ?? '' },
        ]}
      />
      <div className="pager">
        <Button
          disabled={history.length === 0}
          onClick={() => {
            const previous = history[history.length - 1] ?? '';
            setHistory(history.slice(0, -1));
            setPageToken(previous);
          }}
        >
          Newer
        </Button>
        <Button
          disabled={!events.data?.nextPageToken}
          onClick={() => {
            setHistory([...history, pageToken]);
            setPageToken(events.data?.nextPageToken ?? '');
          }}
        >
          Older
        </Button>
      </div>
    </Section>
  );
}
