/**
 * Property tests of redaction by value: a secret, once recognised (under a
 * secret-named field, or as a string of a TokenSet's `raw` response body),
 * is redacted wherever else it occurs — under any name, at any depth, inside
 * text, URLs, JSON text, form bodies, Map and Set entries, errors, and keys.
 * fast-check prints the seed and the shrunk value of any failure.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createActor, setup } from 'xstate';
import { createFlowRecorder, redact } from '../src/inspect/index.js';

/** One level of nesting between the root and a value. */
type Step =
  | { kind: 'object'; key: string }
  | { kind: 'array'; before: number }
  | { kind: 'map'; key: string }
  | { kind: 'set' }
  | { kind: 'error' };

/** How a secret is written where it is copied to. */
type Embedding = 'plain' | 'text' | 'url' | 'urlString' | 'json' | 'form' | 'objectKey' | 'mapKey';

// Names no rule knows (`x…` is neither a secret name nor one of the fields a
// response body's redaction leaves alone), so only redaction by value can hide what is under them.
const innocuousKey = fc.string({ maxLength: 10 }).map((key) => `x${key}`);

const step: fc.Arbitrary<Step> = fc.oneof(
  innocuousKey.map((key): Step => ({ kind: 'object', key })),
  fc.nat({ max: 3 }).map((before): Step => ({ kind: 'array', before })),
  innocuousKey.map((key): Step => ({ kind: 'map', key })),
  fc.constant<Step>({ kind: 'set' }),
  fc.constant<Step>({ kind: 'error' }),
);
const path = fc.array(step, { maxLength: 5 });
/** Only what a JSON response body can hold. */
const jsonPath = fc.array(fc.oneof(innocuousKey.map((key): Step => ({ kind: 'object', key })), fc.nat({ max: 3 }).map((before): Step => ({ kind: 'array', before }))), { maxLength: 4 });

const embedding = fc.constantFrom<Embedding>('plain', 'text', 'url', 'urlString', 'json', 'form', 'objectKey', 'mapKey');
const noise = fc.string({ maxLength: 6 });

/**
 * A secret: any printable ASCII (RFC 6749 Appendix A allows all of it in a
 * token) or any Unicode, around a marker that random noise and names cannot produce.
 */
const secret = fc
  .tuple(fc.oneof(fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 })), fc.string({ maxLength: 24 }))
  .map(([before, after]) => `${before}S3cr3T-m4rk${after}`);

/** Field names under which a value is a secret, in the spellings the name rules accept. */
const secretName = fc.constantFrom('access_token', 'accessToken', 'Refresh-Token', 'id_token', 'code', 'code_verifier', 'deviceCode', 'client_secret', 'password', 'api_key', 'token', 'secret', 'assertion');

function wrap(inner: unknown, level: Step): unknown {
  switch (level.kind) {
    case 'object':
      return { [level.key]: inner };
    case 'array':
      return [...Array.from({ length: level.before }, (_, index) => index), inner];
    case 'map':
      return new Map([[level.key, inner]]);
    case 'set':
      return new Set([inner]);
    case 'error':
      return new Error('failed', { cause: inner });
  }
}

function place(leaf: unknown, steps: Step[]): unknown {
  return steps.reduceRight<unknown>((inner, level) => wrap(inner, level), leaf);
}

function embed(value: string, how: Embedding, around: string): unknown {
  switch (how) {
    case 'plain':
      return value;
    case 'text':
      return `${around}${value}${around}`;
    case 'url':
      return new URL(`https://app.example/debug?v=${encodeURIComponent(value)}`);
    case 'urlString':
      return `https://app.example/debug?v=${encodeURIComponent(value)}#${around}`;
    case 'json':
      return JSON.stringify({ note: value, around });
    case 'form':
      return new URLSearchParams({ v: value, around }).toString();
    case 'objectKey':
      return { [value]: around };
    case 'mapKey':
      return new Map([[value, around]]);
  }
}

/** Every form of `value` that would give it away in JSON text. */
function forms(value: string): string[] {
  return [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
}

function leakedForms(text: string, value: string): string[] {
  return forms(value).filter((form) => text.includes(form));
}

const copies = fc.array(fc.record({ at: path, how: embedding, around: noise }), { minLength: 1, maxLength: 4 });

describe('redaction by value', () => {
  test.prop([secret, secretName, path, copies])(
    'a value under a secret-named field appears nowhere in the redacted JSON, whatever the name, depth and encoding of its copies',
    (value, name, at, elsewhere) => {
      const input = { site: place({ [name]: value }, at), copies: elsewhere.map((copy) => place(embed(value, copy.how, copy.around), copy.at)) };
      expect(leakedForms(JSON.stringify(redact(input)), value)).toEqual([]);
    },
  );

  test.prop([secret, innocuousKey, jsonPath, path, copies])(
    'a string of a TokenSet raw response body appears nowhere in the redacted JSON, whatever its field in the body',
    (value, field, inRaw, at, elsewhere) => {
      const raw = { access_token: 'at-0123456789', token_type: 'Bearer', expires_in: 3600, ...(place({ [field]: value }, inRaw) as object) };
      const tokens = { accessToken: 'at-0123456789', tokenType: 'Bearer', raw };
      const input = { elsewhere: elsewhere.map((copy) => place(embed(value, copy.how, copy.around), copy.at)), session: place(tokens, at) };
      expect(leakedForms(JSON.stringify(redact(input)), value)).toEqual([]);
    },
  );

  const anyEvent = setup({ types: {} as { events: { type: 'FIRST' | 'LATER'; payload: unknown } } }).createMachine({});

  test.prop([secret, secretName, path, copies])(
    'a value the flow recorder saw under a secret-named field appears nowhere in its recording of later events',
    (value, name, at, later) => {
      const recorder = createFlowRecorder({ includeContext: true });
      const actor = createActor(anyEvent, { inspect: recorder }).start();
      actor.send({ type: 'FIRST', payload: place({ [name]: value }, at) });
      for (const copy of later) actor.send({ type: 'LATER', payload: place(embed(value, copy.how, copy.around), copy.at) });
      actor.stop();
      expect(leakedForms(JSON.stringify(recorder) + recorder.format(), value)).toEqual([]);
    },
  );
});
