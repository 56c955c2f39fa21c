import * as z from 'zod/mini';

/** A secret's name: letters, digits and `_ - .`, 1 to 128 characters (`STRIPE_API_KEY`). */
export const secretName = z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,128}$/));

/** The longest secret value, in characters: secrets are keys and tokens, not files. */
export const maxSecretBytes = 65_536;

/** A secret without its value: what lists show. */
export const secretInfoSchema = z.object({
  name: z.string(),
  /** The master key version its value is encrypted under (`plinth secrets rotate` moves it). */
  keyVersion: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const putSecretSchemas = {
  request: z.object({
    name: secretName,
    /** Any string of up to 65 536 characters; stored encrypted (AES-256-GCM), never logged. */
    value: z.string().check(z.maxLength(maxSecretBytes)),
  }),
  response: z.object({ secret: secretInfoSchema, created: z.boolean() }),
};

export const getSecretSchemas = {
  request: z.object({ name: secretName }),
  response: z.object({ secret: secretInfoSchema, value: z.string() }),
};

export const listSecretsSchemas = {
  request: z.object({
    /** Only names that start with this. */
    prefix: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.-]{0,128}$/))),
    /** Default 100, at most 1 000. */
    limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
    /** `nextCursor` of the page before. */
    cursor: z.optional(z.string().check(z.maxLength(256))),
  }),
  response: z.object({ secrets: z.array(secretInfoSchema), nextCursor: z.nullable(z.string()) }),
};

export const deleteSecretSchemas = {
  request: z.object({ name: secretName }),
  response: z.object({ deleted: z.boolean() }),
};

/** A secret as the secrets routes describe it, without its value. */
export type SecretInfo = z.output<typeof secretInfoSchema>;
