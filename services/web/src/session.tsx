// The signed-in user, shared with every page through React context.
import { createContext, useContext } from 'react';
import type { User } from './types';

export interface Session {
  /** The signed-in user, or null on the sign-in page. */
  user: User | null;
  /** User id ("abc" of "users/abc"), which requests send as user, annotator or owner. */
  userId: string;
  /** Replaces the stored user, for example after a profile change. */
  setUser: (user: User | null) => void;
  /** Ends the session on the gateway and goes to the sign-in page. */
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session>({
  user: null,
  userId: '',
  setUser: () => {},
  signOut: async () => {},
});

/** Returns the current session. */
export function useSession(): Session {
  return useContext(SessionContext);
}
