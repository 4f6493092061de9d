/**
 * The tokens of a session, as the library keeps them: the one shape every
 * grant produces, every client serves and every store holds.
 */
import * as v from 'valibot';

/** The tokens of a session (RFC 6749 §5.1, in the library's own spelling). */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  /** Epoch ms; absent: the access token does not expire (or the server did not say). */
  expiresAt?: number;
  refreshToken?: string;
  scope?: string[];
  idToken?: string;
  /** The response body as the server sent it (before any provider mapping), for provider extras. */
  raw: Record<string, unknown>;
}

const Text = v.pipe(v.string(), v.minLength(1));
const Time = v.pipe(v.number(), v.finite());

/** A {@link TokenSet} read back from storage or a snapshot: every field typed, none unknown to the reader missing. */
export const TokenSetSchema = v.object({
  accessToken: Text,
  tokenType: Text,
  expiresAt: v.exactOptional(Time),
  refreshToken: v.exactOptional(Text),
  scope: v.exactOptional(v.array(v.string())),
  idToken: v.exactOptional(Text),
  raw: v.record(v.string(), v.unknown()),
}) satisfies v.GenericSchema<unknown, TokenSet>;
