import { RowValidationError } from './query-errors.js';

/**
 * A schema that checks rows at run time: anything that implements Standard Schema v1
 * (https://standardschema.dev), such as a zod or zod/mini object, valibot or ArkType. Declared
 * here, as the spec intends, so the SDK depends on no validation library.
 */
export interface RowSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };

/** The row type a {@link RowSchema} gives. */
export type SchemaOutput<S> = S extends RowSchema<infer O> ? O : never;

/**
 * Checks every row with the schema and returns the schema's output (zod strips unknown keys,
 * applies transforms). Throws {@link RowValidationError} naming the first row that fails.
 *
 * @example
 * ```ts
 * const rows = await validateRows(PostSchema, response.rows, "from('posts').select()");
 * ```
 */
export async function validateRows<Output>(
  schema: RowSchema<Output>,
  rows: readonly unknown[],
  caller: string,
): Promise<Output[]> {
  const out: Output[] = [];
  for (const [index, row] of rows.entries()) {
    const result = await schema['~standard'].validate(row);
    if (result.issues) {
      const issue = result.issues[0];
      const field = issue?.path
        ?.map((part) => String(typeof part === 'object' && part !== null ? part.key : part))
        .join('.');
      throw new RowValidationError(
        `${caller}: row ${index} does not match the schema: ${field ? `${field}: ` : ''}${issue?.message}`,
        { code: 'invalid_row', details: { row: index, field } },
      );
    }
    out.push(result.value);
  }
  return out;
}
