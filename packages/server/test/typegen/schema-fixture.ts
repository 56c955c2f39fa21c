import type { DatabaseSchema } from '@plinth/protocol';

type Column = DatabaseSchema['tables'][number]['columns'][number];

const column = (name: string, type: string, extra: Partial<Column> = {}): Column => ({
  name,
  type,
  isArray: false,
  nullable: false,
  hasDefault: false,
  default: null,
  ...extra,
});

/** What `GET /v1/schema` answers for the schema the query tests' `Database` type describes. */
export const schemaFixture: DatabaseSchema = {
  tables: [
    {
      schema: 'public',
      name: 'posts',
      kind: 'table',
      columns: [
        column('id', 'uuid', { hasDefault: true, default: 'gen_random_uuid()' }),
        column('author_id', 'uuid'),
        column('title', 'text'),
        column('status', 'post_status', {
          hasDefault: true,
          default: "'draft'::post_status",
          enumValues: ['draft', 'live', 'deleted'],
        }),
        column('views', 'int4', { hasDefault: true, default: '0' }),
        column('tags', 'text', { isArray: true, hasDefault: true, default: "'{}'::text[]" }),
        column('meta', 'jsonb', { hasDefault: true, default: "'{}'::jsonb" }),
        column('created_at', 'timestamptz', { hasDefault: true, default: 'now()' }),
        column('published_at', 'timestamptz', { nullable: true }),
      ],
      primaryKey: ['id'],
      foreignKeys: [],
    },
    {
      schema: 'public',
      name: 'live_posts',
      kind: 'view',
      columns: [column('id', 'uuid'), column('title', 'text')],
      primaryKey: [],
      foreignKeys: [],
    },
    {
      schema: 'app',
      name: 'settings',
      kind: 'table',
      columns: [column('key', 'text'), column('value', 'jsonb')],
      primaryKey: ['key'],
      foreignKeys: [],
    },
    {
      schema: 'public',
      name: 'odd names',
      kind: 'table',
      columns: [
        column('select', 'int8', { hasDefault: true, default: 'nextval(...)' }),
        column('two words', 'numeric', { nullable: true }),
        column('flags', 'bool', { isArray: true }),
        column('moods', 'mood', { isArray: true, nullable: true, enumValues: ['happy', "it's"] }),
      ],
      primaryKey: ['select'],
      foreignKeys: [],
    },
  ],
};
