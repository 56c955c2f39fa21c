// The shape of a database as `plinth gen types` writes it, and the type-level helpers that turn
// a table name and a column list into row types. Nothing here exists at run time.

/** A table: the row a select gives, what an insert takes, what an update takes. */
export interface GenericTable {
  Row: object;
  Insert: object;
  Update: object;
}

/** A view: it can be read only. */
export interface GenericView {
  Row: object;
}

/** One Postgres schema: its tables and views (and enums, which only the generated file uses). */
export interface GenericSchema {
  Tables: { [name: string]: GenericTable };
  Views?: { [name: string]: GenericView };
}

/**
 * A database of unknown shape: any table, any column, rows of `unknown` values. What a client
 * created without a `Database` type parameter works with.
 */
export type AnyDatabase = {
  public: {
    Tables: {
      [name: string]: {
        Row: Record<string, unknown>;
        Insert: Record<string, unknown>;
        Update: Record<string, unknown>;
      };
    };
    Views: { [name: string]: { Row: Record<string, unknown> } };
  };
};

type Relations<S> = (S extends { Tables: infer T } ? T : unknown) & (S extends { Views: infer V } ? V : unknown);
type TablesOf<S> = S extends { Tables: infer T } ? T : never;
type SchemaName<DB> = keyof DB & string;

/**
 * Every name `from()` accepts: the tables and views of the `public` schema by their own name, and
 * every table and view of every schema as `schema.table`.
 */
export type RelationName<DB> =
  | (keyof Relations<DB[SchemaName<DB> & 'public']> & string)
  | { [S in SchemaName<DB>]: `${S}.${keyof Relations<DB[S]> & string}` }[SchemaName<DB>];

/** The names of tables (not views) a change may name. */
export type TableName<DB> =
  | (keyof TablesOf<DB[SchemaName<DB> & 'public']> & string)
  | { [S in SchemaName<DB>]: `${S}.${keyof TablesOf<DB[S]> & string}` }[SchemaName<DB>];

/** The table or view `name` stands for. */
export type RelationOf<DB, N extends string> = N extends `${infer S}.${infer T}`
  ? S extends SchemaName<DB>
    ? T extends keyof Relations<DB[S]>
      ? Relations<DB[S]>[T]
      : never
    : never
  : N extends keyof Relations<DB[SchemaName<DB> & 'public']>
    ? Relations<DB[SchemaName<DB> & 'public']>[N]
    : never;

/** The row a select of `name` gives. */
export type RowOf<Relation> = Relation extends { Row: infer R } ? R : never;
/** What an insert into `name` takes: `never` for a view. */
export type InsertOf<Relation> = Relation extends { Insert: infer I } ? I : never;
/** What an update of `name` takes: `never` for a view. */
export type UpdateOf<Relation> = Relation extends { Update: infer U } ? U : never;

/** A column name of `Row`. */
export type ColumnName<Row> = keyof Row & string;

type Whitespace = ' ' | '\n' | '\t' | '\r';
type Trim<S extends string> = S extends `${Whitespace}${infer R}`
  ? Trim<R>
  : S extends `${infer L}${Whitespace}`
    ? Trim<L>
    : S;

/**
 * The column names a column list names: `'id, title'` → `'id' | 'title'`; an array's elements
 * as they are.
 */
export type ColumnsIn<S> = S extends readonly (infer E)[]
  ? E & string
  : S extends `${infer Head},${infer Tail}`
    ? Trim<Head> | ColumnsIn<Tail>
    : S extends string
      ? Trim<S>
      : never;

/** A column list: `'id, title'`, `'*'`, or `['id', 'title']`. */
export type ColumnList<Row> = string | readonly ColumnName<Row>[];

/**
 * `unknown` (no constraint) when every column `S` names is a column of `Row`; otherwise a type no
 * string matches, whose name says which column is unknown. Intersected with the argument's own
 * type, it turns a wrong column name into a compile error that names it.
 */
export type CheckColumns<Row, S> = [Exclude<ColumnsIn<S>, ColumnName<Row> | '*'>] extends [never]
  ? unknown
  : { 'unknown column': Exclude<ColumnsIn<S>, ColumnName<Row> | '*'> };

/** Spreads an intersection into one object type, for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The row a column list selects: all of `Row` for `'*'` (or nothing), else the named columns. */
export type Picked<Row, S> = '*' extends ColumnsIn<S> ? Row : Simplify<Pick<Row, ColumnsIn<S> & keyof Row>>;
