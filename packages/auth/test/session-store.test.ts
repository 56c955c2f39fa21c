import { cookieStore, localStorageStore, memoryStore, sessionStorageStore } from '@plinth/auth';
import { ConfigurationError } from '@plinth/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeStorage } from '../../../test/fixtures/auth.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('memoryStore', () => {
  it('gets, sets and removes, per instance', async () => {
    const store = memoryStore();
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
    expect(await memoryStore().get('k')).toBeUndefined();
    await store.remove('k');
    expect(await store.get('k')).toBeUndefined();
    expect(store.kind).toBe('memory');
  });
});

describe('localStorageStore and sessionStorageStore', () => {
  it('read and write the given storage, or the global one', async () => {
    const storage = fakeStorage();
    const store = localStorageStore(storage);
    await store.set('k', 'v');
    expect(storage.entries.get('k')).toBe('v');
    await store.remove('k');
    expect(storage.entries.size).toBe(0);
    expect(store.kind).toBe('localStorage');

    const global = fakeStorage();
    vi.stubGlobal('sessionStorage', global);
    await sessionStorageStore().set('k', 'v');
    expect(global.entries.get('k')).toBe('v');
  });

  it('throw a ConfigurationError naming the alternatives where the storage is missing or blocked', () => {
    expect(() => localStorageStore()).toThrow(ConfigurationError); // Node 20 has no localStorage
    expect(() => localStorageStore()).toThrow(/memoryStore\(\)/);
    Object.defineProperty(globalThis, 'sessionStorage', {
      configurable: true,
      get() {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
    try {
      expect(() => sessionStorageStore()).toThrow(ConfigurationError);
    } finally {
      delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
    }
  });
});

describe('cookieStore', () => {
  it('keeps entries in HttpOnly, SameSite=Lax, short-lived cookies through the framework', () => {
    const written: unknown[] = [];
    const store = cookieStore({
      getAll: () => [{ name: 'plinth.auth.oauth', value: 's.v' }],
      setAll: (c) => void written.push(...c),
    });
    expect(store.get('plinth.auth.oauth')).toBe('s.v');
    expect(store.get('other')).toBeUndefined();
    store.set('plinth.auth.oauth', 'new');
    store.remove('plinth.auth.oauth');
    const options = { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 600 };
    expect(written).toEqual([
      { name: 'plinth.auth.oauth', value: 'new', options },
      { name: 'plinth.auth.oauth', value: '', options: { ...options, maxAge: 0 } },
    ]);
  });
});
