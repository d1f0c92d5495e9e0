import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";

import { ApiError, api, onUnauthorised } from "./api";
import type { User } from "./types";

interface AuthState {
  /** undefined while the session is being checked, null when nobody is logged in. */
  user: User | null | undefined;
  signedIn: (user: User) => void;
  logOut: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    api
      .get<User>("/v1/auth/me")
      .then((me) => !cancelled && setUser(me))
      .catch((error: unknown) => {
        if (!cancelled) setUser(null);
        if (!(error instanceof ApiError) || error.status !== 401) console.error(error);
      });
    const unsubscribe = onUnauthorised(() => setUser(null));
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, []);

  const logOut = useCallback(async () => {
    try {
      await api.post<void>("/v1/auth/logout");
    } finally {
      setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, signedIn: setUser, logOut }), [user, logOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error("useAuth outside AuthProvider");
  return state;
}

/** Shows its children to a logged-in person; sends anyone else to the log-in page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const location = useLocation();
  if (user === undefined) return <p role="status">Loading…</p>;
  if (user === null) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <>{children}</>;
}
