import { describeIssue, issueField, jsonDepthProblem, maxJsonDepth, type RouteWithSchemas } from '@plinth/protocol';
import { HttpError } from './http-error.js';

/**
 * The route's input from the request — path parameters, then the query string (GET, HEAD,
 * DELETE, and routes whose body is an upload's bytes) or the JSON body — checked against the route's request schema. Any problem is a 400
 * naming the field; bodies over the cap are a 413, bodies nested deeper than `maxJsonDepth` a
 * 400 before the schema check (which recurses, and would overflow the stack on them).
 *
 * @example
 * ```ts
 * const input = await readInput(route, request, { id: '42' }, 1_048_576, nodeIncomingMessage);
 * ```
 */
export async function readInput(
  route: RouteWithSchemas,
  request: Request,
  pathParams: Record<string, string>,
  maxBodyBytes: number,
  nodeBody?: AsyncIterable<Uint8Array>,
): Promise<unknown> {
  let raw: Record<string, unknown> = {};
  // An upload's body is its bytes, streamed to the handler: its input is in the URL, as a GET's.
  if (route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE' || route.body === 'bytes') {
    for (const [key, value] of new URL(request.url).searchParams) {
      const previous = raw[key];
      raw[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
  } else {
    raw = await readJsonBody(request, maxBodyBytes, nodeBody);
  }
  const parsed = route.schemas.request.safeParse({ ...raw, ...pathParams });
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw new HttpError('validation_failed', issues.slice(0, 3).map(describeIssue).join('; '), {
      field: issues[0] ? issueField(issues[0]) : '(root)',
      issues: issues.slice(0, 10).map((issue) => ({ field: issueField(issue), problem: describeIssue(issue) })),
    });
  }
  return parsed.data;
}

async function readJsonBody(
  request: Request,
  maxBodyBytes: number,
  nodeBody: AsyncIterable<Uint8Array> | undefined,
): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
  // Read with a running count: a chunked body has no content-length to trust. On Node, straight
  // from the socket's stream: going through the Request's web stream costs more than the rest
  // of a small query.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stream = nodeBody ?? (request.body as unknown as AsyncIterable<Uint8Array> | null);
  if (stream) {
    for await (const chunk of stream) {
      size += chunk.byteLength;
      if (size > maxBodyBytes) throw tooLarge(maxBodyBytes);
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError('validation_failed', 'The body must be JSON: send content-type: application/json.', {
      field: 'content-type',
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError('invalid_json', 'The request body is not valid JSON.', { field: '(body)' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError('validation_failed', '(root): expected object', { field: '(root)' });
  }
  const tooDeep = jsonDepthProblem(body);
  if (tooDeep !== undefined) {
    throw new HttpError(
      'validation_failed',
      `${tooDeep}: nested too deep; a request body nests objects and arrays at most ${maxJsonDepth} deep (a where tree at most 32 conditions). Flatten it.`,
      { field: tooDeep, limit: maxJsonDepth },
    );
  }
  return body as Record<string, unknown>;
}

const tooLarge = (max: number) =>
  new HttpError('payload_too_large', `The request body is over the ${max}-byte limit.`, {
    field: '(body)',
    limit: max,
  });
