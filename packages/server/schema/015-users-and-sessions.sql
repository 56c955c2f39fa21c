-- A ban (`PATCH /v1/admin/users/:id` with `bannedUntil`): the account may not sign in, refresh or
-- use a session until then; it is lifted by setting it to null, or by time. An account is usable
-- when it is not disabled and not banned now (src/accounts/users-repository.ts, `usable`).
ALTER TABLE plinth.users ADD COLUMN IF NOT EXISTS banned_until timestamptz;

-- Where a session was last used from, for the lists of sessions a user and an admin see: the
-- client's address and user agent at sign-in, updated at each refresh (as `refreshed_at` is).
-- Access tokens are checked without writing, so "last seen" is the last sign-in or refresh.
ALTER TABLE plinth.sessions ADD COLUMN IF NOT EXISTS ip text;
ALTER TABLE plinth.sessions ADD COLUMN IF NOT EXISTS user_agent text;
