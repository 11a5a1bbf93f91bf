/*
 * The application shell: routing, the top bar and the side navigation.
 *
 * Page contract. Every file src/pages/<Name>Page.tsx is found at build time (through
 * import.meta.glob below) and becomes one route, so adding a page never touches this
 * file. A page module exports:
 *
 *   export const meta: PageMeta = {
 *     path: '/train',            // route, unique
 *     title: 'Create and train', // navigation text and document title
 *     order: 40,                 // position in the navigation, smallest first
 *     roles: ['radiologist'],    // optional: only these roles see and open it
 *     public: false,             // optional: true renders it outside the layout,
 *                                //   without sign-in (the sign-in page)
 *     hidden: false,             // optional: true keeps it out of the navigation
 *   };
 *   export default function TrainPage() { ... }
 *
 * Administrators see every page. A page reads the signed-in user with useSession()
 * (src/session.tsx), calls the API with call() (src/api.ts) and builds its screens from
 * src/ui.tsx. A path may carry route parameters (for example "/models/:id") when the
 * page is hidden from the navigation.
 */
import {
  useCallback,
  useEffect,
  useMemo,
  useState,
  type ComponentType,
  type ReactNode,
} from 'react';
import {
  BrowserRouter,
  NavLink,
  Navigate,
  Route,
  Routes,
  useLocation,
  useNavigate,
} from 'react-router-dom';
import { call, getToken, IDENTITY, setSession, storedUser, userId, type User } from './api';
import { SessionContext, useSession, type Session } from './session';
import { ErrorBanner, PageErrorBoundary, Spinner } from './ui';

export interface PageMeta {
  path: string;
  title: string;
  order: number;
  roles?: string[];
  public?: boolean;
  hidden?: boolean;
}

interface PageModule {
  default: ComponentType;
  meta: PageMeta;
}

interface Page extends PageMeta {
  Component: ComponentType;
  file: string;
}

const PRODUCT_NAME = 'AI-LAB';

// Every page module, loaded eagerly: the whole application is one bundle, which keeps
// navigation between pages instant.
const modules = import.meta.glob<PageModule>('./pages/*Page.tsx', { eager: true });

function collectPages(): Page[] {
  const pages: Page[] = [];
  for (const [file, module] of Object.entries(modules)) {
    if (!module.meta || typeof module.default !== 'function') {
      console.error(`page ${file} lacks "export const meta" or a default component; skipped`);
      continue;
    }
    pages.push({ ...module.meta, Component: module.default, file });
  }
  pages.sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
  return pages;
}

/** Returns true when the user may open the page (no roles listed, or one of them). */
export function mayOpen(page: PageMeta, user: User | null): boolean {
  if (!page.roles || page.roles.length === 0) return true;
  if (!user) return false;
  if (user.roles.includes('administrator')) return true;
  return page.roles.some((role) => user.roles.includes(role));
}

export default function App() {
  return (
    <BrowserRouter>
      <Shell />
    </BrowserRouter>
  );
}

function Shell() {
  const pages = useMemo(collectPages, []);
  const [user, setUserState] = useState<User | null>(() => (getToken() ? storedUser() : null));
  const navigate = useNavigate();

  const setUser = useCallback((next: User | null) => {
    setUserState(next);
    if (next) setSession(getToken(), next);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await call(IDENTITY, 'SignOut');
    } catch {
      // The session ends on this side regardless; an expired token is already gone.
    }
    setSession(null);
    setUserState(null);
    navigate('/signin');
  }, [navigate]);

  const session: Session = useMemo(
    () => ({ user, userId: userId(user), setUser, signOut }),
    [user, setUser, signOut],
  );

  const publicPages = pages.filter((page) => page.public);
  const privatePages = pages.filter((page) => !page.public);
  const firstPage = privatePages.find((page) => !page.hidden && mayOpen(page, user));

  return (
    <SessionContext.Provider value={session}>
      <Routes>
        {publicPages.map((page) => (
          <Route key={page.path} path={page.path} element={<Titled page={page} />} />
        ))}
        <Route
          path="*"
          element={
            <RequireSession>
              <Layout pages={privatePages}>
                <Routes>
                  {privatePages.map((page) => (
                    <Route
                      key={page.path}
                      path={page.path}
                      element={
                        mayOpen(page, user) ? <Titled page={page} /> : <NotAllowed page={page} />
                      }
                    />
                  ))}
                  <Route
                    path="/"
                    element={firstPage ? <Navigate to={firstPage.path} replace /> : <Empty />}
                  />
                  <Route path="*" element={<NotFound />} />
                </Routes>
              </Layout>
            </RequireSession>
          }
        />
      </Routes>
    </SessionContext.Provider>
  );
}

function Titled({ page }: { page: Page }) {
  useEffect(() => {
    document.title = `${page.title} · ${PRODUCT_NAME}`;
  }, [page.title]);
  const Component = page.Component;
  return <Component />;
}

// Sends a visitor without a token to the sign-in page, and refreshes the stored user
// (roles may have changed since sign-in) once per load.
function RequireSession({ children }: { children: ReactNode }) {
  const location = useLocation();
  const { user, setUser } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState(false);
  const token = getToken();

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    call<User>(IDENTITY, 'GetCurrentUser').then(
      (current) => {
        if (cancelled) return;
        setUser(current);
        setChecked(true);
      },
      (reason: unknown) => {
        if (cancelled) return;
        setError(reason);
        setChecked(true);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [token, setUser]);

  if (!token) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/signin?next=${next}`} replace />;
  }
  if (!user && !checked) return <Spinner label="Checking your session…" />;
  if (!user) return <ErrorBanner error={error ?? 'the session could not be checked'} />;
  return <>{children}</>;
}

function Layout({ pages, children }: { pages: Page[]; children: ReactNode }) {
  const { user, signOut } = useSession();
  const location = useLocation();
  const visible = pages.filter((page) => !page.hidden && mayOpen(page, user));
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">{PRODUCT_NAME}</span>
        <span className="topbar-spacer" />
        {user ? (
          <span className="topbar-user" aria-label="Signed-in user">
            {user.displayName || user.username}
            <span className="topbar-roles"> ({user.roles.join(', ')})</span>
          </span>
        ) : null}
        <button type="button" className="button button-secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className="body">
        <nav className="sidenav" aria-label="Main">
          <ul>
            {visible.map((page) => (
              <li key={page.path}>
                <NavLink to={page.path}>{page.title}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className="content" tabIndex={-1}>
          <PageErrorBoundary key={location.pathname}>{children}</PageErrorBoundary>
        </main>
      </div>
    </div>
  );
}

function NotAllowed({ page }: { page: Page }) {
  return (
    <div className="empty-state">
      <h1>{page.title}</h1>
      <p>
        This page needs one of the roles {page.roles?.join(', ')}. Ask an administrator to add
        the role to your account.
      </p>
    </div>
  );
}

function NotFound() {
  return (
    <div className="empty-state">
      <h1>Page not found</h1>
      <p>The address does not match a page. Pick one from the navigation.</p>
    </div>
  );
}

function Empty() {
  return (
    <div className="empty-state">
      <h1>No pages</h1>
      <p>Your account has no role that opens a page. Ask an administrator for a role.</p>
    </div>
  );
}
