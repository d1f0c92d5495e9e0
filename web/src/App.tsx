import { Link, NavLink, Navigate, Route, Routes, useNavigate } from "react-router-dom";

import { RequireAuth, useAuth } from "./auth";
import { AccountPage } from "./pages/AccountPage";
import { ActivityPage } from "./pages/ActivityPage";
import { ConfirmPage, LoginPage, RegisterPage, ResetPasswordPage } from "./pages/AuthPages";
import { BillingPage } from "./pages/BillingPage";
import { ConnectionPage } from "./pages/ConnectionPage";
import { HomePage } from "./pages/HomePage";
import { NewConnectionPage } from "./pages/NewConnectionPage";
import { Page } from "./ui";

function Header() {
  const { user, logOut } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        dx-connector
      </Link>
      <nav aria-label="Main">
        {user ? (
          <>
            <NavLink to="/" end>
              Connections
            </NavLink>
            <NavLink to="/billing">Billing</NavLink>
            <NavLink to="/account">Account</NavLink>
            <button
              type="button"
              className="link-button"
              onClick={async () => {
                await logOut();
                navigate("/login");
              }}
            >
              Log out
            </button>
          </>
        ) : (
          <>
            <NavLink to="/login">Log in</NavLink>
            <NavLink to="/register">Register</NavLink>
          </>
        )}
      </nav>
    </header>
  );
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. <Link to="/">Go to your connections</Link>.
      </p>
    </Page>
  );
}

function Private({ children }: { children: React.ReactNode }) {
  return <RequireAuth>{children}</RequireAuth>;
}

export function App() {
  const { user } = useAuth();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header />
      <main id="main">
        <Routes>
          <Route path="/register" element={<RegisterPage />} />
          <Route path="/confirm" element={<ConfirmPage />} />
          <Route path="/login" element={user ? <Navigate to="/" replace /> : <LoginPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route path="/" element={<Private><HomePage /></Private>} />
          <Route path="/connections/new" element={<Private><NewConnectionPage /></Private>} />
          <Route path="/connections/:id" element={<Private><ConnectionPage /></Private>} />
          <Route path="/connections/:id/activity" element={<Private><ActivityPage /></Private>} />
          <Route path="/billing" element={<Private><BillingPage /></Private>} />
          <Route path="/account" element={<Private><AccountPage /></Private>} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}
