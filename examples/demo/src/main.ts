// The demo page: sign up, confirm the email, sign in, see who you are, sign out. Cookie mode
// (the default in browsers): the session is an HttpOnly cookie, and this script never holds a token.
import { createClient, isPlinthError, type User } from '@plinth/client';

declare global {
  interface Window {
    /** Set by /config.js, which the demo's server writes. */
    PLINTH?: { url: string; publishableKey: string };
  }
}

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
};
const status = element<HTMLParagraphElement>('status');
const error = element<HTMLParagraphElement>('error');
const meText = element<HTMLParagraphElement>('me-text');
const signOutButton = element<HTMLButtonElement>('sign-out');
const signedOut = element<HTMLDivElement>('signed-out');

const say = (text: string) => {
  status.textContent = text;
};
const fail = (cause: unknown) => {
  const message = cause instanceof Error ? cause.message : String(cause);
  error.textContent = isPlinthError(cause) ? `${message} (${cause.code})` : message;
};

/** Runs one user action: clears the last message, disables the buttons meanwhile, shows any error. */
async function act(action: () => Promise<void>): Promise<void> {
  const buttons = [...document.querySelectorAll('button')];
  status.textContent = '';
  error.textContent = '';
  for (const button of buttons) button.disabled = true;
  try {
    await action();
  } catch (cause) {
    fail(cause);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function render(user: User | null): void {
  meText.textContent = user
    ? `Signed in as ${user.email} (${user.emailVerified ? 'verified' : 'not verified'}), user ${user.id}, since ${new Date(user.createdAt).toLocaleString()}.`
    : 'Not signed in.';
  signOutButton.hidden = !user;
  signedOut.hidden = Boolean(user);
}

const config = window.PLINTH;
if (!config) {
  fail(new Error('window.PLINTH is not set: open the page from the demo server (pnpm dev).'));
  throw new Error('window.PLINTH is not set');
}
const plinth = createClient({ url: config.url, publishableKey: config.publishableKey });
plinth.auth.onAuthStateChange((_event, { user }) => render(user));

const fields = (form: HTMLFormElement) => {
  const data = new FormData(form);
  return { email: String(data.get('email') ?? ''), password: String(data.get('password') ?? '') };
};
const onSubmit = (id: string, action: (form: HTMLFormElement) => Promise<void>) => {
  const form = element<HTMLFormElement>(id);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(() => action(form));
  });
};

/** Who am I: asks the server (the cookie travels with the request); `null` when signed out. */
async function whoAmI(): Promise<void> {
  render(await plinth.auth.getMe());
}

async function verify(token: string): Promise<void> {
  await plinth.auth.verifyEmail({ token });
  say('Email confirmed: you can sign in now.');
}

onSubmit('sign-up', async (form) => {
  const { email, password } = fields(form);
  // The link in the email comes back to this page, which confirms the address on load.
  await plinth.auth.signUp({ email, password, redirectTo: `${location.origin}/` });
  form.reset();
  say(`Check the email sent to ${email} (in dev: the terminal running pnpm dev) and open its link.`);
});

onSubmit('verify', async (form) => {
  const value = String(new FormData(form).get('token') ?? '').trim();
  // A pasted link or a bare token.
  const token = URL.canParse(value) ? (new URL(value).searchParams.get('token') ?? '') : value;
  await verify(token);
  form.reset();
});

onSubmit('sign-in', async (form) => {
  await plinth.auth.signIn(fields(form));
  form.reset();
  await whoAmI();
});

signOutButton.addEventListener('click', () => void act(() => plinth.auth.signOut()));

// Cookies are per host: on localhost, a page would never see the session cookies of a server on
// 127.0.0.1 (another site). Go to the server's host, keeping the path and query.
const serverHost = new URL(config.url).hostname;
if (location.hostname !== serverHost) {
  const here = new URL(location.href);
  here.hostname = serverHost;
  location.replace(here);
} else {
  const query = new URLSearchParams(location.search);
  const token = query.get('token');
  await act(async () => {
    try {
      if (query.get('type') === 'verify_email' && token) {
        // The token works once: take it out of the address bar, so a reload does not reuse it.
        history.replaceState(null, '', location.pathname);
        await verify(token);
      }
    } finally {
      // A bad link still leaves the page usable.
      await whoAmI();
    }
  });
}
