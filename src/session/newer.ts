/**
 * "Is this stored session newer than mine?": asked by a refresh before it
 * spends a refresh token (another tab or process may have rotated it), and
 * after a refused one.
 */
import type { SessionBlob } from './blob.js';
import type { TokenSet } from './tokenSet.js';

/** Which stored session is ours to compare with: its write time and generation. */
export interface SessionStamp {
  savedAt: number | undefined;
  generation: number | undefined;
}

/**
 * Whether `stored`, another tab's or process's session, is newer than ours
 * (`ours`, stamped `stamp`), with other tokens. Generations decide, not
 * clocks: one that has been renewed more often is newer, and one renewed less
 * often is ours from before a failed write, whose refresh token we already
 * spent. Only two sessions of the same generation (two logins) fall back on
 * the write time, the later one winning; equal times count as newer, since
 * clocks are coarse and a differing blob that is not older was written by
 * someone else.
 */
export function isNewerSession(stored: SessionBlob, ours: TokenSet, stamp: SessionStamp): stored is SessionBlob & { tokens: TokenSet } {
  if (stored.state !== 'authenticated' || stored.tokens === undefined) return false;
  const theirs = stored.tokens;
  if (theirs.refreshToken === ours.refreshToken && theirs.accessToken === ours.accessToken) return false;
  const theirGeneration = stored.generation ?? 0;
  const ourGeneration = stamp.generation ?? 0;
  if (theirGeneration !== ourGeneration) return theirGeneration > ourGeneration;
  return stamp.savedAt === undefined || stored.savedAt >= stamp.savedAt;
}
