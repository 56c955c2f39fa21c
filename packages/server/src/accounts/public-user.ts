/** A user as the auth routes return them (the wire contract's `user`). */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly createdAt: string;
}
