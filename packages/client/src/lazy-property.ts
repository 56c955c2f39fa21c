/**
 * Defines `target[name]` as a getter that builds its value on first read and keeps it. The
 * umbrella client uses it for sub-clients, so an app pays at run time only for the parts it
 * touches.
 *
 * @example
 * ```ts
 * const client = {} as { auth: AuthClient };
 * defineLazyProperty(client, 'auth', () => createAuthClient(transport));
 * client.auth; // built now, once
 * ```
 */
export function defineLazyProperty<T extends object, K extends keyof T>(target: T, name: K, create: () => T[K]): void {
  Object.defineProperty(target, name, {
    configurable: true,
    enumerable: true,
    get() {
      const value = create();
      Object.defineProperty(target, name, { value, enumerable: true, writable: false, configurable: false });
      return value;
    },
  });
}
